// A mask that divides by j - 3: undefined at j = 3, which the reference's
// interpreter reports instead of guessing.
func.func @spec(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>,
                %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c3 = arith.constant 3 : index
    %d = arith.subi %j, %c3 : index
    %q2 = arith.divsi %i, %d : index
    %keep = arith.cmpi sge, %q2, %b : index
    attn.yield %keep : i1
  } : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>
    -> tensor<1x1x8x16xf32>, tensor<1x1x8xf32>
  return %o : tensor<1x1x8x16xf32>
}
