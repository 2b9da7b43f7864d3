func.func @f(%q: tensor<1x1x64x16xf32>, %k: tensor<1x1x64x16xf32>, %v: tensor<1x1x64x16xf32>) -> (tensor<1x1x64x16xf32>, tensor<1x1x64xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 9223372036854775807 : index
    %t = arith.muli %i, %c : index
    %u = arith.muli %t, %c : index
    %keep = arith.cmpi sge, %u, %j : index
    attn.yield %keep : i1
  } : tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32> -> tensor<1x1x64x16xf32>, tensor<1x1x64xf32>
  return %o, %lse : tensor<1x1x64x16xf32>, tensor<1x1x64xf32>
}
