//===- RegionDerivative.h - forward-mode derivative of a region -*- C++ -*-===//
//
// The backward pass multiplies dS by d(score)/d(s) of the user's custom score
// region. This differentiates such a region in forward mode: the region is
// cloned and every float value that depends on the chosen argument is paired
// with its derivative (its tangent), built by the usual rules of calculus
// from the tangents of its operands. It is target-independent: it emits
// arith and math ops only.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_REGIONDERIVATIVE_H
#define FLASHC_CODEGEN_REGIONDERIVATIVE_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Region.h"

namespace flashc::codegen {

/// A value and its derivative. A null tangent is a structural zero: the
/// value does not depend on the argument differentiated against.
struct DualValue {
  mlir::Value value;
  mlir::Value tangent;
};

/// The first op of the single-block \p region that has a float result
/// depending on block argument \p wrtArg and no derivative rule; null when
/// the region can be differentiated. The rules cover arith addf, subf, mulf,
/// divf, negf, maximumf, minimumf, maxnumf, minnumf, select, constant,
/// sitofp, uitofp, extf, truncf and math tanh, exp, exp2, log, sqrt, rsqrt,
/// absf, sin, cos, powf. Ops without float results (comparisons, integer
/// and index arithmetic) need none.
mlir::Operation *findUndifferentiableOp(mlir::Region &region, unsigned wrtArg);

/// Emits an error on the first op findUndifferentiableOp finds, naming it,
/// and fails; \p what names the region for the message.
mlir::LogicalResult verifyDifferentiable(mlir::Region &region, unsigned wrtArg,
                                         llvm::StringRef what);

/// Clones \p region's block at \p b's insertion point with its arguments
/// bound to \p args, computing alongside it the derivative of every float
/// value with respect to argument \p wrtArg (tangent 1 for that argument, 0
/// for the others). Returns the yielded values with their tangents. The
/// region must pass verifyDifferentiable.
llvm::SmallVector<DualValue> emitForwardDerivative(mlir::OpBuilder &b,
                                                   mlir::Region &region,
                                                   mlir::ValueRange args,
                                                   unsigned wrtArg);

} // namespace flashc::codegen

#endif // FLASHC_CODEGEN_REGIONDERIVATIVE_H
