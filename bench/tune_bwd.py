"""Backward tile tuning: flashc's backward kernel variants against FA2.

    python3 bench/tune_bwd.py LIB FWD_KERNELS VARIANTS [SEQLENS]

LIB: libflashc_runtime.so; FWD_KERNELS: a compile_kernels.sh directory (its
fwd_d{64,128}_{full,causal} give O and LSE); VARIANTS/NAME/bwd_d{64,128}_
{full,causal}: `flashc compile bench/specs/bwd_*.mlir --block-q .. --block-k
..` outputs. bf16, 16k tokens, hidden 2048 (the FA3 grid); prints TFLOP/s
(FA convention), the ratio to SDPA's flash backward, the max error of dQ, dK,
dV relative to FA2's, and per-kernel times (torch.profiler, per call).
"""
import sys, os, torch, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(__file__))
import fa3_grid as g
from torch.nn.attention import sdpa_kernel, SDPBackend
from triton.testing import do_bench
torch.cuda.init(); torch.empty(1, device="cuda")
lib, fwdroot, root = sys.argv[1], sys.argv[2], sys.argv[3]
seqs = [int(x) for x in (sys.argv[4] if len(sys.argv) > 4 else "4096,16384").split(",")]
fc = g.Flashc(lib, root)
ff = g.Flashc(lib, fwdroot)
def kernel_times(fn):
    from torch.profiler import profile, ProfilerActivity
    fn(); torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as p:
        for _ in range(5): fn()
        torch.cuda.synchronize()
    out = {}
    for e in p.key_averages():
        t = e.device_time  # microseconds, averaged over the calls
        if t and "bwd" in e.key:
            out[e.key[:40]] = t / 1000.0
    return out
for d in (64, 128):
  for causal in (False, True):
    for n in seqs:
        b, h = 16384 // n, 2048 // d
        torch.manual_seed(0)
        q, k, v, do = (torch.randn(b, h, n, d, device="cuda", dtype=torch.bfloat16) for _ in range(4))
        o = torch.empty_like(q); lse = torch.empty(b, h, n, device="cuda", dtype=torch.float32)
        m = "causal" if causal else "full"
        ff.forward(f"fwd_d{d}_{m}", q, k, v, o, lse)
        qq, kk, vv = (t.detach().clone().requires_grad_() for t in (q, k, v))
        with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
            oo = F.scaled_dot_product_attention(qq, kk, vv, is_causal=causal)
        want = torch.autograd.grad(oo, (qq, kk, vv), do, retain_graph=True)
        fa2 = do_bench(lambda: torch.autograd.grad(oo, (qq, kk, vv), do, retain_graph=True), warmup=30, rep=150, return_mode="median")
        fl = 2.5 * 4 * b * h * n * n * d * (0.5 if causal else 1)
        print(f"FA2 d{d} {m} N={n}: {fl/fa2/1e9:.1f} TFLOP/s", flush=True)
        for variant in sorted(os.listdir(root)):
            key = os.path.join(variant, f"bwd_d{d}_{m}")
            if not os.path.isdir(os.path.join(root, key)): continue
            dq, dk, dv = (torch.empty_like(q) for _ in range(3)); delta = torch.empty_like(lse)
            try:
                fn = lambda: fc.backward(key, q, k, v, o, lse, do, dq, dk, dv, delta)
                fn(); torch.cuda.synchronize()
                errs = [g.rel_err(x, w.float()) for x, w in zip((dq, dk, dv), want)]
                ms = do_bench(fn, warmup=30, rep=150, return_mode="median")
                kt = kernel_times(fn)
                ks = " ".join(f"{kk.split('_bwd_')[-1][:5]}={t:.2f}ms" for kk, t in kt.items())
                print(f"  {variant:10s} err dq/dk/dv={errs[0]:.1e}/{errs[1]:.1e}/{errs[2]:.1e} {ms:.2f} ms {fl/ms/1e9:.1f} TFLOP/s ({fl/ms/1e9/(fl/fa2/1e9):.2f}x FA2) [{ks}]", flush=True)
            except Exception as e:
                print(f"  {variant:10s} ERROR {e}", flush=True)
