//===- KernelBackend.cpp - choosing a backend by name ---------------------===//

#include "tools/flashc/KernelBackend.h"

namespace flashc::tool {

KernelBackend::~KernelBackend() = default;

llvm::Expected<std::unique_ptr<KernelBackend>>
createKernelBackend(llvm::StringRef name) {
  if (name == "cpu")
    return createCpuBackend();
  if (name == "gpu")
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "the GPU backend is not available yet; use --backend cpu");
  if (name == "testing-reference")
    return createReferenceBackend(/*faulty=*/false);
  if (name == "testing-faulty")
    return createReferenceBackend(/*faulty=*/true);
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "unknown backend '" + name +
                                     "'; expected cpu or gpu");
}

} // namespace flashc::tool
