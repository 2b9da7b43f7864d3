// A custom mask (keep a 16-wide band) and a custom score (a relative bias).
func.func @regions(%q: tensor<1x4x128x64xf32>, %k: tensor<1x4x128x64xf32>,
                   %v: tensor<1x4x128x64xf32>) -> tensor<1x4x128x64xf32> {
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %d = arith.subi %i, %j : index
    %c16 = arith.constant 16 : index
    %near = arith.cmpi ult, %d, %c16 : index
    attn.yield %near : i1
  } score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %d = arith.subi %i, %j : index
    %di = arith.index_cast %d : index to i32
    %df = arith.sitofp %di : i32 to f32
    %w = arith.constant -0.0625 : f32
    %bias = arith.mulf %df, %w : f32
    %r = arith.addf %s, %bias : f32
    attn.yield %r : f32
  } : tensor<1x4x128x64xf32>, tensor<1x4x128x64xf32>, tensor<1x4x128x64xf32>
    -> tensor<1x4x128x64xf32>, tensor<1x4x128xf32>
  return %o : tensor<1x4x128x64xf32>
}
