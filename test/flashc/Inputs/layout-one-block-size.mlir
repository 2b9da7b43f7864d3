// A layout needs both block sizes.
func.func @spec(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>, %l: tensor<1x1x1x1xi8>) -> tensor<1x2x16x32xf32> {
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<1x1x1x1xi8>, block [16]) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return %o : tensor<1x2x16x32xf32>
}
