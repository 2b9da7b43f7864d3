//===- KernelBackend.cpp - choosing a backend by name ---------------------===//

#include "tools/flashc/KernelBackend.h"

namespace flashc::tool {

KernelBackend::~KernelBackend() = default;

llvm::Expected<std::unique_ptr<KernelBackend>>
createKernelBackend(llvm::StringRef name) {
  if (name == "cpu")
    return createCpuBackend();
  if (name == "gpu")
    return createGpuBackend();
  if (name == "testing-reference")
    return createReferenceBackend(/*faulty=*/false);
  if (name == "testing-faulty")
    return createReferenceBackend(/*faulty=*/true);
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "unknown backend '" + name +
                                     "'; expected cpu or gpu");
}

std::string pickDefaultBackend(std::string &why) {
  why = gpuUnavailableReason();
  return why.empty() ? "gpu" : "cpu";
}

} // namespace flashc::tool
