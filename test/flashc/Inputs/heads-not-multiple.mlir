// Hq = 6 query heads cannot share Hkv = 4 key/value heads.
func.func @spec(%q: tensor<1x6x16x32xf32>, %k: tensor<1x4x16x32xf32>, %v: tensor<1x4x16x32xf32>) -> tensor<1x6x16x32xf32> {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x6x16x32xf32>, tensor<1x4x16x32xf32>, tensor<1x4x16x32xf32> -> tensor<1x6x16x32xf32>, tensor<1x6x16xf32>
  return %o : tensor<1x6x16x32xf32>
}
