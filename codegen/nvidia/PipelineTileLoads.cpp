//===- PipelineTileLoads.cpp - prefetch the next iteration's tiles --------===//
//
// A kernel loop that starts by loading tiles (K and V in the forward
// kernel) waits for global memory every iteration. With two buffers per
// tile, iteration i computes on one while the copies of iteration i + 1
// (cp.async, in flight until the next barrier) fill the other:
//
//   prologue:   if (lb < ub) load tiles(lb) -> buffer 0
//   iteration:  cur = i-th parity's buffer, nxt = the other
//               barrier (waits for the copies into cur; nobody reads nxt)
//               if (i + step < ub) load tiles(i + step) -> nxt
//               ... the body, on cur
//
//===----------------------------------------------------------------------===//

#include "codegen/nvidia/Passes.h"
#include "codegen/nvidia/RegisterTiles.h"
#include "codegen/nvidia/TargetInfo.h"
#include "dialect/AttnOps.h"
#include "passes/KernelABI.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;
using namespace flashc::attn;

namespace flashc::nvidia {

#define GEN_PASS_DEF_ATTNPIPELINETILELOADSPASS
#include "codegen/nvidia/Passes.h.inc"

namespace {

/// Register-tile registers a thread may hold in a pipelined kernel: a
/// forward kernel's other state is small. Backward kernels over 112 (the
/// transposed dK/dV kernels, 128-192; the D = 64 128 x 64 dQ kernel, 200)
/// measured 10-25 % slower with the prefetch of Q and dO, spills or not
/// (bench/results/2026-11-28-h200-session3/bwd-tiles.txt).
constexpr int64_t kMaxRegisterTileRegistersForward = 176;
constexpr int64_t kMaxRegisterTileRegisters = 112;

/// The loop's leading tile.loads and the side-effect-free index arithmetic
/// and reads of global index lists among them that compute their operands.
struct LoopPrefix {
  SmallVector<Operation *> ops;
  SmallVector<TileLoadOp> loads;
};

LoopPrefix leadingLoads(scf::ForOp loop) {
  LoopPrefix prefix;
  for (Operation &op : loop.getBody()->without_terminator()) {
    if (auto load = dyn_cast<TileLoadOp>(op)) {
      // A register tile is each thread's own: loaded where it is.
      if (isRegisterTile(load.getTile()))
        continue;
      prefix.ops.push_back(&op);
      prefix.loads.push_back(load);
      continue;
    }
    if (op.getNumRegions() == 0 &&
        (isMemoryEffectFree(&op) || isa<memref::LoadOp, memref::DimOp>(op))) {
      prefix.ops.push_back(&op);
      continue;
    }
    break;
  }
  // Only what the loads need moves with them: the other ops (the body's
  // mask conditions, say) stay where they are.
  llvm::SmallPtrSet<Operation *, 16> needed(prefix.loads.begin(),
                                            prefix.loads.end());
  for (Operation *op : llvm::reverse(prefix.ops)) {
    if (!needed.contains(op))
      continue;
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp();
          def && def->getBlock() == loop.getBody())
        needed.insert(def);
  }
  llvm::erase_if(prefix.ops, [&](Operation *op) { return !needed.contains(op); });
  return prefix;
}

/// Whether the tile of \p load can get a second buffer: an alloca that only
/// this load writes, used nowhere outside the loop.
bool isPrefetchable(TileLoadOp load, scf::ForOp loop) {
  auto alloca = load.getTile().getDefiningOp<memref::AllocaOp>();
  if (!alloca)
    return false;
  for (Operation *user : alloca->getUsers()) {
    if (!loop->isProperAncestor(user))
      return false;
    if (auto other = dyn_cast<TileLoadOp>(user); other && other != load)
      return false;
    // Every other tile op only reads K, V, Q, dO, ... tiles; anything that
    // writes them (fill, copy, a matmul accumulating into them) does not
    // come with a load at the loop's top.
    if (isa<TileFillOp, TileCopyOp>(user))
      return false;
    if (auto mm = dyn_cast<TileMatmulOp>(user); mm && mm.getAcc() == alloca)
      return false;
  }
  return true;
}

/// Clones the prefix for iteration \p iv at \p b, the loads writing
/// \p buffers instead of their tiles.
void clonePrefix(OpBuilder &b, const LoopPrefix &prefix, scf::ForOp loop,
                 Value iv, ArrayRef<Value> buffers) {
  IRMapping mapping;
  mapping.map(loop.getInductionVar(), iv);
  for (auto [load, buffer] : llvm::zip(prefix.loads, buffers))
    mapping.map(TileLoadOp(load).getTile(), buffer);
  for (Operation *op : prefix.ops)
    b.clone(*op, mapping);
}

scf::IfOp buildIf(OpBuilder &b, Location loc, Value cond) {
  return scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
}

int64_t bytesOf(Value tile) {
  auto type = cast<MemRefType>(tile.getType());
  return type.getNumElements() * type.getElementTypeBitWidth() / 8;
}

LogicalResult pipeline(scf::ForOp loop, int64_t &sharedBytes,
                       int64_t sharedLimit) {
  if (loop.getNumResults() != 0)
    return failure();
  LoopPrefix prefix = leadingLoads(loop);
  if (prefix.loads.empty() ||
      !llvm::all_of(prefix.loads,
                    [&](TileLoadOp load) { return isPrefetchable(load, loop); }))
    return failure();
  int64_t extra = 0;
  for (TileLoadOp load : prefix.loads)
    extra += bytesOf(load.getTile());
  if (sharedBytes + extra > sharedLimit)
    return failure();
  sharedBytes += extra;
  Location loc = loop.getLoc();
  Value lb = loop.getLowerBound(), ub = loop.getUpperBound(),
        step = loop.getStep();

  // The second buffers, next to the first.
  SmallVector<Value> first, second;
  for (TileLoadOp load : prefix.loads) {
    Operation *alloca = load.getTile().getDefiningOp();
    OpBuilder b(alloca->getContext());
    b.setInsertionPointAfter(alloca);
    first.push_back(load.getTile());
    second.push_back(b.clone(*alloca)->getResult(0));
  }

  // Prologue: the first iteration's tiles into the first buffers.
  OpBuilder b(loop);
  {
    Value any =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, lb, ub);
    scf::IfOp guard = buildIf(b, loc, any);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(guard.thenBlock());
    clonePrefix(b, prefix, loop, lb, first);
  }

  // Iteration i: buffers by the parity of (i - lb) / step.
  b.setInsertionPointToStart(loop.getBody());
  Value iv = loop.getInductionVar();
  Value trip = arith::DivUIOp::create(
      b, loc, arith::SubIOp::create(b, loc, iv, lb), step);
  Value even = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::eq,
      arith::RemUIOp::create(b, loc, trip,
                             arith::ConstantIndexOp::create(b, loc, 2)),
      arith::ConstantIndexOp::create(b, loc, 0));
  SmallVector<Value> cur, nxt;
  for (auto [x, y] : llvm::zip(first, second)) {
    cur.push_back(arith::SelectOp::create(b, loc, even, x, y));
    nxt.push_back(arith::SelectOp::create(b, loc, even, y, x));
  }
  // The copies into cur (issued one iteration earlier, or by the prologue)
  // complete at this barrier, and every thread is done with nxt.
  gpu::BarrierOp::create(b, loc);
  Value next = arith::AddIOp::create(b, loc, iv, step);
  {
    scf::IfOp guard = buildIf(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, next, ub));
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(guard.thenBlock());
    clonePrefix(b, prefix, loop, next, nxt);
  }
  // The body computes on cur; its own loads are gone.
  for (TileLoadOp load : prefix.loads)
    load.erase();
  for (auto [x, c] : llvm::zip(first, cur))
    x.replaceUsesWithIf(c, [&](OpOperand &use) {
      Operation *user = use.getOwner();
      return loop->isProperAncestor(user) && !isa<arith::SelectOp>(user);
    });
  return success();
}

struct AttnPipelineTileLoadsPass
    : impl::AttnPipelineTileLoadsPassBase<AttnPipelineTileLoadsPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<TargetInfo> target =
        getTargetOrEmitError(getOperation(), chip);
    if (!target)
      return signalPassFailure();
    getOperation().walk([&](func::FuncOp kernel) {
      if (!kernel->hasAttr(abi::kKernelKindAttr) ||
          (!always && !worthPipelining(kernel)))
        return;
      // The second buffers must leave the kernel within the chip's shared
      // memory (with room for the planner's row padding).
      int64_t sharedBytes = 0;
      kernel.walk([&](memref::AllocaOp alloca) {
        if (!isRegisterTile(alloca) && alloca.getType().hasStaticShape())
          sharedBytes += bytesOf(alloca);
      });
      int64_t limit = target->maxSharedBytesPerBlock() * 7 / 8;
      // Innermost loops first (post-order), each at most once.
      SmallVector<scf::ForOp> loops;
      kernel.walk([&](scf::ForOp loop) { loops.push_back(loop); });
      for (scf::ForOp loop : loops)
        (void)pipeline(loop, sharedBytes, limit);
    });
  }

  /// The prefetch's addresses and buffer choice cost registers: not in
  /// kernels whose register tiles already take most (D = 128 dK/dV), nor
  /// beside dropout's per-element Philox rounds.
  static bool worthPipelining(func::FuncOp kernel) {
    bool dropout = false;
    kernel.walk([&](TileDropoutOp) { dropout = true; });
    if (dropout)
      return false;
    int64_t registers = 0;
    if (auto attr =
            kernel->getAttrOfType<IntegerAttr>(kKernelRegisterTileRegistersAttr))
      registers = attr.getInt();
    auto kind = kernel->getAttrOfType<StringAttr>(abi::kKernelKindAttr);
    return registers <= (kind && kind.getValue() == "fwd"
                             ? kMaxRegisterTileRegistersForward
                             : kMaxRegisterTileRegisters);
  }
};

} // namespace
} // namespace flashc::nvidia
