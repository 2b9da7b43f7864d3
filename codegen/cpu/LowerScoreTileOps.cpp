//===- LowerScoreTileOps.cpp - score modifiers, masks, dropout to loops ---===//
//
// The ops that work element by element on a score tile at (row0 + r,
// col0 + c). What one element computes comes from the target-independent
// ScoreModifiers.h and PhiloxBuilder.h; this file only walks the tile.
//
//===----------------------------------------------------------------------===//

#include "codegen/PhiloxBuilder.h"
#include "codegen/ScoreModifiers.h"
#include "codegen/cpu/LowerTileOpsToLoops.h"
#include "codegen/cpu/TileLoops.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;
using namespace flashc::attn;

namespace flashc::codegen::cpu {
namespace {

/// Loops over every element of a 2-D score tile, handing the body the
/// element's global coordinates (query row0 + c, key col0 + r when the tile
/// is \p transposed).
void buildElementLoops(
    OpBuilder &b, Location loc, Value tile, Value batch, Value head, Value row0,
    Value col0, bool transposed,
    llvm::function_ref<void(OpBuilder &, Location, ValueRange ivs,
                            const ElementCoords &)>
        body) {
  buildLoopsOverShape(
      b, loc, tileShape(tile), [&](OpBuilder &b, Location loc, ValueRange ivs) {
        body(b, loc, ivs,
             ElementCoords::of(b, loc, batch, head, row0, col0, ivs,
                               transposed));
      });
}

struct LowerTileScoreMod : OpConversionPattern<TileScoreModOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileScoreModOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ScoreModifiers mods = ScoreModifiers::of(op);
    Value slope = mods.alibi ? emitAlibiSlope(rewriter, loc, adaptor.getHead(),
                                              adaptor.getHeads())
                             : Value();
    Value scores = adaptor.getScores();
    buildElementLoops(
        rewriter, loc, scores, adaptor.getBatch(), adaptor.getHead(),
        adaptor.getRow0(), adaptor.getCol0(), op.getTransposed(),
        [&](OpBuilder &b, Location loc, ValueRange ivs,
            const ElementCoords &at) {
          Value s = memref::LoadOp::create(b, loc, scores, ivs);
          memref::StoreOp::create(
              b, loc, emitModifiedScore(b, loc, mods, s, at, slope), scores,
              ivs);
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileScoreGrad : OpConversionPattern<TileScoreGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileScoreGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ScoreModifiers mods = ScoreModifiers::of(op);
    // Without softcap or a custom score the derivative is 1: nothing to do.
    if (!mods.softcap && !mods.custom) {
      rewriter.eraseOp(op);
      return success();
    }
    Value slope = mods.alibi ? emitAlibiSlope(rewriter, loc, adaptor.getHead(),
                                              adaptor.getHeads())
                             : Value();
    Value grads = adaptor.getGrads(), raw = adaptor.getRaw();
    buildElementLoops(
        rewriter, loc, grads, adaptor.getBatch(), adaptor.getHead(),
        adaptor.getRow0(), adaptor.getCol0(), op.getTransposed(),
        [&](OpBuilder &b, Location loc, ValueRange ivs,
            const ElementCoords &at) {
          Value g = memref::LoadOp::create(b, loc, grads, ivs);
          Value s = memref::LoadOp::create(b, loc, raw, ivs);
          Value derivative =
              emitModifiedScoreDerivative(b, loc, mods, s, at, slope);
          // dS = 0 (a masked or padded element) stays 0 even where the
          // derivative is infinite, as it would be at log(0).
          Value zero = f32Constant(b, loc, 0.0);
          Value isZero =
              arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, g, zero);
          Value product = arith::MulFOp::create(b, loc, g, derivative);
          memref::StoreOp::create(
              b, loc, arith::SelectOp::create(b, loc, isZero, zero, product),
              grads, ivs);
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileMask : OpConversionPattern<TileMaskOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileMaskOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value scores = adaptor.getScores();
    buildElementLoops(
        rewriter, op.getLoc(), scores, adaptor.getBatch(), adaptor.getHead(),
        adaptor.getRow0(), adaptor.getCol0(), op.getTransposed(),
        [&](OpBuilder &b, Location loc, ValueRange ivs,
            const ElementCoords &at) {
          // S[r, c] = keep ? S[r, c] : -inf
          Value keep = emitMaskKeeps(b, loc, op, at);
          Value s = memref::LoadOp::create(b, loc, scores, ivs);
          Value negInf =
              f32Constant(b, loc, -std::numeric_limits<double>::infinity());
          memref::StoreOp::create(
              b, loc, arith::SelectOp::create(b, loc, keep, s, negInf), scores,
              ivs);
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileDropout : OpConversionPattern<TileDropoutOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileDropoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    double p = op.getProb().convertToDouble();
    Type i32 = rewriter.getI32Type();
    auto toI32 = [&](OpBuilder &b, Location loc, Value index) {
      return arith::IndexCastOp::create(b, loc, i32, index).getResult();
    };
    // Per tile: the round keys, counter word 2 (batch * heads + head) and
    // word 3 (offset lo).
    PhiloxRoundKeys keys =
        emitPhiloxRoundKeys(rewriter, loc, adaptor.getSeed());
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
    buildElementLoops(
        rewriter, loc, probs, adaptor.getBatch(), adaptor.getHead(),
        adaptor.getRow0(), adaptor.getCol0(), op.getTransposed(),
        [&](OpBuilder &b, Location loc, ValueRange ivs,
            const ElementCoords &at) {
          // counter = (j, i, batch * heads + head, offset lo)
          std::array<Value, 4> words = emitPhilox4x32_10(
              b, loc,
              {toI32(b, loc, at.col), toI32(b, loc, at.row), word2, word3},
              keys);
          Value keep = emitDropoutKeeps(b, loc, words[0], p);
          // P = keep ? P / (1 - p) : 0
          Value v = memref::LoadOp::create(b, loc, probs, ivs);
          Value kept = arith::MulFOp::create(b, loc, v, scale);
          memref::StoreOp::create(
              b, loc,
              arith::SelectOp::create(b, loc, keep, kept,
                                      f32Constant(b, loc, 0.0)),
              probs, ivs);
        });
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void populateLowerScoreTileOpsPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerTileScoreMod, LowerTileScoreGrad, LowerTileMask,
               LowerTileDropout>(patterns.getContext());
}

} // namespace flashc::codegen::cpu
