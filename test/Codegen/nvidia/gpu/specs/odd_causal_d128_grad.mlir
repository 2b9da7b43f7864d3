// The gradient of odd_causal_d128.
func.func @odd_causal_d128_grad(%q: tensor<2x3x300x128xbf16>, %k: tensor<2x3x300x128xbf16>, %v: tensor<2x3x300x128xbf16>, %o: tensor<2x3x300x128xbf16>, %lse: tensor<2x3x300xf32>, %do: tensor<2x3x300x128xbf16>) -> (tensor<2x3x300x128xbf16>, tensor<2x3x300x128xbf16>, tensor<2x3x300x128xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do causal : tensor<2x3x300x128xbf16>, tensor<2x3x300x128xbf16>, tensor<2x3x300x128xbf16>, tensor<2x3x300x128xbf16>, tensor<2x3x300xf32>, tensor<2x3x300x128xbf16> -> tensor<2x3x300x128xbf16>, tensor<2x3x300x128xbf16>, tensor<2x3x300x128xbf16>
  return %dq, %dk, %dv : tensor<2x3x300x128xbf16>, tensor<2x3x300x128xbf16>, tensor<2x3x300x128xbf16>
}
