// sliding_window.mlir - sliding-window (local) causal attention, with the
// window anchored bottom-right because there are fewer queries than keys.
//
// 512 new queries attend to a context of 1024 keys whose last 512 are the
// queries' own positions (chunked prefill over a KV cache). With
// `align(bottom_right)` query row i sits at absolute position i + shift,
// shift = Nk - Nq = 512, and keeps the keys
//
//   i + shift - 256 <= j <= i + shift        (window(256, 0) and causal)
//
// so every query sees itself and the 256 keys before it. Under the default
// `align(top_left)` the diagonal would start at key 0 instead.
//
//   O   [1, 4, 512, 64] bf16,  LSE [1, 4, 512] f32
//
// Only the key blocks that overlap the band are visited; the others are
// skipped without loading their K and V tiles.
//
// Run it:      flashc run examples/sliding_window.mlir
// IO report:   flashc explain examples/sliding_window.mlir

func.func @sliding_window(%q: tensor<1x4x512x64xbf16>,
                          %k: tensor<1x4x1024x64xbf16>,
                          %v: tensor<1x4x1024x64xbf16>)
    -> (tensor<1x4x512x64xbf16>, tensor<1x4x512xf32>) {
  %o, %lse = attn.attention %q, %k, %v causal align(bottom_right)
      window(256, 0)
      : tensor<1x4x512x64xbf16>, tensor<1x4x1024x64xbf16>,
        tensor<1x4x1024x64xbf16>
      -> tensor<1x4x512x64xbf16>, tensor<1x4x512xf32>
  return %o, %lse : tensor<1x4x512x64xbf16>, tensor<1x4x512xf32>
}
