// A forward spec whose score (floor) has no derivative: it has a forward
// but no backward.
func.func @spec(%q: tensor<1x2x16x32xf16>, %k: tensor<1x2x16x32xf16>, %v: tensor<1x2x16x32xf16>) -> (tensor<1x2x16x32xf16>, tensor<1x2x16xf32>) {
  %o, %lse = attn.attention %q, %k, %v score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %f = math.floor %s : f32
    attn.yield %f : f32
  } : tensor<1x2x16x32xf16>, tensor<1x2x16x32xf16>, tensor<1x2x16x32xf16> -> tensor<1x2x16x32xf16>, tensor<1x2x16xf32>
  return %o, %lse : tensor<1x2x16x32xf16>, tensor<1x2x16xf32>
}
