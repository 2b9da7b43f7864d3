"""The FlashAttention-3 paper's grid on one GPU, flashc side by side with the
peers in the same run (bf16; 16k tokens; hidden 2048; N 512..16k; d 64 and
128; causal and not; forward and backward).

    python3 bench/fa3_grid.py LIBFLASHC_RUNTIME_SO KERNELS_DIR OUT_DIR

KERNELS_DIR holds kernel directories compiled by `flashc compile` from
bench/specs/{fwd,bwd}_d{64,128}_{full,causal}.mlir. Every output is checked
against torch's SDPA in fp32 (on one batch entry and head) before anything
is timed. Timing:
triton.testing.do_bench, median of runs after warm-up, on random data.
FLOPs by the FlashAttention convention: fwd 4 B H N^2 d (half if causal),
bwd 2.5x fwd. Writes OUT_DIR/fa3_grid.json and OUT_DIR/fa3_grid.md.
"""

import ctypes
import json
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from triton.testing import do_bench


class Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_uint64), ("dtype", ctypes.c_int32),
                ("rank", ctypes.c_int32), ("sizes", ctypes.c_int64 * 4),
                ("strides", ctypes.c_int64 * 4)]


class Layout(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(ctypes.c_uint8)),
                ("sizes", ctypes.c_int64 * 4)]


_TAIL = [("seqlens_q", ctypes.POINTER(ctypes.c_int32)),
         ("num_seqlens_q", ctypes.c_int64),
         ("seqlens_k", ctypes.POINTER(ctypes.c_int32)),
         ("num_seqlens_k", ctypes.c_int64), ("layout", Layout),
         ("has_seed", ctypes.c_int32), ("has_offset", ctypes.c_int32),
         ("seed", ctypes.c_uint64), ("offset", ctypes.c_uint64)]


class ForwardArgs(ctypes.Structure):
    _fields_ = [(n, Tensor) for n in ("q", "k", "v", "o", "lse")] + _TAIL


class BackwardArgs(ctypes.Structure):
    _fields_ = [(n, Tensor) for n in ("q", "k", "v", "o", "lse", "dout", "dq",
                                      "dk", "dv", "delta")] + _TAIL


DTYPES = {torch.float16: 0, torch.bfloat16: 1, torch.float32: 2}


def ref(t):
    return Tensor(t.data_ptr(), DTYPES[t.dtype], t.dim(),
                  (ctypes.c_int64 * 4)(*t.shape, *([0] * (4 - t.dim()))),
                  (ctypes.c_int64 * 4)(*t.stride(), *([0] * (4 - t.dim()))))


class Flashc:
    def __init__(self, lib_path, kernels):
        self.lib = ctypes.CDLL(lib_path)
        self.lib.flashc_load.restype = ctypes.c_void_p
        self.lib.flashc_load.argtypes = [ctypes.c_char_p]
        self.lib.flashc_last_error.restype = ctypes.c_char_p
        self.kernels = kernels
        self.handles = {}

    def handle(self, name):
        if name not in self.handles:
            h = self.lib.flashc_load(os.path.join(self.kernels, name).encode())
            if not h:
                raise RuntimeError(self.lib.flashc_last_error().decode())
            self.handles[name] = ctypes.c_void_p(h)
        return self.handles[name]

    def check(self, rc):
        if rc != 0:
            raise RuntimeError(self.lib.flashc_last_error().decode())

    def forward(self, name, q, k, v, o, lse):
        args = ForwardArgs(q=ref(q), k=ref(k), v=ref(v), o=ref(o), lse=ref(lse))
        stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
        self.check(self.lib.flashc_forward(self.handle(name),
                                           ctypes.byref(args), stream))

    def backward(self, name, q, k, v, o, lse, do, dq, dk, dv, delta):
        args = BackwardArgs(q=ref(q), k=ref(k), v=ref(v), o=ref(o),
                            lse=ref(lse), dout=ref(do), dq=ref(dq),
                            dk=ref(dk), dv=ref(dv), delta=ref(delta))
        stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
        self.check(self.lib.flashc_backward(self.handle(name),
                                            ctypes.byref(args), stream))


def rel_err(x, want):
    return ((x.float() - want).abs().max() / want.abs().max()).item()


def sdpa(backend, q, k, v, causal):
    with sdpa_kernel([backend]):
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)


def main():
    lib, kernels, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    # The runtime loads on the current context: let torch create it first.
    torch.cuda.init()
    torch.empty(1, device="cuda")
    fc = Flashc(lib, kernels)
    torch.manual_seed(int(time.time()))
    rows = []
    seqlens = [int(x) for x in os.environ.get(
        "FA3_SEQLENS", "512,1024,2048,4096,8192,16384").split(",")]
    for d in (64, 128):
        for causal in (False, True):
            tag = f"d{d}_{'causal' if causal else 'full'}"
            for n in seqlens:
                b, h = 16384 // n, 2048 // d
                q, k, v = (torch.randn(b, h, n, d, device="cuda",
                                       dtype=torch.bfloat16) for _ in range(3))
                do = torch.randn_like(q)
                o = torch.empty_like(q)
                lse = torch.empty(b, h, n, device="cuda", dtype=torch.float32)
                dq, dk, dv = (torch.empty_like(q) for _ in range(3))
                delta = torch.empty(b, h, n, device="cuda", dtype=torch.float32)
                fwd_flops = 4 * b * h * n * n * d * (0.5 if causal else 1.0)
                row = {"d": d, "causal": causal, "seqlen": n, "batch": b,
                       "heads": h}
                # Correctness first, against fp32 math on a slice when large.
                fc.forward("fwd_" + tag, q, k, v, o, lse)
                fc.backward("bwd_" + tag, q, k, v, o, lse, do, dq, dk, dv,
                            delta)
                torch.cuda.synchronize()
                s = (slice(0, 1), slice(0, 1))  # one (batch, head)
                qr, kr, vr = (t[s].float().requires_grad_() for t in (q, k, v))
                want = F.scaled_dot_product_attention(qr, kr, vr,
                                                      is_causal=causal)
                want.backward(do[s].float())
                row["err_o"] = rel_err(o[s], want.detach())
                row["err_dq"] = rel_err(dq[s], qr.grad)
                row["err_dk"] = rel_err(dk[s], kr.grad)
                row["err_dv"] = rel_err(dv[s], vr.grad)
                ok = max(row["err_o"], row["err_dq"], row["err_dk"],
                         row["err_dv"]) < 2e-2
                row["correct"] = ok
                del qr, kr, vr, want
                # Forward timings.
                t = {}
                t["flashc"] = do_bench(
                    lambda: fc.forward("fwd_" + tag, q, k, v, o, lse),
                    warmup=50, rep=300, return_mode="median")
                for name, be in (("fa2", SDPBackend.FLASH_ATTENTION),
                                 ("cudnn", SDPBackend.CUDNN_ATTENTION)):
                    try:
                        t[name] = do_bench(lambda: sdpa(be, q, k, v, causal),
                                           warmup=50, rep=300,
                                           return_mode="median")
                    except Exception as e:  # backend not available
                        t[name] = None
                        row[f"{name}_error"] = str(e)[:200]
                row["fwd_ms"] = t
                row["fwd_tflops"] = {k2: (fwd_flops / (ms * 1e-3) / 1e12
                                          if ms else None)
                                     for k2, ms in t.items()}
                # Backward timings (flashc: its three kernels; peers: the
                # autograd backward of their forward).
                tb = {}
                tb["flashc"] = do_bench(
                    lambda: fc.backward("bwd_" + tag, q, k, v, o, lse, do, dq,
                                        dk, dv, delta),
                    warmup=50, rep=300, return_mode="median")
                for name, be in (("fa2", SDPBackend.FLASH_ATTENTION),
                                 ("cudnn", SDPBackend.CUDNN_ATTENTION)):
                    try:
                        qg, kg, vg = (x.detach().requires_grad_()
                                      for x in (q, k, v))
                        with sdpa_kernel([be]):
                            og = F.scaled_dot_product_attention(
                                qg, kg, vg, is_causal=causal)
                        tb[name] = do_bench(
                            lambda: torch.autograd.grad(
                                og, (qg, kg, vg), do, retain_graph=True),
                            warmup=50, rep=300, return_mode="median")
                        del og, qg, kg, vg
                    except Exception as e:
                        tb[name] = None
                        row[f"{name}_bwd_error"] = str(e)[:200]
                row["bwd_ms"] = tb
                row["bwd_tflops"] = {k2: (2.5 * fwd_flops / (ms * 1e-3) / 1e12
                                          if ms else None)
                                     for k2, ms in tb.items()}
                rows.append(row)
                f = row["fwd_tflops"]
                g = row["bwd_tflops"]
                print(f"{tag:12s} N={n:5d} ok={ok} err_o={row['err_o']:.1e} "
                      f"fwd TFLOP/s flashc {f['flashc']:.1f} "
                      f"fa2 {f['fa2'] or 0:.1f} cudnn {f['cudnn'] or 0:.1f} | "
                      f"bwd flashc {g['flashc']:.1f} fa2 {g['fa2'] or 0:.1f} "
                      f"cudnn {g['cudnn'] or 0:.1f}", flush=True)
                del q, k, v, do, o, lse, dq, dk, dv, delta
                torch.cuda.empty_cache()
    meta = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "gpu": torch.cuda.get_device_name(),
            "torch": torch.__version__,
            "cudnn": torch.backends.cudnn.version(),
            "driver": subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version",
                 "--format=csv,noheader"], capture_output=True,
                text=True).stdout.strip(),
            "commit": os.environ.get("FLASHC_COMMIT", "unknown")}
    with open(os.path.join(out, "fa3_grid.json"), "w") as fjson:
        json.dump({"meta": meta, "rows": rows}, fjson, indent=1)
    lines = [f"# FA3 grid, {meta['gpu']}, {meta['date']}, commit "
             f"{meta['commit']}, torch {meta['torch']}, cuDNN {meta['cudnn']}, "
             f"driver {meta['driver']}", "",
             "TFLOP/s (median). ratio = flashc / best peer.", "",
             "| d | causal | N | fwd flashc | fwd FA2 | fwd cuDNN | fwd ratio "
             "| bwd flashc | bwd FA2 | bwd cuDNN | bwd ratio | correct |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        f, g = r["fwd_tflops"], r["bwd_tflops"]
        bf = max(x for x in (f["fa2"], f["cudnn"], 0) if x is not None)
        bb = max(x for x in (g["fa2"], g["cudnn"], 0) if x is not None)
        fmt = lambda x: f"{x:.1f}" if x else "n/a"
        lines.append(
            f"| {r['d']} | {r['causal']} | {r['seqlen']} | {fmt(f['flashc'])} "
            f"| {fmt(f['fa2'])} | {fmt(f['cudnn'])} | "
            f"{f['flashc'] / bf if bf else 0:.2f} | {fmt(g['flashc'])} | "
            f"{fmt(g['fa2'])} | {fmt(g['cudnn'])} | "
            f"{g['flashc'] / bb if bb else 0:.2f} | {r['correct']} |")
    with open(os.path.join(out, "fa3_grid.md"), "w") as fmd:
        fmd.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all(r["correct"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
