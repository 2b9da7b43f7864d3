"""Kernel variants of flashc against FA2 and cuDNN, forward and backward, in
one run on one GPU: for choosing tiles and code generation (not the
benchmark of record, which is bench.py).

    python3 bench/tune.py LIB VARIANTS [SEQLENS]

LIB: libflashc_runtime.so. VARIANTS/NAME/{fwd,bwd}_d{64,128}_{full,causal}:
`flashc compile bench/specs/...mlir` outputs (any subset; e.g. one variant
per --target or --block-q/--block-k). bf16, 16k tokens, hidden 2048 (the
FA3 grid); SEQLENS defaults to 4096,16384. Backward variants take O and
LSE from the first variant's forward. Prints TFLOP/s (FA convention: fwd 4 B H N^2 d,
bwd 2.5x that, halved if causal), the ratio to FA2, and the max error
relative to FA2's output (O, or dQ/dK/dV) scaled by its largest magnitude.
"""
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from triton.testing import do_bench

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

bench.torch, bench.F = torch, F  # bench.py imports torch lazily


def timed(fn):
    return do_bench(fn, warmup=30, rep=150, return_mode="median")


def kernel_times(fn, calls=5):
    """Per-kernel device time of one call of fn (ms), by kernel name, from the
    CUDA profiler: which kernel of a backward the time goes to."""
    acts = [torch.profiler.ProfilerActivity.CUDA]
    with torch.profiler.profile(activities=acts) as prof:
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
    times = {}
    for e in prof.key_averages():
        us = getattr(e, "device_time_total", None)
        if us is None:
            us = e.cuda_time_total
        if us > 0:
            times[e.key] = us / 1e3 / calls
    return ", ".join(f"{name[:40]} {ms:.3f}" for name, ms in
                     sorted(times.items(), key=lambda kv: -kv[1])[:4])


def sdpa(backend, q, k, v, causal):
    with sdpa_kernel([backend]):
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)


def main(argv):
    lib_path, root = argv[0], argv[1]
    seqs = [int(x) for x in (argv[2] if len(argv) > 2 else "4096,16384").split(",")]
    variants = sorted(os.listdir(root))
    libs = {v: bench.FlashcLib(lib_path, os.path.join(root, v)) for v in variants}
    print("GPU:", torch.cuda.get_device_name(), flush=True)
    for d in (64, 128):
        for causal in (False, True):
            m = "causal" if causal else "full"
            for n in seqs:
                b, h = 16384 // n, 2048 // d
                torch.manual_seed(0)
                q, k, v, do = (torch.randn(b, h, n, d, device="cuda", dtype=torch.bfloat16)
                               for _ in range(4))
                fl = 4 * b * h * n * n * d * (0.5 if causal else 1)
                peers = {}
                for name, backend in (("FA2", SDPBackend.FLASH_ATTENTION),
                                      ("cuDNN", SDPBackend.CUDNN_ATTENTION)):
                    try:
                        peers[name] = timed(lambda: sdpa(backend, q, k, v, causal))
                    except Exception as e:  # noqa: BLE001
                        print(f"  {name} fwd: {e}")
                qq, kk, vv = (t.detach().clone().requires_grad_() for t in (q, k, v))
                with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
                    oo = F.scaled_dot_product_attention(qq, kk, vv, is_causal=causal)
                want_o = oo.detach().float()
                grads = torch.autograd.grad(oo, (qq, kk, vv), do, retain_graph=True)
                fa2_bwd = timed(lambda: torch.autograd.grad(oo, (qq, kk, vv), do,
                                                            retain_graph=True))
                print("  FA2 bwd kernels (ms): " + kernel_times(
                    lambda: torch.autograd.grad(oo, (qq, kk, vv), do, retain_graph=True)),
                    flush=True)
                have_ref = None
                print(f"d{d} {m} N={n}: FA2 fwd {fl / peers['FA2'] / 1e9:.1f}"
                      + (f", cuDNN fwd {fl / peers['cuDNN'] / 1e9:.1f}" if "cuDNN" in peers else "")
                      + f", FA2 bwd {2.5 * fl / fa2_bwd / 1e9:.1f} TFLOP/s", flush=True)
                o_ref = torch.empty_like(q)
                lse_ref = torch.empty(b, h, n, device="cuda", dtype=torch.float32)
                for variant in variants:
                    fwd = f"fwd_d{d}_{m}"
                    if os.path.isdir(os.path.join(root, variant, fwd)):
                        o = torch.empty_like(q)
                        lse = torch.empty(b, h, n, device="cuda", dtype=torch.float32)
                        try:
                            call = libs[variant].forward_call(fwd, q, k, v, o, lse)
                            call()
                            torch.cuda.synchronize()
                            err = bench.rel_err(o, want_o)
                            ms = timed(call)
                            print(f"  fwd {variant:12s} err {err:.1e} {ms:.3f} ms "
                                  f"{fl / ms / 1e9:.1f} TFLOP/s "
                                  f"({peers['FA2'] / ms:.2f}x FA2)", flush=True)
                            if have_ref is None:
                                o_ref.copy_(o)
                                lse_ref.copy_(lse)
                                have_ref = True
                        except Exception as e:  # noqa: BLE001
                            print(f"  fwd {variant:12s} ERROR {e}", flush=True)
                for variant in variants:
                    bwd = f"bwd_d{d}_{m}"
                    if not os.path.isdir(os.path.join(root, variant, bwd)) or have_ref is None:
                        continue
                    dq, dk, dv = (torch.empty_like(q) for _ in range(3))
                    delta = torch.empty_like(lse_ref)
                    try:
                        call = libs[variant].backward_call(bwd, q, k, v, o_ref, lse_ref,
                                                           do, dq, dk, dv, delta)
                        call()
                        torch.cuda.synchronize()
                        errs = [bench.rel_err(x, w.float())
                                for x, w in zip((dq, dk, dv), grads)]
                        ms = timed(call)
                        print(f"  bwd {variant:12s} err dq/dk/dv "
                              f"{errs[0]:.1e}/{errs[1]:.1e}/{errs[2]:.1e} {ms:.3f} ms "
                              f"{2.5 * fl / ms / 1e9:.1f} TFLOP/s "
                              f"({fa2_bwd / ms:.2f}x FA2)", flush=True)
                        print("      kernels (ms): " + kernel_times(call), flush=True)
                    except Exception as e:  # noqa: BLE001
                        print(f"  bwd {variant:12s} ERROR {e}", flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
