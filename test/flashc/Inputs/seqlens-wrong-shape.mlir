// B = 2 but three sequence lengths.
func.func @spec(%q: tensor<2x2x16x32xf32>, %k: tensor<2x2x16x32xf32>, %v: tensor<2x2x16x32xf32>, %lens: tensor<3xi32>) -> tensor<2x2x16x32xf32> {
  %o, %lse = attn.attention %q, %k, %v seqlens_q(%lens : tensor<3xi32>) : tensor<2x2x16x32xf32>, tensor<2x2x16x32xf32>, tensor<2x2x16x32xf32> -> tensor<2x2x16x32xf32>, tensor<2x2x16xf32>
  return %o : tensor<2x2x16x32xf32>
}
