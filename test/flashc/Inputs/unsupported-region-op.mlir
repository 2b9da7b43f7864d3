// Valid (math.atan2 has no side effects) but the run harness's interpreter
// does not evaluate it.
func.func @spec(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) -> tensor<1x2x16x32xf32> {
  %o, %lse = attn.attention %q, %k, %v score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %r = math.atan2 %s, %s : f32
    attn.yield %r : f32
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return %o : tensor<1x2x16x32xf32>
}
