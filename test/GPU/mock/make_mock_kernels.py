#!/usr/bin/env python3
"""Builds mock kernel directories (test/GPU/mock/mock_attention.cu compiled
per configuration, with a flashc.json in the format of runtime/Manifest.h).

    python3 test/GPU/mock/make_mock_kernels.py OUT_DIR [--nvcc PATH]

They let the runtime, flashc-gpu-tests and bench/run_gpu_tests.sh be checked
on a GPU without kernels from flashc's own GPU backend: the mock kernels are
naive (one thread per row) but honour the kernel ABI exactly. Directory
names start with `mock_`; custom regions are those of the same names in
test/GPU/CustomRegions.cpp.
"""

import argparse
import json
import math
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "mock_attention.cu")

ELT = {"f16": 0, "bf16": 1, "f32": 2}


def config(**o):
    base = dict(type="bf16", d=64, dv=None, hq=4, hkv=4, batch=-1, seq_q=-1,
                seq_k=-1, causal=False, bottom_right=False, window=None,
                softcap=None, alibi=False, dropout=0.0, seed=0,
                seqlens_q=False, seqlens_k=False, layout=None, mask=0,
                score=0, fwd=True, bwd=True,
                shared=0, target="sm_90", cubin=False, fault=0)
    base.update(o)
    if base["dv"] is None:
        base["dv"] = base["d"]
    return base


MOCKS = {
    "mock_plain_bf16_d64": config(),
    "mock_causal_br_gqa_f16_d128": config(type="f16", d=128, hq=8, hkv=2,
                                          causal=True, bottom_right=True),
    "mock_combo_bf16_d64": config(hkv=2, causal=True, bottom_right=True,
                                  window=(300, 16), softcap=20.0, alibi=True,
                                  dropout=0.1, seed=1234, seqlens_q=True,
                                  seqlens_k=True, layout=(128, 128)),
    "mock_plain_f32_d32": config(type="f32", d=32),
    "mock_custom_mask_bf16_d64": config(mask=1, bwd=False, cubin=True),
    "mock_grad_custom_score_f16_d64": config(type="f16", score=1,
                                             softcap=2.0, fwd=False),
    "mock_dyn_f16_d256_dv128": config(type="f16", d=256, dv=128, hq=-1,
                                      hkv=-1, window=(32, 8), shared=65536),
    "mock_static_bf16_d64": config(batch=2, seq_q=100, seq_k=300, alibi=True),
    "mock_seqlens_dropout_f16_d64": config(type="f16", causal=True,
                                           seqlens_q=True, dropout=0.25,
                                           seed=77),
}

# Negative controls (--faulty): each plants one bug that flashc-gpu-tests
# must report as FAIL, with the reason in the comment.
FAULTY = {
    # o error ~1e-3 against the f32 tolerance of 1e-5
    "faulty1_scale_f32_d32": config(type="f32", d=32, bwd=False, fault=1),
    # padded rows keep their NaN poison
    "faulty2_unwritten_rows_bf16_d64": config(seqlens_q=True, bwd=False,
                                              fault=2),
    # LSE written one element past its end: the guard bytes change
    "faulty3_out_of_bounds_bf16_d64": config(bwd=False, fault=3),
    # dK/dV sum only the first query head of each GQA group
    "faulty4_gqa_group_f16_d64": config(type="f16", hq=8, hkv=2, fwd=False,
                                        fault=4),
    # the forward pass ignores the block layout
    "faulty5_layout_ignored_bf16_d64": config(layout=(128, 128), bwd=False,
                                              fault=5),
    # dropout ignores the offset argument
    "faulty6_dropout_offset_bf16_d64": config(dropout=0.2, seed=3,
                                              bwd=False, fault=6),
}

BLOCK = 64


# The mock backward kernels are the deterministic form of the kernel ABI
# (passes/KernelABI.h): bwd_dq recomputes the scores, no dq_accum; their
# manifests say so.
def roles(c, kind):
    base = {
        "fwd": ["q", "k", "v", "o", "lse"],
        "bwd_prep": ["o", "dout", "delta"],
        "bwd_dkdv": ["q", "k", "v", "dout", "lse", "delta", "dk", "dv"],
        "bwd_dq": ["q", "k", "v", "dout", "lse", "delta", "dq"],
    }[kind]
    if kind == "bwd_prep":
        return base
    if c["seqlens_q"]:
        base.append("seqlens_q")
    if c["seqlens_k"]:
        base.append("seqlens_k")
    if c["layout"]:
        base += ["layout_offsets", "layout_blocks"]
    if c["dropout"] > 0:
        base += ["seed", "offset"]
    return base


def defines(c):
    scale = 1.0 / math.sqrt(c["d"])
    w = c["window"] or (-1, -1)
    lay = c["layout"] or (0, 0)
    d = {
        "ELT": ELT[c["type"]], "D": c["d"], "DV": c["dv"], "BQ": BLOCK,
        "BK": BLOCK, "SCALE": repr(scale) + "f", "CAUSAL": int(c["causal"]),
        "BOTTOM_RIGHT": int(c["bottom_right"]), "WINDOW_LEFT": w[0],
        "WINDOW_RIGHT": w[1], "HAS_SOFTCAP": int(c["softcap"] is not None),
        "SOFTCAP": repr(float(c["softcap"] or 1.0)) + "f",
        "ALIBI": int(c["alibi"]), "SEQLENS_Q": int(c["seqlens_q"]),
        "SEQLENS_K": int(c["seqlens_k"]), "LAYOUT": int(bool(c["layout"])),
        "LAYOUT_BQ": lay[0], "LAYOUT_BK": lay[1],
        "HAS_DROPOUT": int(c["dropout"] > 0), "DROPOUT_P": repr(c["dropout"]),
        "CUSTOM_MASK": c["mask"], "CUSTOM_SCORE": c["score"],
        "DYN_SHARED": c["shared"], "FAULT": c["fault"],
    }
    return [f"-D{k}={v}" for k, v in d.items()], scale


def build(name, c, out, nvcc):
    directory = os.path.join(out, name)
    os.makedirs(directory, exist_ok=True)
    flags, scale = defines(c)
    arch = c["target"]
    subprocess.run([nvcc, "-ptx", f"-arch={arch}", "-O2", *flags, SOURCE,
                    "-o", os.path.join(directory, "mock.ptx")], check=True)
    if c["cubin"]:
        subprocess.run([nvcc, "-cubin", f"-arch={arch}", "-O2", *flags,
                        SOURCE, "-o", os.path.join(directory, "mock.cubin")],
                       check=True)
    kinds = (["fwd"] if c["fwd"] else []) + (
        ["bwd_prep", "bwd_dkdv", "bwd_dq"] if c["bwd"] else [])
    kernels = []
    for kind in kinds:
        k = {"kind": kind, "name": "mock_" + kind, "ptx": "mock.ptx",
             "block_q": BLOCK, "block_k": BLOCK, "threads": BLOCK,
             "shared_bytes": c["shared"],
             "grid": "key_blocks" if kind == "bwd_dkdv" else "query_blocks",
             "args": roles(c, kind)}
        if c["cubin"]:
            k["cubin"] = "mock.cubin"
        kernels.append(k)
    manifest = {
        "format": 1, "spec": f"test/GPU/mock/{name} (mock kernels)",
        "target": arch, "element_type": c["type"], "head_dim": c["d"],
        "head_dim_v": c["dv"],
        "static_sizes": {"batch": c["batch"], "heads_q": c["hq"],
                         "heads_kv": c["hkv"], "seq_q": c["seq_q"],
                         "seq_k": c["seq_k"]},
        "scale": scale, "causal": c["causal"],
        "bottom_right": c["bottom_right"],
        "window": list(c["window"]) if c["window"] else None,
        "softcap": c["softcap"], "alibi": c["alibi"],
        "dropout_p": c["dropout"], "dropout_seed": c["seed"],
        "seqlens_q": c["seqlens_q"], "seqlens_k": c["seqlens_k"],
        "layout_block": list(c["layout"]) if c["layout"] else None,
        "custom_mask": bool(c["mask"]), "custom_score": bool(c["score"]),
        "deterministic": True, "kernels": kernels,
    }
    with open(os.path.join(directory, "flashc.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--nvcc", default="/usr/local/cuda/bin/nvcc")
    parser.add_argument("--faulty", action="store_true",
                        help="build the negative controls instead")
    args = parser.parse_args()
    for name, c in (FAULTY if args.faulty else MOCKS).items():
        build(name, c, args.out, args.nvcc)
        print("built", os.path.join(args.out, name))


if __name__ == "__main__":
    main()
