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

} // namespace flashc::tool

#endif // FLASHC_TOOLS_FLASHC_GRADIENTSPEC_H
