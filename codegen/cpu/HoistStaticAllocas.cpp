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

/// Whether a loop lies between \p op and \p func: then the alloca would be
/// executed once per iteration. scf.for and scf.forall are allocation
/// scopes of their own, and the tiling passes wrap grid bodies in
/// memref.alloca_scope, but once lowered to branches the former free
/// nothing, and the latter pay a stacksave/stackrestore per iteration for
/// what one allocation can serve.
bool isInLoop(Operation *op, Operation *func) {
  for (Operation *parent = op->getParentOp(); parent && parent != func;
       parent = parent->getParentOp())
    if (isa<LoopLikeOpInterface>(parent))
      return true;
  return false;
}

struct AttnHoistStaticAllocasPass
    : impl::AttnHoistStaticAllocasPassBase<AttnHoistStaticAllocasPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    SmallVector<memref::AllocaOp> toHoist;
    func.walk([&](memref::AllocaOp alloca) {
      if (alloca.getType().hasStaticShape() &&
          alloca.getDynamicSizes().empty() &&
          alloca.getSymbolOperands().empty() && isInLoop(alloca, func))
        toHoist.push_back(alloca);
    });
    Block &entry = func.getBody().front();
    for (memref::AllocaOp alloca : toHoist)
      alloca->moveBefore(&entry, entry.begin());
  }
};

} // namespace
} // namespace flashc::codegen
