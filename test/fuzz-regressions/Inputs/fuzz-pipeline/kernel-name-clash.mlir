func.func @f(%q: tensor<2x4x2x8xf16>, %k: tensor<2x4x17x8xf16>, %v: tensor<2x4x17x8xf16>) -> (tensor<2x4x2x8xf16>, tensor<2x4x2xf32>) {
  %o, %lse = attn.attention %q, %k, %v : tensor<2x4x2x8xf16>, tensor<2x4x17x8xf16>, tensor<2x4x17x8xf16> -> tensor<2x4x2x8xf16>, tensor<2x4x2xf32>
  return %o, %lse : tensor<2x4x2x8xf16>, tensor<2x4x2xf32>
}
func.func @f_fwd() {
  return
}

