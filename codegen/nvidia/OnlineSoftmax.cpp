//===- OnlineSoftmax.cpp - the per-row arithmetic of the online softmax ---===//

#include "codegen/nvidia/OnlineSoftmax.h"
#include "codegen/nvidia/CtaBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;

namespace flashc::nvidia {

static Value select(OpBuilder &b, Location loc, Value cond, Value x, Value y) {
  return arith::SelectOp::create(b, loc, cond, x, y);
}

OnlineSoftmaxStep emitOnlineSoftmaxStep(OpBuilder &b, Location loc,
                                        Value oldMax, Value rowMax) {
  OnlineSoftmaxStep step;
  step.max = arith::MaximumFOp::create(b, loc, oldMax, rowMax);
  // Nothing kept so far: subtract 0 instead of -inf, so that exp(-inf - m)
  // stays 0 rather than NaN.
  Value empty = isNegInf(b, loc, step.max);
  step.subtrahend =
      select(b, loc, empty, f32Constant(b, loc, 0.0), step.max);
  step.alpha = select(
      b, loc, empty, f32Constant(b, loc, 1.0),
      emitExp(b, loc, arith::SubFOp::create(b, loc, oldMax, step.subtrahend)));
  return step;
}

Value emitProbability(OpBuilder &b, Location loc, Value score,
                      const OnlineSoftmaxStep &step) {
  return emitExp(b, loc, arith::SubFOp::create(b, loc, score, step.subtrahend));
}

Value emitRescaledSum(OpBuilder &b, Location loc, const OnlineSoftmaxStep &step,
                      Value oldSum, Value rowSum) {
  return arith::AddFOp::create(
      b, loc, arith::MulFOp::create(b, loc, step.alpha, oldSum), rowSum);
}

FinalizedRow emitFinalizedRow(OpBuilder &b, Location loc, Value max,
                              Value sum) {
  FinalizedRow row;
  row.sum = sum;
  // l = 0: every key of the row was masked.
  row.empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, sum,
                                    f32Constant(b, loc, 0.0));
  Value lse =
      arith::AddFOp::create(b, loc, max, math::LogOp::create(b, loc, sum));
  row.lse = select(b, loc, row.empty, f32NegInf(b, loc), lse);
  return row;
}

Value emitNormalized(OpBuilder &b, Location loc, const FinalizedRow &row,
                     Value acc) {
  return select(b, loc, row.empty, f32Constant(b, loc, 0.0),
                arith::DivFOp::create(b, loc, acc, row.sum));
}

} // namespace flashc::nvidia
