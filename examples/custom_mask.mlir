// custom_mask.mlir - a prefix-LM mask written as a mask region.
//
// The first 256 tokens are a prompt that every token may see in full
// (bidirectional), the rest is generated left to right (causal):
//
//   keep(b, h, i, j) = j < 256  or  j <= i
//
// The mask region receives the batch index %b, the head %h, the query row
// %i and the key column %j (all `index`) and yields an i1: true keeps the
// score, false sets it to -inf before the softmax. It may use arith ops on
// its arguments and constants only; it cannot read values from outside.
//
// flashc's mask analysis understands conjunctions of linear conditions on
// (i, j) (causal, windows, bands) and skips the blocks they prove empty.
// This mask is a disjunction, so every block is visited and the region is
// evaluated on each; `flashc explain` shows what the analysis proved.
//
//   O [2, 4, 1024, 64] bf16,  LSE [2, 4, 1024] f32
//
// Run it:      flashc run examples/custom_mask.mlir
// IO report:   flashc explain examples/custom_mask.mlir

func.func @prefix_lm(%q: tensor<2x4x1024x64xbf16>, %k: tensor<2x4x1024x64xbf16>,
                     %v: tensor<2x4x1024x64xbf16>)
    -> (tensor<2x4x1024x64xbf16>, tensor<2x4x1024xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %prefix_len = arith.constant 256 : index
    %in_prefix = arith.cmpi slt, %j, %prefix_len : index
    %not_future = arith.cmpi sle, %j, %i : index
    %keep = arith.ori %in_prefix, %not_future : i1
    attn.yield %keep : i1
  } : tensor<2x4x1024x64xbf16>, tensor<2x4x1024x64xbf16>,
      tensor<2x4x1024x64xbf16>
    -> tensor<2x4x1024x64xbf16>, tensor<2x4x1024xf32>
  return %o, %lse : tensor<2x4x1024x64xbf16>, tensor<2x4x1024xf32>
}
