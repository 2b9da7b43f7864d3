// f16 GQA, Nq != Nk, bottom-right causal window, softcap and dropout: the
// backward's score_grad and regenerated dropout mask.
func.func @mixed_grad(%q: tensor<2x4x150x64xf16>, %k: tensor<2x2x170x64xf16>, %v: tensor<2x2x170x64xf16>, %o: tensor<2x4x150x64xf16>, %lse: tensor<2x4x150xf32>, %do: tensor<2x4x150x64xf16>) -> (tensor<2x4x150x64xf16>, tensor<2x2x170x64xf16>, tensor<2x2x170x64xf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do causal align(bottom_right) window(60, 0) softcap(20.0) dropout(0.2, seed 77) : tensor<2x4x150x64xf16>, tensor<2x2x170x64xf16>, tensor<2x2x170x64xf16>, tensor<2x4x150x64xf16>, tensor<2x4x150xf32>, tensor<2x4x150x64xf16> -> tensor<2x4x150x64xf16>, tensor<2x2x170x64xf16>, tensor<2x2x170x64xf16>
  return %dq, %dk, %dv : tensor<2x4x150x64xf16>, tensor<2x2x170x64xf16>, tensor<2x2x170x64xf16>
}
