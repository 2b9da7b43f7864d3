// D = 512 is past the supported 256.
func.func @spec(%q: tensor<1x2x16x512xf32>, %k: tensor<1x2x16x512xf32>, %v: tensor<1x2x16x512xf32>) -> tensor<1x2x16x512xf32> {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x512xf32>, tensor<1x2x16x512xf32>, tensor<1x2x16x512xf32> -> tensor<1x2x16x512xf32>, tensor<1x2x16xf32>
  return %o : tensor<1x2x16x512xf32>
}
