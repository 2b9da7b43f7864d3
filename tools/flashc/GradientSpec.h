//===- GradientSpec.h - a forward spec's gradient, for --grad ---*- C++ -*-===//
//
// `flashc run --grad` on an attn.attention spec checks the backward kernels
// too, but the tiling passes make backward kernels only from
// attn.attention_grad. This adds, next to the spec's function, a function
// `<name>_grad` whose attn.attention_grad has exactly the forward op's
// clauses and regions, so one compilation yields all four kernels.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_TOOLS_FLASHC_GRADIENTSPEC_H
#define FLASHC_TOOLS_FLASHC_GRADIENTSPEC_H

#include "dialect/AttnOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

namespace flashc::tool {

/// A clone of \p spec with a gradient function for its one attn.attention
/// op added. Fails if the module has no such op or the result does not
/// verify.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
withGradientFunction(mlir::ModuleOp spec);

/// Marks every attn.attention_grad of \p module `deterministic` (`flashc
/// compile|run --deterministic`): its backward kernels use no atomics (dQ
/// by recomputation in a kernel of its own, passes/KernelABI.h).
void makeGradientsDeterministic(mlir::ModuleOp module);

/// Whether \p module has an attn.attention_grad marked `deterministic`.
bool hasDeterministicGradient(mlir::ModuleOp module);

} // namespace flashc::tool

#endif // FLASHC_TOOLS_FLASHC_GRADIENTSPEC_H
