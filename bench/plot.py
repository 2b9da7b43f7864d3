#!/usr/bin/env python3
"""Plots and the merged report of bench/bench.py's results (runs on the
build machine: the GPU machine has no matplotlib).

    python3 bench/plot.py RESULTS... -o OUT_DIR
    python3 bench/plot.py --compare RUN_A RUN_B [-o OUT_DIR]

RUN_A, RUN_B: a directory or JSON file each, or several joined by commas
(e.g. the three part directories of one run).

RESULTS: bench-*.json files or directories of them (the sections of one run,
possibly written by separate commands: they are merged). Writes to OUT_DIR:
  bench.md             the report (bench/report.py): tables with the ratio of
                       flashc to the best peer on every row, and its noise
  grid_fwd.png, grid_bwd.png, grid_fwdbwd.png
                       TFLOP/s against N, one panel per (d, causal)
  sparse.png           effective TFLOP/s against N per layout density and the
                       window, flashc and Flex, forward / backward / fwd+bwd
  memory.png           peak memory of fwd+bwd against N (fixed batch; and on
                       the grid at fixed B·N), OOM marked
  compile.png          flashc's ahead-of-time compile against Flex's first call
With --compare: compare.md, whether run B reproduces run A's ratios within
the noise the two runs report. Criterion (report.CRITERION): a ratio agrees
when |A - B| <= noise_A·A + noise_B·B, i.e. the intervals A ± noise A and
B ± noise B overlap; the stricter count (B inside A ± noise A) is given too.
A run's files (its parts, and each part's two processes) are merged: the
rounds of a row measured by several processes are pooled.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import report  # noqa: E402

STYLE = {  # peer -> (colour, marker, line width)
    "flashc": ("#d62728", "o", 2.4),
    "fa2": ("#1f77b4", "s", 1.4),
    "cudnn": ("#2ca02c", "^", 1.4),
    "flex": ("#9467bd", "D", 1.4),
    "math": ("#7f7f7f", "v", 1.2),
    "flashc_dense": ("#ff9896", "x", 1.2),
}


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _log2_axis(ax, ns):
    ax.set_xscale("log", base=2)
    ax.set_xticks(ns)
    ax.set_xticklabels([f"{n // 1024}k" if n >= 1024 else str(n) for n in ns])
    ax.grid(True, which="both", alpha=0.3)


def _title(meta):
    return (f"{meta.get('gpu', '?')}, commit {meta.get('commit', '?')}, "
            f"{meta.get('date', '?')[:10]}, torch {meta.get('torch', '?')}")


def _series(rows, peer, pss):
    pts = []
    for r in sorted(rows, key=lambda r: r["seqlen"]):
        t = report.tflops_of(r, peer, pss)
        if t is not None:
            m = r["peers"][peer][pss]
            lo = report.tflops(r["flops"][pss], m.get("p90_ms"))
            hi = report.tflops(r["flops"][pss], m.get("p10_ms"))
            pts.append((r["seqlen"], t, lo, hi))
    return pts


def _plot_peer(ax, pts, peer, label=None):
    if not pts:
        return
    c, mk, lw = STYLE.get(peer, ("k", ".", 1))
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    err = [[max(0.0, p[1] - (p[2] or p[1])) for p in pts],
           [max(0.0, (p[3] or p[1]) - p[1]) for p in pts]]
    ax.errorbar(xs, ys, yerr=err, color=c, marker=mk, lw=lw, ms=5, capsize=2,
                label=label or report.PEER_TITLE.get(peer, peer))


def plot_grid(run, out_dir):
    plt = _plt()
    rows = [r for r in run["rows"] if r.get("section") == "grid" and not r.get("skipped")]
    if not rows:
        return []
    meta = run["metas"][0] if run["metas"] else {}
    ds = sorted({r["d"] for r in rows})
    masks = [m for m in ("full", "causal") if any(r["mask"] == m for r in rows)]
    written = []
    for pss in report.PASSES:
        fig, axes = plt.subplots(len(ds), len(masks), figsize=(6 * len(masks), 4 * len(ds)),
                                 squeeze=False)
        for i, d in enumerate(ds):
            for j, mask in enumerate(masks):
                ax = axes[i][j]
                sel = [r for r in rows if r["d"] == d and r["mask"] == mask]
                ns = sorted({r["seqlen"] for r in sel})
                for peer in ("flashc", "fa2", "cudnn", "flex", "math"):
                    _plot_peer(ax, _series(sel, peer, pss), peer)
                if ns:
                    _log2_axis(ax, ns)
                ax.set_ylim(bottom=0)
                ax.set_title(f"d = {d}, {'causal' if mask == 'causal' else 'non-causal'}, "
                             f"{report.PASS_TITLE[pss]}")
                ax.set_xlabel("sequence length N (B·N = 16k tokens, H·d = 2048)")
                ax.set_ylabel("TFLOP/s")
                ax.legend(fontsize=8, loc="lower right")
        fig.suptitle(f"Attention {report.PASS_TITLE[pss]}, bf16 — {_title(meta)}")
        fig.tight_layout()
        path = os.path.join(out_dir, f"grid_{pss}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def plot_sparse(run, out_dir):
    plt = _plt()
    rows = [r for r in run["rows"] if r.get("section") == "sparse" and not r.get("skipped")]
    if not rows:
        return []
    meta = run["metas"][0] if run["metas"] else {}
    variants = []
    for r in sorted(rows, key=lambda r: (r["mask"] != "layout", r.get("density") or 0)):
        v = (r["mask"], r.get("density"), tuple(r.get("window") or ()))
        if v not in variants:
            variants.append(v)
    fig, axes = plt.subplots(3, len(variants), figsize=(4.2 * len(variants), 10),
                             squeeze=False)
    for j, v in enumerate(variants):
        sel = [r for r in rows if (r["mask"], r.get("density"),
                                   tuple(r.get("window") or ())) == v]
        ns = sorted({r["seqlen"] for r in sel})
        eff = [r.get("density_eff") for r in sel if r.get("density_eff") is not None]
        name = (f"layout, density {v[1]:g}" if v[0] == "layout" else f"window{v[2]}")
        if eff:
            name += f" (kept {sum(eff) / len(eff):.2f})"
        for i, pss in enumerate(report.PASSES):
            ax = axes[i][j]
            for peer in ("flashc", "flex", "flashc_dense"):
                _plot_peer(ax, _series(sel, peer, pss), peer)
            if ns:
                _log2_axis(ax, ns)
            ax.set_ylim(bottom=0)
            ax.set_title(f"{name}\n{report.PASS_TITLE[pss]}", fontsize=9)
            ax.set_xlabel("N (B·N = 16k, H = 16, d = 128)", fontsize=8)
            if j == 0:
                ax.set_ylabel("effective TFLOP/s")
            ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Block-sparse (128x128 blocks) and sliding window — {_title(meta)}")
    fig.tight_layout()
    path = os.path.join(out_dir, "sparse.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]


def _memory_panel(ax, rows, title):
    ns = sorted({r["seqlen"] for r in rows})
    peers = [p for p in ("flashc", "fa2", "cudnn", "flex", "math")
             if any(p in r.get("memory", {}) for r in rows)]
    top = 1e-9
    for r in rows:
        for m in r.get("memory", {}).values():
            if m.get("total_bytes"):
                top = max(top, m["total_bytes"] / 2**30)
    for peer in peers:
        c, mk, lw = STYLE[peer]
        pts = [(r["seqlen"], r["memory"][peer]["total_bytes"] / 2**30)
               for r in sorted(rows, key=lambda r: r["seqlen"])
               if r.get("memory", {}).get(peer, {}).get("total_bytes")]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color=c, marker=mk, lw=lw,
                    label=report.PEER_TITLE[peer])
        ooms = [r["seqlen"] for r in rows if r.get("memory", {}).get(peer, {}).get("oom")]
        if ooms:
            ax.scatter(ooms, [top * 1.6] * len(ooms), color=c, marker="x", s=80,
                       label=f"{report.PEER_TITLE[peer]}: out of memory")
    ax.set_yscale("log")
    if ns:
        _log2_axis(ax, ns)
    ax.set_xlabel("sequence length N")
    ax.set_ylabel("peak memory of fwd+bwd, GiB")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)


def plot_memory(run, out_dir):
    plt = _plt()
    mrows = [r for r in run["rows"] if r.get("section") == "memory" and r.get("memory")]
    grows = [r for r in run["rows"] if r.get("section") == "grid" and r.get("memory")]
    gsel = {}
    for r in grows:
        gsel.setdefault((r["d"], r["mask"]), []).append(r)
    panels = []
    if mrows:
        r0 = mrows[0]
        panels.append((mrows, f"B = {r0['batch']}, H = {r0['heads']}, d = {r0['d']}, "
                              f"{r0['mask']}: grows with N (flashc), N² (math)"))
    key = (128, "full") if (128, "full") in gsel else (sorted(gsel)[0] if gsel else None)
    if key:
        g0 = gsel[key][0]
        panels.append((gsel[key], f"grid: B·N = {g0['batch'] * g0['seqlen']} tokens, "
                                  f"d = {key[0]}, {key[1]}"))
    if not panels:
        return []
    meta = run["metas"][0] if run["metas"] else {}
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 5), squeeze=False)
    for ax, (rows, title) in zip(axes[0], panels):
        _memory_panel(ax, rows, title)
    fig.suptitle(f"Peak memory, forward+backward (inputs included) — {_title(meta)}",
                 fontsize=10)
    fig.tight_layout()
    path = os.path.join(out_dir, "memory.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def plot_compile(run, out_dir):
    plt = _plt()
    specs = (run.get("compile_times") or {}).get("specs", {})
    cold = {(r["d"], r["mask"]): (r.get("first_call_s") or {}).get("flex", {})
            for r in run["rows"] if r.get("section") == "compile"}
    labels, fc_f, fc_b, fl_f, fl_b = [], [], [], [], []
    for key, (fs, bs) in report.FLASHC_VARIANTS.items():
        f = specs.get(fs, {}).get("median")
        b = specs.get(bs, {}).get("median")
        c = cold.get(key, {})
        if f is None and b is None and not c:
            continue
        labels.append(f"d{key[0]} {key[1]}")
        fc_f.append(f or 0)
        fc_b.append(b or 0)
        fl_f.append(c.get("fwd") or 0)
        fl_b.append(c.get("bwd") or 0)
    if not labels:
        return []
    fig, ax = plt.subplots(figsize=(1.6 * len(labels) + 3, 4.5))
    xs = list(range(len(labels)))
    w = 0.38
    ax.bar([x - w / 2 for x in xs], fc_f, w, color=STYLE["flashc"][0], label="flashc compile, fwd")
    ax.bar([x - w / 2 for x in xs], fc_b, w, bottom=fc_f, color="#ff9896",
           label="flashc compile, bwd")
    ax.bar([x + w / 2 for x in xs], fl_f, w, color=STYLE["flex"][0],
           label="Flex first call, fwd (cold)")
    ax.bar([x + w / 2 for x in xs], fl_b, w, bottom=fl_f, color="#c5b0d5",
           label="Flex first call, bwd (cold)")
    ax.set_xticks(xs)
    ax.set_xticklabels(labels)
    ax.set_ylabel("seconds")
    ax.set_title("Compile: flashc ahead of time per variant (every shape) vs "
                 "Flex's first call (per shape)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    path = os.path.join(out_dir, "compile.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="*")
    ap.add_argument("-o", "--out", default=".", help="output directory")
    ap.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"))
    ap.add_argument("--no-plots", action="store_true", help="only the markdown")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if args.compare:
        lines, within, total = report.compare(report.load(args.compare[0].split(",")),
                                              report.load(args.compare[1].split(",")))
        path = os.path.join(args.out, "compare.md")
        with open(path, "w") as f:
            f.write(f"# Run B ({args.compare[1]}) against run A ({args.compare[0]})\n\n")
            f.write("\n".join(lines) + "\n")
        print(f"criterion: {report.CRITERION}")
        print(lines[-1] if total else "no common rows")
        print(f"wrote {path}")
        if not args.results:
            return 0
    if not args.results:
        ap.error("no results given")
    run = report.load(args.results)
    if not run["rows"]:
        print("no rows in", ", ".join(args.results), file=sys.stderr)
        return 1
    md = os.path.join(args.out, "bench.md")
    with open(md, "w") as f:
        f.write(report.markdown(run))
    written = [md]
    if not args.no_plots:
        for fn in (plot_grid, plot_sparse, plot_memory, plot_compile):
            try:
                written += fn(run, args.out)
            except Exception as e:  # noqa: BLE001  (one broken plot spoils no other)
                print(f"{fn.__name__}: {type(e).__name__}: {e}", file=sys.stderr)
    for w in written:
        print("wrote", w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
