//===- Passes.h - flashc tiling passes --------------------------*- C++ -*-===//

#ifndef FLASHC_PASSES_PASSES_H
#define FLASHC_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace flashc {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace flashc

#endif // FLASHC_PASSES_PASSES_H
