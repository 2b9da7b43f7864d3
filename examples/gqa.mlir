// gqa.mlir - grouped-query attention: 8 query heads share 2 key/value heads.
//
// Q has Hq = 8 heads, K and V have Hkv = 2: query head h reads KV head
// h / (Hq / Hkv) = h / 4, so heads 0-3 share KV head 0 and heads 4-7 share
// KV head 1 (Llama-style GQA; Hkv = 1 would be multi-query attention). K and
// V are never replicated in memory: the kernel indexes the shared head.
// Causal, head dimension 128, bf16.
//
//   O [1, 8, 1024, 128] bf16 (one output per query head),  LSE [1, 8, 1024] f32
//
// Run it:      flashc run examples/gqa.mlir

func.func @gqa(%q: tensor<1x8x1024x128xbf16>, %k: tensor<1x2x1024x128xbf16>,
               %v: tensor<1x2x1024x128xbf16>)
    -> (tensor<1x8x1024x128xbf16>, tensor<1x8x1024xf32>) {
  %o, %lse = attn.attention %q, %k, %v causal
      : tensor<1x8x1024x128xbf16>, tensor<1x2x1024x128xbf16>,
        tensor<1x2x1024x128xbf16>
      -> tensor<1x8x1024x128xbf16>, tensor<1x8x1024xf32>
  return %o, %lse : tensor<1x8x1024x128xbf16>, tensor<1x8x1024xf32>
}
