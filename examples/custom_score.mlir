// custom_score.mlir - a fixed (not learned) relative-position bias, written
// as a score region.
//
// Each score s = Q_i . K_j / sqrt(64) becomes
//
//   s - slope_h * min(|i - j|, 128),   slope_h = 0.5 / (h + 1)
//
// a per-head distance penalty that stops growing past 128 tokens (like T5's
// relative buckets, which also saturate at a maximum distance), combined
// with a causal mask.
//
// The score region receives the score %s (f32), then the batch index %b,
// head %h, query row %i and key column %j (`index`), and yields the new
// score as f32. It runs inside the kernel on every element of each visited
// score tile, after softcap and ALiBi (none here) and before the mask. It may
// use side-effect-free ops on its arguments and constants only; these ones
// are all differentiable, so the same region also works in an
// attn.attention_grad spec.
//
//   O [2, 4, 512, 64] bf16,  LSE [2, 4, 512] f32
//
// Run it:      flashc run examples/custom_score.mlir

func.func @relative_bias(%q: tensor<2x4x512x64xbf16>, %k: tensor<2x4x512x64xbf16>,
                         %v: tensor<2x4x512x64xbf16>)
    -> (tensor<2x4x512x64xbf16>, tensor<2x4x512xf32>) {
  %o, %lse = attn.attention %q, %k, %v causal score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    // dist = min(|i - j|, 128)
    %i_minus_j = arith.subi %i, %j : index
    %j_minus_i = arith.subi %j, %i : index
    %abs = arith.maxsi %i_minus_j, %j_minus_i : index
    %max_dist = arith.constant 128 : index
    %dist = arith.minsi %abs, %max_dist : index
    %dist_i32 = arith.index_cast %dist : index to i32
    %dist_f = arith.sitofp %dist_i32 : i32 to f32
    // slope = 0.5 / (h + 1)
    %h_i32 = arith.index_cast %h : index to i32
    %h_f = arith.sitofp %h_i32 : i32 to f32
    %one = arith.constant 1.0 : f32
    %half = arith.constant 0.5 : f32
    %h_plus_1 = arith.addf %h_f, %one : f32
    %slope = arith.divf %half, %h_plus_1 : f32
    // s - slope * dist
    %bias = arith.mulf %slope, %dist_f : f32
    %biased = arith.subf %s, %bias : f32
    attn.yield %biased : f32
  } : tensor<2x4x512x64xbf16>, tensor<2x4x512x64xbf16>,
      tensor<2x4x512x64xbf16>
    -> tensor<2x4x512x64xbf16>, tensor<2x4x512xf32>
  return %o, %lse : tensor<2x4x512x64xbf16>, tensor<2x4x512xf32>
}
