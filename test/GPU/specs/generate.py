#!/usr/bin/env python3
"""Writes the GPU test specs of test/GPU/specs/ (one .mlir per feature or
combination). Run it after changing the table below; the .mlir files are
committed so that `flashc compile` needs nothing but them.

B and N are dynamic (`?`) in every spec but one, so a compiled kernel serves
every size flashc-gpu-tests tries; head counts and head dims are static.
A spec whose name starts with `grad_` is an attn.attention_grad (its kernel
directory has the backward kernels); the others are attn.attention.
Custom mask/score regions here must match the callbacks of the same name in
test/GPU/CustomRegions.cpp.
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))

# Regions, by key; CustomRegions.cpp implements the same functions.
MASKS = {
    # prefix-LM: a bidirectional prefix of 16 keys, causal after it.
    "prefix16": """mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %prefix = arith.constant 16 : index
    %in_prefix = arith.cmpi slt, %j, %prefix : index
    %not_future = arith.cmpi sle, %j, %i : index
    %keep = arith.ori %in_prefix, %not_future : i1
    attn.yield %keep : i1
  }""",
    # A per-batch, per-head pattern: drop keys j with (j + b + h) % 3 == 0.
    "stripes": """mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c3 = arith.constant 3 : index
    %c0 = arith.constant 0 : index
    %jb = arith.addi %j, %b : index
    %jbh = arith.addi %jb, %h : index
    %r = arith.remui %jbh, %c3 : index
    %keep = arith.cmpi ne, %r, %c0 : index
    attn.yield %keep : i1
  }""",
}

SCORES = {
    # s - slope_h * min(|i - j|, 32), slope_h = 0.5 / (h + 1)
    "relbias": """score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %i_minus_j = arith.subi %i, %j : index
    %j_minus_i = arith.subi %j, %i : index
    %abs = arith.maxsi %i_minus_j, %j_minus_i : index
    %max_dist = arith.constant 32 : index
    %dist = arith.minsi %abs, %max_dist : index
    %dist_i32 = arith.index_cast %dist : index to i32
    %dist_f = arith.sitofp %dist_i32 : i32 to f32
    %h_i32 = arith.index_cast %h : index to i32
    %h_f = arith.sitofp %h_i32 : i32 to f32
    %one = arith.constant 1.0 : f32
    %half = arith.constant 0.5 : f32
    %h_plus_1 = arith.addf %h_f, %one : f32
    %slope = arith.divf %half, %h_plus_1 : f32
    %bias = arith.mulf %slope, %dist_f : f32
    %biased = arith.subf %s, %bias : f32
    attn.yield %biased : f32
  }""",
    # s + 0.5 * tanh(s): nonlinear, so the backward pass needs its derivative.
    "tanhmix": """score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %t = math.tanh %s : f32
    %half = arith.constant 0.5 : f32
    %ht = arith.mulf %half, %t : f32
    %out = arith.addf %s, %ht : f32
    attn.yield %out : f32
  }""",
}

# name: options. Defaults: bf16, D = Dv = 64, Hq = 4, Hkv = 4.
SPECS = {}


def spec(name, doc, **options):
    options["doc"] = doc
    SPECS[name] = options


for d in (32, 64, 96, 128, 256):
    for t in ("f16", "bf16"):
        spec(f"plain_{t}_d{d}", f"plain attention, {t}, D = {d}", type=t, d=d)
spec("plain_f32_d64", "plain attention in f32 (tolerance 1e-5)", type="f32")
spec("plain_bf16_d64_dv128", "D = 64, Dv = 128", dv=128)
spec("static_bf16_d64", "every size static: B = 2, Nq = 100, Nk = 300",
     static=(2, 100, 300))
spec("dynheads_f16_d64", "dynamic head counts too", type="f16", hq="?",
     hkv="?")
spec("causal_bf16_d64", "causal, top-left", clauses="causal")
spec("causal_f16_d128", "causal, top-left, D = 128", type="f16", d=128,
     clauses="causal")
spec("causal_br_bf16_d64", "causal, bottom-right",
     clauses="causal align(bottom_right)")
spec("window_bf16_d64", "sliding window (32, 8), top-left",
     clauses="window(32, 8)")
spec("window_causal_br_f16_d64", "window (48, 0) + causal, bottom-right",
     type="f16", clauses="causal align(bottom_right) window(48, 0)")
spec("softcap_bf16_d64", "softcap(2.0)", clauses="softcap(2.0)")
spec("alibi_f16_d64", "ALiBi", type="f16", clauses="alibi")
spec("alibi_causal_br_bf16_d64", "ALiBi + causal, bottom-right",
     clauses="causal align(bottom_right) alibi")
spec("gqa_bf16_d128", "GQA: 8 query heads over 2 KV heads", d=128, hq=8,
     hkv=2, clauses="causal")
spec("mqa_f16_d64", "MQA: 4 query heads over 1 KV head", type="f16", hkv=1)
spec("seqlens_q_bf16_d64", "padded queries (seqlens_q)", seqlens_q=True)
spec("seqlens_k_f16_d64", "padded keys (seqlens_k)", type="f16",
     seqlens_k=True)
spec("seqlens_qk_causal_br_bf16_d64",
     "varlen: seqlens_q and seqlens_k, causal bottom-right per batch",
     seqlens_q=True, seqlens_k=True, clauses="causal align(bottom_right)")
spec("layout_bf16_d64", "block-sparse layout, blocks [128, 128]",
     layout=(128, 128))
spec("layout_causal_f16_d128", "layout [128, 128] + causal", type="f16",
     d=128, layout=(128, 128), clauses="causal")
spec("dropout_bf16_d64", "dropout(0.1)", clauses="dropout(0.1, seed 1234)")
spec("dropout_causal_f16_d64", "dropout(0.25) + causal", type="f16",
     clauses="causal dropout(0.25, seed 77)")
spec("custom_mask_bf16_d64", "custom mask: prefix-LM (prefix16)",
     mask="prefix16")
spec("custom_mask_stripes_f16_d64", "custom mask by b, h and j (stripes)",
     type="f16", mask="stripes")
spec("custom_score_bf16_d64", "custom score: clipped relative bias (relbias)",
     score="relbias")
spec("custom_score_tanh_f16_d64", "custom score: s + 0.5 tanh(s) (tanhmix)",
     type="f16", score="tanhmix")
spec("combo_gqa_window_softcap_bf16_d64",
     "GQA 8/2 + causal bottom-right + window (64, 0) + softcap(5.0)", hq=8,
     hkv=2, clauses="causal align(bottom_right) window(64, 0) softcap(5.0)")
spec("combo_seqlens_layout_alibi_f16_d64",
     "seqlens_q/k + layout [128, 128] + ALiBi", type="f16", seqlens_q=True,
     seqlens_k=True, layout=(128, 128), clauses="alibi")
spec("combo_all_bf16_d128",
     "every clause: GQA, seqlens, layout, causal br, window, softcap, ALiBi, "
     "dropout, mask and score regions", d=128, hq=4, hkv=2, seqlens_q=True,
     seqlens_k=True, layout=(128, 128),
     clauses="causal align(bottom_right) window(300, 16) softcap(20.0) alibi "
             "dropout(0.1, seed 99)", mask="stripes", score="relbias")

# Gradient specs: their directories hold bwd_prep, bwd_dkdv and bwd_dq.
spec("grad_plain_bf16_d64", "gradient, plain", grad=True)
spec("grad_plain_f16_d128", "gradient, plain, D = 128", grad=True, type="f16",
     d=128)
spec("grad_plain_bf16_d256", "gradient, plain, D = 256", grad=True, d=256)
spec("grad_plain_f32_d64", "gradient in f32 (tolerance 2e-5)", grad=True,
     type="f32")
spec("grad_causal_bf16_d64", "gradient, causal, deterministic", grad=True,
     clauses="causal", deterministic=True)
spec("grad_causal_br_f16_d64", "gradient, causal bottom-right", grad=True,
     type="f16", clauses="causal align(bottom_right)")
spec("grad_gqa_bf16_d64", "gradient, GQA 8/2 (dK, dV sum over the group)",
     grad=True, hq=8, hkv=2, clauses="causal")
spec("grad_window_bf16_d64", "gradient, window (32, 8)", grad=True,
     clauses="window(32, 8)")
spec("grad_softcap_alibi_f16_d64", "gradient, softcap(2.0) + ALiBi",
     grad=True, type="f16", clauses="softcap(2.0) alibi")
spec("grad_seqlens_bf16_d64", "gradient, seqlens_q/k", grad=True,
     seqlens_q=True, seqlens_k=True, clauses="causal align(bottom_right)")
spec("grad_layout_bf16_d64", "gradient, layout [128, 128] (transposed lists)",
     grad=True, layout=(128, 128))
spec("grad_dropout_bf16_d64", "gradient, dropout(0.1)", grad=True,
     clauses="causal dropout(0.1, seed 1234)")
spec("grad_custom_score_tanh_f16_d64", "gradient, custom score tanhmix",
     grad=True, type="f16", score="tanhmix")
spec("grad_custom_mask_bf16_d64", "gradient, custom mask prefix16",
     grad=True, mask="prefix16")
spec("grad_combo_bf16_d128",
     "gradient, GQA + seqlens + layout + causal br + softcap + dropout + "
     "relbias", grad=True, d=128, hq=4, hkv=2, seqlens_q=True,
     seqlens_k=True, layout=(128, 128),
     clauses="causal align(bottom_right) softcap(20.0) dropout(0.1, seed 5)",
     score="relbias")


def tensor(dims, t):
    return "tensor<" + "x".join(str(x) for x in dims) + "x" + t + ">"


def render(name, o):
    t = o.get("type", "bf16")
    d = o.get("d", 64)
    dv = o.get("dv", d)
    hq = o.get("hq", 4)
    hkv = o.get("hkv", hq)
    b, nq, nk = o.get("static", ("?", "?", "?"))
    qt = tensor([b, hq, nq, d], t)
    kt = tensor([b, hkv, nk, d], t)
    vt = tensor([b, hkv, nk, dv], t)
    ot = tensor([b, hq, nq, dv], t)
    lt = tensor([b, hq, nq], "f32")
    grad = o.get("grad", False)

    args = [f"%q: {qt}", f"%k: {kt}", f"%v: {vt}"]
    if grad:
        args += [f"%o: {ot}", f"%lse: {lt}", f"%do: {ot}"]
    clauses = []
    st = tensor([b], "i32")
    if o.get("seqlens_q"):
        args.append(f"%seqlens_q: {st}")
        clauses.append(f"seqlens_q(%seqlens_q : {st})")
    if o.get("seqlens_k"):
        args.append(f"%seqlens_k: {st}")
        clauses.append(f"seqlens_k(%seqlens_k : {st})")
    if "layout" in o:
        bq, bk = o["layout"]
        lyt = "tensor<?x?x?x?xi8>"
        args.append(f"%layout: {lyt}")
        clauses.append(f"layout(%layout : {lyt}, block [{bq}, {bk}])")
    if "clauses" in o:
        clauses.append(o["clauses"])
    regions = ""
    if "mask" in o:
        regions += "\n      " + MASKS[o["mask"]].replace("\n", "\n    ")
    if "score" in o:
        regions += "\n      " + SCORES[o["score"]].replace("\n", "\n    ")

    arg_text = ",\n    ".join(args)
    clause_text = "".join("\n      " + c for c in clauses)
    lines = [
        f"// {name}.mlir - GPU test spec: {o['doc']}.",
        "// Generated by test/GPU/specs/generate.py; flashc-gpu-tests runs its",
        "// compiled kernel directory on several sizes against the reference.",
        "",
    ]
    if grad:
        det = " deterministic" if o.get("deterministic") else ""
        in_types = f"{qt}, {kt}, {vt}, {ot}, {lt}, {ot}"
        out_types = f"{qt}, {kt}, {vt}"
        lines += [
            f"func.func @{name}(\n    {arg_text})\n    -> ({out_types}) {{",
            f"  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, "
            f"%do{det}{clause_text}{regions}",
            f"      : {in_types}",
            f"      -> {out_types}",
            f"  return %dq, %dk, %dv : {out_types}",
            "}",
        ]
    else:
        lines += [
            f"func.func @{name}(\n    {arg_text})\n    -> ({ot}, {lt}) {{",
            f"  %o, %lse = attn.attention %q, %k, %v{clause_text}{regions}",
            f"      : {qt}, {kt}, {vt}",
            f"      -> {ot}, {lt}",
            f"  return %o, %lse : {ot}, {lt}",
            "}",
        ]
    return "\n".join(lines) + "\n"


def main():
    for name, o in SPECS.items():
        with open(os.path.join(HERE, name + ".mlir"), "w") as f:
            f.write(render(name, o))
    print(f"wrote {len(SPECS)} specs to {HERE}")


if __name__ == "__main__":
    main()
