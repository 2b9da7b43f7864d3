//===- HoistStaticAllocas.cpp - move tile allocas out of loops ------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/LoopLikeInterface.h"

namespace flashc::codegen {
#define GEN_PASS_DEF_ATTNHOISTSTATICALLOCASPASS
#include "codegen/Passes.h.inc"
} // namespace flashc::codegen

using namespace mlir;

namespace flashc::codegen {
namespace {

/// The nearest enclosing allocation scope that is not a loop (scf.for and
/// scf.forall are scopes of their own, freed per iteration in principle but
/// not in practice once lowered to branches), and whether a loop lies
/// between \p op and it.
std::pair<Operation *, bool> hoistTarget(Operation *op) {
  bool crossesLoop = false;
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp()) {
    bool isLoop = isa<LoopLikeOpInterface>(parent);
    crossesLoop |= isLoop;
    if (!isLoop && parent->hasTrait<OpTrait::AutomaticAllocationScope>())
      return {parent, crossesLoop};
  }
  return {nullptr, false};
}

struct AttnHoistStaticAllocasPass
    : impl::AttnHoistStaticAllocasPassBase<AttnHoistStaticAllocasPass> {
  void runOnOperation() override {
    SmallVector<std::pair<memref::AllocaOp, Operation *>> toHoist;
    getOperation().walk([&](memref::AllocaOp alloca) {
      if (!alloca.getType().hasStaticShape() ||
          !alloca.getDynamicSizes().empty() ||
          !alloca.getSymbolOperands().empty())
        return;
      auto [scope, crossesLoop] = hoistTarget(alloca);
      if (scope && crossesLoop)
        toHoist.push_back({alloca, scope});
    });
    for (auto [alloca, scope] : toHoist) {
      Block &entry = scope->getRegion(0).front();
      alloca->moveBefore(&entry, entry.begin());
    }
  }
};

} // namespace
} // namespace flashc::codegen
