//===- LowerSoftmaxTileOps.cpp - the softmax steps for a CTA --------------===//
//
// Row ops (softmax_update, finalize, row_dot) give each warp whole rows: its
// lanes stride over the columns (consecutive lanes, consecutive words: no
// bank conflicts) and combine their partial max/sum with butterfly shuffles.
// (exp_lse and softmax_grad are element-wise: ElementwiseTileOps.h.) Every -inf is guarded as on the
// CPU: a fully masked row gives P = 0, O = 0, LSE = -inf, never NaN.
//
//===----------------------------------------------------------------------===//

#include "codegen/nvidia/CtaBuilders.h"
#include "codegen/nvidia/LowerTileOpsToGpu.h"
#include "codegen/nvidia/OnlineSoftmax.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace flashc::attn;

namespace flashc::nvidia {
namespace {

struct LowerTileSoftmaxUpdate : CtaPattern<TileSoftmaxUpdateOp> {
  using CtaPattern::CtaPattern;
  LogicalResult
  matchAndRewrite(TileSoftmaxUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    CtaThread cta = CtaThread::build(rewriter, loc, target);
    Value scores = adaptor.getScores(), max = adaptor.getMax(),
          sum = adaptor.getSum(), acc = adaptor.getAcc();
    ArrayRef<int64_t> shape = tileShape(scores);
    int64_t accCols = tileShape(acc)[1];
    forEachRowPerWarp(
        rewriter, loc, cta, shape[0], [&](OpBuilder &b, Location loc, Value r) {
          // Every lane reads the old state before lane 0 overwrites it (the
          // shuffles below order the two).
          Value mOld = memref::LoadOp::create(b, loc, max, r);
          Value lOld = memref::LoadOp::create(b, loc, sum, r);
          // m_new = max(m, max_c S[r, c])
          Value rowMax = reduceColumnsPerLane(
              b, loc, cta, shape[1], f32NegInf(b, loc),
              [&](OpBuilder &b, Location loc, Value c, Value partial) {
                Value s = memref::LoadOp::create(b, loc, scores, {r, c});
                return arith::MaximumFOp::create(b, loc, partial, s)
                    .getResult();
              });
          rowMax =
              warpAllReduce(b, loc, rowMax, gpu::AllReduceOperation::MAXIMUMF);
          OnlineSoftmaxStep step = emitOnlineSoftmaxStep(b, loc, mOld, rowMax);
          // P[r, c] = exp(S[r, c] - m_new); rowSum = sum_c P[r, c]
          Value rowSum = reduceColumnsPerLane(
              b, loc, cta, shape[1], f32Constant(b, loc, 0.0),
              [&](OpBuilder &b, Location loc, Value c, Value partial) {
                Value s = memref::LoadOp::create(b, loc, scores, {r, c});
                Value p = emitProbability(b, loc, s, step);
                memref::StoreOp::create(b, loc, p, scores, {r, c});
                return arith::AddFOp::create(b, loc, partial, p).getResult();
              });
          rowSum = warpAllReduce(b, loc, rowSum, gpu::AllReduceOperation::ADD);
          // acc = alpha * acc
          forEachColumnPerLane(
              b, loc, cta, accCols, [&](OpBuilder &b, Location loc, Value c) {
                Value a = memref::LoadOp::create(b, loc, acc, {r, c});
                memref::StoreOp::create(
                    b, loc, arith::MulFOp::create(b, loc, step.alpha, a), acc,
                    {r, c});
              });
          // l = alpha * l + rowSum; m = m_new
          onLaneZero(b, loc, cta, [&](OpBuilder &b, Location loc) {
            memref::StoreOp::create(
                b, loc, emitRescaledSum(b, loc, step, lOld, rowSum), sum, r);
            memref::StoreOp::create(b, loc, step.max, max, r);
          });
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileFinalize : CtaPattern<TileFinalizeOp> {
  using CtaPattern::CtaPattern;
  LogicalResult
  matchAndRewrite(TileFinalizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    CtaThread cta = CtaThread::build(rewriter, loc, target);
    Value acc = adaptor.getAcc();
    ArrayRef<int64_t> shape = tileShape(acc);
    forEachRowPerWarp(
        rewriter, loc, cta, shape[0], [&](OpBuilder &b, Location loc, Value r) {
          FinalizedRow row = emitFinalizedRow(
              b, loc, memref::LoadOp::create(b, loc, adaptor.getMax(), r),
              memref::LoadOp::create(b, loc, adaptor.getSum(), r));
          // acc /= l, 0 for an empty row
          forEachColumnPerLane(
              b, loc, cta, shape[1], [&](OpBuilder &b, Location loc, Value c) {
                Value a = memref::LoadOp::create(b, loc, acc, {r, c});
                memref::StoreOp::create(b, loc, emitNormalized(b, loc, row, a),
                                        acc, {r, c});
              });
          // lse = m + log(l), -inf for an empty row
          onLaneZero(b, loc, cta, [&](OpBuilder &b, Location loc) {
            memref::StoreOp::create(b, loc, row.lse, adaptor.getLse(), r);
          });
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileRowDot : CtaPattern<TileRowDotOp> {
  using CtaPattern::CtaPattern;
  LogicalResult
  matchAndRewrite(TileRowDotOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    CtaThread cta = CtaThread::build(rewriter, loc, target);
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    ArrayRef<int64_t> shape = tileShape(lhs);
    forEachRowPerWarp(
        rewriter, loc, cta, shape[0], [&](OpBuilder &b, Location loc, Value r) {
          // d[r] = sum_c a[r, c] * b[r, c]
          Value dot = reduceColumnsPerLane(
              b, loc, cta, shape[1], f32Constant(b, loc, 0.0),
              [&](OpBuilder &b, Location loc, Value c, Value partial) {
                Value x = loadAsF32(b, loc, lhs, {r, c});
                Value y = loadAsF32(b, loc, rhs, {r, c});
                return math::FmaOp::create(b, loc, x, y, partial).getResult();
              });
          dot = warpAllReduce(b, loc, dot, gpu::AllReduceOperation::ADD);
          onLaneZero(b, loc, cta, [&](OpBuilder &b, Location loc) {
            memref::StoreOp::create(b, loc, dot, adaptor.getResult(), r);
          });
        });
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void populateGpuSoftmaxTileOpsPatterns(RewritePatternSet &patterns,
                                       const TargetInfo &target) {
  patterns.add<LowerTileSoftmaxUpdate, LowerTileFinalize, LowerTileRowDot>(
      patterns.getContext(), target);
}

} // namespace flashc::nvidia
