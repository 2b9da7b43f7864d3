// A layout with static block counts: Nq must give ceil(Nq / 32) = 4.
func.func @layout(%q: tensor<1x2x?x32xf32>, %k: tensor<1x2x?x32xf32>,
                  %v: tensor<1x2x?x32xf32>, %l: tensor<1x1x4x?xi8>)
    -> tensor<1x2x?x32xf32> {
  %o, %lse = attn.attention %q, %k, %v
      layout(%l : tensor<1x1x4x?xi8>, block [32, 32])
      : tensor<1x2x?x32xf32>, tensor<1x2x?x32xf32>, tensor<1x2x?x32xf32>
      -> tensor<1x2x?x32xf32>, tensor<1x2x?xf32>
  return %o : tensor<1x2x?x32xf32>
}
