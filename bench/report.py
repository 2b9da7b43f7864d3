#!/usr/bin/env python3
"""Figures of bench/bench.py: FLOP conventions, statistics, ratios, the
markdown report and run-to-run comparison. Pure Python (no torch, no numpy),
so that the GPU machine (bench.py) and the build machine (plot.py) share it.

    python3 bench/report.py RESULTS... [-o REPORT.md]
    python3 bench/report.py --compare RUN_A RUN_B

RESULTS are bench-*.json files written by bench.py, or directories holding
them (each section may have been run by its own command: they are merged).
--compare checks that run B reproduces run A's ratios within the noise the
two runs report (see `compare`, `CRITERION`).

FLOPs (the FlashAttention convention, per batch entry and head):
  full     fwd = 4 N^2 d
  causal   fwd = 2 N^2 d (half of full, as the FlashAttention papers count)
  layout   fwd = 4 d x (number of kept (i, j) pairs) = 4 d x kept blocks x
           128 x 128 (when N is a multiple of the block): effective FLOPs,
           only the computed blocks count
  window   fwd = 4 d x (number of kept (i, j) pairs, counted exactly)
  bwd = 2.5 fwd, fwd+bwd = 3.5 fwd. TFLOP/s = FLOPs / median time.
"""

import argparse
import glob
import json
import math
import os
import sys

PASSES = ("fwd", "bwd", "fwdbwd")
PASS_TITLE = {"fwd": "forward", "bwd": "backward", "fwdbwd": "forward+backward"}
PEER_TITLE = {"flashc": "flashc", "fa2": "FA2", "cudnn": "cuDNN",
              "flex": "Flex", "math": "math", "flashc_dense": "flashc dense"}
# Measurements that are neither flashc nor a peer it is compared against.
EXTRAS = ("flashc_dense",)
BWD_FACTOR = 2.5


# ---------------------------------------------------------------- FLOPs ----

def window_pairs(n, left, right):
    """Number of (i, j) pairs, 0 <= i, j < n, with i - left <= j <= i + right."""
    total = 0
    for i in range(n):
        lo = max(0, i - left)
        hi = min(n - 1, i + right)
        if hi >= lo:
            total += hi - lo + 1
    return total


def layout_pairs(kept_blocks, n, block):
    """Kept (i, j) pairs of a layout given as the number of kept blocks when
    n is a multiple of block; callers with ragged edges pass exact pairs."""
    if n % block:
        raise ValueError("layout_pairs: n must be a multiple of the block")
    return kept_blocks * block * block


def fwd_flops(mask, batch, heads, n, d, pairs=None):
    """Forward FLOPs of one attention call (see the module docstring).
    `pairs` is the total number of kept (i, j) pairs over all batch entries
    and heads, for "layout" and "window"."""
    if mask == "full":
        return 4.0 * batch * heads * n * n * d
    if mask == "causal":
        return 2.0 * batch * heads * n * n * d
    if mask in ("layout", "window"):
        if pairs is None:
            raise ValueError(f"fwd_flops: {mask} needs the kept pairs")
        return 4.0 * d * pairs
    raise ValueError(f"fwd_flops: unknown mask {mask!r}")


def all_flops(fwd):
    return {"fwd": fwd, "bwd": BWD_FACTOR * fwd, "fwdbwd": (1 + BWD_FACTOR) * fwd}


def tflops(flops, ms):
    if not ms or ms <= 0 or flops is None:
        return None
    return flops / (ms * 1e-3) / 1e12


# ----------------------------------------------------------- statistics ----

def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else 0.5 * (xs[m - 1] + xs[m])


def percentile(xs, p):
    """Linear-interpolated percentile, p in [0, 100]."""
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    if len(xs) == 1:
        return xs[0]
    k = (len(xs) - 1) * p / 100.0
    f = math.floor(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


def summarize(rounds_ms, flops=None):
    """Statistics of one measurement in one process: rounds_ms is a list
    (one per round) of lists of per-call times in ms. Each round keeps its
    own median; the measurement's time (median_ms) is the median of the
    round medians, the same statistic whether the rounds come from one
    process or are merged from several (`merge_measures`). min/p10/p90 pool
    the calls."""
    pooled = [x for r in rounds_ms for x in r]
    if not pooled:
        return None
    out = {
        "round_median_ms": [median(r) for r in rounds_ms if r],
        "round_n": [len(r) for r in rounds_ms if r],
        "min_ms": min(pooled),
        "p10_ms": percentile(pooled, 10),
        "p90_ms": percentile(pooled, 90),
        "n": len(pooled),
    }
    out["median_ms"] = median(out["round_median_ms"])
    if flops is not None:
        out["tflops"] = tflops(flops, out["median_ms"])
        out["round_tflops"] = [tflops(flops, m) for m in out["round_median_ms"]]
    return out


def has_rounds(m):
    return isinstance(m, dict) and bool(m.get("round_median_ms"))


def merge_measures(parts, flops=None):
    """One measurement from its records in several processes (each a
    `summarize` dict, tagged with "round_ids"): the rounds are pooled,
    median_ms is the median of all round medians; min is the smallest call,
    p10/p90 the envelope of the processes' (the calls themselves are not
    stored)."""
    parts = [m for m in parts if has_rounds(m)]
    if not parts:
        return None
    out = {"round_median_ms": [], "round_n": [], "round_ids": [], "round_tflops": []}
    for m in parts:
        k = len(m["round_median_ms"])
        out["round_median_ms"] += m["round_median_ms"]
        out["round_n"] += list(m.get("round_n") or [None] * k)
        out["round_ids"] += list(m.get("round_ids") or [f"0.{i}" for i in range(k)])
        rt = m.get("round_tflops") or []
        out["round_tflops"] += [rt[i] if i < len(rt) else None for i in range(k)]
    out["median_ms"] = median(out["round_median_ms"])
    out["min_ms"] = min(m["min_ms"] for m in parts if m.get("min_ms") is not None) \
        if any(m.get("min_ms") is not None for m in parts) else None
    p10 = [m["p10_ms"] for m in parts if m.get("p10_ms") is not None]
    p90 = [m["p90_ms"] for m in parts if m.get("p90_ms") is not None]
    out["p10_ms"] = min(p10) if p10 else None
    out["p90_ms"] = max(p90) if p90 else None
    out["n"] = sum(m.get("n") or 0 for m in parts)
    if flops is not None:
        out["tflops"] = tflops(flops, out["median_ms"])
        out["round_tflops"] = [tflops(flops, x) for x in out["round_median_ms"]]
    elif out["round_tflops"] and all(x is not None for x in out["round_tflops"]):
        # No FLOPs at hand: recovered from any round (t = FLOPs / ms).
        fl = out["round_tflops"][0] * out["round_median_ms"][0] * 1e9
        out["tflops"] = tflops(fl, out["median_ms"])
    return out


# --------------------------------------------------------------- ratios ----

def peer_names(row):
    return [p for p in row.get("peers", {}) if p != "flashc" and p not in EXTRAS]


def tflops_of(row, peer, pss):
    m = row.get("peers", {}).get(peer, {}).get(pss)
    if not isinstance(m, dict):
        return None
    return m.get("tflops")


def round_tflops_of(row, peer, pss):
    m = row.get("peers", {}).get(peer, {}).get(pss)
    if not isinstance(m, dict):
        return []
    return m.get("round_tflops") or []


def rounds_by_id(row, peer, pss):
    """{round id: TFLOP/s} of one measurement. A round id is "P.R": round R
    of process P (the P-th file of the run that holds the row; 0 when the
    measurement was not merged)."""
    m = row.get("peers", {}).get(peer, {}).get(pss)
    if not isinstance(m, dict):
        return {}
    rt = m.get("round_tflops") or []
    ids = m.get("round_ids") or [f"0.{i}" for i in range(len(rt))]
    return {i: t for i, t in zip(ids, rt) if t is not None}


def ratio(row, pss):
    """flashc's TFLOP/s over the best peer's on this row and pass.

    value: flashc's TFLOP/s over the best peer's, each from the median of
    its round medians over every round of every process.
    rounds: per round, flashc's TFLOP/s over the best peer's in that round;
    only rounds in which flashc and every peer with a figure on this row
    were measured count (a round short of a peer would compare against
    other peers). lo/hi: the smallest and largest round ratio.
    noise: the largest distance of a round ratio from `value`, relative to
    `value`: every counted round lies within value x (1 +- noise). None
    with fewer than two rounds. processes: how many processes the counted
    rounds come from."""
    fc = tflops_of(row, "flashc", pss)
    best, best_peer = None, None
    peers = []
    for p in peer_names(row):
        t = tflops_of(row, p, pss)
        if t is not None:
            peers.append(p)
            if best is None or t > best:
                best, best_peer = t, p
    if fc is None or best is None:
        return None
    value = fc / best
    out = {"value": value, "best_peer": best_peer, "best_tflops": best,
           "flashc_tflops": fc, "rounds": [], "round_ids": [], "lo": None,
           "hi": None, "noise": None, "processes": 0}
    fr = rounds_by_id(row, "flashc", pss)
    per_peer = [rounds_by_id(row, p, pss) for p in peers]
    for rid, t in fr.items():
        if all(rid in pp for pp in per_peer):
            out["rounds"].append(t / max(pp[rid] for pp in per_peer))
            out["round_ids"].append(rid)
    if out["rounds"]:
        out["lo"], out["hi"] = min(out["rounds"]), max(out["rounds"])
        out["processes"] = len({rid.split(".")[0] for rid in out["round_ids"]})
        if len(out["rounds"]) > 1:
            out["noise"] = max(abs(x - value) for x in out["rounds"]) / value
    return out


def annotate(row):
    """Adds row["ratio"][pass] (see `ratio`); returns the row."""
    if row.get("peers"):
        row["ratio"] = {p: ratio(row, p) for p in PASSES}
    return row


# -------------------------------------------------------------- loading ----

def _timed(row):
    return any(has_rounds(m) for pm in (row.get("peers") or {}).values()
               if isinstance(pm, dict) for m in pm.values())


def merge_rows(items):
    """One row from its records in several processes of a run: items is a
    list of (process index, row), earliest process first. Per peer and
    pass the rounds of every process are pooled (`merge_measures`; a round
    id "P.R" says which process and round); a pass that failed in one
    process but has figures from another keeps the figures and the error
    as "error_elsewhere". The rest of the row (Flex's first-call times,
    peak memory) is the earliest timed process's: later processes read
    inductor's on-disk cache. A failed output check in any process fails
    the row."""
    timed = [(pi, r) for pi, r in items if _timed(r)]
    base = (timed or items)[0][1]
    row = json.loads(json.dumps(base))
    if not timed:
        return row
    flops = row.get("flops") or {}
    names = []
    for _, r in items:
        names += [n for n in (r.get("peers") or {}) if n not in names]
    peers = {}
    for name in names:
        passes = []
        for _, r in items:
            passes += [p for p in ((r.get("peers") or {}).get(name) or {}) if p not in passes]
        peers[name] = {}
        for pss in passes:
            recs = [(pi, r["peers"][name][pss]) for pi, r in items
                    if pss in ((r.get("peers") or {}).get(name) or {})]
            data = []
            for pi, m in recs:
                if has_rounds(m):
                    m = dict(m)
                    m["round_ids"] = [f"{pi}.{i}" for i in range(len(m["round_median_ms"]))]
                    data.append(m)
            others = [m for _, m in recs if not has_rounds(m)]
            if data:
                mm = merge_measures(data, flops.get(pss))
                errs = [m for m in others if isinstance(m, dict)
                        and (m.get("error") or m.get("oom"))]
                if errs:
                    mm["error_elsewhere"] = errs[0].get("error") or "out of memory"
                peers[name][pss] = mm
            else:
                peers[name][pss] = others[0]
    row["peers"] = peers
    for _, r in items:
        for name, c in (r.get("check") or {}).items():
            mine = (row.get("check") or {}).get(name)
            if isinstance(c, dict) and c.get("ok") is False and \
                    not (isinstance(mine, dict) and mine.get("ok") is False):
                row.setdefault("check", {})[name] = c
    if any(r.get("correct") is False for _, r in items):
        row["correct"] = False
    errors = []
    for _, r in items:
        if r.get("error") and r["error"] not in errors:
            errors.append(r["error"])
    if errors:
        row["error"] = "; ".join(errors)
    cuts = [r["rounds_cut"] for _, r in items if r.get("rounds_cut")]
    if cuts:
        row["rounds_cut"] = "; ".join(cuts)
    row["processes"] = [pi for pi, _ in timed]
    row["rounds"] = sum(r.get("rounds") or 0 for _, r in timed)
    row["seconds_by_process"] = [r.get("seconds") for _, r in items]
    return row


def load(paths):
    """Merges bench-*.json files (or directories of them) into one run:
    {"metas": [...], "rows": [...], "compile_times": {...}|None}. The files
    are the parts and processes of ONE run: a row found in several files
    (the same key: the same configuration measured by two processes) is
    merged, its rounds pooled (`merge_rows`). Files are taken in the order
    of their start date; a file's index in that order is its process index
    in the round ids."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(glob.glob(os.path.join(p, "bench-*.json")))
        else:
            files.append(p)
    loaded = []
    for f in files:
        with open(f) as fh:
            data = json.load(fh)
        meta = dict(data.get("meta", {}))
        meta["file"] = os.path.basename(f)
        meta["path"] = f
        loaded.append((meta, data))
    loaded.sort(key=lambda x: x[0].get("date") or "")  # stable: ties keep file order
    metas, by_key, compile_times = [], {}, None
    for pi, (meta, data) in enumerate(loaded):
        meta["process"] = pi
        metas.append(meta)
        for r in data.get("rows", []):
            by_key.setdefault(r.get("key") or json.dumps(r, sort_keys=True), []).append((pi, r))
        if data.get("compile_times"):
            compile_times = data["compile_times"]
    rows = [annotate(merge_rows(items)) for items in by_key.values()]
    return {"metas": metas, "rows": rows, "compile_times": compile_times,
            "files": [m["path"] for m in metas]}


# ------------------------------------------------------------- markdown ----

def fmt(x, digits=1):
    if x is None:
        return "n/a"
    return f"{x:.{digits}f}"


def fmt_ratio(r):
    if not r:
        return "n/a"
    s = f"{r['value']:.2f}"
    if r.get("noise") is not None:
        s += f" ±{100 * r['noise']:.1f}%"
    return s


def fmt_bytes(b):
    return "n/a" if b is None else f"{b / 2**30:.2f}"


def cell(row, peer, pss):
    m = row.get("peers", {}).get(peer)
    if m is None:
        return ""
    x = m.get(pss)
    if isinstance(x, dict) and "tflops" in x:
        return fmt(x["tflops"])
    if isinstance(x, dict) and x.get("oom"):
        return "OOM"
    if isinstance(x, dict) and "error" in x:
        return "err"
    if isinstance(x, dict) and "skipped" in x:
        return "skip"
    return "n/a"


def meta_line(metas):
    if not metas:
        return "no metadata"
    m = metas[0]
    dates = sorted(x.get("date", "") for x in metas if x.get("date"))
    parts = [f"date {dates[0] if dates else 'unknown'}"
             + (f" .. {dates[-1]}" if len(dates) > 1 and dates[-1] != dates[0] else ""),
             f"commit {m.get('commit', 'unknown')}",
             f"GPU {m.get('gpu', 'unknown')}",
             f"driver {m.get('driver', 'unknown')}",
             f"torch {m.get('torch', '?')}",
             f"cuDNN {m.get('cudnn', '?')}",
             f"triton {m.get('triton', '?')}"]
    commits = sorted({x.get("commit", "unknown") for x in metas})
    if len(commits) > 1:
        parts.append("(files from several commits: " + ", ".join(commits) + ")")
    return ", ".join(parts)


def _sorted(rows, section):
    mask_order = {"full": 0, "causal": 1, "layout": 2, "window": 3}
    sel = [r for r in rows if r.get("section") == section]
    return sorted(sel, key=lambda r: (r.get("d", 0), mask_order.get(r.get("mask"), 9),
                                      r.get("density") or 0, r.get("seqlen", 0)))


def grid_tables(rows):
    rows = _sorted(rows, "grid")
    if not rows:
        return []
    peers = [p for p in ("fa2", "cudnn", "flex", "math")
             if any(p in r.get("peers", {}) for r in rows)]
    out = []
    for pss in PASSES:
        out += [f"### FA3 grid, {PASS_TITLE[pss]}: TFLOP/s", "",
                "| d | mask | N | B | H | flashc | " + " | ".join(PEER_TITLE[p] for p in peers)
                + " | best peer | ratio | correct |",
                "|---" * (9 + len(peers)) + "|"]
        for r in rows:
            if r.get("skipped"):
                out.append(f"| {r['d']} | {r['mask']} | {r['seqlen']} | {r['batch']} | "
                           f"{r['heads']} | skipped: {r['skipped']} |" + " |" * (3 + len(peers)))
                continue
            rt = (r.get("ratio") or {}).get(pss)
            out.append(
                f"| {r['d']} | {r['mask']} | {r['seqlen']} | {r['batch']} | {r['heads']} | "
                f"{cell(r, 'flashc', pss)} | "
                + " | ".join(cell(r, p, pss) for p in peers)
                + f" | {PEER_TITLE.get(rt['best_peer'], '') if rt else 'n/a'} | "
                f"{fmt_ratio(rt)} | {correct_mark(r)} |")
        out.append("")
    return out


def correct_mark(r):
    chk = r.get("check", {})
    fc = chk.get("flashc")
    if fc is None:
        return "n/a"
    bad = [p for p, c in chk.items() if isinstance(c, dict) and c.get("ok") is False]
    s = "yes" if fc.get("ok") else "**NO**"
    others = [PEER_TITLE.get(p, p) for p in bad if p != "flashc"]
    if others:
        s += " (peer off: " + ", ".join(others) + ")"
    return s


def sparse_table(rows):
    rows = _sorted(rows, "sparse")
    if not rows:
        return []
    # Efficiency: TFLOP/s at this density over the same implementation's at
    # density 1.0 (same N): 1.0 means time proportional to kept blocks.
    dense = {}
    for r in rows:
        if r.get("mask") == "layout" and r.get("density") == 1.0:
            dense[r["seqlen"]] = r
    out = ["### Block-sparse and sliding window (d = 128), effective TFLOP/s", "",
           "Layouts of 128x128 blocks, random with the diagonal kept; the same "
           "dense [B, H, N/128, N/128] layout feeds flashc and Flex's BlockMask. "
           "eff. = TFLOP/s over the same implementation's at density 1.0 "
           "(1.00: time proportional to the kept blocks).", "",
           "| mask | density (kept) | N | fwd flashc | fwd Flex | fwd ratio "
           "| fwd eff. flashc / Flex | bwd flashc | bwd Flex | bwd ratio "
           "| f+b flashc | f+b Flex | f+b ratio | correct |",
           "|---" * 14 + "|"]
    for r in rows:
        name = r["mask"] if r["mask"] != "window" else f"window{tuple(r.get('window') or ())}"
        dens = (f"{r['density']:.2f} ({r['density_eff']:.3f})" if r.get("density") is not None
                and r.get("density_eff") is not None else
                (f"({r['density_eff']:.3f})" if r.get("density_eff") is not None else ""))
        if r.get("skipped"):
            out.append(f"| {name} | {dens} | {r['seqlen']} | skipped: {r['skipped']} |"
                       + " |" * 10)
            continue
        eff = ""
        dr = dense.get(r["seqlen"])
        if dr is not None and r.get("mask") == "layout":
            e = []
            for p in ("flashc", "flex"):
                a, b = tflops_of(r, p, "fwd"), tflops_of(dr, p, "fwd")
                e.append(fmt(a / b, 2) if a and b else "n/a")
            eff = " / ".join(e)
        rt = r.get("ratio") or {}
        line = f"| {name} | {dens} | {r['seqlen']} | "
        for pss in PASSES:
            line += (f"{cell(r, 'flashc', pss)} | {cell(r, 'flex', pss)} | "
                     f"{fmt_ratio(rt.get(pss))} | ")
            if pss == "fwd":
                line += f"{eff} | "
        line += f"{correct_mark(r)} |"
        out.append(line)
    extra = [r for r in rows if "flashc_dense" in r.get("peers", {})]
    if extra:
        out += ["", "flashc's dense kernel on the same inputs (density 1.0 rows), "
                "TFLOP/s fwd / bwd / fwd+bwd: "
                + "; ".join(f"N={r['seqlen']}: " + " / ".join(
                    cell(r, "flashc_dense", p) for p in PASSES) for r in extra)]
    out.append("")
    return out


def mem_cell(m):
    if m is None:
        return ""
    if m.get("oom"):
        return "OOM"
    if "error" in m:
        return "err"
    return fmt_bytes(m.get("total_bytes"))


def memory_tables(rows):
    out = []
    mrows = _sorted(rows, "memory")
    if mrows:
        peers = [p for p in ("flashc", "fa2", "cudnn", "flex", "math")
                 if any(p in r.get("memory", {}) for r in mrows)]
        r0 = mrows[0]
    if mrows and peers:
        out += [f"### Peak memory of forward+backward, GiB (B = {r0['batch']}, "
                f"H = {r0['heads']}, d = {r0['d']}, {r0['mask']}; inputs q, k, v, dO included)",
                "", "| N | " + " | ".join(PEER_TITLE[p] for p in peers) + " |",
                "|---" * (1 + len(peers)) + "|"]
        for r in mrows:
            out.append(f"| {r['seqlen']} | "
                       + " | ".join(mem_cell(r.get("memory", {}).get(p)) for p in peers) + " |")
        out.append("")
    grows = [r for r in _sorted(rows, "grid") if r.get("memory")]
    if grows:
        peers = [p for p in ("flashc", "fa2", "cudnn", "flex", "math")
                 if any(p in r.get("memory", {}) for r in grows)]
        toks = grows[0]["batch"] * grows[0]["seqlen"]
        out += [f"### Peak memory of forward+backward on the grid, GiB (B·N = {toks} "
                "tokens, inputs included)", "",
                "| d | mask | N | " + " | ".join(PEER_TITLE[p] for p in peers) + " |",
                "|---" * (3 + len(peers)) + "|"]
        for r in grows:
            out.append(f"| {r['d']} | {r['mask']} | {r['seqlen']} | "
                       + " | ".join(mem_cell(r["memory"].get(p)) for p in peers) + " |")
        out.append("")
    return out


FLASHC_VARIANTS = {  # (d, mask) -> (fwd spec, bwd spec)
    (64, "full"): ("fwd_d64_full", "bwd_d64_full"),
    (64, "causal"): ("fwd_d64_causal", "bwd_d64_causal"),
    (128, "full"): ("fwd_d128_full", "bwd_d128_full"),
    (128, "causal"): ("fwd_d128_causal", "bwd_d128_causal"),
    (128, "layout"): ("fwd_d128_layout", "bwd_d128_layout"),
    (128, "window"): ("fwd_d128_window", "bwd_d128_window"),
}


def compile_table(rows, compile_times):
    specs = (compile_times or {}).get("specs", {})
    cold = {(r["d"], r["mask"]): r for r in rows if r.get("section") == "compile"}
    warm = {}
    for r in rows:
        fc = (r.get("first_call_s") or {}).get("flex")
        if r.get("section") in ("grid", "sparse") and fc:
            warm.setdefault((r["d"], r["mask"]), []).append(fc)
    if not specs and not cold and not warm:
        return []
    ct = compile_times or {}
    out = ["### Compile time, seconds", "",
           "flashc: `flashc compile` per variant (spec to PTX + cubin, one process), "
           f"ahead of time on the build machine ({ct.get('host', '?')}, load "
           f"{ct.get('load', '?')}): median (min) of {ct.get('repeat', '?')}; one compile "
           "serves every B, H, N and every layout. Flex: wall time of the first call "
           "of torch.compile'd flex_attention on the GPU machine (block mask built "
           "before, its time apart). Cold: after torch._dynamo.reset() with inductor's "
           "caches disabled (compile section, N = 4096, after a throwaway warm-up "
           "compile). Per shape: the first call of each grid/sparse row (a new shape "
           "or mask recompiles; a new layout of a shape already compiled need not), "
           "median [min-max] over the rows.", "",
           "| d | mask | flashc fwd | flashc bwd | Flex fwd cold | Flex bwd cold | "
           "Flex block mask | Flex fwd per shape | Flex bwd per shape |",
           "|---" * 9 + "|"]
    for key, (fs, bs) in FLASHC_VARIANTS.items():
        f = specs.get(fs, {}).get("median")
        b = specs.get(bs, {}).get("median")
        fmin = specs.get(fs, {}).get("min")
        bmin = specs.get(bs, {}).get("min")
        c = (cold.get(key) or {}).get("first_call_s", {}).get("flex", {})
        w = warm.get(key, [])

        def rng(k):
            xs = [x.get(k) for x in w if x.get(k) is not None]
            if not xs:
                return "n/a"
            return f"{median(xs):.2f} [{min(xs):.2f}-{max(xs):.2f}]"
        if f is None and b is None and not c and not w:
            continue
        out.append(f"| {key[0]} | {key[1]} | {fmt(f, 2)} ({fmt(fmin, 2)}) | "
                   f"{fmt(b, 2)} ({fmt(bmin, 2)}) | "
                   f"{fmt(c.get('fwd'), 2)} | {fmt(c.get('bwd'), 2)} | "
                   f"{fmt(c.get('block_mask'), 2)} | {rng('fwd')} | {rng('bwd')} |")
    out.append("")
    return out


def summary_lines(rows):
    out = []
    for section in ("grid", "sparse"):
        for pss in PASSES:
            rs = [r["ratio"][pss] for r in rows if r.get("section") == section
                  and (r.get("ratio") or {}).get(pss)]
            if not rs:
                continue
            vals = [x["value"] for x in rs]
            gm = math.exp(sum(math.log(v) for v in vals) / len(vals))
            wins = sum(1 for v in vals if v >= 1.0)
            noises = [x["noise"] for x in rs if x.get("noise") is not None]
            out.append(f"- {section} {PASS_TITLE[pss]}: flashc / best peer "
                       f"geometric mean {gm:.2f}, range {min(vals):.2f}-{max(vals):.2f}, "
                       f"flashc ahead on {wins}/{len(vals)} rows"
                       + (f"; noise (every round within ±) median ±{100 * median(noises):.1f}%, "
                          f"max ±{100 * max(noises):.1f}%" if noises else ""))
    bad = [r["key"] for r in rows if (r.get("check", {}).get("flashc") or {}).get("ok") is False]
    if bad:
        out.append(f"- flashc output check FAILED on: {', '.join(bad)}")
    return out


def error_lines(rows, metas):
    """Every distinct error message once, with the rows and peers it hit."""
    by_msg = {}

    def add(msg, label, key):
        ent = by_msg.setdefault(msg[:300], {"labels": [], "keys": []})
        if label not in ent["labels"]:
            ent["labels"].append(label)
        if key not in ent["keys"]:
            ent["keys"].append(key)
    for r in rows:
        key = r.get("key")
        for p, m in r.get("peers", {}).items():
            for pss, x in (m or {}).items():
                if isinstance(x, dict) and ("error" in x or "error_elsewhere" in x):
                    msg = x.get("error") or x["error_elsewhere"]
                    for pre in ("setup: ", "check: "):
                        if msg.startswith(pre):
                            msg = msg[len(pre):]
                    if "error" not in x:
                        msg = "(one process; figures from the others) " + msg
                    add(msg, p, key)
        for p, c in r.get("check", {}).items():
            if isinstance(c, dict) and "error" in c:
                add(c["error"], p, key)
        for p, m in r.get("memory", {}).items():
            if isinstance(m, dict) and "error" in m:
                add(m["error"], f"{p} memory", key)
        if r.get("error"):
            add(r["error"], "row", key)
    out = []
    for msg, ent in by_msg.items():
        keys = ent["keys"]
        where = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more rows" if len(keys) > 3 else "")
        out.append(f"- {', '.join(ent['labels'])} on {where}: {msg}")
    for m in metas:
        for e in m.get("errors", []):
            out.append(f"- {m.get('file')}: {str(e)[:300]}")
    return out


def rounds_line(rows):
    """How many rounds and processes the ratios rest on."""
    shapes = {}
    for r in rows:
        for pss in PASSES:
            x = (r.get("ratio") or {}).get(pss)
            if x:
                shapes.setdefault((x.get("processes") or 0, len(x.get("rounds") or [])),
                                  []).append(f"{r['key']} {pss}")
    if not shapes:
        return ""
    common = max(shapes, key=lambda k: len(shapes[k]))
    s = (f"Rounds: {len(shapes[common])} ratios from {common[1]} rounds in "
         f"{common[0]} process{'es' if common[0] != 1 else ''}")
    others = sorted(k for k in shapes if k != common)
    for k in others:
        keys = shapes[k]
        s += (f"; {len(keys)} from {k[1]} rounds in {k[0]} "
              f"process{'es' if k[0] != 1 else ''} ({', '.join(keys[:4])}"
              + (f" and {len(keys) - 4} more" if len(keys) > 4 else "") + ")")
    return s + "."


def markdown(run):
    rows, metas = run["rows"], run["metas"]
    m0 = metas[0] if metas else {}
    lines = ["# flashc against its peers", "", meta_line(metas), ""]
    if m0.get("clocks_start"):
        lines += [f"Clocks at start: {m0['clocks_start']}", ""]
    lines += [
        "bf16. TFLOP/s = FLOPs / median time; FLOPs by the FlashAttention "
        "convention (fwd 4·B·H·N²·d, half if causal; bwd 2.5x fwd; fwd+bwd 3.5x "
        "fwd; block-sparse and window rows count only the kept (i, j) pairs). "
        "Times from CUDA events around each call, after warm-up; inputs "
        "random normal, rotated between "
        "several copies when one set would fit in 2x L2. Forward passes run "
        "with inputs that require grad (training). "
        "ratio = flashc / best peer (best of FA2, cuDNN, Flex and math on that "
        "row). A measurement's time is the median over its rounds of each "
        "round's median call. A round times every row once (peers "
        "interleaved within a row); bench/run_bench.sh runs each part as two "
        "processes (the second sweeps the rows in reverse order, on fresh "
        "inputs) and the report pools their rounds (the Rounds line says how "
        "many each ratio rests on). ± (noise) = the largest distance of one round's ratio "
        "(flashc / best peer in that round) from the ratio shown, relative to "
        "it: every round of every process lies within ratio ± noise. "
        "Every output was checked against an fp32 reference (and flashc's "
        "against each peer's) before timing.", ""]
    rl = rounds_line(rows)
    if rl:
        lines += [rl, ""]
    s = summary_lines(rows)
    if s:
        lines += ["## Summary", ""] + s + [""]
    lines += grid_tables(rows) + sparse_table(rows) + memory_tables(rows)
    lines += compile_table(rows, run.get("compile_times"))
    skipped = [r["key"] for r in rows if r.get("skipped")]
    if skipped:
        lines += ["Skipped rows: " + ", ".join(skipped), ""]
    errs = error_lines(rows, metas)
    if errs:
        lines += ["## Errors recorded", ""] + errs + [""]
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------- compare ----

CRITERION = ("agree: |A - B| <= noise_A·A + noise_B·B, i.e. the intervals "
             "A ± noise A and B ± noise B overlap (a ratio with one round has no "
             "noise: its interval is its value)")


def compare(run_a, run_b):
    """Does run B reproduce run A's ratios within the noise the runs report?
    For each row and pass measured in both: they agree when A ± noise A and
    B ± noise B overlap (`CRITERION`). Also counted: B's ratio inside
    A ± noise A (the stricter reading), and the relative difference.
    Returns (lines, n_agree, n_total)."""
    a = {r["key"]: r for r in run_a["rows"] if r.get("ratio")}
    b = {r["key"]: r for r in run_b["rows"] if r.get("ratio")}
    lines = [f"Criterion: {CRITERION}. noise: every round of the run lies within "
             "ratio ± noise (bench/README.md).", "",
             "| row | pass | ratio A | ratio B | diff | noise A | noise B | agree | B in A ± noise A |",
             "|---|---|---|---|---|---|---|---|---|"]
    agree = inside = total = 0
    diffs = []

    def nz(r):
        return r["noise"] * r["value"] if r.get("noise") is not None else 0.0

    def ncell(r):
        return f"±{100 * r['noise']:.1f}%" if r.get("noise") is not None else "none"
    for key in sorted(set(a) & set(b)):
        for pss in PASSES:
            ra, rb = a[key]["ratio"].get(pss), b[key]["ratio"].get(pss)
            if not ra or not rb:
                continue
            total += 1
            gap = abs(ra["value"] - rb["value"])
            diffs.append(gap / (0.5 * (ra["value"] + rb["value"])))
            ok = gap <= nz(ra) + nz(rb)
            ins = gap <= nz(ra)
            agree += ok
            inside += ins
            lines.append(f"| {key} | {pss} | {ra['value']:.3f} | {rb['value']:.3f} | "
                         f"{100 * diffs[-1]:.1f}% | {ncell(ra)} | {ncell(rb)} | "
                         f"{'yes' if ok else 'NO'} | {'yes' if ins else 'no'} |")
    if diffs:
        lines.append("")
        lines.append(f"{agree}/{total} ratios agree within the noise the two runs "
                     f"report (A ± noise A and B ± noise B overlap); {inside}/{total} "
                     f"of run B inside A ± noise A; median difference "
                     f"{100 * median(diffs):.1f}%, max {100 * max(diffs):.1f}%.")
    return lines, agree, total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="*", help="bench-*.json files or directories")
    ap.add_argument("-o", "--output", help="markdown file to write (default: stdout)")
    ap.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"),
                    help="two runs, each a directory or file, or several joined by commas")
    args = ap.parse_args(argv)
    if args.compare:
        lines, within, total = compare(load(args.compare[0].split(",")),
                                       load(args.compare[1].split(",")))
        text = "\n".join(lines) + "\n"
    else:
        if not args.results:
            ap.error("no results given")
        text = markdown(load(args.results))
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
