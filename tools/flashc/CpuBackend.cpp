//===- CpuBackend.cpp - run a spec's kernels with the CPU JIT -------------===//
//
// Clones the spec module, tiles it with the lead's pipeline
// (passes/Pipelines.h), JIT-compiles the kernels with codegen's
// CpuKernelModule and calls the kernel whose kind (attn.kernel_kind, or the
// `_<kind>` name suffix of passes/KernelABI.h) is asked for. Builds without
// that pipeline or that JIT get a backend that says so.
//
//===----------------------------------------------------------------------===//

#include "tools/flashc/KernelBackend.h"

#if defined(FLASHC_HAVE_CPU_PIPELINE) &&                                       \
    __has_include("passes/Pipelines.h") &&                                     \
                  __has_include("codegen/cpu/CpuJit.h")
#define FLASHC_CPU_BACKEND 1
#else
#define FLASHC_CPU_BACKEND 0
#endif

#if FLASHC_CPU_BACKEND
#include "codegen/cpu/CpuJit.h"
#include "passes/KernelABI.h"
#include "passes/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringMap.h"
#endif

namespace flashc::tool {

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

#if FLASHC_CPU_BACKEND
namespace {

class CpuBackend : public KernelBackend {
public:
  llvm::StringRef name() const override { return "cpu"; }

  llvm::Error prepare(mlir::ModuleOp specModule,
                      const ConcreteShape &) override {
    // Kernels take every size at run time, so one compilation serves any
    // shape; the spec module stays untouched for the other subcommands.
    tiled = specModule.clone();
    mlir::PassManager pm(specModule.getContext());
    TilingOptions options;
    options.target = "cpu";
    buildTilingPipeline(pm, options);
    if (mlir::failed(pm.run(*tiled)))
      return makeError("the tiling pipeline failed on this spec (see the "
                       "errors above)");

    kernels.clear();
    sumsDq = false;
    tiled->walk([&](mlir::func::FuncOp fn) {
      if (!fn->hasAttr(abi::kKernelKindAttr))
        return;
      if (auto info =
              fn->getAttrOfType<mlir::DictionaryAttr>(abi::kKernelInfoAttr))
        sumsDq |= info.contains(abi::kSumsDqInScratch);
      // The kind is the attribute's string; failing that, the name's
      // `_<kind>` suffix.
      auto attr = fn->getAttrOfType<mlir::StringAttr>(abi::kKernelKindAttr);
      for (llvm::StringRef kind : {abi::kForward, abi::kBackwardPrep,
                                   abi::kBackwardDkDv, abi::kBackwardDq})
        if (attr ? attr.getValue() == kind
                 : fn.getName().ends_with(("_" + kind).str()))
          kernels[kind] = fn.getName().str();
    });
    if (kernels.empty())
      return makeError("the tiling pipeline produced no kernel functions "
                       "(no func.func with '" +
                       abi::kKernelKindAttr + "')");

    llvm::Expected<std::unique_ptr<cpu::CpuKernelModule>> compiled =
        cpu::CpuKernelModule::compile(*tiled);
    if (!compiled)
      return compiled.takeError();
    jit = std::move(*compiled);
    return llvm::Error::success();
  }

  bool hasKernel(llvm::StringRef kind) const override {
    return kernels.count(kind) != 0;
  }

  bool sumsDqInScratch() const override { return sumsDq; }

  llvm::Error call(llvm::StringRef kind,
                   llvm::ArrayRef<KernelArg> args) override {
    auto it = kernels.find(kind);
    if (it == kernels.end() || !jit)
      return makeError("no '" + kind + "' kernel was compiled");
    llvm::SmallVector<cpu::KernelArg> converted;
    converted.reserve(args.size());
    for (const KernelArg &arg : args) {
      if (const auto *m = std::get_if<MemRefArg>(&arg))
        converted.push_back(
            cpu::MemRefArg{m->data, m->offset, m->sizes, m->strides});
      else
        converted.push_back(std::get<int64_t>(arg));
    }
    return jit->invoke(it->second, converted);
  }

private:
  mlir::OwningOpRef<mlir::ModuleOp> tiled;
  llvm::StringMap<std::string> kernels;
  std::unique_ptr<cpu::CpuKernelModule> jit;
  bool sumsDq = false;
};

} // namespace

llvm::Expected<std::unique_ptr<KernelBackend>> createCpuBackend() {
  return std::make_unique<CpuBackend>();
}

#else

llvm::Expected<std::unique_ptr<KernelBackend>> createCpuBackend() {
  return makeError("compiler pipeline not available in this build: flashc "
                   "was built without passes/Pipelines.h or the CPU JIT "
                   "(codegen/cpu/CpuJit.h)");
}

#endif

} // namespace flashc::tool
