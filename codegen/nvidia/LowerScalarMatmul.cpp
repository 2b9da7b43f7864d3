//===- LowerScalarMatmul.cpp - tile.matmul on the FMA units ---------------===//
//
// The path for matmuls the tensor cores cannot take within flashc's accuracy
// (f32 operands: tf32 would break the 1e-5 tolerance) or shapes: every
// thread computes elements of C as f32 dot products read from shared
// memory.
//
//===----------------------------------------------------------------------===//

#include "codegen/nvidia/CtaBuilders.h"
#include "codegen/nvidia/LowerTileOpsToGpu.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace flashc::attn;

namespace flashc::nvidia {
namespace {

struct LowerTileMatmulScalar : CtaPattern<TileMatmulOp> {
  using CtaPattern::CtaPattern;
  LogicalResult
  matchAndRewrite(TileMatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    CtaThread cta = CtaThread::build(rewriter, loc, target);
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs(),
          acc = adaptor.getAcc();
    bool transposeA = op.getTransposeA(), transposeB = op.getTransposeB();
    int64_t k = transposeA ? tileShape(lhs)[0] : tileShape(lhs)[1];
    double alpha = op.getAlpha().convertToDouble();
    bool accumulate = op.getAccumulate();
    forEachElement(
        rewriter, loc, cta, tileShape(acc),
        [&](OpBuilder &b, Location loc, ValueRange mn) {
          Value m = mn[0], n = mn[1];
          // sum_k op(A)[m, k] * op(B)[k, n] in f32
          auto loop = scf::ForOp::create(
              b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, k),
              indexConstant(b, loc, 1), ValueRange{f32Constant(b, loc, 0.0)});
          {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(loop.getBody());
            Value kk = loop.getInductionVar();
            Value x = transposeA ? loadAsF32(b, loc, lhs, {kk, m})
                                 : loadAsF32(b, loc, lhs, {m, kk});
            Value y = transposeB ? loadAsF32(b, loc, rhs, {n, kk})
                                 : loadAsF32(b, loc, rhs, {kk, n});
            Value sum = math::FmaOp::create(b, loc, x, y,
                                            loop.getRegionIterArgs().front());
            scf::YieldOp::create(b, loc, sum);
          }
          // C = alpha * AB (+ C)
          Value result = loop.getResult(0);
          if (alpha != 1.0)
            result = arith::MulFOp::create(b, loc, result,
                                           f32Constant(b, loc, alpha));
          if (accumulate)
            result = arith::AddFOp::create(
                b, loc, memref::LoadOp::create(b, loc, acc, mn), result);
          memref::StoreOp::create(b, loc, result, acc, mn);
        });
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void populateGpuScalarMatmulPatterns(RewritePatternSet &patterns,
                                     const TargetInfo &target) {
  patterns.add<LowerTileMatmulScalar>(patterns.getContext(), target);
}

} // namespace flashc::nvidia
