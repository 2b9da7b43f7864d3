//===- KernelBackend.cpp - choosing a backend by name ---------------------===//

#include "tools/flashc/KernelBackend.h"

namespace flashc::tool {

KernelBackend::~KernelBackend() = default;

llvm::Expected<std::unique_ptr<KernelBackend>>
createKernelBackend(llvm::StringRef name) {
  if (name == "cpu")
    return createCpuBackend();
  if (name == "gpu") {
    llvm::Expected<std::unique_ptr<KernelBackend>> gpu = createGpuBackend();
    if (!gpu)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     llvm::toString(gpu.takeError()) +
                                         "; use --backend cpu");
    return gpu;
  }
  if (name == "testing-reference")
    return createReferenceBackend(/*faulty=*/false);
  if (name == "testing-faulty")
    return createReferenceBackend(/*faulty=*/true);
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "unknown backend '" + name +
                                     "'; expected cpu or gpu");
}

llvm::Expected<std::unique_ptr<KernelBackend>>
createDefaultBackend(std::string &whyNotGpu) {
  llvm::Expected<std::unique_ptr<KernelBackend>> gpu = createGpuBackend();
  if (gpu)
    return gpu;
  whyNotGpu = llvm::toString(gpu.takeError());
  return createCpuBackend();
}

} // namespace flashc::tool
