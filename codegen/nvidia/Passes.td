//===- Passes.td - flashc NVIDIA backend passes ------------*- tablegen -*-===//
//
// The passes that take a module of tiled kernels (IR level 2: func.func with
// attn.kernel_kind, an scf.forall grid, memref.alloca tiles, attn.tile ops)
// to gpu.module/gpu.func kernels for NVIDIA GPUs. Each takes the chip
// (TargetInfo.h) as its `chip` option; buildNvidiaLoweringPipeline runs
// them in the order below and then lowers to NVVM and PTX.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_NVIDIA_PASSES_TD
#define FLASHC_CODEGEN_NVIDIA_PASSES_TD

include "mlir/Pass/PassBase.td"

defvar AttnChipOptions = [
  Option<"chip", "chip", "std::string", /*default=*/"\"sm_90\"",
         "NVIDIA target: sm_80, sm_90 or sm_90a">
];

def AttnDropUnreadTilesPass
    : Pass<"attn-drop-unread-tiles", "mlir::ModuleOp"> {
  let summary = "removes tiles that nothing reads, and the ops that fill them";
  let description = [{
    The tiling passes keep, for instance, a copy of the raw scores for
    `tile.score_grad` even when the kernel has no score modifier to
    differentiate. Every tile costs shared memory on a GPU, so:

    1. A `memref.alloca` tile none of whose users reads it (it is only the
       destination of `tile.fill`, `tile.copy`, `tile.load`, ...) is erased
       together with those writers.
    2. Repeat until nothing changes (erasing a copy may leave its source
       unread).
  }];
}

def AttnPipelineTileLoadsPass
    : Pass<"attn-pipeline-tile-loads", "mlir::ModuleOp"> {
  let summary = "double-buffers the tiles a kernel loop loads first, "
                "prefetching the next iteration's";
  let description = [{
    For every `scf.for` (no results) of a kernel function whose body starts
    with `tile.load`s (among side-effect-free index arithmetic and reads of
    index lists) into tiles that nothing else writes and nothing outside the
    loop uses:

    1. Each such tile gets a second buffer (a clone of its alloca).
    2. Before the loop, under `lb < ub`, the prefix is cloned for iteration
       `lb`, loading into the first buffers.
    3. The body starts by picking `cur` and `nxt` buffers by the parity of
       `(iv - lb) / step` (`arith.select` of the two), then a `gpu.barrier`
       (where the copies into `cur` complete, and after which no thread
       still reads `nxt`), then, under `iv + step < ub`, the prefix cloned
       for `iv + step` loading into `nxt`.
    4. The body's own loads are erased; every other use of the tiles in the
       loop reads `cur`.

    On chips with cp.async the loads of iteration i + 1 are in flight while
    iteration i computes (until the next barrier, which the register-tile
    forward kernel has none of inside the loop). Loads into register tiles
    stay where they are. A loop is left alone when the second buffers would
    take the kernel's tiles past 7/8 of the chip's shared memory; a kernel,
    when its register tiles take more than 176 registers a thread (forward)
    or 112 (backward kernels, whose shared-memory score tiles keep more
    live), or it has dropout (the prefetch's addresses would make ptxas
    spill); `always` drops these two rules (for tuning: a kernel of two
    warpgroups over 128-row tiles runs one CTA an SM, whose loads nothing
    else overlaps).
  }];
  let options = AttnChipOptions # [
    Option<"always", "always", "bool", /*default=*/"false",
           "pipeline every kernel whose buffers fit, whatever its registers">
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect"
  ];
}

def AttnAssignRegisterTilesPass
    : Pass<"attn-assign-register-tiles", "mlir::ModuleOp"> {
  let summary = "keeps the f32 tiles that allow it in registers, as mma "
                "fragments";
  let description = [{
    For every kernel function (`attn.kernel_kind`), the f32 tiles
    (`memref.alloca`) of 16-row slabs (and 8-column blocks) whose every op
    can work on mma accumulator fragments (RegisterTiles.h) are marked
    `#gpu.address_space<private>`: they get no shared memory and need no
    barrier.

    1. Candidates are pruned until stable: a tile.matmul's B operand stays
       in shared memory; its A operand only joins its accumulator in
       registers (not transposed, same rows); the 2-D operands of an
       element-wise op, and the scores, max, sum and accumulator of
       softmax_update (acc, max, sum of finalize), go together; a 2-D
       tile.load, row_dot and any other user keep their tiles in shared
       memory.
    2. The CTA gets W = min(warps of the chip, rows of the smallest tile /
       16) warps (at least 4, else nothing moves), recorded as `attn.warps`
       on the function; every register tile's rows are a multiple of 16 W.
    3. Nothing moves when the tiles would take more than 192 f32 registers a
       thread.
  }];
  let options = AttnChipOptions;
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def AttnSelectWgmmaPass : Pass<"attn-select-wgmma", "mlir::ModuleOp"> {
  let summary = "marks the register-tile matmuls Hopper's wgmma runs, and "
                "their shared tiles as 128-byte swizzled";
  let description = [{
    On sm_90a, for every kernel function with register tiles (`attn.warps`
    a multiple of 4, a warpgroup each), a `tile.matmul` whose accumulator
    is a register tile (N <= 256), whose A is a register tile or a 16-bit
    shared tile [M][K], and whose B is a 16-bit shared tile ([N][K] with
    `transpose_b`, else [K][N]), with the shared tiles' rows whole 128-byte
    atoms (64 columns), is a candidate (Wgmma.h). Candidates are dropped
    until every use of their shared tiles (through the `arith.select` of
    double buffers) is a `tile.load` into the tile or a candidate reading
    it. The rest get `attn.wgmma`, their tiles and kernel
    `attn.swizzled_128b`.
  }];
  let options = AttnChipOptions;
}

def AttnPlanSharedMemoryPass
    : Pass<"attn-plan-shared-memory", "mlir::ModuleOp"> {
  let summary = "gives every tile of a kernel a slot of dynamic shared memory";
  let description = [{
    For every kernel function (`attn.kernel_kind`), every statically shaped
    `memref.alloca` (a tile) gets a slot of the kernel's one dynamic
    shared-memory buffer:

    1. Tiles are placed in program order, each at a multiple of 16 bytes.
    2. A 2-D tile whose row is a multiple of 128 bytes gets its rows padded
       (16 bytes for 16-bit elements, 32 for f32) so that the row slabs that
       ldmatrix, mma fragments and row loops touch fall into different
       banks. When the padded plan does not fit the chip, the unpadded one is
       tried.
    3. The tile gets `attn.shared_offset` (bytes) and, when 2-D,
       `attn.shared_pitch` (elements per row); the function gets
       `attn.shared_bytes`, the total.

    A plan larger than the chip's opt-in limit is an error that names the
    tiles and suggests smaller tiles.
  }];
  let options = AttnChipOptions # [
    Option<"pad", "pad", "bool", /*default=*/"true",
           "pad tile rows against shared-memory bank conflicts">
  ];
}

def AttnMapKernelsToGpuPass
    : Pass<"attn-map-kernels-to-gpu", "mlir::ModuleOp"> {
  let summary = "turns each tiled kernel into a gpu.func of its own gpu.module";
  let description = [{
    Each `func.func` carrying `attn.kernel_kind` becomes `gpu.func @<name>
    kernel` inside `gpu.module @<name>`, with the same arguments (the NVVM
    lowering expands each memref into its descriptor fields):

    1. The grid `scf.forall (%b, %h, %blk)` becomes `%blk = block_id x`,
       `%h = block_id y`, `%b = block_id z`, and its body runs under a guard
       that the ids are within the forall's bounds.
    2. The grid's `memref.alloca_scope` is inlined; each tile
       (`memref.alloca` with a plan from `attn-plan-shared-memory`) becomes a
       view of `gpu.dynamic_shared_memory` at its offset (rows strided by its
       pitch).
    3. The function keeps `attn.kernel_kind`, `attn.kernel_info` and
       `attn.shared_bytes`, and gets `known_block_size = [T, 1, 1]` (T from
       `threads` or TargetInfo; the later passes read it from there) and
       `nvvm.minctasm`, the CTAs per SM its shared memory allows, but no
       more than leave 128 registers a thread (TargetInfo::ctasPerSM): ptxas
       plans registers for that occupancy.
  }];
  let options = AttnChipOptions # [
    Option<"threads", "threads", "int64_t", /*default=*/"0",
           "threads per CTA (a multiple of 32); 0 takes the chip's">
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect", "::mlir::scf::SCFDialect",
    "::mlir::NVVM::NVVMDialect"
  ];
}

def AttnInsertTileBarriersPass
    : Pass<"attn-insert-tile-barriers", "mlir::ModuleOp"> {
  let summary = "puts gpu.barrier between tile ops whose accesses conflict";
  let description = [{
    The threads of a CTA split each tile op's work differently (elements,
    rows, warp fragments), so a tile written by one op and read or written
    by a later one needs a CTA-wide barrier in between, and so does a tile
    read by one op and overwritten by a later one. In every `gpu.func`:

    1. Each attn.tile op reads and writes a set of tiles (shared-memory
       slots); the analysis tracks the tiles read and written since the last
       barrier.
    2. A barrier goes before the first op that writes a tile in either set,
       or reads one in the written set; the sets then restart empty.
    3. Control flow is followed: both arms of an `scf.if` start from the same
       state and join by union; an `scf.for` body is analysed from the entry
       state joined with its own exit state until that is stable, so a
       conflict across the loop's back edge is caught too.

    Every scf.if and scf.for condition in a tiled kernel is uniform across
    the CTA, so every thread reaches every barrier.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def AttnLowerRegisterTilesPass
    : Pass<"attn-lower-register-tiles", "mlir::ModuleOp"> {
  let summary = "lowers the attn.tile ops on register tiles to per-thread "
                "fragment code";
  let description = [{
    In every `gpu.func`, each register tile (`#gpu.address_space<private>`)
    becomes a thread-private array of its fragments (constant indices only,
    so that LLVM keeps it in registers), and every attn.tile op that
    touches one is lowered, unrolled over the thread's fragments:

    1. Element-wise ops (fill, copy, mask, score_mod, score_grad, dropout,
       exp_lse, softmax_grad) compute each held element from its row and
       column, with the same formulas as on shared memory.
    2. tile.matmul into a register accumulator: per slab of the warp, mma.sync
       m16n8k16 over K with A from shared memory (ldmatrix) or from a
       register tile (the accumulator fragments of two 8-column blocks, in
       the multiplicand type, are an A fragment), B from shared memory.
    3. softmax_update and finalize: row max and sum over the thread's
       columns, then across the 4 lanes of a quad (shuffles), the running
       state in registers.
    4. tile.load of a 1-D tile: the thread's rows; tile.store: the thread's
       elements, pairs of columns at once.

    The logical allocas are erased once nothing uses them.
  }];
  let options = AttnChipOptions # [
    Option<"pinThreadIndex", "pin-thread-index", "bool", /*default=*/"false",
           "read the thread index per op through an opaque asm, so that "
           "fragment addresses are recomputed in loops, not hoisted (tuning)">
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::NVVM::NVVMDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::vector::VectorDialect", "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect"
  ];
}

def AttnLowerTileMatmulToMmaPass
    : Pass<"attn-lower-tile-matmul-to-mma", "mlir::ModuleOp"> {
  let summary = "lowers 16-bit tile.matmul to warp-level mma.sync";
  let description = [{
    For each `attn.tile.matmul` in a `gpu.func` whose operands are f16/bf16
    (or f32, converted to the other operand's type as they are loaded, like
    FlashAttention-2's P) with M, K multiples of 16 and N of 8, on a chip
    with tensor cores for that type:

    1. The accumulator's 16x8 tiles are split among the warps: each warp
       takes slabs of 16 rows and a range of 8-column tiles.
    2. Per slab and per chunk of up to 16 column tiles, the warp keeps the
       f32 fragments in registers and loops over K in steps of 16: the A
       fragment and the B fragments come from shared memory with ldmatrix
       (16-bit operands, `.trans` where the operand is stored the other
       way round) or with element loads and a conversion (f32 operands),
       then `nvvm.mma.sync` m16n8k16 (f16 and bf16 operands packed in i32).
    3. The fragments go back to the accumulator tile: `alpha * AB`, plus
       its old value with `accumulate`.

    Other matmuls are left for `attn-lower-tile-ops-to-gpu`.
  }];
  let options = AttnChipOptions;
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::NVVM::NVVMDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::vector::VectorDialect", "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect", "::mlir::scf::SCFDialect"
  ];
}

def AttnLowerTileOpsToGpuPass
    : Pass<"attn-lower-tile-ops-to-gpu", "mlir::ModuleOp"> {
  let summary = "lowers the remaining attn.tile ops to cooperative CTA code";
  let description = [{
    Rewrites every attn.tile op left in a `gpu.func` into code that the
    CTA's threads execute together (barriers come from
    `attn-insert-tile-barriers`, which runs first):

    1. Element-wise ops (fill, copy, load, store, mask, score_mod,
       score_grad, dropout, exp_lse, softmax_grad): a loop over the tile's
       elements strided by the thread count. tile.load and tile.store touch
       only rows below min(rows, tile rows, tensor rows - row0), with any
       strides (the last dimension contiguous); tile.load copies 16 bytes
       per thread with cp.async (zero-filling rows past the end) when the
       tensor's rows are 16-byte aligned, and every barrier first waits for
       the thread's copies: they overlap the work up to the barrier before
       the tile's first reader. What one element computes is
       codegen/ScoreModifiers.h's and PhiloxBuilder.h's, as on the CPU.
    2. Row ops (softmax_update, finalize, row_dot): a warp per row, lanes
       strided over the columns, reductions by butterfly shuffles.
    3. tile.matmul that did not go to tensor cores: each thread computes
       output elements with f32 accumulation from shared memory.
  }];
  let options = AttnChipOptions;
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::vector::VectorDialect",
    "::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect", "::mlir::scf::SCFDialect",
    "::mlir::nvgpu::NVGPUDialect", "::mlir::NVVM::NVVMDialect"
  ];
}

#endif // FLASHC_CODEGEN_NVIDIA_PASSES_TD
