// Causal bf16, D = 128, N = 300: a partial last block in both directions.
func.func @odd_causal_d128(%q: tensor<2x3x300x128xbf16>, %k: tensor<2x3x300x128xbf16>, %v: tensor<2x3x300x128xbf16>) -> (tensor<2x3x300x128xbf16>, tensor<2x3x300xf32>) {
  %o, %lse = attn.attention %q, %k, %v causal : tensor<2x3x300x128xbf16>, tensor<2x3x300x128xbf16>, tensor<2x3x300x128xbf16> -> tensor<2x3x300x128xbf16>, tensor<2x3x300xf32>
  return %o, %lse : tensor<2x3x300x128xbf16>, tensor<2x3x300xf32>
}
