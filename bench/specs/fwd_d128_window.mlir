// Benchmark spec: bf16 forward, head dim 128, causal sliding window: query i
// keeps keys i - 1024 <= j <= i (window(1024, 0), a compiled constant; keep it
// equal to WINDOW in bench/bench.py); B, H and N at run time.
func.func @fwd_d128_window(%q: tensor<?x?x?x128xbf16>, %k: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>) -> (tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v window(1024, 0) : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16> -> tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>
  return %o, %lse : tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>
}
