// Every run-time input at once: dynamic sizes, padding, a layout, dropout,
// GQA and f16.
func.func @varlen(%q: tensor<?x?x?x32xf16>, %k: tensor<?x?x?x32xf16>,
                  %v: tensor<?x?x?x16xf16>, %sq: tensor<?xi32>,
                  %sk: tensor<?xi32>, %l: tensor<1x?x?x?xi8>)
    -> tensor<?x?x?x16xf16> {
  %o, %lse = attn.attention %q, %k, %v seqlens_q(%sq : tensor<?xi32>)
      seqlens_k(%sk : tensor<?xi32>)
      layout(%l : tensor<1x?x?x?xi8>, block [32, 16]) causal
      align(bottom_right) dropout(0.25, seed 42)
      : tensor<?x?x?x32xf16>, tensor<?x?x?x32xf16>, tensor<?x?x?x16xf16>
      -> tensor<?x?x?x16xf16>, tensor<?x?x?xf32>
  return %o : tensor<?x?x?x16xf16>
}
