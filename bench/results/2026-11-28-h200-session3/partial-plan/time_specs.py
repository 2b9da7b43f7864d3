# Times flashc's backward of a few GPU-test specs, old kernel dirs against new.
import sys, os, torch
sys.path.insert(0, os.path.dirname(__file__))
import fa3_grid as g
from triton.testing import do_bench
torch.cuda.init(); torch.empty(1, device="cuda")
lib = sys.argv[1]
fc = g.Flashc(lib, os.getcwd())
for name, dt in (("grad_softcap_alibi_f16_d64", torch.float16), ("grad_custom_score_tanh_f16_d64", torch.float16)):
    b, h, n, d = 4, 4, 4096, 64
    torch.manual_seed(0)
    q, k, v, o, do = (torch.randn(b, h, n, d, device="cuda", dtype=dt) for _ in range(5))
    lse = torch.full((b, h, n), 5.0, device="cuda", dtype=torch.float32)
    outs = {}
    for root in ("gpu-kernels", "gpu-kernels-new"):
        dq, dk, dv = (torch.empty_like(q) for _ in range(3)); delta = torch.empty_like(lse)
        fn = lambda: fc.backward(os.path.join(root, name), q, k, v, o, lse, do, dq, dk, dv, delta)
        fn(); torch.cuda.synchronize()
        outs[root] = (dq.clone(), dk.clone(), dv.clone())
        ms = do_bench(fn, warmup=20, rep=100, return_mode="median")
        fl = 2.5 * 4 * b * h * n * n * d
        print(f"{name} {root}: {ms:.3f} ms {fl/ms/1e9:.1f} TFLOP/s", flush=True)
    diffs = [((x.float() - y.float()).abs().max() / y.float().abs().max()).item() for x, y in zip(outs["gpu-kernels-new"], outs["gpu-kernels"])]
    print(f"  new vs old max rel diff dq/dk/dv: {diffs}", flush=True)
