//===- LowerSoftmaxTileOps.cpp - the softmax steps for a CTA --------------===//
//
// Row ops (softmax_update, finalize, row_dot) give each warp whole rows: its
// lanes stride over the columns (consecutive lanes, consecutive words: no
// bank conflicts) and combine their partial max/sum with butterfly shuffles.
// exp_lse and softmax_grad are element-wise. Every -inf is guarded as on the
// CPU: a fully masked row gives P = 0, O = 0, LSE = -inf, never NaN.
//
//===----------------------------------------------------------------------===//

#include "codegen/nvidia/CtaBuilders.h"
#include "codegen/nvidia/LowerTileOpsToGpu.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include <limits>

using namespace mlir;
using namespace flashc::attn;

namespace flashc::nvidia {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

Value isNegInf(OpBuilder &b, Location loc, Value x) {
  return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x,
                               f32Constant(b, loc, kNegInf));
}

Value select(OpBuilder &b, Location loc, Value cond, Value x, Value y) {
  return arith::SelectOp::create(b, loc, cond, x, y);
}

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
              b, loc, cta, shape[1], f32Constant(b, loc, kNegInf),
              [&](OpBuilder &b, Location loc, Value c, Value partial) {
                Value s = memref::LoadOp::create(b, loc, scores, {r, c});
                return arith::MaximumFOp::create(b, loc, partial, s)
                    .getResult();
              });
          rowMax =
              warpAllReduce(b, loc, rowMax, gpu::AllReduceOperation::MAXIMUMF);
          Value mNew = arith::MaximumFOp::create(b, loc, mOld, rowMax);
          // Nothing kept so far: subtract 0 instead of -inf, so that
          // exp(-inf - m) stays 0 rather than NaN.
          Value empty = isNegInf(b, loc, mNew);
          Value mSafe = select(b, loc, empty, f32Constant(b, loc, 0.0), mNew);
          // alpha = exp(m - m_new), 1 when both are -inf
          Value alpha = select(
              b, loc, empty, f32Constant(b, loc, 1.0),
              emitExp(b, loc, arith::SubFOp::create(b, loc, mOld, mSafe)));
          // P[r, c] = exp(S[r, c] - m_new); rowSum = sum_c P[r, c]
          Value rowSum = reduceColumnsPerLane(
              b, loc, cta, shape[1], f32Constant(b, loc, 0.0),
              [&](OpBuilder &b, Location loc, Value c, Value partial) {
                Value s = memref::LoadOp::create(b, loc, scores, {r, c});
                Value p =
                    emitExp(b, loc, arith::SubFOp::create(b, loc, s, mSafe));
                memref::StoreOp::create(b, loc, p, scores, {r, c});
                return arith::AddFOp::create(b, loc, partial, p).getResult();
              });
          rowSum = warpAllReduce(b, loc, rowSum, gpu::AllReduceOperation::ADD);
          // acc = alpha * acc
          forEachColumnPerLane(
              b, loc, cta, accCols, [&](OpBuilder &b, Location loc, Value c) {
                Value a = memref::LoadOp::create(b, loc, acc, {r, c});
                memref::StoreOp::create(b, loc,
                                        arith::MulFOp::create(b, loc, alpha, a),
                                        acc, {r, c});
              });
          // l = alpha * l + rowSum; m = m_new
          onLaneZero(b, loc, cta, [&](OpBuilder &b, Location loc) {
            Value lNew = arith::AddFOp::create(
                b, loc, arith::MulFOp::create(b, loc, alpha, lOld), rowSum);
            memref::StoreOp::create(b, loc, lNew, sum, r);
            memref::StoreOp::create(b, loc, mNew, max, r);
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
          Value l = memref::LoadOp::create(b, loc, adaptor.getSum(), r);
          Value m = memref::LoadOp::create(b, loc, adaptor.getMax(), r);
          // l = 0: every key of the row was masked.
          Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                              l, f32Constant(b, loc, 0.0));
          Value zero = f32Constant(b, loc, 0.0);
          // acc /= l, 0 for an empty row
          forEachColumnPerLane(
              b, loc, cta, shape[1], [&](OpBuilder &b, Location loc, Value c) {
                Value a = memref::LoadOp::create(b, loc, acc, {r, c});
                Value normalized = arith::DivFOp::create(b, loc, a, l);
                memref::StoreOp::create(b, loc,
                                        select(b, loc, empty, zero, normalized),
                                        acc, {r, c});
              });
          // lse = m + log(l), -inf for an empty row
          onLaneZero(b, loc, cta, [&](OpBuilder &b, Location loc) {
            Value lse = arith::AddFOp::create(b, loc, m,
                                              math::LogOp::create(b, loc, l));
            memref::StoreOp::create(
                b, loc,
                select(b, loc, empty, f32Constant(b, loc, kNegInf), lse),
                adaptor.getLse(), r);
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

struct LowerTileExpLse : CtaPattern<TileExpLseOp> {
  using CtaPattern::CtaPattern;
  LogicalResult
  matchAndRewrite(TileExpLseOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    CtaThread cta = CtaThread::build(rewriter, loc, target);
    Value scores = adaptor.getScores();
    mapTileElements(
        rewriter, loc, cta, scores, {scores},
        [&](OpBuilder &b, Location loc, ValueRange idx, ValueRange s) {
          // S = exp(S - lse[r]), 0 where either is -inf
          Value lse = memref::LoadOp::create(b, loc, adaptor.getLse(), idx[0]);
          Value p =
              emitExp(b, loc, arith::SubFOp::create(b, loc, s.front(), lse));
          Value dead = arith::OrIOp::create(b, loc, isNegInf(b, loc, s.front()),
                                            isNegInf(b, loc, lse));
          return select(b, loc, dead, f32Constant(b, loc, 0.0), p);
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileSoftmaxGrad : CtaPattern<TileSoftmaxGradOp> {
  using CtaPattern::CtaPattern;
  LogicalResult
  matchAndRewrite(TileSoftmaxGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    CtaThread cta = CtaThread::build(rewriter, loc, target);
    mapTileElements(
        rewriter, loc, cta, adaptor.getGrads(),
        {adaptor.getProbs(), adaptor.getGrads()},
        [&](OpBuilder &b, Location loc, ValueRange idx, ValueRange in) {
          // dS = P * (dP - D)
          Value d = memref::LoadOp::create(b, loc, adaptor.getRowdot(), idx[0]);
          return arith::MulFOp::create(b, loc, in[0],
                                       arith::SubFOp::create(b, loc, in[1], d))
              .getResult();
        });
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void populateGpuSoftmaxTileOpsPatterns(RewritePatternSet &patterns,
                                       const TargetInfo &target) {
  patterns.add<LowerTileSoftmaxUpdate, LowerTileFinalize, LowerTileRowDot,
               LowerTileExpLse, LowerTileSoftmaxGrad>(patterns.getContext(),
                                                      target);
}

} // namespace flashc::nvidia
