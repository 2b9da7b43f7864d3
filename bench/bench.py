#!/usr/bin/env python3
"""flashc against its peers on one GPU, in one run, on the same inputs.

    python3 bench/bench.py --lib LIBFLASHC_RUNTIME_SO --kernels KERNELS_DIR \\
        --out OUT_DIR [--sections grid,sparse,memory,compile] [--d 64,128]
        [--repeat 2] [--budget SECONDS] [--tag NAME] [...]
    python3 bench/bench.py --dry-run --kernels KERNELS_DIR   # plan, no torch
    python3 bench/bench.py --selftest                        # pure-Python checks

Peers: torch SDPA with the flash (FlashAttention-2, "fa2") and cuDNN
backends, FlexAttention (torch.compile'd flex_attention with the equivalent
BlockMask, "flex") and standard attention (SDPA math, "math"). flashc's
kernels (compiled ahead of time by bench/compile_kernels.sh from
bench/specs/) are called through the runtime's C ABI (ctypes) on the same
torch tensors.

Sections (all by default):
  grid    the FlashAttention-3 paper's protocol: bf16, 16k tokens (B = 16384/N),
          hidden 2048 (H = 2048/d), N 512..16k, d 64 and 128, causal and not;
          forward, backward, forward+backward; peak memory of fwd+bwd.
  sparse  d = 128, H = 16, B = 16384/N, N 4k/8k/16k: random block layouts of
          128x128 blocks (densities 10/25/50/100%, diagonal kept) and a causal
          sliding window (WINDOW); flashc against Flex on the same layout
          (Flex's BlockMask: create_block_mask from a mask_mod that indexes
          the same dense [B, H, N/128, N/128] tensor flashc gets; past
          B·H·N² = 2^31 points the identical BlockMask built from that
          tensor's blocks; checked equal to the layout either way) and the
          same window (a mask_mod, create_block_mask).
  memory  peak memory (torch.cuda.max_memory_allocated) of forward+backward,
          B = 1, H = 16, d = 128, N 512..32k: flashc (its outputs and delta
          scratch), FA2, cuDNN, math (an OOM is recorded as such).
  compile FlexAttention's first call (fwd, then bwd) per variant at N = 4096
          with inductor caches disabled, against flashc's ahead-of-time
          compile times (KERNELS_DIR/compile_times.json, from
          bench/compile_kernels.sh).

Every output (flashc's and each peer's) is checked against an fp32
reference on two (batch, head) slices, and flashc's full outputs against
each peer's, before anything is timed. Timing: CUDA events around each call,
warm-up first, then calls in chunks started behind a short GPU sleep (so
the host is ahead and launch gaps are not timed; Python's collector off),
--target-s seconds of calls per measurement and round; a measurement's time
is the median over its rounds of each round's median call. Round 1 runs row
after row, each later round sweeps every row of the run again (minutes
later), peers interleaved within a row; bench/run_bench.sh runs every part
as two such processes (the second with --reverse, fresh inputs) and
bench/report.py pools their rounds, so the spread of the per-round ratios
(the noise) includes drift within a run and between processes. Input sets
rotated when one set would fit in 2x L2; inputs random normal (a layout is
seeded by its row: the same in every process and rerun). FLOPs per the
FlashAttention convention (bench/report.py). Each peer, configuration and
pass runs in its own try/except: an error is recorded and the run goes on.

Writes OUT_DIR/bench-TAG.json (rewritten after every row, so a killed run
keeps what it measured) and OUT_DIR/bench-TAG.md; bench/plot.py merges the
JSONs of several sections and draws the plots.
"""

import argparse
import ctypes
import gc
import json
import math
import os
import signal
import subprocess
import sys
import time
import traceback
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import report  # noqa: E402  (pure Python, shared with plot.py)

TOKENS = 16384
HIDDEN = 2048
BLOCK = 128                 # layout block, as in bench/specs/*_layout.mlir
WINDOW = (1024, 0)          # as in bench/specs/*_window.mlir: window(1024, 0)
L2_DEFAULT = 50 * 2**20     # H200
TOL = 2e-2                  # max |x - ref| / max |ref|, bf16
SECTIONS = ("grid", "sparse", "memory", "compile")
ALL_PEERS = ("flashc", "fa2", "cudnn", "flex", "math")
FLEX_BLOCK_MASK = "auto"    # --flex-block-mask

torch = None  # imported lazily: --dry-run and --selftest need no torch
F = None


def log(*a):
    print(*a, flush=True)


class Interrupted(BaseException):
    """SIGTERM: no `except Exception` swallows it."""


def _on_signal(signum, frame):
    raise Interrupted(f"signal {signum}")


# ------------------------------------------------------------- planning ----

def parse_list(s, conv=int):
    return [conv(x) for x in str(s).split(",") if x.strip()]


def kernel_names(d, mask):
    return f"fwd_d{d}_{mask}", f"bwd_d{d}_{mask}"


def plan(args):
    """Every configuration (row) this invocation measures, in order."""
    rows = []
    secs = args.sections
    if "compile" in secs:
        for d, mask in [(64, "full"), (64, "causal"), (128, "full"),
                        (128, "causal"), (128, "layout"), (128, "window")]:
            if d not in args.d and mask in ("full", "causal"):
                continue
            n = args.compile_seqlen
            rows.append({"section": "compile", "d": d, "mask": mask, "seqlen": n,
                         "batch": max(1, args.tokens // n), "heads": args.hidden // d,
                         "density": 0.25 if mask == "layout" else None,
                         "window": list(WINDOW) if mask == "window" else None})
    # Memory first: its rows keep nothing, and the timed rows' inputs and
    # buffers stay allocated until their last round.
    if "memory" in secs:
        for n in args.memory_seqlens:
            rows.append({"section": "memory", "d": 128, "mask": "full", "seqlen": n,
                         "batch": args.memory_batch, "heads": args.hidden // 128,
                         "density": None, "window": None})
    if "grid" in secs:
        for d in args.d:
            for mask in args.masks:
                for n in args.seqlens:
                    rows.append({"section": "grid", "d": d, "mask": mask, "seqlen": n,
                                 "batch": max(1, args.tokens // n),
                                 "heads": args.hidden // d, "density": None,
                                 "window": None})
    if "sparse" in secs:
        d = 128
        for n in args.sparse_seqlens:
            for dens in args.densities:
                rows.append({"section": "sparse", "d": d, "mask": "layout", "seqlen": n,
                             "batch": max(1, args.tokens // n), "heads": args.hidden // d,
                             "density": dens, "window": None})
            if args.window:
                rows.append({"section": "sparse", "d": d, "mask": "window", "seqlen": n,
                             "batch": max(1, args.tokens // n), "heads": args.hidden // d,
                             "density": None, "window": list(WINDOW)})
    for r in rows:
        r["key"] = row_key(r)
    return rows


def sweep_order(rows, reverse):
    """The order rows are measured in, every round: as planned, or (the
    second process of a part) the timed rows (grid, sparse) reversed, so that
    no row is always measured at the same point of the run. Compile and
    memory rows stay first."""
    if not reverse:
        return rows
    timed = [r for r in rows if r["section"] in ("grid", "sparse")]
    return [r for r in rows if r["section"] not in ("grid", "sparse")] + timed[::-1]


def row_key(r):
    k = f"{r['section']}/d{r['d']}/{r['mask']}"
    if r.get("density") is not None:
        k += f"{r['density']:g}"
    if r.get("window"):
        k += f"{r['window'][0]}_{r['window'][1]}"
    return k + f"/N{r['seqlen']}/B{r['batch']}"


def peers_for(row, args):
    sec = row["section"]
    if sec == "grid":
        return [p for p in ALL_PEERS if p in args.peers]
    if sec == "sparse":
        return [p for p in ("flashc", "flex") if p in args.peers]
    if sec == "memory":
        ps = ["flashc", "fa2", "cudnn", "math"] + (["flex"] if args.memory_flex else [])
        return [p for p in ps if p in args.peers]
    if sec == "compile":
        return ["flex"] if "flex" in args.peers else []
    return []


def kernel_dirs_needed(rows, args):
    need = set()
    for r in rows:
        if "flashc" in peers_for(r, args) and r["section"] != "compile":
            need.update(kernel_names(r["d"], r["mask"]))
            if r["section"] == "sparse" and r["mask"] == "layout" and r["density"] == 1.0:
                need.update(kernel_names(r["d"], "full"))
    return sorted(need)


def check_manifest(path, name):
    """Checks that a kernel directory matches what its name promises; returns
    a list of problems (empty if fine)."""
    problems = []
    try:
        with open(os.path.join(path, "flashc.json")) as f:
            m = json.load(f)
    except Exception as e:  # noqa: BLE001
        return [f"{name}: cannot read flashc.json: {e}"]
    parts = name.split("_")  # fwd_d128_layout
    kind, d, mask = parts[0], int(parts[1][1:]), parts[2]
    if m.get("element_type") != "bf16":
        problems.append(f"{name}: element type {m.get('element_type')}, want bf16")
    if m.get("head_dim") != d or m.get("head_dim_v") != d:
        problems.append(f"{name}: head dims {m.get('head_dim')}/{m.get('head_dim_v')}, want {d}")
    if bool(m.get("causal")) != (mask == "causal"):
        problems.append(f"{name}: causal={m.get('causal')}")
    want_window = list(WINDOW) if mask == "window" else None
    if (m.get("window") or None) != want_window:
        problems.append(f"{name}: window {m.get('window')}, want {want_window}")
    want_block = [BLOCK, BLOCK] if mask == "layout" else None
    if (m.get("layout_block") or None) != want_block:
        problems.append(f"{name}: layout block {m.get('layout_block')}, want {want_block}")
    kinds = sorted(k.get("kind") for k in m.get("kernels", []))
    want = ["fwd"] if kind == "fwd" else ["bwd_dkdv", "bwd_dq", "bwd_prep"]
    if kinds != want:
        problems.append(f"{name}: kernels {kinds}, want {want}")
    for k in m.get("kernels", []):
        for fkey in ("cubin", "ptx"):
            if k.get(fkey) and not os.path.exists(os.path.join(path, k[fkey])):
                problems.append(f"{name}: missing {k[fkey]}")
    static = m.get("static_sizes", {})
    if any(v != -1 for v in static.values()):
        problems.append(f"{name}: static sizes {static}: the benchmark needs ? for B, H, N")
    return problems


def row_flops(r, kept_pairs=None):
    return report.all_flops(report.fwd_flops(r["mask"], r["batch"], r["heads"],
                                             r["seqlen"], r["d"], kept_pairs))


def window_kept_pairs(r):
    return r["batch"] * r["heads"] * report.window_pairs(r["seqlen"], *r["window"])


def dry_run(args, rows):
    log(f"plan: {len(rows)} rows, sections {','.join(args.sections)}, "
        f"peers {','.join(args.peers)}, repeat {args.repeat}, budget {args.budget}s")
    problems = []
    for name in kernel_dirs_needed(rows, args):
        p = os.path.join(args.kernels, name) if args.kernels else None
        if p is None or not os.path.isdir(p):
            problems.append(f"{name}: no kernel directory under {args.kernels}")
            continue
        problems += check_manifest(p, name)
    ct = os.path.join(args.kernels or "", "compile_times.json")
    if args.kernels and not os.path.exists(ct):
        problems.append(f"{ct}: missing (bench/compile_kernels.sh writes it)")
    n_meas = 0
    for r in rows:
        ps = peers_for(r, args)
        if r["mask"] == "window":
            fl = row_flops(r, window_kept_pairs(r))["fwd"]
        elif r["mask"] == "layout":
            mq = -(-r["seqlen"] // BLOCK)
            dens = r["density"] + (1 - r["density"]) / mq  # diagonal kept
            fl = row_flops(r, int(dens * r["batch"] * r["heads"] * mq * mq) * BLOCK * BLOCK)["fwd"]
        else:
            fl = row_flops(r)["fwd"]
        if r["section"] in ("grid", "sparse"):
            n_meas += len(ps) * 3 * args.repeat
        log(f"  {r['key']:40s} peers {','.join(ps):28s} fwd {fl / 1e12:8.3f} TFLOP "
            f"inputs {4 * r['batch'] * r['heads'] * r['seqlen'] * r['d'] * 2 / 2**20:7.1f} MiB")
    log(f"{n_meas} timed measurements")
    for p in problems:
        log("PROBLEM", p)
    log("dry run: " + ("kernels OK" if not problems else f"{len(problems)} problems"))
    return 0 if not problems else 1


# ---------------------------------------------------------- the device ----

class Device:
    """CUDA events and memory statistics; on the CPU (--device cpu, for the
    self-test of the whole pipeline) wall clocks and no memory figures."""

    def __init__(self, kind):
        self.kind = kind
        self.cuda = kind == "cuda"

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def event(self):
        if self.cuda:
            return torch.cuda.Event(enable_timing=True)
        return _CpuEvent()

    def sleep_ms(self, ms):
        if self.cuda and ms > 0 and hasattr(torch.cuda, "_sleep"):
            torch.cuda._sleep(int(ms * 2.0e6))  # ~2 GHz: at least `ms`

    def mem_reset(self):
        if not self.cuda:
            return None
        self.sync()
        gc.collect()
        torch.cuda.reset_peak_memory_stats()
        return torch.cuda.memory_allocated()

    def mem_peak(self):
        if not self.cuda:
            return None
        self.sync()
        return torch.cuda.max_memory_allocated()

    def free(self):
        gc.collect()
        if self.cuda:
            torch.cuda.empty_cache()

    def l2_bytes(self):
        if self.cuda:
            try:
                return int(torch.cuda.get_device_properties(0).L2_cache_size) or L2_DEFAULT
            except Exception:  # noqa: BLE001
                return L2_DEFAULT
        return L2_DEFAULT


class _CpuEvent:
    def __init__(self):
        self.t = None

    def record(self):
        self.t = time.perf_counter()

    def elapsed_time(self, end):
        return (end.t - self.t) * 1e3


def is_oom(e):
    return (torch is not None and isinstance(e, torch.OutOfMemoryError)) or \
        "out of memory" in str(e).lower()


def err_text(e):
    s = f"{type(e).__name__}: {e}".strip()
    return s[:600]


def failed_passes(e, stage=None):
    """The record of a peer that failed, for every pass."""
    rec = {"oom": True, "error": "out of memory"} if is_oom(e) else {"error": err_text(e)}
    if stage:
        rec["error"] = f"{stage}: {rec['error']}"
    return {p: dict(rec) for p in report.PASSES}


# Fewest timed calls of one measurement in one round, by the duration of
# one call (ms). Only SDPA math takes 50 ms or more a call; in session 2
# those calls' p10-p90 spread was 0.2 % (median), 1.8 % at most, so the
# median of 3 is as steady as the calls.
REPS_MIN = ((10.0, 10), (50.0, 5), (float("inf"), 3))


def reps_min(per_ms):
    return next(n for limit, n in REPS_MIN if per_ms < limit)


class Timing:
    """Warm-up, then timed calls in chunks; returns per-call ms. Python's
    garbage collector is off meanwhile (as in timeit): a collection pauses
    the host, and the pause could fall between two kernels of one timed
    call."""

    def __init__(self, dev, args):
        self.dev = dev
        self.target_s = args.target_s
        self.reps_max = args.reps_max
        self.chunk = 10

    def one(self, fn):
        s, e = self.dev.event(), self.dev.event()
        s.record()
        fn()
        e.record()
        self.dev.sync()
        return s.elapsed_time(e)

    def run(self, fns, first_round=True):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run(fns, first_round)
        finally:
            if enabled:
                gc.enable()

    def _run(self, fns, first_round):
        n = len(fns)
        self.dev.sync()
        warm_min, warm_s = (2, 0.05) if first_round else (1, 0.02)
        est, i, t0 = [], 0, time.perf_counter()
        while True:
            est.append(self.one(fns[i % n]))
            i += 1
            if i >= warm_min and (time.perf_counter() - t0 >= warm_s or i >= 50):
                break
        per = min(est[1:]) if len(est) > 1 else est[0]  # the first call may be slow
        reps = max(reps_min(per),
                   min(self.reps_max, int(self.target_s * 1e3 / max(per, 1e-3))))
        samples = []
        while len(samples) < reps:
            k = min(self.chunk, reps - len(samples))
            # The GPU sleeps while the host queues the chunk: no launch gap
            # inside a timed call, not even the chunk's first.
            self.dev.sleep_ms(min(5.0, 0.3 * k) if per < 1.0 else 0.5)
            evs = [(self.dev.event(), self.dev.event()) for _ in range(k)]
            for s, e in evs:
                s.record()
                fns[i % n]()
                e.record()
                i += 1
            self.dev.sync()
            samples += [s.elapsed_time(e) for s, e in evs]
        return samples


# ---------------------------------------------------------- flashc ABI ----

class _Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_uint64), ("dtype", ctypes.c_int32),
                ("rank", ctypes.c_int32), ("sizes", ctypes.c_int64 * 4),
                ("strides", ctypes.c_int64 * 4)]


class _Layout(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(ctypes.c_uint8)),
                ("sizes", ctypes.c_int64 * 4)]


_TAIL = [("seqlens_q", ctypes.POINTER(ctypes.c_int32)),
         ("num_seqlens_q", ctypes.c_int64),
         ("seqlens_k", ctypes.POINTER(ctypes.c_int32)),
         ("num_seqlens_k", ctypes.c_int64), ("layout", _Layout),
         ("has_seed", ctypes.c_int32), ("has_offset", ctypes.c_int32),
         ("seed", ctypes.c_uint64), ("offset", ctypes.c_uint64)]


class _ForwardArgs(ctypes.Structure):
    _fields_ = [(n, _Tensor) for n in ("q", "k", "v", "o", "lse")] + _TAIL


class _BackwardArgs(ctypes.Structure):
    _fields_ = [(n, _Tensor) for n in ("q", "k", "v", "o", "lse", "dout", "dq",
                                       "dk", "dv", "delta")] + _TAIL


class _Stats(ctypes.Structure):
    _fields_ = [("registers", ctypes.c_int32), ("local_bytes", ctypes.c_int32),
                ("static_shared_bytes", ctypes.c_int32),
                ("max_threads", ctypes.c_int32), ("from_cubin", ctypes.c_int32)]


def _tref(t):
    dt = {torch.float16: 0, torch.bfloat16: 1, torch.float32: 2}[t.dtype]
    return _Tensor(t.data_ptr(), dt, t.dim(),
                   (ctypes.c_int64 * 4)(*t.shape, *([0] * (4 - t.dim()))),
                   (ctypes.c_int64 * 4)(*t.stride(), *([0] * (4 - t.dim()))))


def _lref(host_layout):
    if host_layout is None:
        return _Layout()
    return _Layout(ctypes.cast(host_layout.data_ptr(), ctypes.POINTER(ctypes.c_uint8)),
                   (ctypes.c_int64 * 4)(*host_layout.shape))


class FlashcLib:
    """libflashc_runtime.so through ctypes. Calls take prebuilt argument
    structs so that a timed call is one foreign call."""

    def __init__(self, path, kernels):
        self.lib = ctypes.CDLL(path)
        L = self.lib
        L.flashc_load.restype = ctypes.c_void_p
        L.flashc_load.argtypes = [ctypes.c_char_p]
        L.flashc_last_error.restype = ctypes.c_char_p
        L.flashc_forward.argtypes = [ctypes.c_void_p, ctypes.POINTER(_ForwardArgs),
                                     ctypes.c_void_p]
        L.flashc_backward.argtypes = [ctypes.c_void_p, ctypes.POINTER(_BackwardArgs),
                                      ctypes.c_void_p]
        L.flashc_kernel_stats_of.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                             ctypes.POINTER(_Stats)]
        self.kernels = kernels
        self.handles = {}

    def error(self):
        return (self.lib.flashc_last_error() or b"").decode(errors="replace")

    def handle(self, name):
        if name not in self.handles:
            path = os.path.join(self.kernels, name)
            problems = check_manifest(path, name)
            if problems:
                raise RuntimeError("; ".join(problems))
            h = self.lib.flashc_load(path.encode())
            if not h:
                raise RuntimeError(f"flashc_load {name}: {self.error()}")
            self.handles[name] = ctypes.c_void_p(h)
        return self.handles[name]

    def stats(self, name):
        out = {}
        for kind in ("fwd", "bwd_prep", "bwd_dkdv", "bwd_dq"):
            s = _Stats()
            if self.lib.flashc_kernel_stats_of(self.handle(name), kind.encode(),
                                               ctypes.byref(s)) == 0:
                out[kind] = {f: getattr(s, f) for f, _ in _Stats._fields_}
        return out

    def forward_call(self, name, q, k, v, o, lse, layout=None):
        h = self.handle(name)
        args = _ForwardArgs(q=_tref(q), k=_tref(k), v=_tref(v), o=_tref(o),
                            lse=_tref(lse), layout=_lref(layout))
        stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
        ref = ctypes.byref(args)
        fn = self.lib.flashc_forward

        def call():
            if fn(h, ref, stream) != 0:
                raise RuntimeError(f"flashc_forward {name}: {self.error()}")
        call.keep = (args, layout)
        return call

    def backward_call(self, name, q, k, v, o, lse, do, dq, dk, dv, delta, layout=None):
        h = self.handle(name)
        args = _BackwardArgs(q=_tref(q), k=_tref(k), v=_tref(v), o=_tref(o),
                             lse=_tref(lse), dout=_tref(do), dq=_tref(dq),
                             dk=_tref(dk), dv=_tref(dv), delta=_tref(delta),
                             layout=_lref(layout))
        stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
        ref = ctypes.byref(args)
        fn = self.lib.flashc_backward

        def call():
            if fn(h, ref, stream) != 0:
                raise RuntimeError(f"flashc_backward {name}: {self.error()}")
        call.keep = (args, layout)
        return call


class FlashcStub:
    """The same interface computed with torch in fp32 (for --device cpu
    self-tests of the pipeline, where there is no GPU and no runtime)."""

    def __init__(self, kernels=None):
        self.kernels = kernels

    def stats(self, name):
        return {}

    @staticmethod
    def _mask(name, n, b, h, layout):
        if "layout" in name:
            lay = layout[b % layout.shape[0], h % layout.shape[1]].bool()
            m = lay.repeat_interleave(BLOCK, 0).repeat_interleave(BLOCK, 1)
            return m[:n, :n]
        return dense_mask(name.split("_")[2], n, None, b, h)

    def forward_call(self, name, q, k, v, o, lse, layout=None):
        def call():
            B, H, N, _ = q.shape
            for b in range(B):
                for h in range(H):
                    m = self._mask(name, N, b, h, layout)
                    oo, ll = ref_forward(q[b, h].float(), k[b, h].float(), v[b, h].float(), m)
                    o[b, h] = oo.to(o.dtype)
                    lse[b, h] = ll
        return call

    def backward_call(self, name, q, k, v, o, lse, do, dq, dk, dv, delta, layout=None):
        def call():
            B, H, N, _ = q.shape
            for b in range(B):
                for h in range(H):
                    m = self._mask(name, N, b, h, layout)
                    qq, kk, vv = (t[b, h].float().requires_grad_() for t in (q, k, v))
                    oo, _ = ref_forward(qq, kk, vv, m)
                    g = torch.autograd.grad(oo, (qq, kk, vv), do[b, h].float())
                    dq[b, h], dk[b, h], dv[b, h] = (x.to(dq.dtype) for x in g)
                    delta[b, h] = (o[b, h].float() * do[b, h].float()).sum(-1)
        return call


# ------------------------------------------------------------ reference ----

def dense_mask(mask, n, layout, b, h, window=None, device=None):
    """The [n, n] bool keep-mask of one (batch, head); None when full."""
    dev = layout.device if layout is not None else device
    if mask == "full":
        return None
    i = torch.arange(n, device=dev).view(-1, 1)
    j = torch.arange(n, device=dev).view(1, -1)
    if mask == "causal":
        return j <= i
    if mask == "window":
        left, right = window or WINDOW
        return (j >= i - left) & (j <= i + right)
    if mask == "layout":
        lay = layout[b % layout.shape[0], h % layout.shape[1]].bool()
        return lay.repeat_interleave(BLOCK, 0).repeat_interleave(BLOCK, 1)[:n, :n]
    raise ValueError(mask)


def ref_forward(q, k, v, keep):
    """fp32 attention of one (batch, head): O and LSE (natural log)."""
    s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
    if keep is not None:
        s = s.masked_fill(~keep.to(s.device), float("-inf"))
    lse = torch.logsumexp(s, dim=-1)
    p = torch.exp(s - lse.unsqueeze(-1))
    return p @ v, lse


def rel_err(x, want):
    den = want.abs().max().item()
    return (x.float() - want).abs().max().item() / (den if den > 0 else 1.0)


# ---------------------------------------------------------------- cases ----

class Case:
    """The inputs of one row: `sets` copies of (q, k, v, do), the layout (on
    the device for Flex and the reference, on the host for flashc)."""

    def __init__(self, row, dev, args, seed):
        self.row = row
        self.dev = dev
        B, H, N, d = row["batch"], row["heads"], row["seqlen"], row["d"]
        dtype = torch.bfloat16
        self.shape = (B, H, N, d)
        per_set = 5 * B * H * N * d * 2 + B * H * N * 8  # q k v o do + lse/delta
        l2 = dev.l2_bytes()
        self.nsets = 1
        if per_set < 2 * l2 and row["section"] in ("grid", "sparse"):
            self.nsets = min(16, math.ceil(4 * l2 / per_set))
        g = torch.Generator(device=dev.kind)
        g.manual_seed(seed)
        self.sets = []
        for _ in range(self.nsets):
            q, k, v, do = (torch.randn(B, H, N, d, device=dev.kind, dtype=dtype, generator=g)
                           for _ in range(4))
            self.sets.append({"q": q, "k": k, "v": v, "do": do})
        self.layout = self.layout_host = None
        self.kept_pairs = None
        if row["mask"] == "layout":
            mq = -(-N // BLOCK)
            # The layout belongs to the row, not to the run: the same in
            # both processes of a part and in a rerun (inputs do differ).
            gl = torch.Generator()
            row["layout_seed"] = zlib.crc32(row["key"].encode())
            gl.manual_seed(row["layout_seed"])
            lay = torch.rand(B, H, mq, mq, generator=gl) < row["density"]
            lay |= torch.eye(mq, dtype=torch.bool)
            self.layout_host = lay.to(torch.uint8).contiguous()
            self.layout = self.layout_host.to(dev.kind)
            rows_in = [min(BLOCK, N - BLOCK * i) for i in range(mq)]
            sizes = torch.tensor(rows_in, dtype=torch.float64)
            pair_w = sizes.view(-1, 1) * sizes.view(1, -1)
            self.kept_pairs = int((lay.double() * pair_w).sum().item())
            row["density_eff"] = float(lay.double().mean().item())
        elif row["mask"] == "window":
            self.kept_pairs = window_kept_pairs(row)
            row["density_eff"] = self.kept_pairs / float(B * H * N * N)
        row["input_sets"] = self.nsets
        row["flops"] = row_flops(row, self.kept_pairs)
        self.input_bytes = 4 * B * H * N * d * 2

    def keep(self, b, h):
        return dense_mask(self.row["mask"], self.row["seqlen"], self.layout, b, h,
                          self.row.get("window"), device=self.dev.kind)

    def slices(self):
        B, H = self.row["batch"], self.row["heads"]
        s = [(0, 0)]
        if (B - 1, H - 1) != (0, 0):
            s.append((B - 1, H - 1))
        return s

    def reference(self):
        """fp32 O, LSE, dQ, dK, dV on the slices of input set 0."""
        st = self.sets[0]
        out = {}
        for b, h in self.slices():
            q, k, v = (st[x][b, h].float().requires_grad_() for x in ("q", "k", "v"))
            o, lse = ref_forward(q, k, v, self.keep(b, h))
            dq, dk, dv = torch.autograd.grad(o, (q, k, v), st["do"][b, h].float())
            out[(b, h)] = {"o": o.detach(), "lse": lse.detach(), "dq": dq, "dk": dk, "dv": dv}
            del q, k, v, o, lse
        return out


# ---------------------------------------------------------------- peers ----

class Peer:
    """One implementation on one case: fwd/bwd/fwdbwd callables per input
    set, outputs for the check, and a memory probe."""
    name = "?"

    def __init__(self, case):
        self.case = case
        self.first_call = {}

    def fns(self, pss):
        raise NotImplementedError

    def release(self):
        pass


class FlashcPeer(Peer):
    name = "flashc"

    def __init__(self, case, fc, mask=None):
        super().__init__(case)
        r = case.row
        self.fc = fc
        self.fwd_name, self.bwd_name = kernel_names(r["d"], mask or r["mask"])
        self.layout = case.layout_host if (mask or r["mask"]) == "layout" else None
        B, H, N, d = case.shape
        self.bufs = []
        self.calls = []
        for st in case.sets:
            bf = {"o": torch.full_like(st["q"], float("nan")),
                  "lse": torch.full((B, H, N), float("nan"), device=st["q"].device,
                                    dtype=torch.float32),
                  "dq": torch.full_like(st["q"], float("nan")),
                  "dk": torch.full_like(st["q"], float("nan")),
                  "dv": torch.full_like(st["q"], float("nan")),
                  "delta": torch.empty((B, H, N), device=st["q"].device,
                                       dtype=torch.float32)}
            self.bufs.append(bf)
            f = fc.forward_call(self.fwd_name, st["q"], st["k"], st["v"], bf["o"], bf["lse"],
                                layout=self.layout)
            g = fc.backward_call(self.bwd_name, st["q"], st["k"], st["v"], bf["o"], bf["lse"],
                                 st["do"], bf["dq"], bf["dk"], bf["dv"], bf["delta"],
                                 layout=self.layout)
            self.calls.append((f, g))

    def outputs(self):
        f, g = self.calls[0]
        f()
        g()
        self.case.dev.sync()
        b = self.bufs[0]
        return {"o": b["o"], "lse": b["lse"], "dq": b["dq"], "dk": b["dk"], "dv": b["dv"]}

    def fns(self, pss):
        if pss == "fwd":
            return [f for f, _ in self.calls]
        # bwd reads o and lse: every set gets its forward once first.
        for f, _ in self.calls:
            f()
        if pss == "bwd":
            return [g for _, g in self.calls]
        return [(lambda f=f, g=g: (f(), g())) for f, g in self.calls]

    def memory(self):
        """Peak of a fresh fwd+bwd that allocates its outputs and scratch."""
        st = self.case.sets[0]
        B, H, N, d = self.case.shape
        base = self.case.dev.mem_reset()
        o, dq, dk, dv = (torch.empty_like(st["q"]) for _ in range(4))
        lse, delta = (torch.empty((B, H, N), device=st["q"].device, dtype=torch.float32)
                      for _ in range(2))
        self.fc.forward_call(self.fwd_name, st["q"], st["k"], st["v"], o, lse,
                             layout=self.layout)()
        self.fc.backward_call(self.bwd_name, st["q"], st["k"], st["v"], o, lse, st["do"],
                              dq, dk, dv, delta, layout=self.layout)()
        peak = self.case.dev.mem_peak()
        del o, dq, dk, dv, lse, delta
        return base, peak

    def release(self):
        self.bufs = self.calls = None


class TorchPeer(Peer):
    """A torch attention as it runs in training: inputs that require grad,
    the forward builds the autograd graph, the backward is autograd's."""

    def __init__(self, case):
        super().__init__(case)
        self.leaves = [{x: st[x].detach().requires_grad_() for x in ("q", "k", "v")}
                       for st in case.sets]

    def attn(self, q, k, v):
        raise NotImplementedError

    bwd_error = None  # set when only the forward pass works (see outputs)

    def _fwd(self, i):
        lv = self.leaves[i]
        if self.bwd_error is not None:
            with torch.no_grad():
                return self.attn(lv["q"].detach(), lv["k"].detach(), lv["v"].detach())
        return self.attn(lv["q"], lv["k"], lv["v"])

    def _grad(self, out, i, retain):
        lv = self.leaves[i]
        return torch.autograd.grad(out, (lv["q"], lv["k"], lv["v"]),
                                   self.case.sets[i]["do"], retain_graph=retain)

    def outputs(self):
        """O, dQ, dK, dV of input set 0 (the first call: its wall times are
        the first-call times). A peer whose training forward or backward
        raises (not for lack of memory) but whose forward works without
        autograd is kept forward-only, the error recorded."""
        t0 = time.perf_counter()
        try:
            out = self._fwd(0)
            self.case.dev.sync()
        except Exception as e:  # noqa: BLE001
            if is_oom(e) or self.bwd_error is not None:
                raise
            self.bwd_error = "training forward: " + err_text(e)
            t0 = time.perf_counter()
            out = self._fwd(0)
            self.case.dev.sync()
        t1 = time.perf_counter()
        self.first_call.setdefault("fwd", t1 - t0)
        got = {"o": out.detach()}
        if self.bwd_error is None:
            try:
                got["dq"], got["dk"], got["dv"] = self._grad(out, 0, False)
                self.case.dev.sync()
                self.first_call.setdefault("bwd", time.perf_counter() - t1)
            except Exception as e:  # noqa: BLE001
                if is_oom(e):
                    raise
                self.bwd_error = "backward: " + err_text(e)
        return got

    def fns(self, pss):
        n = len(self.leaves)
        if pss != "fwd" and self.bwd_error is not None:
            raise RuntimeError(self.bwd_error)
        if pss == "fwd":
            return [(lambda i=i: self._fwd(i)) for i in range(n)]
        if pss == "bwd":
            self.outs = [self._fwd(i) for i in range(n)]
            return [(lambda i=i: self._grad(self.outs[i], i, True)) for i in range(n)]
        return [(lambda i=i: self._grad(self._fwd(i), i, False)) for i in range(n)]

    def done(self, pss):
        self.outs = None

    def memory(self):
        if self.bwd_error is not None:
            raise RuntimeError(self.bwd_error)
        base = self.case.dev.mem_reset()
        out = self._fwd(0)
        g = self._grad(out, 0, False)
        peak = self.case.dev.mem_peak()
        del out, g
        return base, peak

    def release(self):
        self.leaves = None
        self.outs = None


class SdpaPeer(TorchPeer):
    BACKENDS = {"fa2": "FLASH_ATTENTION", "cudnn": "CUDNN_ATTENTION", "math": "MATH"}

    def __init__(self, case, name):
        super().__init__(case)
        from torch.nn.attention import SDPBackend, sdpa_kernel
        self.name = name
        self.backend = getattr(SDPBackend, self.BACKENDS[name])
        self.ctx = sdpa_kernel
        mask = case.row["mask"]
        if mask not in ("full", "causal"):
            raise RuntimeError(f"SDPA has no {mask} mask")
        self.causal = mask == "causal"

    def attn(self, q, k, v):
        with self.ctx([self.backend]):
            return F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)


class FlexPeer(TorchPeer):
    name = "flex"

    def __init__(self, case, cold=False):
        super().__init__(case)
        from torch.nn.attention.flex_attention import flex_attention
        # The backward alone is timed by calling it again on one graph
        # (retain_graph); compiled backwards donate their buffers unless
        # told not to (2026-11-28 run: every Flex bwd row failed on that).
        torch._functorch.config.donated_buffer = False
        if cold:
            torch._dynamo.reset()
        self.cold = cold
        r = case.row
        t0 = time.perf_counter()
        self.block_mask = self.make_block_mask(case)
        case.dev.sync()
        self.first_call["block_mask"] = time.perf_counter() - t0
        self.compiled = torch.compile(flex_attention, dynamic=False)
        self.block_mask_check = None
        if r["mask"] == "layout" and self.block_mask is not None:
            dense = self.block_mask.to_dense().bool()
            want = case.layout.bool().expand_as(dense)
            self.block_mask_check = bool(torch.equal(dense, want))

    @staticmethod
    def make_block_mask(case):
        from torch.nn.attention.flex_attention import create_block_mask
        r = case.row
        N, dev = r["seqlen"], case.dev.kind
        if r["mask"] == "full":
            return None
        if r["mask"] == "causal":
            def mask_mod(b, h, q_idx, kv_idx):
                return q_idx >= kv_idx
            return create_block_mask(mask_mod, None, None, N, N, device=dev, BLOCK_SIZE=BLOCK)
        if r["mask"] == "window":
            left, right = r["window"]

            def mask_mod(b, h, q_idx, kv_idx):
                return (kv_idx >= q_idx - left) & (kv_idx <= q_idx + right)
            return create_block_mask(mask_mod, None, None, N, N, device=dev, BLOCK_SIZE=BLOCK)
        if r["mask"] == "layout":
            lay = case.layout

            def mask_mod(b, h, q_idx, kv_idx):
                return lay[b, h, q_idx // BLOCK, kv_idx // BLOCK] != 0
            path = FLEX_BLOCK_MASK
            if path == "auto":
                # create_block_mask evaluates mask_mod on all B·H·N² points;
                # past 2^31 build the same BlockMask from the layout directly.
                path = "create" if lay.shape[0] * lay.shape[1] * N * N <= 2**31 else "kv"
            case.row["flex_block_mask"] = path
            if path == "create":
                return create_block_mask(mask_mod, lay.shape[0], lay.shape[1], N, N,
                                         device=dev, BLOCK_SIZE=BLOCK)
            return layout_block_mask(lay, N, mask_mod)
        raise ValueError(r["mask"])

    def attn(self, q, k, v):
        return self.compiled(q, k, v, block_mask=self.block_mask)


def layout_block_mask(lay, n, mask_mod):
    """The BlockMask create_block_mask(mask_mod) gives for a layout of whole
    BLOCK x BLOCK blocks (n a multiple of BLOCK): every kept block full, no
    partial block; built from the layout without evaluating mask_mod."""
    from torch.nn.attention.flex_attention import BlockMask
    if n % BLOCK:
        raise ValueError("layout_block_mask: N must be a multiple of the block")
    keep = lay.bool()
    full_num = keep.sum(-1).to(torch.int32)
    full_idx = torch.argsort(keep.to(torch.int8), dim=-1, descending=True,
                             stable=True).to(torch.int32)
    return BlockMask.from_kv_blocks(torch.zeros_like(full_num), torch.zeros_like(full_idx),
                                    full_num, full_idx, BLOCK_SIZE=BLOCK,
                                    mask_mod=mask_mod, seq_lengths=(n, n))

    def release(self):
        super().release()
        self.compiled = self.block_mask = None


def make_peer(name, case, fc, args):
    if name == "flashc":
        if fc is None:
            raise RuntimeError("no flashc runtime loaded")
        return FlashcPeer(case, fc)
    if name in ("fa2", "cudnn", "math"):
        return SdpaPeer(case, name)
    if name == "flex":
        return FlexPeer(case)
    raise ValueError(name)


# -------------------------------------------------------------- running ----

def check_outputs(got, ref, case, want_lse):
    res = {}
    for key in ("o", "dq", "dk", "dv") + (("lse",) if want_lse else ()):
        if key not in got:
            continue
        errs = []
        for (b, h), r in ref.items():
            x = got[key][b, h]
            if key == "lse":
                errs.append((x.float() - r["lse"]).abs().max().item()
                            / max(1.0, r["lse"].abs().max().item()))
            else:
                errs.append(rel_err(x, r[key]))
        res[key] = max(errs)
    res["finite"] = all(bool(torch.isfinite(got[k]).all().item())
                        for k in ("o", "dq", "dk", "dv") if k in got)
    res["ok"] = res["finite"] and all(res[k] <= TOL for k in res
                                      if k not in ("finite", "ok"))
    return res


class RowState:
    """A row between its rounds: inputs, peers (with their compiled Flex and
    flashc buffers) and the samples so far."""

    def __init__(self, row, case, peers, timing):
        self.row, self.case, self.peers, self.timing = row, case, peers, timing
        self.samples = {n: {p: [] for p in report.PASSES} for n in peers}
        self.rounds = 0
        self.seconds = 0.0
        self.round_seconds = []


def start_row(row, args, dev, fc, seed):
    """Setup, output checks and peak memory of one row; returns its state
    for the timing rounds (None for the memory section, done here)."""
    t_row = time.perf_counter()
    peers_wanted = peers_for(row, args)
    row["peers"], row["check"], row["memory"], row["first_call_s"] = {}, {}, {}, {}
    case = Case(row, dev, args, seed)
    timed = row["section"] in ("grid", "sparse")
    ref = case.reference() if timed else None
    peers, fc_out = {}, None
    for name in peers_wanted:
        try:
            p = make_peer(name, case, fc, args)
        except Exception as e:  # noqa: BLE001
            row["peers"][name] = failed_passes(e, "setup")
            row["check"][name] = {"error": err_text(e),
                                  "ok": False if name == "flashc" else None}
            if not timed:
                row["memory"][name] = ({"oom": True} if is_oom(e)
                                       else {"error": err_text(e)})
            log(f"    {name}: setup failed: {err_text(e)}")
            dev.free()
            continue
        peers[name] = p
        if timed:
            try:
                got = p.outputs()
                chk = check_outputs(got, ref, case, want_lse=(name == "flashc"))
                if name == "flashc":
                    fc_out = {k: got[k].clone() for k in ("o", "dq", "dk", "dv")}
                elif fc_out is not None:
                    chk["vs_flashc"] = max(rel_err(got[k], fc_out[k].float())
                                           for k in ("o", "dq", "dk", "dv") if k in got)
                if getattr(p, "bwd_error", None):
                    chk["bwd_error"] = p.bwd_error
                    row["peers"][name] = {pss: {"error": p.bwd_error}
                                          for pss in ("bwd", "fwdbwd")}
                    log(f"    {name}: forward only: {p.bwd_error[:200]}")
                if isinstance(p, FlexPeer) and p.block_mask_check is not None:
                    chk["block_mask_equals_layout"] = p.block_mask_check
                    chk["ok"] = chk["ok"] and p.block_mask_check
                row["check"][name] = chk
                del got
            except Exception as e:  # noqa: BLE001
                # An exception is no wrong output for a peer (a backend that
                # is unavailable); for flashc it fails the row.
                row["check"][name] = {"error": err_text(e),
                                      "ok": False if name == "flashc" else None}
                row["peers"][name] = failed_passes(e, "check")
                if is_oom(e) and row["section"] == "grid":
                    row["memory"][name] = {"oom": True}
                log(f"    {name}: check failed: {err_text(e)}")
                peers.pop(name).release()
                dev.free()
                continue
            if p.first_call and name == "flex":
                row["first_call_s"][name] = dict(p.first_call)
        # Peak memory of one fwd+bwd (grid and memory sections).
        if row["section"] in ("grid", "memory") and dev.cuda:
            try:
                base, peak = p.memory()
                extra = peak - base
                row["memory"][name] = {"extra_bytes": extra,
                                       "total_bytes": extra + case.input_bytes}
            except Exception as e:  # noqa: BLE001
                row["memory"][name] = {"oom": True} if is_oom(e) else {"error": err_text(e)}
                dev.free()
        if row["section"] == "memory":
            peers.pop(name).release()
            dev.free()
    row["correct"] = (row["check"].get("flashc") or {}).get("ok")
    del ref, fc_out
    dev.free()
    if not timed:
        del peers, case
        row["seconds"] = time.perf_counter() - t_row
        return None
    # The flashc dense kernel on the density-1.0 layout rows: the layout's
    # overhead against the dense kernel, same inputs.
    if row["section"] == "sparse" and row["mask"] == "layout" and row["density"] == 1.0 \
            and "flashc" in peers:
        try:
            peers["flashc_dense"] = FlashcPeer(case, fc, mask="full")
        except Exception as e:  # noqa: BLE001
            row["peers"]["flashc_dense"] = failed_passes(e, "setup")
    st = RowState(row, case, peers, Timing(dev, args))
    st.seconds = row["setup_seconds"] = time.perf_counter() - t_row
    return st


def _failed(row, name, pss):
    x = row["peers"].get(name, {}).get(pss)
    return isinstance(x, dict) and "error" in x


def time_round(st, rnd):
    """One round of every peer and pass of a row (peers interleaved)."""
    t0 = time.perf_counter()
    row, dev = st.row, st.case.dev
    for name, p in st.peers.items():
        for pss in report.PASSES:
            if _failed(row, name, pss):
                continue  # failed before: not again
            try:
                fns = p.fns(pss)
                st.samples[name][pss].append(st.timing.run(fns, first_round=(rnd == 0)))
            except Exception as e:  # noqa: BLE001
                row["peers"].setdefault(name, {})[pss] = failed_passes(e)[pss]
                log(f"    {name} {pss}: {err_text(e)[:200]}")
                dev.free()
            finally:
                if hasattr(p, "done"):
                    p.done(pss)
    st.rounds = rnd + 1
    st.round_seconds.append(time.perf_counter() - t0)
    st.seconds += st.round_seconds[-1]
    summarize_row(st)


def summarize_row(st):
    row = st.row
    for name in st.peers:
        for pss in report.PASSES:
            got = [x for x in st.samples[name][pss] if x]
            if got and not _failed(row, name, pss):
                row["peers"].setdefault(name, {})[pss] = report.summarize(
                    got, row["flops"][pss])
    row["rounds"] = st.rounds
    row["seconds"] = st.seconds
    row["round_seconds"] = list(st.round_seconds)
    report.annotate(row)


def finish_row(st):
    summarize_row(st)
    for p in st.peers.values():
        p.release()
    st.peers = st.case = None


def run_compile_row(row, args, dev, seed):
    """Flex's first call, cold: inductor caches disabled."""
    t_row = time.perf_counter()
    row["peers"], row["first_call_s"] = {}, {}
    case = Case(row, dev, args, seed)
    if "flex" not in peers_for(row, args):
        row["skipped"] = "flex not among --peers"
        return row
    old = None
    try:
        old = torch.compiler.config.force_disable_caches
        torch.compiler.config.force_disable_caches = True
    except Exception:  # noqa: BLE001
        pass
    try:
        p = FlexPeer(case, cold=True)
        p.outputs()
        t0 = time.perf_counter()
        p.outputs()  # steady state, for reference
        p.first_call["steady_fwdbwd"] = time.perf_counter() - t0
        row["first_call_s"]["flex"] = dict(p.first_call)
        p.release()
    except Exception as e:  # noqa: BLE001
        row["error"] = "flex: " + err_text(e)
    finally:
        if old is not None:
            torch.compiler.config.force_disable_caches = old
        # No later row may reuse this compile (a sparse row of the same shape
        # would otherwise see no first-call compile).
        torch._dynamo.reset()
    del case
    dev.free()
    row["seconds"] = time.perf_counter() - t_row
    return row


def short(row):
    r = row.get("ratio") or {}
    parts = []
    for pss in report.PASSES:
        fc = report.tflops_of(row, "flashc", pss)
        best = (r.get(pss) or {})
        if fc is not None:
            parts.append(f"{pss} flashc {fc:.1f}"
                         + (f" best {best['best_peer']} {best['best_tflops']:.1f} "
                            f"ratio {report.fmt_ratio(best)}" if best else ""))
    mem = row.get("memory") or {}
    if mem:
        parts.append("mem GiB " + " ".join(f"{k} {report.mem_cell(v)}" for k, v in mem.items()))
    fcall = (row.get("first_call_s") or {}).get("flex")
    if fcall:
        parts.append("flex first call " + " ".join(f"{k} {v:.2f}s" for k, v in fcall.items()))
    chk = row.get("check") or {}
    bad = [k for k, v in chk.items() if isinstance(v, dict) and v.get("ok") is False]
    if bad:
        parts.append("CHECK FAILED: " + ",".join(bad))
    return "; ".join(parts)


def gpu_meta(dev, args):
    meta = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "argv": sys.argv[1:], "device": dev.kind, "errors": []}
    try:
        import triton
        meta["triton"] = triton.__version__
    except Exception:  # noqa: BLE001
        meta["triton"] = None
    meta["torch"] = torch.__version__
    meta["cuda"] = torch.version.cuda
    try:
        meta["cudnn"] = torch.backends.cudnn.version()
    except Exception:  # noqa: BLE001
        meta["cudnn"] = None
    if dev.cuda:
        p = torch.cuda.get_device_properties(0)
        meta["gpu"] = torch.cuda.get_device_name()
        meta["sms"] = p.multi_processor_count
        meta["memory_bytes"] = p.total_memory
        meta["l2_bytes"] = dev.l2_bytes()
    else:
        meta["gpu"] = "cpu (self-test)"
    meta["driver"] = smi("driver_version")
    meta["gpu_id"] = smi("uuid,serial,pci.bus_id")  # is a rerun on the same GPU?
    meta["clocks_start"] = smi("clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,"
                               "power.draw,power.limit,pstate", header=True)
    commit = os.environ.get("FLASHC_COMMIT")
    kc = os.path.join(args.kernels or "", "COMMIT")
    kernels_commit = open(kc).read().strip() if args.kernels and os.path.exists(kc) else None
    meta["commit"] = commit or kernels_commit or "unknown"
    meta["kernels_commit"] = kernels_commit
    return meta


def smi(query, header=False):
    try:
        out = subprocess.run(["nvidia-smi", f"--query-gpu={query}",
                              "--format=csv" + ("" if header else ",noheader")],
                             capture_output=True, text=True, timeout=20).stdout.strip()
        return " / ".join(out.splitlines()) if out else None
    except Exception:  # noqa: BLE001
        return None


def write_out(args, meta, rows, compile_times):
    data = {"meta": meta, "rows": rows, "compile_times": compile_times}
    path = os.path.join(args.out, f"bench-{args.tag}.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(sanitize(data), f, indent=1, allow_nan=False)
    os.replace(tmp, path)
    run = report.load([path])
    with open(os.path.join(args.out, f"bench-{args.tag}.md"), "w") as f:
        f.write(report.markdown(run))
    return path


def sanitize(x):
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): sanitize(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [sanitize(v) for v in x]
    return x


def run(args):
    global torch, F
    t_start = time.perf_counter()
    deadline = t_start + args.budget
    import torch as _torch
    import torch.nn.functional as _F
    torch, F = _torch, _F
    # Flex: one static compile per new shape or mask (no automatic dynamic
    # shapes, no fallback to eager after 8 recompiles).
    try:
        torch._dynamo.config.automatic_dynamic_shapes = False
        torch._dynamo.config.cache_size_limit = 1024
        torch._dynamo.config.recompile_limit = 1024
        torch._dynamo.config.accumulated_cache_size_limit = 4096
    except Exception:  # noqa: BLE001
        pass
    dev = Device(args.device)
    # The fp32 reference in full fp32 (no TF32).
    torch.backends.cuda.matmul.allow_tf32 = False
    if dev.cuda:
        torch.cuda.init()
        torch.empty(1, device="cuda")  # the runtime uses torch's context
    os.makedirs(args.out, exist_ok=True)
    meta = gpu_meta(dev, args)
    compile_times = None
    if args.kernels:
        try:
            with open(os.path.join(args.kernels, "compile_times.json")) as f:
                compile_times = json.load(f)
        except Exception as e:  # noqa: BLE001
            meta["errors"].append(f"compile_times.json: {err_text(e)}")
    fc = None
    try:
        if args.stub_flashc:
            fc = FlashcStub()
        elif "flashc" in args.peers:
            fc = FlashcLib(args.lib, args.kernels)
    except Exception as e:  # noqa: BLE001
        meta["errors"].append(f"flashc runtime: {err_text(e)}")
        log(f"flashc runtime not loaded: {err_text(e)}")
    rows = sweep_order(plan(args), args.reverse)
    meta["order"] = "reverse" if args.reverse else "forward"
    meta["timing"] = {"target_s": args.target_s, "reps_max": args.reps_max,
                      "reps_min": [list(x) for x in REPS_MIN[:-1]] + [[None, REPS_MIN[-1][1]]],
                      "repeat": args.repeat}
    if fc is not None and not args.stub_flashc:
        meta["kernel_stats"] = {}
        for name in kernel_dirs_needed(rows, args):
            try:
                meta["kernel_stats"][name] = fc.stats(name)
            except Exception as e:  # noqa: BLE001
                meta["errors"].append(f"{name}: {err_text(e)}")
                log(f"kernel {name}: {err_text(e)}")
    log(f"bench: {meta.get('gpu')}, driver {meta.get('driver')}, torch {meta['torch']}, "
        f"commit {meta['commit']}; {len(rows)} rows; budget {args.budget:.0f}s")
    seed = args.seed if args.seed is not None else int(time.time()) & 0xFFFFFF
    meta["seed"] = seed
    if any("flex" in peers_for(r, args) for r in rows):
        # torch.compile's one-time start (imports, compile workers) is no
        # part of any mask's first call: pay it on a shape no row uses.
        t0 = time.perf_counter()
        try:
            flex_warmup(dev)
            meta["flex_warmup_s"] = time.perf_counter() - t0
            log(f"flex warm-up compile: {meta['flex_warmup_s']:.1f}s")
        except Exception as e:  # noqa: BLE001
            meta["errors"].append(f"flex warm-up: {err_text(e)}")
            log(f"flex warm-up failed: {err_text(e)}")
    # Everything alive now (torch, inductor, triton: ~10^6 objects) stays:
    # out of the collector's sight, each gc.collect() of the memory probes
    # and dev.free() takes milliseconds instead of a few tenths of a second
    # (measured on the build machine: 0.2 s -> 0.008 s after a compile). No
    # benchmark tensor exists yet, so none can be held by a frozen cycle.
    gc.collect()
    gc.freeze()
    meta["gc_frozen"] = gc.get_freeze_count()
    done, states = [], []

    def over(extra=0.0):
        return time.perf_counter() > deadline + extra

    def projected(last_row_s, last_round_s):
        """When the run would end if one more row like the last one started
        now: its own time, then the later rounds of every row."""
        later = sum(st.round_seconds[0] for st in states if st.round_seconds)
        return (time.perf_counter() + last_row_s
                + (args.repeat - 1) * (later + last_round_s))

    try:
        lost = False
        last_row_s = last_round_s = 0.0
        for idx, row in enumerate(rows):
            elapsed = time.perf_counter() - t_start
            if lost or over() or projected(last_row_s, last_round_s) > deadline + args.grace:
                row["skipped"] = "CUDA context lost" if lost else "time budget"
                log(f"[{elapsed:6.1f}s] {idx + 1}/{len(rows)} {row['key']}: skipped, "
                    f"{row['skipped']}")
                done.append(row)
                continue
            t_row = time.perf_counter()
            log(f"[{elapsed:6.1f}s] {idx + 1}/{len(rows)} {row['key']}")
            try:
                if row["section"] == "compile":
                    run_compile_row(row, args, dev, seed + idx)
                else:
                    st = start_row(row, args, dev, fc, seed + idx)
                    if st is not None:
                        states.append(st)
                        time_round(st, 0)
                        last_round_s = st.round_seconds[-1]
                    else:
                        last_round_s = 0.0
            except Exception as e:  # noqa: BLE001
                row["error"] = err_text(e)
                log(f"    row failed: {err_text(e)}")
                traceback.print_exc()
                dev.free()
                if dev.cuda and not cuda_alive():
                    meta["errors"].append(f"CUDA context lost at {row['key']}; stopped")
                    lost = True
            last_row_s = time.perf_counter() - t_row
            log(f"    {last_row_s:.1f}s  {short(row)}")
            done.append(row)
            write_out(args, meta, done, compile_times)
        # Further rounds sweep every row again, minutes after the first: their
        # spread is the noise the report gives (drift included).
        for rnd in range(1, args.repeat):
            if lost or not states:
                break
            log(f"[{time.perf_counter() - t_start:6.1f}s] round {rnd + 1}/{args.repeat} "
                f"over {len(states)} rows")
            for st in states:
                if st.peers is None:
                    continue
                if time.perf_counter() + st.round_seconds[0] > deadline + args.grace:
                    st.row["rounds_cut"] = f"{st.rounds} of {args.repeat} rounds (time budget)"
                    log(f"    {st.row['key']}: round {rnd + 1} cut (time budget)")
                    continue
                try:
                    time_round(st, rnd)
                except Exception as e:  # noqa: BLE001
                    st.row["error"] = err_text(e)
                    log(f"    {st.row['key']}: round failed: {err_text(e)}")
                    if dev.cuda and not cuda_alive():
                        meta["errors"].append(f"CUDA context lost at {st.row['key']}; stopped")
                        lost = True
                        break
                log(f"    {st.row['key']}: {short(st.row)}")
            write_out(args, meta, done, compile_times)
    except (Interrupted, KeyboardInterrupt) as e:
        meta["errors"].append(f"interrupted: {e}")
        log(f"interrupted: {e}; writing what was measured")
    for st in states:
        try:
            if st.peers is not None:
                finish_row(st)
        except BaseException as e:  # noqa: BLE001
            st.row["error"] = err_text(e)
    meta["seconds"] = time.perf_counter() - t_start
    meta["clocks_end"] = smi("clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,"
                             "power.draw,power.limit,pstate", header=True)
    path = write_out(args, meta, done, compile_times)
    log(f"wrote {path} and bench-{args.tag}.md ({meta['seconds']:.0f}s)")
    bad = [r["key"] for r in done if r.get("correct") is False]
    if bad:
        log("flashc output check FAILED on: " + ", ".join(bad))
    return 1 if bad else 0


def flex_warmup(dev):
    from torch.nn.attention.flex_attention import flex_attention
    torch._dynamo.reset()
    fn = torch.compile(flex_attention, dynamic=False)
    q, k, v = (torch.randn(1, 1, 136, 16, device=dev.kind, dtype=torch.bfloat16,
                           requires_grad=dev.cuda) for _ in range(3))
    out = fn(q, k, v)
    if dev.cuda:
        out.sum().backward()
    dev.sync()
    torch._dynamo.reset()


def cuda_alive():
    try:
        torch.cuda.synchronize()
        torch.empty(1, device="cuda").add_(1)
        torch.cuda.synchronize()
        return True
    except Exception:  # noqa: BLE001
        return False


# ------------------------------------------------------------ self-test ----

def selftest():
    """Checks of the pure-Python parts (no torch): FLOPs, statistics,
    ratios, planning, the report and the comparison."""
    fails = []
    checks = [0]

    def expect(cond, what):
        checks[0] += 1
        if not cond:
            fails.append(what)
    expect(report.window_pairs(5, 1, 0) == 9, "window_pairs(5,1,0)")
    expect(report.window_pairs(4, 10, 10) == 16, "window_pairs full")
    expect(report.window_pairs(4, 0, 0) == 4, "window_pairs diagonal")
    n, w = 4096, 1024
    expect(report.window_pairs(n, w, 0) == n * (w + 1) - w * (w + 1) // 2, "window closed form")
    expect(report.fwd_flops("full", 2, 3, 10, 8) == 4 * 2 * 3 * 100 * 8, "full flops")
    expect(report.fwd_flops("causal", 1, 1, 10, 8) == 2 * 100 * 8, "causal flops")
    expect(report.fwd_flops("layout", 1, 1, 256, 8, report.layout_pairs(3, 256, 128))
           == 4 * 8 * 3 * 128 * 128, "layout flops")
    expect(report.all_flops(10.0) == {"fwd": 10.0, "bwd": 25.0, "fwdbwd": 35.0}, "bwd factor")
    expect(report.median([3, 1, 2]) == 2 and report.median([4, 1, 2, 3]) == 2.5, "median")
    expect(abs(report.percentile([0, 10], 10) - 1.0) < 1e-12, "percentile")
    s = report.summarize([[1.0, 1.0, 3.0], [2.0, 2.0]], flops=2e9)
    expect(s["round_median_ms"] == [1.0, 2.0] and s["median_ms"] == 1.5
           and s["n"] == 5 and s["min_ms"] == 1.0, "summarize: median of round medians")
    expect(abs(s["tflops"] - 2e9 / 1.5e-3 / 1e12) < 1e-12, "tflops")
    row = {"key": "x", "section": "grid", "d": 64, "mask": "full", "seqlen": 512,
           "batch": 32, "heads": 32,
           "peers": {"flashc": {"fwd": report.summarize([[2.0], [2.2]], 1e12)},
                     "fa2": {"fwd": report.summarize([[1.0], [1.0]], 1e12)},
                     "cudnn": {"fwd": report.summarize([[0.5], [0.6]], 1e12)},
                     "flashc_dense": {"fwd": report.summarize([[0.1], [0.1]], 1e12)},
                     "math": {"fwd": {"error": "boom"}}}}
    r = report.ratio(row, "fwd")
    expect(r["best_peer"] == "cudnn", "best peer ignores extras and errors")
    expect(abs(r["value"] - (1 / 2.1) / (1 / 0.55)) < 1e-9, "ratio value")
    expect(len(r["rounds"]) == 2 and r["noise"] is not None, "ratio rounds")
    ns = argparse.Namespace(
        sections=list(SECTIONS), d=[64, 128], masks=["full", "causal"],
        seqlens=[512, 16384], sparse_seqlens=[4096], densities=[0.1, 1.0], window=True,
        memory_seqlens=[512], memory_batch=1, memory_flex=False, tokens=TOKENS,
        hidden=HIDDEN, peers=list(ALL_PEERS), compile_seqlen=4096)
    rows = plan(ns)
    keys = [x["key"] for x in rows]
    expect(len(keys) == len(set(keys)), "unique keys")
    expect(sum(1 for x in rows if x["section"] == "grid") == 8, "grid rows")
    expect(sum(1 for x in rows if x["section"] == "sparse") == 3, "sparse rows")
    expect(all(x["batch"] * x["seqlen"] == TOKENS for x in rows if x["section"] == "grid"),
           "16k tokens")
    expect(all(x["heads"] * x["d"] == HIDDEN for x in rows), "hidden 2048")
    rev = [x["key"] for x in sweep_order(rows, True)]
    timed_keys = [x["key"] for x in rows if x["section"] in ("grid", "sparse")]
    expect(rev[:len(rows) - len(timed_keys)] == keys[:len(rows) - len(timed_keys)]
           and rev[len(rows) - len(timed_keys):] == timed_keys[::-1]
           and sweep_order(rows, False) == rows, "reverse sweep: timed rows only")
    expect([reps_min(x) for x in (0.5, 9.9, 10.0, 49.0, 50.0, 500.0)] == [10, 10, 5, 5, 3, 3],
           "fewest calls per measurement")
    need = kernel_dirs_needed(rows, ns)
    expect("fwd_d128_layout" in need and "bwd_d128_window" in need
           and "fwd_d128_full" in need, "kernels needed")
    # Report and compare on a synthetic run.
    a = {"rows": [report.annotate(dict(row, key="k1"))], "metas": [{}], "compile_times": None}
    b_row = json.loads(json.dumps(row))
    b_row["key"] = "k1"
    b_row["peers"]["flashc"]["fwd"] = report.summarize([[2.1], [2.1]], 1e12)
    b = {"rows": [report.annotate(b_row)], "metas": [{}]}
    lines, within, total = report.compare(a, b)
    expect(total == 3 or total == 1, f"compare total {total}")
    expect(within == 1, "compare within")
    md = report.markdown(a)
    expect("FA3 grid, forward" in md and "ratio" in md, "markdown")
    selftest_processes(expect)
    for f in fails:
        log("FAIL", f)
    log(f"selftest: {checks[0] - len(fails)} passed, {len(fails)} failed")
    return 1 if fails else 0


def selftest_processes(expect):
    """The merge of two processes' JSONs (report.load), the ratio, its noise
    and the comparison criterion, on synthetic files."""
    import tempfile

    def meas(rounds_ms, flops=1e12):
        return report.summarize([[x] for x in rounds_ms], flops)

    def row(key, fc, cud, fa2=None, correct=True, flops=1e12):
        peers = {"flashc": {"fwd": meas(fc, flops)}, "cudnn": {"fwd": meas(cud, flops)}}
        if fa2 is not None:
            peers["fa2"] = {"fwd": meas(fa2, flops) if fa2 else {"error": "boom"}}
        return {"key": key, "section": "grid", "d": 64, "mask": "full", "seqlen": 512,
                "batch": 32, "heads": 32, "flops": {"fwd": flops},
                "peers": peers, "check": {"flashc": {"ok": correct}}, "correct": correct,
                "rounds": len(fc),
                "first_call_s": {"flex": {"fwd": 2.0 if correct else 0.1}}}

    def write(d, tag, date, rows):
        with open(os.path.join(d, f"bench-{tag}.json"), "w") as f:
            json.dump({"meta": {"date": date}, "rows": rows}, f)
    with tempfile.TemporaryDirectory() as d:
        # Process 1 (earlier) and 2; flashc/cudnn time ratio per round
        # 0.5, 0.5 then 0.52, 0.48 (ratio = cudnn ms / flashc ms).
        write(d, "p2", "2026-01-01T00:05:00Z",
              [row("k", [1.0, 1.0], [0.52, 0.48], correct=False),
               row("only2", [1.0, 1.0], [0.5, 0.5])])
        write(d, "p1", "2026-01-01T00:00:00Z",
              [row("k", [1.0, 1.0], [0.5, 0.5]), row("skipped", [1.0], [0.5])])
        run = report.load([d])
        rows = {r["key"]: r for r in run["rows"]}
        k = rows["k"]
        fc = k["peers"]["flashc"]["fwd"]
        expect(fc["round_ids"] == ["0.0", "0.1", "1.0", "1.1"], "merge: round ids")
        expect(k["processes"] == [0, 1] and k["rounds"] == 4, "merge: processes, rounds")
        cu = k["peers"]["cudnn"]["fwd"]
        expect(abs(cu["median_ms"] - 0.5) < 1e-12 and cu["n"] == 4, "merge: median of rounds")
        r = k["ratio"]["fwd"]
        expect(abs(r["value"] - 0.5) < 1e-12 and len(r["rounds"]) == 4
               and r["processes"] == 2, "merged ratio")
        expect(abs(r["noise"] - 0.04) < 1e-9, f"noise: largest distance {r['noise']}")
        expect(k["correct"] is False, "a failed check in one process fails the row")
        expect(k["first_call_s"]["flex"]["fwd"] == 2.0, "first calls from process 1")
        expect(rows["only2"]["ratio"]["fwd"]["processes"] == 1, "row of one process")
        expect(rows["skipped"]["ratio"]["fwd"]["noise"] is None, "one round: no noise")
        md = report.markdown(run)
        expect("Rounds: 1 ratios from 4 rounds in 2 processes; 1 from 1 rounds in 1 "
               "process (skipped fwd); 1 from 2 rounds in 1 process (only2 fwd)." in md,
               "markdown rounds line")
    with tempfile.TemporaryDirectory() as d:
        # A peer that failed in process 2 only: process 2's rounds lack it
        # and do not count; its figure and the error are both kept.
        write(d, "p1", "2026-01-01T00:00:00Z", [row("k", [1.0, 1.0], [0.5, 0.5], [0.6, 0.6])])
        write(d, "p2", "2026-01-01T00:05:00Z", [row("k", [1.0, 1.0], [0.5, 0.5], False)])
        k = report.load([d])["rows"][0]
        r = k["ratio"]["fwd"]
        expect(r["round_ids"] == ["0.0", "0.1"], f"rounds short of a peer: {r['round_ids']}")
        expect(k["peers"]["fa2"]["fwd"].get("error_elsewhere") == "boom", "error kept")
        expect(any("one process" in x for x in report.error_lines([k], [])), "error listed")

    def run_of(value, noise_ms):
        # flashc 1 ms every round; cudnn so that the ratio is value (1 +- noise)
        cud = [value * (1 + e) for e in noise_ms]
        return {"rows": [report.annotate(row("k", [1.0] * len(cud), cud))], "metas": [{}]}
    a = run_of(0.50, [0.02, -0.02])     # 0.50 +- 2%: [0.49, 0.51]
    b = run_of(0.515, [0.01, -0.01])    # [0.50985, 0.52015]: overlaps
    c = run_of(0.53, [0.01, -0.01])     # [0.5247, 0.5353]: does not
    lines, agree, total = report.compare(a, b)
    expect((agree, total) == (1, 1) and "1/1 ratios agree" in lines[-1], "compare: overlap")
    expect("0/1 of run B inside" in lines[-1], "compare: B outside A +- noise A")
    lines, agree, total = report.compare(a, c)
    expect((agree, total) == (0, 1), "compare: no overlap")
    lines, agree, total = report.compare(a, run_of(0.505, [0.0]))
    expect(agree == 1 and "1/1 of run B inside" in lines[-1], "compare: one round, inside")


# ----------------------------------------------------------------- main ----

def parse_args(argv=None):
    global WINDOW, FLEX_BLOCK_MASK
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--lib", help="libflashc_runtime.so")
    ap.add_argument("--kernels", help="directory of kernel directories (compile_kernels.sh)")
    ap.add_argument("--out", default="bench-out", help="output directory")
    ap.add_argument("--tag", help="output name: OUT/bench-TAG.json (default: from sections)")
    ap.add_argument("--sections", default=",".join(SECTIONS))
    ap.add_argument("--peers", default=",".join(ALL_PEERS))
    ap.add_argument("--d", default="64,128", help="head dims of the grid")
    ap.add_argument("--masks", default="full,causal", help="grid masks")
    ap.add_argument("--seqlens", default="512,1024,2048,4096,8192,16384")
    ap.add_argument("--tokens", type=int, default=TOKENS, help="B·N of grid/sparse")
    ap.add_argument("--hidden", type=int, default=HIDDEN, help="H·d")
    ap.add_argument("--sparse-seqlens", default="4096,8192,16384")
    ap.add_argument("--densities", default="0.1,0.25,0.5,1.0")
    ap.add_argument("--no-window", dest="window", action="store_false")
    ap.add_argument("--window-size", default=",".join(map(str, WINDOW)),
                    help="LEFT,RIGHT of the sliding window; must match "
                         "bench/specs/*_window.mlir (the manifest is checked)")
    ap.add_argument("--memory-seqlens", default="512,1024,2048,4096,8192,16384,32768")
    ap.add_argument("--memory-batch", type=int, default=1)
    ap.add_argument("--memory-flex", action="store_true",
                    help="also Flex in the memory section (one compile per N)")
    ap.add_argument("--compile-seqlen", type=int, default=4096)
    ap.add_argument("--flex-block-mask", default="auto", choices=["auto", "create", "kv"],
                    help="Flex's BlockMask of a layout: create_block_mask on a mask_mod "
                         "indexing the layout, or built from the layout's blocks "
                         "(auto: create up to B·H·N² = 2^31); both are checked equal "
                         "to the layout")
    ap.add_argument("--repeat", type=int, default=2,
                    help="rounds: each times every row of this run once more (peers "
                         "interleaved within a row); the ratio noise is their spread, "
                         "pooled with the other process's (bench/run_bench.sh)")
    ap.add_argument("--reverse", action="store_true",
                    help="sweep the timed rows in reverse order (the second process "
                         "of a part)")
    ap.add_argument("--target-s", type=float, default=0.1,
                    help="timed seconds per measurement per round (at least 10, 5 or 3 "
                         "calls below 10 ms, 50 ms and above; at most --reps-max)")
    ap.add_argument("--reps-max", type=int, default=100)
    ap.add_argument("--budget", type=float, default=470.0,
                    help="seconds: rows not started by then are recorded as skipped")
    ap.add_argument("--grace", type=float, default=30.0,
                    help="seconds past the budget a started row may still take")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--stub-flashc", action="store_true",
                    help="flashc computed by torch (pipeline self-test without the runtime)")
    ap.add_argument("--dry-run", action="store_true",
                    help="print the plan, check kernels; no torch")
    ap.add_argument("--selftest", action="store_true", help="pure-Python checks; no torch")
    args = ap.parse_args(argv)
    args.sections = [s for s in args.sections.split(",") if s]
    for s in args.sections:
        if s not in SECTIONS:
            ap.error(f"unknown section {s!r} (known: {', '.join(SECTIONS)})")
    args.peers = [p for p in args.peers.split(",") if p]
    for p in args.peers:
        if p not in ALL_PEERS:
            ap.error(f"unknown peer {p!r} (known: {', '.join(ALL_PEERS)})")
    args.d = parse_list(args.d)
    args.masks = [m for m in args.masks.split(",") if m]
    args.seqlens = parse_list(args.seqlens)
    args.sparse_seqlens = parse_list(args.sparse_seqlens)
    args.densities = parse_list(args.densities, float)
    args.memory_seqlens = parse_list(args.memory_seqlens)
    WINDOW = tuple(parse_list(args.window_size))
    FLEX_BLOCK_MASK = args.flex_block_mask
    if len(WINDOW) != 2 or min(WINDOW) < 0:
        ap.error("--window-size takes LEFT,RIGHT >= 0")
    if not args.tag:
        args.tag = "-".join(args.sections)
        if "grid" in args.sections and args.d != [64, 128]:
            args.tag += "-d" + "-".join(map(str, args.d))
    if not (args.selftest or args.dry_run or args.stub_flashc) and "flashc" in args.peers:
        if not args.lib or not args.kernels:
            ap.error("--lib and --kernels are required (or --stub-flashc, --dry-run)")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.selftest:
        return selftest()
    if args.dry_run:
        return dry_run(args, sweep_order(plan(args), args.reverse))
    signal.signal(signal.SIGTERM, _on_signal)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
