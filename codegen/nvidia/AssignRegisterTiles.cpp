//===- AssignRegisterTiles.cpp - f32 tiles into registers -----------------===//
//
// Marks the tiles planRegisterTiles chooses (RegisterTiles.h) with the
// private address space and records the CTA's warps on the kernel.
//
//===----------------------------------------------------------------------===//

#include "codegen/nvidia/Passes.h"
#include "codegen/nvidia/RegisterTiles.h"
#include "codegen/nvidia/TargetInfo.h"
#include "passes/KernelABI.h"

#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace flashc::nvidia {

#define GEN_PASS_DEF_ATTNASSIGNREGISTERTILESPASS
#include "codegen/nvidia/Passes.h.inc"

namespace {

struct AttnAssignRegisterTilesPass
    : impl::AttnAssignRegisterTilesPassBase<AttnAssignRegisterTilesPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<TargetInfo> target =
        getTargetOrEmitError(getOperation(), chip);
    if (!target)
      return signalPassFailure();
    auto privateSpace = gpu::AddressSpaceAttr::get(
        &getContext(), gpu::AddressSpace::Private);
    getOperation().walk([&](func::FuncOp kernel) {
      if (!kernel->hasAttr(abi::kKernelKindAttr))
        return;
      RegisterTilePlan plan =
          planRegisterTiles(kernel, target->warpsPerBlock());
      if (plan.tiles.empty())
        return;
      for (Value tile : plan.tiles) {
        auto type = cast<MemRefType>(tile.getType());
        tile.setType(MemRefType::get(type.getShape(), type.getElementType(),
                                     type.getLayout(), privateSpace));
      }
      OpBuilder b(kernel);
      kernel->setAttr(kKernelWarpsAttr, b.getI64IntegerAttr(plan.warps));
      kernel->setAttr(kKernelRegisterTileRegistersAttr,
                      b.getI64IntegerAttr(plan.registers));
    });
  }
};

} // namespace
} // namespace flashc::nvidia
