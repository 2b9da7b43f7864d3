// The forward of mixed_grad.
func.func @mixed_fwd(%q: tensor<2x4x150x64xf16>, %k: tensor<2x2x170x64xf16>, %v: tensor<2x2x170x64xf16>) -> (tensor<2x4x150x64xf16>, tensor<2x4x150xf32>) {
  %o, %lse = attn.attention %q, %k, %v causal align(bottom_right) window(60, 0) softcap(20.0) dropout(0.2, seed 77) : tensor<2x4x150x64xf16>, tensor<2x2x170x64xf16>, tensor<2x2x170x64xf16> -> tensor<2x4x150x64xf16>, tensor<2x4x150xf32>
  return %o, %lse : tensor<2x4x150x64xf16>, tensor<2x4x150xf32>
}
