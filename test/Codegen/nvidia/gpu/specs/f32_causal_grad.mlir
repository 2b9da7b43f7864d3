// The gradient of f32_causal.
func.func @f32_causal_grad(%q: tensor<2x2x100x64xf32>, %k: tensor<2x2x100x64xf32>, %v: tensor<2x2x100x64xf32>, %o: tensor<2x2x100x64xf32>, %lse: tensor<2x2x100xf32>, %do: tensor<2x2x100x64xf32>) -> (tensor<2x2x100x64xf32>, tensor<2x2x100x64xf32>, tensor<2x2x100x64xf32>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do causal : tensor<2x2x100x64xf32>, tensor<2x2x100x64xf32>, tensor<2x2x100x64xf32>, tensor<2x2x100x64xf32>, tensor<2x2x100xf32>, tensor<2x2x100x64xf32> -> tensor<2x2x100x64xf32>, tensor<2x2x100x64xf32>, tensor<2x2x100x64xf32>
  return %dq, %dk, %dv : tensor<2x2x100x64xf32>, tensor<2x2x100x64xf32>, tensor<2x2x100x64xf32>
}
