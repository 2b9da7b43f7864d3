// A call may have side effects: not allowed in a mask.
func.func private @keep(index, index) -> i1

func.func @spec(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) -> tensor<1x2x16x32xf32> {
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %keep = func.call @keep(%i, %j) : (index, index) -> i1
    attn.yield %keep : i1
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return %o : tensor<1x2x16x32xf32>
}
