//===- TileLoops.h - loop-building helpers of the CPU lowering --*- C++ -*-===//
//
// What every attn.tile lowering on the CPU needs: loop nests over a static
// tile, f32 promotion of f16/bf16 elements, and constants.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_CPU_TILELOOPS_H
#define FLASHC_CODEGEN_CPU_TILELOOPS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"

namespace flashc::codegen::cpu {

/// Body of a loop nest: the builder sits inside the innermost loop.
using LoopBody = llvm::function_ref<void(mlir::OpBuilder &, mlir::Location,
                                         mlir::ValueRange ivs)>;
/// Body of a reduction loop: returns the new value of the accumulator.
using ReductionBody = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::Value iv, mlir::Value acc)>;

mlir::Value indexConstant(mlir::OpBuilder &b, mlir::Location loc,
                          int64_t value);
/// A constant of float type \p type (rounded to it).
mlir::Value floatConstant(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Type type, double value);
mlir::Value f32Constant(mlir::OpBuilder &b, mlir::Location loc, double value);

/// Converts a float scalar to float type \p to: extf, truncf, or (f16 <->
/// bf16) through f32. Returns \p value when the types agree.
mlir::Value convertFloat(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value value, mlir::Type to);

/// Loads element \p indices of \p memref and widens it to f32.
mlir::Value loadAsF32(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::Value memref, mlir::ValueRange indices);
/// Stores f32 \p value into \p memref, narrowing it to the element type.
void storeFromF32(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value,
                  mlir::Value memref, mlir::ValueRange indices);

/// for ivs in [lbs, ubs) (unit steps): \p body. Builds nothing else.
void buildLoops(mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange lbs,
                mlir::ValueRange ubs, LoopBody body);
/// for ivs in [0, shape): \p body, over every element of a static shape.
void buildLoopsOverShape(mlir::OpBuilder &b, mlir::Location loc,
                         llvm::ArrayRef<int64_t> shape, LoopBody body);
/// acc = init; for iv in [lb, ub): acc = body(iv, acc); returns acc.
mlir::Value buildReduction(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value lb, mlir::Value ub, mlir::Value init,
                           ReductionBody body);

/// acc = init; for iv in [0, size): acc = body(iv, acc); returns acc.
mlir::Value buildReduction(mlir::OpBuilder &b, mlir::Location loc, int64_t size,
                           mlir::Value init, ReductionBody body);

/// The static shape of a tile operand.
llvm::ArrayRef<int64_t> tileShape(mlir::Value tile);

} // namespace flashc::codegen::cpu

#endif // FLASHC_CODEGEN_CPU_TILELOOPS_H
