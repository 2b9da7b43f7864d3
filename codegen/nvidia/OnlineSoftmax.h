//===- OnlineSoftmax.h - the per-row arithmetic of the online softmax -*- C++ -*-===//
//
// One row's update of FlashAttention's running (max, sum) state and its
// final normalization, as scalar f32 ops. Shared-memory rows (a warp per
// row) and register rows (a quad per row) reduce differently but compute
// exactly this. Every -inf is guarded as on the CPU: a fully masked row
// gives P = 0, O = 0, LSE = -inf, never NaN.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_NVIDIA_ONLINESOFTMAX_H
#define FLASHC_CODEGEN_NVIDIA_ONLINESOFTMAX_H

#include "mlir/IR/Builders.h"

namespace flashc::nvidia {

/// A row's new max and what the old state is rescaled by.
struct OnlineSoftmaxStep {
  mlir::Value max;        ///< m_new = max(m_old, max_c S[r, c])
  mlir::Value subtrahend; ///< m_new, or 0 while the row has kept nothing
  mlir::Value alpha;      ///< exp(m_old - m_new), 1 while both are -inf
};

/// The step for old max \p oldMax and the max \p rowMax of the new scores.
OnlineSoftmaxStep emitOnlineSoftmaxStep(mlir::OpBuilder &b, mlir::Location loc,
                                        mlir::Value oldMax, mlir::Value rowMax);
/// P = exp(s - m_new).
mlir::Value emitProbability(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value score, const OnlineSoftmaxStep &step);
/// l_new = alpha l_old + sum of the row's P.
mlir::Value emitRescaledSum(mlir::OpBuilder &b, mlir::Location loc,
                            const OnlineSoftmaxStep &step, mlir::Value oldSum,
                            mlir::Value rowSum);

/// A row at the end: whether it kept nothing (l = 0), its sum, its LSE.
struct FinalizedRow {
  mlir::Value empty, sum;
  mlir::Value lse; ///< m + log l, -inf for an empty row
};
FinalizedRow emitFinalizedRow(mlir::OpBuilder &b, mlir::Location loc,
                              mlir::Value max, mlir::Value sum);
/// acc / l, 0 for an empty row.
mlir::Value emitNormalized(mlir::OpBuilder &b, mlir::Location loc,
                           const FinalizedRow &row, mlir::Value acc);

} // namespace flashc::nvidia

#endif // FLASHC_CODEGEN_NVIDIA_ONLINESOFTMAX_H
