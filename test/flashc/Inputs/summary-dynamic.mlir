// Dynamic B, H and N with padding, a layout, ALiBi, dropout and a scale.
func.func @varlen(%q: tensor<?x?x?x64xf16>, %k: tensor<?x?x?x64xf16>,
                  %v: tensor<?x?x?x32xf16>, %sq: tensor<?xi32>,
                  %sk: tensor<?xi32>, %l: tensor<1x?x?x?xi8>)
    -> tensor<?x?x?x32xf16> {
  %o, %lse = attn.attention %q, %k, %v seqlens_q(%sq : tensor<?xi32>)
      seqlens_k(%sk : tensor<?xi32>)
      layout(%l : tensor<1x?x?x?xi8>, block [64, 32]) scale(0.5) alibi
      dropout(0.125, seed 42)
      : tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>, tensor<?x?x?x32xf16>
      -> tensor<?x?x?x32xf16>, tensor<?x?x?xf32>
  return %o : tensor<?x?x?x32xf16>
}
