#!/usr/bin/env python3
"""Runs kernel directories written by flashc-nvidia on a GPU and checks every
output element against a float64 reference (torch), then times a few.

    check_kernels.py OUT_DIR [--json RESULTS.json]

OUT_DIR holds one kernel directory per case (build_kernels.sh). Kernels are
loaded and launched with CuPy over the CUDA driver (cubin when present, else
PTX) with MLIR's expanded memref descriptors as parameters, exactly as
runtime/Manifest.h describes. Outputs are poisoned with NaN before launch.

Tolerances (max |out - ref| / max |ref| over a tensor): bf16 2e-2 (O) and
3e-2 (gradients): P and dS are rounded to bf16 (2^-8) before their
products, as in FlashAttention-2, and outputs are stored in bf16; f16 1e-2
(2^-11 rounding, same structure); f32 1e-5 (no tensor cores, exp2.approx
with 2^-22 relative error). LSE: absolute 1e-3 (16-bit), 1e-5 (f32).
"""
import argparse, json, math, os, sys, time

import numpy as np
import torch
import cupy as cp

DTYPES = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}
TOL_O = {"bf16": 2e-2, "f16": 1e-2, "f32": 1e-5}
TOL_GRAD = {"bf16": 3e-2, "f16": 1.5e-2, "f32": 1e-5}
TOL_LSE = {"bf16": 1e-3, "f16": 1e-3, "f32": 1e-5}


def philox_word0(c0, c1, c2, c3, seed):
    """Philox4x32-10 (Random123), word 0, vectorised over uint32 arrays."""
    k0, k1 = seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF
    c = [x.astype(np.uint64) for x in (c0, c1, c2, c3)]
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c[0]
        p1 = np.uint64(0xCD9E8D57) * c[2]
        hi0, lo0 = p0 >> np.uint64(32), p0 & np.uint64(0xFFFFFFFF)
        hi1, lo1 = p1 >> np.uint64(32), p1 & np.uint64(0xFFFFFFFF)
        c = [hi1 ^ c[1] ^ np.uint64(k0), lo1, hi0 ^ c[3] ^ np.uint64(k1), lo0]
        k0 = (k0 + 0x9E3779B9) & 0xFFFFFFFF
        k1 = (k1 + 0xBB67AE85) & 0xFFFFFFFF
    return c[0]


def dropout_keep(m, B, H, Nq, Nk, offset):
    b = np.arange(B).reshape(B, 1, 1, 1)
    h = np.arange(H).reshape(1, H, 1, 1)
    i = np.arange(Nq).reshape(1, 1, Nq, 1)
    j = np.arange(Nk).reshape(1, 1, 1, Nk)
    shape = (B, H, Nq, Nk)
    w0 = philox_word0(np.broadcast_to(j, shape), np.broadcast_to(i, shape),
                      np.broadcast_to(b * H + h, shape),
                      np.full(shape, offset & 0xFFFFFFFF), m["dropout_seed"])
    threshold = min(math.ceil(m["dropout_p"] * 2**24), 2**24)
    return torch.from_numpy((w0 >> np.uint64(8)) >= np.uint64(threshold))


# Custom regions, by spec function (the manifest only says one exists).
CUSTOM_MASK = {
    "prefix_lm": lambda b, h, i, j: (j < 256) | (j <= i),
}
CUSTOM_SCORE = {
    "relative_bias": lambda s, b, h, i, j:
        s - (0.5 / (h + 1.0)) * torch.clamp((i - j).abs(), max=128).double(),
}


def reference(m, name, q, k, v, seqlens_q, seqlens_k, layout, offset):
    """O and LSE in float64; q, k, v are float64 and may require grad."""
    B, Hq, Nq, D = q.shape
    Hkv, Nk = k.shape[1], k.shape[2]
    g = Hq // Hkv
    kk, vv = k.repeat_interleave(g, 1), v.repeat_interleave(g, 1)
    s = m["scale"] * (q @ kk.transpose(-1, -2))
    b = torch.arange(B, device=q.device).view(B, 1, 1, 1)
    h = torch.arange(Hq, device=q.device).view(1, Hq, 1, 1)
    i = torch.arange(Nq, device=q.device).view(1, 1, Nq, 1)
    j = torch.arange(Nk, device=q.device).view(1, 1, 1, Nk)
    nq = seqlens_q.view(B, 1, 1, 1).long() if seqlens_q is not None else Nq
    nk = seqlens_k.view(B, 1, 1, 1).long() if seqlens_k is not None else Nk
    shift = (nk - nq) if m["bottom_right"] else 0
    if m["softcap"] is not None:
        c = m["softcap"]
        s = c * torch.tanh(s / c)
    if m["alibi"]:
        slope = 2.0 ** (-8.0 * (h + 1).double() / Hq)
        s = s - slope * (i + shift - j).abs().double()
    if m["custom_score"]:
        s = CUSTOM_SCORE[name](s, b, h, i, j)
    keep = (i < nq) & (j < nk)
    if m["causal"]:
        keep = keep & (j <= i + shift)
    if m["window"] is not None:
        left, right = m["window"]
        if left >= 0:
            keep = keep & (j >= i + shift - left)
        if right >= 0:
            keep = keep & (j <= i + shift + right)
    if m["custom_mask"]:
        keep = keep & CUSTOM_MASK[name](b, h, i, j)
    if layout is not None:
        bq, bk = m["layout_block"]
        lb = layout[:, :, (i // bq).view(-1), :][:, :, :, (j // bk).view(-1)]
        keep = keep & (lb != 0)
    keep = keep.expand(B, Hq, Nq, Nk)
    s = torch.where(keep, s, torch.tensor(-math.inf, dtype=s.dtype,
                                          device=s.device))
    lse = torch.logsumexp(s, -1)
    lse_safe = torch.where(torch.isfinite(lse), lse, torch.zeros_like(lse))
    p = torch.where(keep, torch.exp(s - lse_safe[..., None]),
                    torch.zeros_like(s))
    if m["dropout_p"] > 0:
        kept = dropout_keep(m, B, Hq, Nq, Nk, offset).to(q.device)
        p = torch.where(kept, p / (1 - m["dropout_p"]), torch.zeros_like(p))
    return p @ vv, lse


def descriptor(t):
    """MLIR's expanded memref descriptor of a torch tensor."""
    ptr = np.int64(t.data_ptr())
    return [ptr, ptr, np.int64(0)] + [np.int64(x) for x in t.shape] + \
        [np.int64(x) for x in t.stride()]


class Kernel:
    def __init__(self, directory, spec):
        self.spec = spec
        path = os.path.join(directory, spec.get("cubin") or spec["ptx"])
        self.module = cp.RawModule(path=path)
        self.fn = self.module.get_function(spec["name"])
        self.fn.max_dynamic_shared_size_bytes = spec["shared_bytes"]

    def launch(self, tensors, sizes):
        args = []
        for role in self.spec["args"]:
            x = tensors[role]
            args += descriptor(x) if isinstance(x, torch.Tensor) else [np.int64(x)]
        if self.spec["grid"] == "query_blocks":
            grid = (-(-sizes["Nq"] // self.spec["block_q"]), sizes["Hq"], sizes["B"])
        else:
            grid = (-(-sizes["Nk"] // self.spec["block_k"]), sizes["Hkv"], sizes["B"])
        self.fn(grid, (self.spec["threads"], 1, 1), tuple(args),
                shared_mem=self.spec["shared_bytes"])


def compare(what, out, ref, tol, results, case):
    out, ref = out.double(), ref.double()
    finite_ref = torch.isfinite(ref)
    bad_inf = (torch.isfinite(out) != finite_ref).sum().item()
    bad_inf += (out[~finite_ref] != ref[~finite_ref]).sum().item()
    scale = ref[finite_ref].abs().max().item() if finite_ref.any() else 1.0
    err = (out[finite_ref] - ref[finite_ref]).abs().max().item() \
        if finite_ref.any() else 0.0
    rel = err / max(scale, 1e-6) if what != "lse" else err
    ok = bad_inf == 0 and rel <= tol
    results.append({"case": case, "tensor": what, "error": rel,
                    "tolerance": tol, "nonfinite_mismatches": bad_inf,
                    "ok": ok})
    print(f"  {what:6s} {'ok  ' if ok else 'FAIL'} error {rel:.3e} "
          f"(tol {tol:.0e}) nonfinite-mismatches {bad_inf}", flush=True)
    return ok


def make_inputs(m, sizes, dt, gen, bshd):
    B, Hq, Hkv, Nq, Nk = (sizes[x] for x in ("B", "Hq", "Hkv", "Nq", "Nk"))
    D, Dv = m["head_dim"], m["head_dim_v"]

    def rand(b, h, n, d):
        x = torch.randn(b, n, h, d, generator=gen, device="cuda") if bshd \
            else torch.randn(b, h, n, d, generator=gen, device="cuda")
        x = x.to(dt)
        return x.transpose(1, 2) if bshd else x
    return rand(B, Hq, Nq, D), rand(B, Hkv, Nk, D), rand(B, Hkv, Nk, Dv)


def run_case(directory, case, results, sizes_override=None, bshd=False):
    m = json.load(open(os.path.join(directory, "flashc.json")))
    kernels = {k["kind"]: Kernel(directory, k) for k in m["kernels"]}
    first = m["kernels"][0]
    spec_fn = first["name"][: -len(first["kind"]) - 1]  # the spec function
    ss = m["static_sizes"]
    sizes = {"B": ss["batch"], "Hq": ss["heads_q"], "Hkv": ss["heads_kv"],
             "Nq": ss["seq_q"], "Nk": ss["seq_k"]}
    for key, default in (("B", 2), ("Hq", 2), ("Hkv", 2), ("Nq", 200), ("Nk", 200)):
        if sizes[key] < 0:
            sizes[key] = default
    if sizes_override:
        sizes.update(sizes_override)
    dt = DTYPES[m["element_type"]]
    gen = torch.Generator(device="cuda").manual_seed(1234)
    q, k, v = make_inputs(m, sizes, dt, gen, bshd)
    B, Hq, Nq, Nk = sizes["B"], sizes["Hq"], sizes["Nq"], sizes["Nk"]
    t = {"q": q, "k": k, "v": v, "seed": m["dropout_seed"], "offset": 3}
    seqlens_q = seqlens_k = layout = None
    if m["seqlens_q"]:
        seqlens_q = torch.randint(0, Nq + 1, (B,), generator=gen, device="cuda",
                                  dtype=torch.int32)
        seqlens_q[0] = Nq
        t["seqlens_q"] = seqlens_q
    if m["seqlens_k"]:
        seqlens_k = torch.randint(1, Nk + 1, (B,), generator=gen, device="cuda",
                                  dtype=torch.int32)
        t["seqlens_k"] = seqlens_k
    if m["layout_block"] is not None:
        bq, bk = m["layout_block"]
        mq, mk = -(-Nq // bq), -(-Nk // bk)
        layout = (torch.rand(1, Hq, mq, mk, generator=gen, device="cuda") < 0.5)
        layout |= torch.eye(mq, mk, device="cuda", dtype=torch.bool)
        layout = layout.to(torch.int8)

        def csr(lay):
            # offsets[lb][lh][r] index the one concatenated block list.
            counts = lay.ne(0).sum(-1)
            ends = counts.flatten().cumsum(0).view(counts.shape)
            offsets = torch.zeros(*lay.shape[:2], lay.shape[2] + 1,
                                  dtype=torch.int32, device="cuda")
            offsets[:, :, 1:] = ends
            offsets[:, :, 0] = ends[:, :, -1] - counts.sum(-1)
            offsets[:, :, 1:] = ends
            blocks = lay.ne(0).nonzero()[:, 3].to(torch.int32).contiguous()
            return offsets.contiguous(), blocks
        lay = layout
        t["layout_offsets"], t["layout_blocks"] = csr(lay)
        t["layout_t"] = csr(lay.transpose(2, 3).contiguous())
    label = os.path.basename(directory) + (" (BSHD)" if bshd else "")
    print(f"{label}: {m['element_type']} B={B} Hq={Hq} Hkv={sizes['Hkv']} "
          f"Nq={Nq} Nk={Nk} D={m['head_dim']}", flush=True)
    qd, kd, vd = (x.double().requires_grad_(True) for x in (q, k, v))
    o_ref, lse_ref = reference(m, spec_fn, qd, kd, vd, seqlens_q, seqlens_k,
                               layout, 3)
    ok = True
    if "fwd" in kernels:
        o = torch.full((B, Hq, Nq, m["head_dim_v"]), float("nan"), dtype=dt,
                       device="cuda")
        if bshd:
            o = o.transpose(1, 2).contiguous().transpose(1, 2)
        lse = torch.full((B, Hq, Nq), float("nan"), dtype=torch.float32,
                         device="cuda")
        t.update(o=o, lse=lse)
        kernels["fwd"].launch(t, sizes)
        torch.cuda.synchronize()
        ok &= compare("o", o, o_ref, TOL_O[m["element_type"]], results, label)
        ok &= compare("lse", lse, lse_ref, TOL_LSE[m["element_type"]], results, label)
    if "bwd_prep" in kernels:
        do = torch.randn(o_ref.shape, generator=gen, device="cuda").to(dt)
        (o_ref * do.double()).sum().backward()
        t.update(o=o_ref.detach().to(dt), lse=lse_ref.detach().float(), dout=do)
        t["delta"] = torch.full((B, Hq, Nq), float("nan"), device="cuda")
        t["dq"] = torch.full_like(q, float("nan"))
        t["dk"] = torch.full_like(k, float("nan"))
        t["dv"] = torch.full_like(v, float("nan"))
        kernels["bwd_prep"].launch(t, sizes)
        dkdv = dict(t)
        if layout is not None:
            dkdv["layout_offsets"], dkdv["layout_blocks"] = t["layout_t"]
        kernels["bwd_dkdv"].launch(dkdv, sizes)
        kernels["bwd_dq"].launch(t, sizes)
        torch.cuda.synchronize()
        tol = TOL_GRAD[m["element_type"]]
        ok &= compare("dq", t["dq"], qd.grad, tol, results, label)
        ok &= compare("dk", t["dk"], kd.grad, tol, results, label)
        ok &= compare("dv", t["dv"], vd.grad, tol, results, label)
    return ok


def time_case(directory, sizes, results, iters=20):
    """TFLOP/s of the forward (4 B H Nq Nk D, half if causal) or of the
    backward (2.5x that), median of timed launches after warm-up."""
    m = json.load(open(os.path.join(directory, "flashc.json")))
    kernels = {k["kind"]: Kernel(directory, k) for k in m["kernels"]}
    dt = DTYPES[m["element_type"]]
    gen = torch.Generator(device="cuda").manual_seed(1)
    q, k, v = make_inputs(m, sizes, dt, gen, False)
    B, Hq, Nq, Nk = sizes["B"], sizes["Hq"], sizes["Nq"], sizes["Nk"]
    t = {"q": q, "k": k, "v": v}
    o = torch.empty(B, Hq, Nq, m["head_dim_v"], dtype=dt, device="cuda")
    t.update(o=o, lse=torch.zeros(B, Hq, Nq, device="cuda"),
             dout=torch.randn_like(o), delta=torch.zeros(B, Hq, Nq, device="cuda"),
             dq=torch.empty_like(q), dk=torch.empty_like(k), dv=torch.empty_like(v))
    flops = 4.0 * B * Hq * Nq * Nk * m["head_dim"] * (0.5 if m["causal"] else 1.0)
    if "fwd" in kernels:
        def step():
            kernels["fwd"].launch(t, sizes)
    else:
        flops *= 2.5

        def step():
            for kind in ("bwd_prep", "bwd_dkdv", "bwd_dq"):
                kernels[kind].launch(t, sizes)
    for _ in range(3):
        step()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) * 1e-3)
    sec = sorted(times)[len(times) // 2]
    tflops = flops / sec / 1e12
    label = os.path.basename(directory)
    print(f"timing {label} {sizes}: {sec * 1e3:.3f} ms, {tflops:.1f} TFLOP/s", flush=True)
    results.append({"case": label, "sizes": sizes, "ms": sec * 1e3,
                    "tflops": tflops})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--json")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    print(torch.cuda.get_device_name(), flush=True)
    results, timings, failures = [], [], []
    cases = sorted(d for d in os.listdir(args.out_dir)
                   if os.path.isdir(os.path.join(args.out_dir, d))
                   and not d.startswith("perf_"))
    if args.only:
        cases = [c for c in cases if c in args.only]
    for case in cases:
        directory = os.path.join(args.out_dir, case)
        variants = [dict()]
        if case in ("causal", "odd_causal_d128", "odd_causal_d128_grad"):
            variants.append({"bshd": True})
        for variant in variants:
            try:
                if not run_case(directory, case, results, **variant):
                    failures.append(case)
            except Exception as e:  # keep going: one report for every case
                print(f"  ERROR {type(e).__name__}: {e}", flush=True)
                failures.append(case)
    perf = {"perf_causal_d64": [dict(B=4, Hq=32, Hkv=32, Nq=4096, Nk=4096)],
            "perf_causal_d128": [dict(B=4, Hq=16, Hkv=16, Nq=4096, Nk=4096),
                                 dict(B=16, Hq=16, Hkv=16, Nq=1024, Nk=1024)],
            "perf_full_d128": [dict(B=4, Hq=16, Hkv=16, Nq=4096, Nk=4096)],
            "perf_causal_d128_grad": [dict(B=4, Hq=16, Hkv=16, Nq=4096, Nk=4096)]}
    # perf_<spec>[__<variant>]: the same spec compiled with other options.
    perf_dirs = sorted(d for d in os.listdir(args.out_dir)
                       if d.startswith("perf_")
                       and os.path.isdir(os.path.join(args.out_dir, d)))
    for case in perf_dirs:
        directory = os.path.join(args.out_dir, case)
        shapes = perf.get(case.split("__")[0], [])
        if args.only and case not in args.only:
            continue
        for sizes in shapes:
            try:
                time_case(directory, sizes, timings)
            except Exception as e:
                print(f"timing {case}: ERROR {type(e).__name__}: {e}", flush=True)
    print(f"{len(results) - sum(r['ok'] for r in results)} of {len(results)} "
          f"checks failed; failing cases: {sorted(set(failures))}", flush=True)
    if args.json:
        json.dump({"device": torch.cuda.get_device_name(), "checks": results,
                   "timings": timings}, open(args.json, "w"), indent=1)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
