//===- PhiloxBuilder.h - Philox4x32-10 in arith ops -------------*- C++ -*-===//
//
// Dropout's counter-based generator, emitted as 32-bit integer arith ops so
// that every target computes the bits reference/Philox.h computes: Random123's
// philox4x32_10 (Salmon et al., SC 2011).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_PHILOXBUILDER_H
#define FLASHC_CODEGEN_PHILOXBUILDER_H

#include "mlir/IR/Builders.h"

#include <array>

namespace flashc::codegen {

/// The key of each of the ten rounds (two i32 words): round r uses the key
/// bumped r times by the Weyl increments. They depend on the seed only, so
/// emit them once, outside the element loops.
using PhiloxRoundKeys = llvm::SmallVector<std::array<mlir::Value, 2>, 10>;

/// Round keys of the 64-bit \p seed (i64): key = (seed lo, seed hi).
PhiloxRoundKeys emitPhiloxRoundKeys(mlir::OpBuilder &b, mlir::Location loc,
                                    mlir::Value seed);

/// The four output words (i32) of Philox4x32-10 for \p counter (four i32).
std::array<mlir::Value, 4> emitPhilox4x32_10(mlir::OpBuilder &b,
                                             mlir::Location loc,
                                             std::array<mlir::Value, 4> counter,
                                             const PhiloxRoundKeys &keys);

/// Whether dropout with probability \p p keeps the element whose Philox word
/// 0 is \p word0 (an i1): u = (word0 >> 8) 2^-24 >= p, decided exactly in
/// integers as (word0 >> 8) >= ceil(p 2^24).
mlir::Value emitDropoutKeeps(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::Value word0, double p);

} // namespace flashc::codegen

#endif // FLASHC_CODEGEN_PHILOXBUILDER_H
