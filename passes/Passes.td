//===- Passes.td - flashc tiling passes ---------------------*- tablegen -*-===//

#ifndef FLASHC_PASSES_PASSES_TD
#define FLASHC_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnSelectTilesPass : Pass<"attn-select-tiles", "mlir::ModuleOp"> {
  let summary = "chooses the FlashAttention tile sizes Br x Bc for each spec op";
  let description = [{
    Annotates every `attn.attention` / `attn.attention_grad` with
    `attn.tile_sizes = array<i64: Br, Bc>`:

    1. M = on-chip bytes of the target / 4 (fp32 words), d = max(D, Dv).
    2. Bc = ceil(M / 4d), Br = min(Bc, d) (FlashAttention, Algorithm 1).
    3. Each is rounded down to a power of two in [16, 128] (mma tiles come
       in multiples of 16), then halved until it divides the layout block
       size, if the op has a layout.

    `block-q` / `block-k` override the result; they must be powers of two
    in [16, 128] that divide the layout block sizes. `dq-block-q` /
    `dq-block-k` (same rules) give an `attn.attention_grad`'s dQ kernel
    its own tiles where dQ is recomputed (the dK/dV kernel walks query
    tiles under one key tile, the dQ kernel key tiles under one query
    tile, so each wants its fixed side large): `attn.tile_sizes =
    array<i64: Br, Bc, Br_dq, Bc_dq>`.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "target whose on-chip memory sizes the tiles (cpu, sm_80, sm_90)">,
    Option<"sramBytes", "sram-bytes", "int64_t", /*default=*/"0",
           "on-chip bytes per CTA/core; 0 takes the target's">,
    Option<"blockQ", "block-q", "int64_t", /*default=*/"0",
           "override Br (rows of a query tile)">,
    Option<"blockK", "block-k", "int64_t", /*default=*/"0",
           "override Bc (rows of a key/value tile)">,
    Option<"dqBlockQ", "dq-block-q", "int64_t", /*default=*/"0",
           "backward: Br of the dQ kernel (0: Br)">,
    Option<"dqBlockK", "dq-block-k", "int64_t", /*default=*/"0",
           "backward: Bc of the dQ kernel (0: Bc)">
  ];
}

def AttnAnalyzeMasksPass : Pass<"attn-analyze-masks", "mlir::ModuleOp"> {
  let summary = "records the linear constraints that mask analysis proves";
  let description = [{
    For inspection and tests: annotates each spec op with
    `attn.mask_constraints`, the conjunction of linear constraints
    `ci*i + cj*j + c0 + cs*shift >= 0` that the causal, window and custom
    masks imply, and `attn.mask_exact` when the constraints are the whole
    mask (so blocks satisfying them all are full and need no masking). The
    tiling passes call the same analysis directly.
  }];
}

def AttnTileForwardPass : Pass<"attn-tile-forward", "mlir::ModuleOp"> {
  let summary = "turns attn.attention into an IO-aware tiled forward kernel";
  let description = [{
    Replaces each function holding an `attn.attention` with a kernel
    function `@<name>_fwd` on memrefs (arguments in passes/KernelABI.h):

    1. A grid `scf.forall` over (batch, query head, query block).
    2. Q's tile is loaded once; the running max m, sum l and accumulator acc
       start at (-inf, 0, 0).
    3. Mask analysis bounds the key/value blocks [lo, hi) that can hold a
       kept score and the sub-range [full_lo, full_hi) that needs no mask;
       blocks outside [lo, hi) are never visited. With a layout operand the
       loop walks the layout row's index list instead of every block.
    4. Per block: S = scale * Q K^T, score modifiers, the mask (partial
       blocks only), the online softmax update, dropout, acc += P V.
    5. O = acc / l and LSE = m + log l are written once.

    No N x N buffer exists at any point. Needs `attn-select-tiles` first.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"
  ];
}

def AttnTileBackwardPass : Pass<"attn-tile-backward", "mlir::ModuleOp"> {
  let summary = "turns attn.attention_grad into tiled backward kernels";
  let description = [{
    Replaces each function holding an `attn.attention_grad` with three
    kernels (passes/KernelABI.h), all by recomputation from LSE:

    1. `@<name>_bwd_prep`: D = rowsum(dO * O) per query row, and zeros
       into the f32 scratch dq_accum.
    2. `@<name>_bwd_dkdv`: a grid over (batch, KV head, KV block); for every
       query head of the group and every query block that can touch this KV
       block (mask analysis, or the transposed layout lists): recompute
       P = exp(S - LSE), dV += (P * Z)^T dO, dP = (dO V^T) * Z,
       dS = P * (dP - D) times the modifiers' derivative, dK += scale dS^T Q,
       and dq_accum += scale dS K (the pair's share of dQ; an atomic add on
       a GPU). dK and dV are summed over the group's query heads in the
       tile.
    3. `@<name>_bwd_dq`: dQ = dq_accum in the element type.

    With `deterministic`, or `sum-dq=false`, no atomics: no dq_accum, and
    `@<name>_bwd_dq` is a grid over (batch, query head, query block) that
    repeats the recomputation over key blocks, dQ += scale dS K (7 block
    matmuls a pair instead of 5).
  }];
  let options = [
    Option<"sumDq", "sum-dq", "bool", /*default=*/"true",
           "sum dQ in dq_accum in the dK/dV kernel (else recompute it in "
           "bwd_dq)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"
  ];
}

#endif // FLASHC_PASSES_PASSES_TD
