//===- DropUnreadTiles.cpp - remove tiles that nothing reads --------------===//

#include "codegen/nvidia/Passes.h"
#include "codegen/nvidia/TileAccesses.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;

namespace flashc::nvidia {

#define GEN_PASS_DEF_ATTNDROPUNREADTILESPASS
#include "codegen/nvidia/Passes.h.inc"

/// Whether every user of \p tile only writes it (possibly reading it to do
/// so): then its contents never reach anything else.
static bool isUnread(memref::AllocaOp tile) {
  Value value = tile.getResult();
  for (Operation *user : value.getUsers()) {
    std::optional<TileAccesses> accesses = getTileAccesses(user);
    // Any other use (a call, a view, a scalar load) may read it.
    if (!accesses || writesGlobalMemory(user))
      return false;
    if (accesses->writes.size() != 1 || accesses->writes.front() != value)
      return false;
  }
  return true;
}

/// Erases every tile of \p root that nothing reads, with its writers;
/// returns whether anything was erased.
static bool dropUnreadTilesOnce(Operation *root) {
  SmallVector<memref::AllocaOp> unread;
  root->walk([&](memref::AllocaOp alloca) {
    if (alloca.getType().hasStaticShape() && isUnread(alloca))
      unread.push_back(alloca);
  });
  for (memref::AllocaOp alloca : unread) {
    for (Operation *user : llvm::make_early_inc_range(alloca->getUsers()))
      user->erase();
    alloca->erase();
  }
  return !unread.empty();
}

namespace {
struct AttnDropUnreadTilesPass
    : impl::AttnDropUnreadTilesPassBase<AttnDropUnreadTilesPass> {
  void runOnOperation() override {
    while (dropUnreadTilesOnce(getOperation())) {
    }
  }
};
} // namespace

} // namespace flashc::nvidia
