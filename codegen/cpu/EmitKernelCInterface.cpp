//===- EmitKernelCInterface.cpp - C wrappers for kernel functions ---------===//

#include "codegen/Passes.h"
#include "passes/KernelABI.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace flashc::codegen {
#define GEN_PASS_DEF_ATTNEMITKERNELCINTERFACEPASS
#include "codegen/Passes.h.inc"
} // namespace flashc::codegen

using namespace mlir;

namespace flashc::codegen {
namespace {

struct AttnEmitKernelCInterfacePass
    : impl::AttnEmitKernelCInterfacePassBase<AttnEmitKernelCInterfacePass> {
  void runOnOperation() override {
    UnitAttr unit = UnitAttr::get(&getContext());
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func->hasAttr(abi::kKernelKindAttr))
        func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(), unit);
  }
};

} // namespace
} // namespace flashc::codegen
