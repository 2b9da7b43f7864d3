// f32 stays off the tensor cores (FMA path): 1e-5 accuracy.
func.func @f32_causal(%q: tensor<2x2x100x64xf32>, %k: tensor<2x2x100x64xf32>, %v: tensor<2x2x100x64xf32>) -> (tensor<2x2x100x64xf32>, tensor<2x2x100xf32>) {
  %o, %lse = attn.attention %q, %k, %v causal : tensor<2x2x100x64xf32>, tensor<2x2x100x64xf32>, tensor<2x2x100x64xf32> -> tensor<2x2x100x64xf32>, tensor<2x2x100xf32>
  return %o, %lse : tensor<2x2x100x64xf32>, tensor<2x2x100xf32>
}
