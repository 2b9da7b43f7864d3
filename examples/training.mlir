// training.mlir - the backward pass of causal attention: dQ, dK, dV.
//
// Inputs: the forward operands Q, K, V, the forward outputs O and LSE, and
// the gradient dO of the loss with respect to O. Outputs: dQ, dK, dV, shaped
// like Q, K, V. The clauses (here `causal`) must be those of the forward
// attn.attention whose O and LSE are passed in.
//
// Nothing of size N x N is stored: P = exp(S - LSE) is recomputed tile by
// tile from Q, K and the saved LSE (FlashAttention's backward pass):
//   D   = rowsum(dO * O)
//   dV += P^T dO,   dP = dO V^T,   dS = P * (dP - D)
//   dQ += dS K / sqrt(64),   dK += dS^T Q / sqrt(64)
// `deterministic` fixes the order in which the partial dQ sums of different
// key blocks are added, so two runs give bitwise identical dQ (at some cost
// in parallelism).
//
//   dQ, dK, dV [2, 4, 512, 64] bf16
//
// Run it (`flashc run` draws Q, K, V and dO, takes O and LSE from the float64
// reference's forward pass, runs the backward kernels and checks dQ, dK and
// dV against the reference's):
//   flashc run examples/training.mlir

func.func @training(%q: tensor<2x4x512x64xbf16>, %k: tensor<2x4x512x64xbf16>,
                    %v: tensor<2x4x512x64xbf16>, %o: tensor<2x4x512x64xbf16>,
                    %lse: tensor<2x4x512xf32>, %do: tensor<2x4x512x64xbf16>)
    -> (tensor<2x4x512x64xbf16>, tensor<2x4x512x64xbf16>,
        tensor<2x4x512x64xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do
      deterministic causal
      : tensor<2x4x512x64xbf16>, tensor<2x4x512x64xbf16>,
        tensor<2x4x512x64xbf16>, tensor<2x4x512x64xbf16>,
        tensor<2x4x512xf32>, tensor<2x4x512x64xbf16>
      -> tensor<2x4x512x64xbf16>, tensor<2x4x512x64xbf16>,
         tensor<2x4x512x64xbf16>
  return %dq, %dk, %dv : tensor<2x4x512x64xbf16>, tensor<2x4x512x64xbf16>,
                         tensor<2x4x512x64xbf16>
}
