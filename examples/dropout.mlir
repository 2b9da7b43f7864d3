// dropout.mlir - attention dropout, as used in training.
//
// After the softmax each probability P_ij is dropped (set to 0) with
// probability 0.1 and the kept ones are scaled by 1 / (1 - 0.1), so that
// E[O] is unchanged. The keep/drop decision comes from a counter-based
// random generator (Philox4x32-10) keyed by (seed, offset, b, h, i, j): no
// N x N mask is stored, and the backward pass regenerates exactly the same
// mask from the same seed and offset. The spec names the seed (1234); the
// kernels take seed and offset as arguments, so a training loop can advance
// the offset every step and draw a fresh mask without recompiling.
// Causal, as in a decoder.
//
//   O [2, 4, 512, 64] bf16,  LSE [2, 4, 512] f32 (of the scores before
//   dropout)
//
// Run it (checked against a float64 reference that uses the same Philox
// stream):
//   flashc run examples/dropout.mlir

func.func @dropout(%q: tensor<2x4x512x64xbf16>, %k: tensor<2x4x512x64xbf16>,
                   %v: tensor<2x4x512x64xbf16>)
    -> (tensor<2x4x512x64xbf16>, tensor<2x4x512xf32>) {
  %o, %lse = attn.attention %q, %k, %v causal dropout(0.1, seed 1234)
      : tensor<2x4x512x64xbf16>, tensor<2x4x512x64xbf16>,
        tensor<2x4x512x64xbf16>
      -> tensor<2x4x512x64xbf16>, tensor<2x4x512xf32>
  return %o, %lse : tensor<2x4x512x64xbf16>, tensor<2x4x512xf32>
}
