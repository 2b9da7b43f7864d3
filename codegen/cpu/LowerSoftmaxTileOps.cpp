//===- LowerSoftmaxTileOps.cpp - the softmax steps to loops ---------------===//
//
// The online softmax of the forward pass (softmax_update, finalize) and its
// recomputation and gradient in the backward pass (exp_lse, softmax_grad).
// Every -inf is guarded: a row whose every score is masked must come out as
// P = 0, O = 0, LSE = -inf, where the plain formulas would give
// exp(-inf - -inf) = NaN.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/LowerTileOpsToLoops.h"
#include "codegen/cpu/TileLoops.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;
using namespace flashc::attn;

namespace flashc::codegen::cpu {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

Value isNegInf(OpBuilder &b, Location loc, Value x) {
  return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x,
                               f32Constant(b, loc, kNegInf));
}

Value select(OpBuilder &b, Location loc, Value cond, Value x, Value y) {
  return arith::SelectOp::create(b, loc, cond, x, y);
}

struct LowerTileSoftmaxUpdate : OpConversionPattern<TileSoftmaxUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileSoftmaxUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value scores = adaptor.getScores(), max = adaptor.getMax(),
          sum = adaptor.getSum(), acc = adaptor.getAcc();
    ArrayRef<int64_t> shape = tileShape(scores);
    int64_t accCols = tileShape(acc)[1];
    buildLoopsOverShape(
        rewriter, op.getLoc(), {shape[0]},
        [&](OpBuilder &b, Location loc, ValueRange ivs) {
          Value r = ivs[0];
          // m_new = max(m, max_c S[r, c])
          Value mOld = memref::LoadOp::create(b, loc, max, r);
          Value rowMax = buildReduction(
              b, loc, shape[1], f32Constant(b, loc, kNegInf),
              [&](OpBuilder &b, Location loc, Value c, Value partial) {
                Value s = memref::LoadOp::create(b, loc, scores, {r, c});
                return arith::MaximumFOp::create(b, loc, partial, s)
                    .getResult();
              });
          Value mNew = arith::MaximumFOp::create(b, loc, mOld, rowMax);
          // A row with nothing kept so far has m_new = -inf; subtracting 0
          // instead keeps exp(-inf - m) at 0 rather than NaN.
          Value empty = isNegInf(b, loc, mNew);
          Value mSafe = select(b, loc, empty, f32Constant(b, loc, 0.0), mNew);
          // alpha = exp(m - m_new), 1 when both are -inf
          Value alpha =
              select(b, loc, empty, f32Constant(b, loc, 1.0),
                     math::ExpOp::create(
                         b, loc, arith::SubFOp::create(b, loc, mOld, mSafe)));
          // P[r, c] = exp(S[r, c] - m_new), 0 when S[r, c] = -inf;
          // rowSum = sum_c P[r, c]
          Value rowSum = buildReduction(
              b, loc, shape[1], f32Constant(b, loc, 0.0),
              [&](OpBuilder &b, Location loc, Value c, Value partial) {
                Value s = memref::LoadOp::create(b, loc, scores, {r, c});
                Value p = math::ExpOp::create(
                    b, loc, arith::SubFOp::create(b, loc, s, mSafe));
                memref::StoreOp::create(b, loc, p, scores, {r, c});
                return arith::AddFOp::create(b, loc, partial, p).getResult();
              });
          // l = alpha * l + rowSum
          Value lOld = memref::LoadOp::create(b, loc, sum, r);
          Value lNew = arith::AddFOp::create(
              b, loc, arith::MulFOp::create(b, loc, alpha, lOld), rowSum);
          memref::StoreOp::create(b, loc, lNew, sum, r);
          // acc = alpha * acc
          buildLoopsOverShape(
              b, loc, {accCols},
              [&](OpBuilder &b, Location loc, ValueRange ivs) {
                Value a = memref::LoadOp::create(b, loc, acc, {r, ivs[0]});
                memref::StoreOp::create(b, loc,
                                        arith::MulFOp::create(b, loc, alpha, a),
                                        acc, {r, ivs[0]});
              });
          // m = m_new
          memref::StoreOp::create(b, loc, mNew, max, r);
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileFinalize : OpConversionPattern<TileFinalizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileFinalizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value acc = adaptor.getAcc();
    ArrayRef<int64_t> shape = tileShape(acc);
    buildLoopsOverShape(
        rewriter, op.getLoc(), {shape[0]},
        [&](OpBuilder &b, Location loc, ValueRange ivs) {
          Value r = ivs[0];
          Value l = memref::LoadOp::create(b, loc, adaptor.getSum(), r);
          Value m = memref::LoadOp::create(b, loc, adaptor.getMax(), r);
          // l = 0: every key of the row was masked.
          Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                              l, f32Constant(b, loc, 0.0));
          // acc /= l, 0 for an empty row
          Value zero = f32Constant(b, loc, 0.0);
          buildLoopsOverShape(
              b, loc, {shape[1]},
              [&](OpBuilder &b, Location loc, ValueRange colIvs) {
                Value a = memref::LoadOp::create(b, loc, acc, {r, colIvs[0]});
                Value normalized = arith::DivFOp::create(b, loc, a, l);
                memref::StoreOp::create(b, loc,
                                        select(b, loc, empty, zero, normalized),
                                        acc, {r, colIvs[0]});
              });
          // lse = m + log(l), -inf for an empty row
          Value lse =
              arith::AddFOp::create(b, loc, m, math::LogOp::create(b, loc, l));
          memref::StoreOp::create(
              b, loc, select(b, loc, empty, f32Constant(b, loc, kNegInf), lse),
              adaptor.getLse(), r);
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileExpLse : OpConversionPattern<TileExpLseOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileExpLseOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value scores = adaptor.getScores(), lseTile = adaptor.getLse();
    bool transposed = op.getTransposed();
    ArrayRef<int64_t> shape = tileShape(scores);
    buildLoopsOverShape(
        rewriter, op.getLoc(), {shape[0]},
        [&](OpBuilder &b, Location loc, ValueRange ivs) {
          Value r = ivs[0];
          Value rowLse =
              transposed ? Value() : memref::LoadOp::create(b, loc, lseTile, r);
          Value emptyRow = rowLse ? isNegInf(b, loc, rowLse) : Value();
          Value zero = f32Constant(b, loc, 0.0);
          // S[r, c] = exp(S[r, c] - lse[r]) (lse[c] transposed), 0 where
          // either is -inf
          buildLoopsOverShape(
              b, loc, {shape[1]},
              [&](OpBuilder &b, Location loc, ValueRange colIvs) {
                Value c = colIvs[0];
                Value lse = rowLse ? rowLse
                                   : memref::LoadOp::create(b, loc, lseTile, c);
                Value s = memref::LoadOp::create(b, loc, scores, {r, c});
                Value p = math::ExpOp::create(
                    b, loc, arith::SubFOp::create(b, loc, s, lse));
                Value dead = arith::OrIOp::create(
                    b, loc, isNegInf(b, loc, s),
                    emptyRow ? emptyRow : isNegInf(b, loc, lse));
                memref::StoreOp::create(b, loc, select(b, loc, dead, zero, p),
                                        scores, {r, c});
              });
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileSoftmaxGrad : OpConversionPattern<TileSoftmaxGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileSoftmaxGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value probs = adaptor.getProbs(), grads = adaptor.getGrads();
    unsigned line = op.getTransposed() ? 1 : 0;
    buildLoopsOverShape(rewriter, op.getLoc(), tileShape(grads),
                        [&](OpBuilder &b, Location loc, ValueRange ivs) {
                          // dS = P * (dP - D), D per row (column transposed)
                          Value p = memref::LoadOp::create(b, loc, probs, ivs);
                          Value dp = memref::LoadOp::create(b, loc, grads, ivs);
                          Value d = memref::LoadOp::create(
                              b, loc, adaptor.getRowdot(), ivs[line]);
                          Value ds = arith::MulFOp::create(
                              b, loc, p, arith::SubFOp::create(b, loc, dp, d));
                          memref::StoreOp::create(b, loc, ds, grads, ivs);
                        });
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void populateLowerSoftmaxTileOpsPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerTileSoftmaxUpdate, LowerTileFinalize, LowerTileExpLse,
               LowerTileSoftmaxGrad>(patterns.getContext());
}

} // namespace flashc::codegen::cpu
