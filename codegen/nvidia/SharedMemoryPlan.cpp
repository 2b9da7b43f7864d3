//===- SharedMemoryPlan.cpp - tiles in the dynamic shared memory ----------===//

#include "codegen/nvidia/SharedMemoryPlan.h"
#include "codegen/nvidia/RegisterTiles.h"
#include "codegen/nvidia/Passes.h"
#include "codegen/nvidia/Wgmma.h"
#include "passes/KernelABI.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace flashc::nvidia {

#define GEN_PASS_DEF_ATTNPLANSHAREDMEMORYPASS
#include "codegen/nvidia/Passes.h.inc"

/// Shared memory has 32 banks of 4 bytes: rows 128 bytes apart start in the
/// same bank.
static constexpr int64_t kBankRowBytes = 128;

SharedMemoryPlan planSharedMemory(FunctionOpInterface kernel,
                                  const TargetInfo &target, bool pad) {
  SharedMemoryPlan plan;
  int64_t align = target.sharedAlignment();
  kernel->walk([&](memref::AllocaOp alloca) {
    MemRefType type = alloca.getType();
    // Register tiles (RegisterTiles.h) take no shared memory.
    if (!type.hasStaticShape() || isRegisterTile(alloca))
      return;
    int64_t eltBytes = type.getElementTypeBitWidth() / 8;
    TileSlot slot;
    slot.alloca = alloca;
    // wgmma's swizzled tiles (Wgmma.h): no pad, 8-row atoms 1024-aligned.
    bool swizzled = alloca->hasAttr(kSwizzledTileAttr);
    int64_t slotAlign = swizzled ? std::max(align, kSwizzleAtomBytes) : align;
    if (type.getRank() == 2) {
      int64_t rowBytes = type.getDimSize(1) * eltBytes;
      // ldmatrix reads 8 rows of 16 bytes and an f32 fragment 8 rows of 8
      // bytes per half-warp: a pad of 16 resp. 32 bytes spreads those rows
      // over all 32 banks.
      int64_t padBytes = 0;
      if (pad && !swizzled && rowBytes % kBankRowBytes == 0)
        padBytes = eltBytes == 2 ? 16 : 32;
      slot.pitch = (rowBytes + padBytes) / eltBytes;
      slot.bytes = type.getDimSize(0) * slot.pitch * eltBytes;
    } else {
      slot.bytes = type.getNumElements() * eltBytes;
    }
    slot.offset = llvm::alignTo(plan.totalBytes, slotAlign);
    plan.totalBytes = slot.offset + slot.bytes;
    plan.slots.push_back(slot);
  });
  plan.totalBytes = llvm::alignTo(plan.totalBytes, align);
  return plan;
}

void recordSharedMemoryPlan(FunctionOpInterface kernel,
                            const SharedMemoryPlan &plan) {
  Builder b(kernel->getContext());
  for (const TileSlot &slot : plan.slots) {
    slot.alloca->setAttr(kSharedOffsetAttr, b.getI64IntegerAttr(slot.offset));
    if (slot.pitch)
      slot.alloca->setAttr(kSharedPitchAttr, b.getI64IntegerAttr(slot.pitch));
  }
  kernel->setAttr(kSharedBytesAttr, b.getI64IntegerAttr(plan.totalBytes));
}

namespace {

struct AttnPlanSharedMemoryPass
    : impl::AttnPlanSharedMemoryPassBase<AttnPlanSharedMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<TargetInfo> target =
        getTargetOrEmitError(getOperation(), chip);
    if (!target)
      return signalPassFailure();
    // The NVVM lowering declares the dynamic buffer as a (demoted) static
    // shared variable of one 16-byte-aligned byte, which the CTA's limit
    // also covers.
    int64_t limit =
        target->maxSharedBytesPerBlock() - target->sharedAlignment();
    WalkResult result = getOperation().walk([&](FunctionOpInterface kernel) {
      if (!kernel->hasAttr(abi::kKernelKindAttr))
        return WalkResult::skip();
      SharedMemoryPlan plan = planSharedMemory(kernel, *target, pad);
      // Padding only helps speed: drop it before giving up.
      if (plan.totalBytes > limit && pad)
        plan = planSharedMemory(kernel, *target, /*pad=*/false);
      if (plan.totalBytes > limit) {
        InFlightDiagnostic diag =
            kernel->emitError()
            << "kernel '" << kernel.getName() << "' needs " << plan.totalBytes
            << " bytes of shared memory for its tiles, "
            << "more than the " << limit << " bytes a CTA of " << target->chip()
            << " can have; choose smaller tiles "
               "(attn-select-tiles block-q/block-k)";
        for (TileSlot slot : plan.slots)
          diag.attachNote(slot.alloca.getLoc())
              << slot.bytes << " bytes: " << slot.alloca.getType();
        return WalkResult::interrupt();
      }
      recordSharedMemoryPlan(kernel, plan);
      return WalkResult::skip();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
} // namespace flashc::nvidia
