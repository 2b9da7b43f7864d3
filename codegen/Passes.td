//===- Passes.td - flashc codegen passes --------------------*- tablegen -*-===//
//
// Passes that take the IO-aware tiled form (attn.tile.* ops in scf loops on
// memrefs) towards target code. The CPU ones are the portable backend that
// CI runs for numerics.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_PASSES_TD
#define FLASHC_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnLowerTilesToLoopsPass
    : Pass<"attn-lower-tiles-to-loops", "mlir::func::FuncOp"> {
  let summary = "lowers every attn.tile op to scalar scf.for loops on memrefs";
  let description = [{
    Rewrites each `attn.tile.*` op into `scf.for` loops of `memref.load`,
    `memref.store`, `arith` and `math` ops that compute exactly what the op's
    description says:

    1. Arithmetic is f32: f16/bf16 elements are extended on load and
       truncated to the destination's element type on store.
    2. `tile.load`/`tile.store` touch only rows `[0, min(rows, R, N - row0))`
       of the global tensor (N its dimension 2); `tile.load` zero-fills the
       other tile rows.
    3. The mask sets dropped scores to -inf with a `select`; the softmax ops
       guard every -inf so that a fully masked row yields P = 0, O = 0,
       LSE = -inf and never NaN.
    4. Custom `mask`/`score` regions are cloned into the element loop with
       their arguments bound to (b, h, i, j) / (s, b, h, i, j).
       `tile.score_grad` clones the score region in forward mode, carrying
       each value's derivative with respect to `s`; a region that uses an op
       without a derivative rule is reported, naming that op.
    5. `tile.dropout` evaluates Philox4x32-10 in 32-bit integer arithmetic
       per element and compares the top 24 bits of word 0 with
       `ceil(p * 2^24)`, which is `u >= p` exactly.

    The loops are sequential and scalar; LLVM's vectorizer is left to widen
    them (reductions carry `reassoc` so that it may).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"
  ];
}

def AttnHoistStaticAllocasPass
    : Pass<"attn-hoist-static-allocas", "mlir::func::FuncOp"> {
  let summary = "moves statically shaped memref.alloca out of loops";
  let description = [{
    The tiled form allocates its tiles with `memref.alloca` inside the grid
    loop. Lowered as is, every iteration of a sequential loop would grow the
    stack (`scf.for` is an allocation scope, but its lowering to branches
    frees nothing) or, inside `memref.alloca_scope`, save and restore it.
    This pass moves each `memref.alloca` with a static shape that sits
    inside a loop to the start of the function's entry block (out of any
    `memref.alloca_scope` on the way), so each tile is allocated once.

    Valid only where the loops run one iteration at a time (after
    `scf-forall-to-for`): the tile's contents are undefined at the start of
    each iteration either way, but iterations running in parallel would
    share it.
  }];
}

def AttnEmitKernelCInterfacePass
    : Pass<"attn-emit-kernel-c-interface", "mlir::ModuleOp"> {
  let summary = "asks for a C-callable wrapper of every kernel function";
  let description = [{
    Sets `llvm.emit_c_interface` on every `func.func` carrying
    `attn.kernel_kind`, so that the LLVM lowering emits
    `_mlir_ciface_<name>`, which takes each memref as a pointer to its
    descriptor: the entry point the CPU JIT calls.
  }];
}

#endif // FLASHC_CODEGEN_PASSES_TD
