//===- Passes.h - flashc codegen passes -------------------------*- C++ -*-===//

#ifndef FLASHC_CODEGEN_PASSES_H
#define FLASHC_CODEGEN_PASSES_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace flashc::codegen {

#define GEN_PASS_DECL
#include "codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/Passes.h.inc"

/// Registers every codegen pass and the `attn-lower-to-cpu` pipeline
/// (cpu/CpuPipeline.h) with the global registry, for flashc-opt. Calling it
/// again does nothing.
void registerCodegenPasses();

} // namespace flashc::codegen

#endif // FLASHC_CODEGEN_PASSES_H
