//===- SelectWgmma.cpp - the register-tile matmuls wgmma runs -------------===//
//
// Marks them and their shared tiles (selectWgmmaMatmuls, Wgmma.h) in every
// kernel function, on chips with wgmma.
//
//===----------------------------------------------------------------------===//

#include "codegen/nvidia/Passes.h"
#include "codegen/nvidia/Wgmma.h"
#include "passes/KernelABI.h"

#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace flashc::nvidia {

#define GEN_PASS_DEF_ATTNSELECTWGMMAPASS
#include "codegen/nvidia/Passes.h.inc"

namespace {

struct AttnSelectWgmmaPass
    : impl::AttnSelectWgmmaPassBase<AttnSelectWgmmaPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<TargetInfo> target =
        getTargetOrEmitError(getOperation(), chip);
    if (!target)
      return signalPassFailure();
    getOperation().walk([&](func::FuncOp kernel) {
      if (kernel->hasAttr(abi::kKernelKindAttr))
        selectWgmmaMatmuls(kernel, *target);
    });
  }
};

} // namespace
} // namespace flashc::nvidia
