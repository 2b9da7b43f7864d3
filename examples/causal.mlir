// causal.mlir - causal self-attention in bf16, the decoder's default.
//
// One sequence of 1024 tokens, 8 heads of dimension 64. Each query i attends
// to the keys j <= i:
//
//   S   = Q K^T / sqrt(64)               (the default scale)
//   P   = softmax_j(S) over j <= i       (later keys are masked out)
//   O   = P V                            [1, 8, 1024, 64] bf16
//   LSE = log sum_{j <= i} exp(S_ij)     [1, 8, 1024] f32, kept for backward
//
// Half of the score matrix is masked, so the tiled kernel skips the key
// blocks above the diagonal entirely and masks only the diagonal blocks.
//
// Run it (random inputs, checked against a float64 reference, timed):
//   flashc run examples/causal.mlir
// See the chosen tiles and the HBM traffic:
//   flashc explain examples/causal.mlir
// Compile ahead of time for an H100:
//   flashc compile examples/causal.mlir --target sm_90a -o out/

func.func @causal(%q: tensor<1x8x1024x64xbf16>, %k: tensor<1x8x1024x64xbf16>,
                  %v: tensor<1x8x1024x64xbf16>)
    -> (tensor<1x8x1024x64xbf16>, tensor<1x8x1024xf32>) {
  %o, %lse = attn.attention %q, %k, %v causal
      : tensor<1x8x1024x64xbf16>, tensor<1x8x1024x64xbf16>,
        tensor<1x8x1024x64xbf16>
      -> tensor<1x8x1024x64xbf16>, tensor<1x8x1024xf32>
  return %o, %lse : tensor<1x8x1024x64xbf16>, tensor<1x8x1024xf32>
}
