// K is f16 while Q is f32.
func.func @spec(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf16>, %v: tensor<1x2x16x32xf32>) -> tensor<1x2x16x32xf32> {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf16>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return %o : tensor<1x2x16x32xf32>
}
