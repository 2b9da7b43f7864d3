//===- PipelineFuzzer.cpp - fuzz-pipeline: compile whatever verifies ------===//
//
// Any bytes, read as a spec module. A module that verifies goes through the
// tiling pipeline and then the CPU lowering pipeline, as `flashc run`
// compiles it: each must succeed or fail with an error diagnostic, and every
// pass must leave IR that verifies.
//
//===----------------------------------------------------------------------===//

#include "fuzz/FuzzSupport.h"

#include <cstddef>
#include <cstdint>

using namespace flashc::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  mlir::OwningOpRef<mlir::ModuleOp> module = parseSpec(text, specContext());
  if (module)
    checkPipelines(*module, flashc::TilingOptions());
  return 0;
}
