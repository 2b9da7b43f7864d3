// floor has no useful derivative; the gradient op rejects it.
func.func @spec(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>, %o: tensor<1x2x16x32xf32>, %lse: tensor<1x2x16xf32>, %do: tensor<1x2x16x32xf32>) -> tensor<1x2x16x32xf32> {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %f = math.floor %s : f32
    attn.yield %f : f32
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>
  return %dq : tensor<1x2x16x32xf32>
}
