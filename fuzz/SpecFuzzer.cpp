//===- SpecFuzzer.cpp - fuzz-spec: parse and verify arbitrary bytes -------===//
//
// Any bytes, read as a spec module with the dialects `flashc` registers:
// parsing and verification must never crash, and must explain every failure
// with an error. A module that verifies must survive print -> parse -> print
// unchanged.
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
    checkRoundTrip(*module);
  return 0;
}
