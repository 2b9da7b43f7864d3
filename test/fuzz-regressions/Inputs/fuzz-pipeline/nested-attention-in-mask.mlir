func.func @f(%q: tensor<1x1x64x16xf32>, %k: tensor<1x1x64x16xf32>, %v: tensor<1x1x64x16xf32>) -> (tensor<1x1x64x16xf32>, tensor<1x1x64xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %t = tensor.empty() : tensor<1x1x16x16xf32>
    %no:2 = attn.attention %t, %t, %t : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>, tensor<1x1x16xf32>
    %keep = arith.cmpi sle, %j, %i : index
    attn.yield %keep : i1
  } : tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32> -> tensor<1x1x64x16xf32>, tensor<1x1x64xf32>
  return %o, %lse : tensor<1x1x64x16xf32>, tensor<1x1x64xf32>
}
