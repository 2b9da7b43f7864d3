//===- LowerScoreTileOps.cpp - score modifiers, masks, dropout for a CTA --===//
//
// Element-wise ops on a score tile at (row0 + r, col0 + c): the threads
// split the tile's elements; what one element computes is the
// target-independent codegen/ScoreModifiers.h and PhiloxBuilder.h (custom
// regions are cloned per element), exactly as on the CPU.
//
//===----------------------------------------------------------------------===//

#include "codegen/PhiloxBuilder.h"
#include "codegen/ScoreModifiers.h"
#include "codegen/nvidia/CtaBuilders.h"
#include "codegen/nvidia/LowerTileOpsToGpu.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <limits>

using namespace mlir;
using namespace flashc::attn;
using flashc::codegen::ElementCoords;
using flashc::codegen::ScoreModifiers;

namespace flashc::nvidia {
namespace {

/// The global coordinates of tile element \p idx.
ElementCoords coordsOf(OpBuilder &b, Location loc, Value batch, Value head,
                       Value row0, Value col0, ValueRange idx) {
  return {batch, head, arith::AddIOp::create(b, loc, row0, idx[0]),
          arith::AddIOp::create(b, loc, col0, idx[1])};
}

struct LowerTileScoreMod : CtaPattern<TileScoreModOp> {
  using CtaPattern::CtaPattern;
  LogicalResult
  matchAndRewrite(TileScoreModOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    CtaThread cta = CtaThread::build(rewriter, loc, target);
    ScoreModifiers mods = ScoreModifiers::of(op);
    Value slope =
        mods.alibi ? codegen::emitAlibiSlope(rewriter, loc, adaptor.getHead(),
                                             adaptor.getHeads())
                   : Value();
    Value scores = adaptor.getScores();
    mapTileElements(
        rewriter, loc, cta, scores, {scores},
        [&](OpBuilder &b, Location loc, ValueRange idx, ValueRange s) {
          ElementCoords at =
              coordsOf(b, loc, adaptor.getBatch(), adaptor.getHead(),
                       adaptor.getRow0(), adaptor.getCol0(), idx);
          return codegen::emitModifiedScore(b, loc, mods, s.front(), at, slope);
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileScoreGrad : CtaPattern<TileScoreGradOp> {
  using CtaPattern::CtaPattern;
  LogicalResult
  matchAndRewrite(TileScoreGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ScoreModifiers mods = ScoreModifiers::of(op);
    // Without softcap or a custom score the derivative is 1.
    if (!mods.softcap && !mods.custom) {
      rewriter.eraseOp(op);
      return success();
    }
    CtaThread cta = CtaThread::build(rewriter, loc, target);
    Value slope =
        mods.alibi ? codegen::emitAlibiSlope(rewriter, loc, adaptor.getHead(),
                                             adaptor.getHeads())
                   : Value();
    mapTileElements(
        rewriter, loc, cta, adaptor.getGrads(),
        {adaptor.getGrads(), adaptor.getRaw()},
        [&](OpBuilder &b, Location loc, ValueRange idx, ValueRange in) {
          Value g = in[0], raw = in[1];
          ElementCoords at =
              coordsOf(b, loc, adaptor.getBatch(), adaptor.getHead(),
                       adaptor.getRow0(), adaptor.getCol0(), idx);
          Value derivative = codegen::emitModifiedScoreDerivative(
              b, loc, mods, raw, at, slope);
          // dS = 0 (masked or padded) stays 0 even where the derivative is
          // infinite.
          Value zero = f32Constant(b, loc, 0.0);
          Value isZero =
              arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, g, zero);
          Value product = arith::MulFOp::create(b, loc, g, derivative);
          return arith::SelectOp::create(b, loc, isZero, zero, product)
              .getResult();
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileMask : CtaPattern<TileMaskOp> {
  using CtaPattern::CtaPattern;
  LogicalResult
  matchAndRewrite(TileMaskOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    CtaThread cta = CtaThread::build(rewriter, loc, target);
    Value scores = adaptor.getScores();
    mapTileElements(
        rewriter, loc, cta, scores, {scores},
        [&](OpBuilder &b, Location loc, ValueRange idx, ValueRange s) {
          ElementCoords at =
              coordsOf(b, loc, adaptor.getBatch(), adaptor.getHead(),
                       adaptor.getRow0(), adaptor.getCol0(), idx);
          // S = keep ? S : -inf
          Value keep = codegen::emitMaskKeeps(b, loc, op, at);
          Value negInf =
              f32Constant(b, loc, -std::numeric_limits<double>::infinity());
          return arith::SelectOp::create(b, loc, keep, s.front(), negInf)
              .getResult();
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileDropout : CtaPattern<TileDropoutOp> {
  using CtaPattern::CtaPattern;
  LogicalResult
  matchAndRewrite(TileDropoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    CtaThread cta = CtaThread::build(rewriter, loc, target);
    double p = op.getProb().convertToDouble();
    Type i32 = rewriter.getI32Type();
    auto toI32 = [&](OpBuilder &b, Location loc, Value index) {
      return arith::IndexCastOp::create(b, loc, i32, index).getResult();
    };
    // Per tile: the round keys, counter word 2 (batch * heads + head) and
    // word 3 (offset lo).
    codegen::PhiloxRoundKeys keys =
        codegen::emitPhiloxRoundKeys(rewriter, loc, adaptor.getSeed());
    Value bh = arith::AddIOp::create(rewriter, loc,
                                     arith::MulIOp::create(rewriter, loc,
                                                           adaptor.getBatch(),
                                                           adaptor.getHeads()),
                                     adaptor.getHead());
    Value word2 = toI32(rewriter, loc, bh);
    Value word3 =
        arith::TruncIOp::create(rewriter, loc, i32, adaptor.getOffset());
    Value scale = f32Constant(rewriter, loc, 1.0 / (1.0 - p));
    Value probs = adaptor.getProbs();
    mapTileElements(
        rewriter, loc, cta, probs, {probs},
        [&](OpBuilder &b, Location loc, ValueRange idx, ValueRange v) {
          ElementCoords at =
              coordsOf(b, loc, adaptor.getBatch(), adaptor.getHead(),
                       adaptor.getRow0(), adaptor.getCol0(), idx);
          // counter = (j, i, batch * heads + head, offset lo)
          std::array<Value, 4> words = codegen::emitPhilox4x32_10(
              b, loc,
              {toI32(b, loc, at.col), toI32(b, loc, at.row), word2, word3},
              keys);
          Value keep = codegen::emitDropoutKeeps(b, loc, words[0], p);
          // P = keep ? P / (1 - p) : 0
          Value kept = arith::MulFOp::create(b, loc, v.front(), scale);
          return arith::SelectOp::create(b, loc, keep, kept,
                                         f32Constant(b, loc, 0.0))
              .getResult();
        });
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void populateGpuScoreTileOpsPatterns(RewritePatternSet &patterns,
                                     const TargetInfo &target) {
  patterns.add<LowerTileScoreMod, LowerTileScoreGrad, LowerTileMask,
               LowerTileDropout>(patterns.getContext(), target);
}

} // namespace flashc::nvidia
