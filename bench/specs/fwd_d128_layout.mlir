// Benchmark spec: bf16 forward, head dim 128, block-sparse: a run-time layout
// [B or 1, H or 1, ceil(N/128), ceil(N/128)] of 128x128 blocks (nonzero keeps
// a block); B, H and N at run time. One compiled kernel serves every layout.
func.func @fwd_d128_layout(%q: tensor<?x?x?x128xbf16>, %k: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>, %layout: tensor<?x?x?x?xi8>) -> (tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v layout(%layout : tensor<?x?x?x?xi8>, block [128, 128]) : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16> -> tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>
  return %o, %lse : tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>
}
