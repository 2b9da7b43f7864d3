//===- LowerMatmulTileOps.cpp - matmul and row_dot to loops ---------------===//
//
// Products summed in f32. Two loop orders, chosen so that the innermost loop
// walks contiguous memory and LLVM can vectorize it:
//  - op(B) = B^T (S = Q K^T, dP = dO V^T): C[m, n] = sum_k A[m, k] B[n, k],
//    a dot product of two rows; the reduction carries `reassoc` so that it
//    may be reordered into vector lanes.
//  - op(B) = B (acc += P V, dK += dS^T Q): C[m, :] += A[m, k] B[k, :], an
//    axpy over a row of B per k, which vectorizes without reordering.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/LowerTileOpsToLoops.h"
#include "codegen/cpu/TileLoops.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace flashc::attn;

namespace flashc::codegen::cpu {
namespace {

/// Flags of the f32 sums: reordering is what lets them vectorize, and
/// contraction into FMAs only makes them more accurate.
arith::FastMathFlags reductionFlags() {
  return arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;
}

struct LowerTileMatmul : OpConversionPattern<TileMatmulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileMatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs(),
          acc = adaptor.getAcc();
    bool transposeA = op.getTransposeA(), transposeB = op.getTransposeB();
    double alpha = op.getAlpha().convertToDouble();
    ArrayRef<int64_t> accShape = tileShape(acc);
    int64_t contraction = tileShape(lhs)[transposeA ? 0 : 1];
    // op(A)[m, k] and op(B)[k, n], widened to f32.
    auto lhsAt = [&](OpBuilder &b, Location loc, Value m, Value k) {
      return transposeA ? loadAsF32(b, loc, lhs, {k, m})
                        : loadAsF32(b, loc, lhs, {m, k});
    };
    auto rhsAt = [&](OpBuilder &b, Location loc, Value k, Value n) {
      return transposeB ? loadAsF32(b, loc, rhs, {n, k})
                        : loadAsF32(b, loc, rhs, {k, n});
    };
    auto scaled = [&](OpBuilder &b, Location loc, Value v) -> Value {
      if (alpha == 1.0)
        return v;
      return arith::MulFOp::create(b, loc, f32Constant(b, loc, alpha), v);
    };

    if (transposeB) {
      // C[m, n] = alpha * (sum_k op(A)[m, k] B[n, k]) (+ C[m, n])
      buildLoopsOverShape(
          rewriter, loc, accShape,
          [&](OpBuilder &b, Location loc, ValueRange ivs) {
            Value m = ivs[0], n = ivs[1];
            Value sum = buildReduction(
                b, loc, contraction, f32Constant(b, loc, 0.0),
                [&](OpBuilder &b, Location loc, Value k, Value partial) {
                  Value product = arith::MulFOp::create(
                      b, loc, lhsAt(b, loc, m, k), rhsAt(b, loc, k, n),
                      reductionFlags());
                  return arith::AddFOp::create(b, loc, partial, product,
                                               reductionFlags())
                      .getResult();
                });
            Value result = scaled(b, loc, sum);
            if (op.getAccumulate())
              result = arith::AddFOp::create(
                  b, loc, memref::LoadOp::create(b, loc, acc, ivs), result);
            memref::StoreOp::create(b, loc, result, acc, ivs);
          });
      rewriter.eraseOp(op);
      return success();
    }

    // Per row m: C[m, :] = 0 unless accumulating, then for each k
    // C[m, :] += (alpha * op(A)[m, k]) * B[k, :].
    buildLoopsOverShape(
        rewriter, loc, {accShape[0]},
        [&](OpBuilder &b, Location loc, ValueRange rowIvs) {
          Value m = rowIvs[0];
          if (!op.getAccumulate()) {
            Value zero = f32Constant(b, loc, 0.0);
            buildLoopsOverShape(
                b, loc, {accShape[1]},
                [&](OpBuilder &b, Location loc, ValueRange ivs) {
                  memref::StoreOp::create(b, loc, zero, acc, {m, ivs[0]});
                });
          }
          buildLoopsOverShape(
              b, loc, {contraction},
              [&](OpBuilder &b, Location loc, ValueRange kIvs) {
                Value k = kIvs[0];
                Value a = scaled(b, loc, lhsAt(b, loc, m, k));
                buildLoopsOverShape(
                    b, loc, {accShape[1]},
                    [&](OpBuilder &b, Location loc, ValueRange nIvs) {
                      Value n = nIvs[0];
                      Value product = arith::MulFOp::create(
                          b, loc, a, rhsAt(b, loc, k, n), reductionFlags());
                      Value old = memref::LoadOp::create(b, loc, acc, {m, n});
                      Value sum = arith::AddFOp::create(b, loc, old, product,
                                                        reductionFlags());
                      memref::StoreOp::create(b, loc, sum, acc, {m, n});
                    });
              });
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileRowDot : OpConversionPattern<TileRowDotOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileRowDotOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    ArrayRef<int64_t> shape = tileShape(lhs);
    // d[r] = sum_c a[r, c] * b[r, c]
    buildLoopsOverShape(
        rewriter, loc, {shape[0]},
        [&](OpBuilder &b, Location loc, ValueRange ivs) {
          Value r = ivs[0];
          Value sum = buildReduction(
              b, loc, shape[1], f32Constant(b, loc, 0.0),
              [&](OpBuilder &b, Location loc, Value col, Value partial) {
                Value product = arith::MulFOp::create(
                    b, loc, loadAsF32(b, loc, lhs, {r, col}),
                    loadAsF32(b, loc, rhs, {r, col}), reductionFlags());
                return arith::AddFOp::create(b, loc, partial, product,
                                             reductionFlags())
                    .getResult();
              });
          memref::StoreOp::create(b, loc, sum, adaptor.getResult(), r);
        });
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void populateLowerMatmulTileOpsPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerTileMatmul, LowerTileRowDot>(patterns.getContext());
}

} // namespace flashc::codegen::cpu
