//===- InsertTileBarriers.cpp - CTA barriers between dependent tile ops ---===//
//
// A forward dataflow over the structured control flow of each kernel: the
// state is the set of tiles read and the set written since the last
// barrier (TileAccesses.h says which). An op that would read a tile written
// since, or write one read or written since, gets a gpu.barrier before it.
//
//===----------------------------------------------------------------------===//

#include "codegen/nvidia/Passes.h"
#include "codegen/nvidia/RegisterTiles.h"
#include "codegen/nvidia/TileAccesses.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;

namespace flashc::nvidia {

#define GEN_PASS_DEF_ATTNINSERTTILEBARRIERSPASS
#include "codegen/nvidia/Passes.h.inc"

namespace {

/// Tiles touched since the last barrier.
struct PendingAccesses {
  llvm::SmallDenseSet<Value, 8> reads, writes;

  bool conflictsWith(const TileAccesses &op) const {
    for (Value tile : op.reads)
      if (writes.contains(tile))
        return true;
    for (Value tile : op.writes)
      if (writes.contains(tile) || reads.contains(tile))
        return true;
    return false;
  }
  void add(const TileAccesses &op) {
    reads.insert(op.reads.begin(), op.reads.end());
    writes.insert(op.writes.begin(), op.writes.end());
  }
  void join(const PendingAccesses &other) {
    reads.insert(other.reads.begin(), other.reads.end());
    writes.insert(other.writes.begin(), other.writes.end());
  }
  void clear() {
    reads.clear();
    writes.clear();
  }
  bool contains(const PendingAccesses &other) const {
    return llvm::all_of(other.reads,
                        [&](Value v) { return reads.contains(v); }) &&
           llvm::all_of(other.writes,
                        [&](Value v) { return writes.contains(v); });
  }
};

/// The shared-memory tiles \p op accesses: a register tile
/// (RegisterTiles.h) is each thread's own, and every op on one walks the
/// same fragments, so it never needs a barrier.
std::optional<TileAccesses> sharedAccesses(Operation *op) {
  std::optional<TileAccesses> accesses = getTileAccesses(op);
  if (accesses) {
    llvm::erase_if(accesses->reads, isRegisterTile);
    llvm::erase_if(accesses->writes, isRegisterTile);
  }
  return accesses;
}

class BarrierPlacement {
public:
  /// Analyses \p block from \p state; with \p insert, places the barriers.
  PendingAccesses visitBlock(Block &block, PendingAccesses state, bool insert) {
    for (Operation &op : llvm::make_early_inc_range(block)) {
      if (isa<gpu::BarrierOp>(op)) {
        state.clear();
      } else if (std::optional<TileAccesses> accesses =
                     sharedAccesses(&op)) {
        if (state.conflictsWith(*accesses)) {
          if (insert) {
            OpBuilder b(&op);
            gpu::BarrierOp::create(b, op.getLoc());
          }
          state.clear();
        }
        state.add(*accesses);
      } else if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
        PendingAccesses joined =
            visitRegion(ifOp.getThenRegion(), state, insert);
        joined.join(visitRegion(ifOp.getElseRegion(), state, insert));
        state = std::move(joined);
      } else if (op.getNumRegions() != 0) {
        // scf.for and any other region holder: its regions may run any
        // number of times, each run following the previous one.
        state = visitRepeated(op, state, insert);
      }
    }
    return state;
  }

private:
  /// An empty region (scf.if without else) passes the state through.
  PendingAccesses visitRegion(Region &region, const PendingAccesses &state,
                              bool insert) {
    PendingAccesses out = state;
    for (Block &block : region)
      out = visitBlock(block, out, insert);
    return out;
  }

  /// The regions of \p op run zero or more times: iterate to the fixed
  /// point of entry state joined with exit state, then place barriers once.
  PendingAccesses visitRepeated(Operation &op, const PendingAccesses &entry,
                                bool insert) {
    PendingAccesses carried = entry;
    while (true) {
      PendingAccesses out = carried;
      for (Region &region : op.getRegions())
        out = visitRegion(region, out, /*insert=*/false);
      if (carried.contains(out))
        break;
      carried.join(out);
    }
    PendingAccesses out = carried;
    for (Region &region : op.getRegions())
      out = visitRegion(region, out, insert);
    out.join(entry);
    return out;
  }
};

struct AttnInsertTileBarriersPass
    : impl::AttnInsertTileBarriersPassBase<AttnInsertTileBarriersPass> {
  void runOnOperation() override {
    getOperation().walk([](gpu::GPUFuncOp kernel) {
      BarrierPlacement placement;
      for (Block &block : kernel.getBody())
        placement.visitBlock(block, PendingAccesses(), /*insert=*/true);
    });
  }
};

} // namespace
} // namespace flashc::nvidia
