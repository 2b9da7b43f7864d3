//===- ElementwiseTileOps.cpp - element formulas, and their CTA lowering --===//
//
// The formulas are the target-independent codegen/ScoreModifiers.h and
// PhiloxBuilder.h (custom regions are cloned per element), exactly as on the
// CPU. Every -inf is guarded as there: a fully masked row gives P = 0.
// Shared-memory tiles: the CTA's threads split the elements
// (mapTileElements).
//
//===----------------------------------------------------------------------===//

#include "codegen/nvidia/ElementwiseTileOps.h"
#include "codegen/PhiloxBuilder.h"
#include "codegen/ScoreModifiers.h"
#include "codegen/nvidia/CtaBuilders.h"
#include "codegen/nvidia/LowerTileOpsToGpu.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace flashc::attn;
using flashc::codegen::ElementCoords;
using flashc::codegen::ScoreModifiers;

namespace flashc::nvidia {
namespace {

/// The global coordinates of element \p idx of a score tile of \p op.
template <typename OpT>
ElementCoords coordsOf(OpBuilder &b, Location loc, OpT op, ValueRange idx) {
  return ElementCoords::of(b, loc, op.getBatch(), op.getHead(), op.getRow0(),
                           op.getCol0(), idx, op.getTransposed());
}

ElementFormula fill(TileFillOp op) {
  double value = op.getValue().convertToDouble();
  return {op.getTile(),
          {},
          {},
          [value](OpBuilder &b, Location loc, ValueRange, ValueRange,
                  ValueRange) { return f32Constant(b, loc, value); }};
}

ElementFormula copy(TileCopyOp op) {
  return {op.getDest(),
          {op.getSource()},
          {},
          [](OpBuilder &, Location, ValueRange, ValueRange in, ValueRange) {
            return in.front();
          }};
}

ElementFormula scoreMod(OpBuilder &b, TileScoreModOp op) {
  ScoreModifiers mods = ScoreModifiers::of(op);
  Value slope = mods.alibi ? codegen::emitAlibiSlope(b, op.getLoc(),
                                                     op.getHead(), op.getHeads())
                           : Value();
  return {op.getScores(),
          {op.getScores()},
          {},
          [op, mods, slope](OpBuilder &b, Location loc, ValueRange idx,
                            ValueRange in, ValueRange) mutable {
            ElementCoords at = coordsOf(b, loc, op, idx);
            return codegen::emitModifiedScore(b, loc, mods, in.front(), at,
                                              slope);
          }};
}

ElementFormula scoreGrad(OpBuilder &b, TileScoreGradOp op) {
  ScoreModifiers mods = ScoreModifiers::of(op);
  // Without softcap or a custom score the derivative is 1.
  if (!mods.softcap && !mods.custom)
    return {op.getGrads(), {}, {}, nullptr};
  Value slope = mods.alibi ? codegen::emitAlibiSlope(b, op.getLoc(),
                                                     op.getHead(), op.getHeads())
                           : Value();
  return {op.getGrads(),
          {op.getGrads(), op.getRaw()},
          {},
          [op, mods, slope](OpBuilder &b, Location loc, ValueRange idx,
                            ValueRange in, ValueRange) mutable {
            Value g = in[0], raw = in[1];
            ElementCoords at = coordsOf(b, loc, op, idx);
            Value derivative = codegen::emitModifiedScoreDerivative(
                b, loc, mods, raw, at, slope);
            // dS = 0 (masked or padded) stays 0 even where the derivative
            // is infinite.
            Value zero = f32Constant(b, loc, 0.0);
            Value isZero = arith::CmpFOp::create(
                b, loc, arith::CmpFPredicate::OEQ, g, zero);
            Value product = arith::MulFOp::create(b, loc, g, derivative);
            return arith::SelectOp::create(b, loc, isZero, zero, product)
                .getResult();
          }};
}

ElementFormula mask(TileMaskOp op) {
  return {op.getScores(),
          {op.getScores()},
          {},
          [op](OpBuilder &b, Location loc, ValueRange idx, ValueRange in,
               ValueRange) mutable {
            ElementCoords at = coordsOf(b, loc, op, idx);
            // S = keep ? S : -inf
            Value keep = codegen::emitMaskKeeps(b, loc, op, at);
            return arith::SelectOp::create(b, loc, keep, in.front(),
                                           f32NegInf(b, loc))
                .getResult();
          }};
}

ElementFormula dropout(OpBuilder &b, TileDropoutOp op) {
  Location loc = op.getLoc();
  double p = op.getProb().convertToDouble();
  Type i32 = b.getI32Type();
  auto toI32 = [i32](OpBuilder &b, Location loc, Value index) {
    return arith::IndexCastOp::create(b, loc, i32, index).getResult();
  };
  // Per tile: the round keys, counter word 2 (batch * heads + head) and
  // word 3 (offset lo).
  codegen::PhiloxRoundKeys keys =
      codegen::emitPhiloxRoundKeys(b, loc, op.getSeed());
  Value bh = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, op.getBatch(), op.getHeads()),
      op.getHead());
  Value word2 = toI32(b, loc, bh);
  Value word3 = arith::TruncIOp::create(b, loc, i32, op.getOffset());
  Value scale = f32Constant(b, loc, 1.0 / (1.0 - p));
  return {op.getProbs(),
          {op.getProbs()},
          {},
          [=](OpBuilder &b, Location loc, ValueRange idx, ValueRange in,
              ValueRange) mutable {
            ElementCoords at = coordsOf(b, loc, op, idx);
            // counter = (j, i, batch * heads + head, offset lo)
            std::array<Value, 4> words = codegen::emitPhilox4x32_10(
                b, loc,
                {toI32(b, loc, at.col), toI32(b, loc, at.row), word2, word3},
                keys);
            Value keep = codegen::emitDropoutKeeps(b, loc, words[0], p);
            // P = keep ? P / (1 - p) : 0
            Value kept = arith::MulFOp::create(b, loc, in.front(), scale);
            return arith::SelectOp::create(b, loc, keep, kept,
                                           f32Constant(b, loc, 0.0))
                .getResult();
          }};
}

ElementFormula expLse(TileExpLseOp op) {
  return {op.getScores(),
          {op.getScores()},
          {op.getLse()},
          [](OpBuilder &b, Location loc, ValueRange, ValueRange in,
             ValueRange rows) {
            // S = exp(S - lse[r]) (lse[c] transposed), 0 where either is -inf
            Value s = in.front(), lse = rows.front();
            Value p = emitExp(b, loc, arith::SubFOp::create(b, loc, s, lse));
            Value dead = arith::OrIOp::create(b, loc, isNegInf(b, loc, s),
                                              isNegInf(b, loc, lse));
            return arith::SelectOp::create(b, loc, dead,
                                           f32Constant(b, loc, 0.0), p)
                .getResult();
          }};
}

ElementFormula softmaxGrad(TileSoftmaxGradOp op) {
  return {op.getGrads(),
          {op.getProbs(), op.getGrads()},
          {op.getRowdot()},
          [](OpBuilder &b, Location loc, ValueRange, ValueRange in,
             ValueRange rows) {
            // dS = P * (dP - D), D per row (per column transposed)
            return arith::MulFOp::create(
                       b, loc, in[0],
                       arith::SubFOp::create(b, loc, in[1], rows.front()))
                .getResult();
          }};
}

/// An element-wise op on shared-memory tiles: the CTA splits the elements.
template <typename OpT> struct LowerElementwise : CtaPattern<OpT> {
  using CtaPattern<OpT>::CtaPattern;
  LogicalResult
  matchAndRewrite(OpT op, typename OpT::Adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    std::optional<ElementFormula> formula = buildElementFormula(rewriter, op);
    if (formula->compute) {
      CtaThread cta = CtaThread::build(rewriter, loc, this->target);
      mapTileElements(
          rewriter, loc, cta, formula->dest, formula->sources,
          [&](OpBuilder &b, Location loc, ValueRange idx, ValueRange in) {
            SmallVector<Value> rows;
            Value line = idx[formula->rowSourcesByColumn ? 1 : 0];
            for (Value tile : formula->rowSources)
              rows.push_back(memref::LoadOp::create(b, loc, tile, line));
            return formula->compute(b, loc, idx, in, rows);
          });
    }
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

bool isElementwiseTileOp(Operation *op) {
  return isa<TileFillOp, TileCopyOp, TileScoreModOp, TileScoreGradOp,
             TileMaskOp, TileDropoutOp, TileExpLseOp, TileSoftmaxGradOp>(op);
}

bool readsRowSourcesByColumn(Operation *op) {
  if (auto expLse = dyn_cast<TileExpLseOp>(op))
    return expLse.getTransposed();
  if (auto grad = dyn_cast<TileSoftmaxGradOp>(op))
    return grad.getTransposed();
  return false;
}

std::optional<ElementFormula> buildElementFormula(OpBuilder &b, Operation *op) {
  std::optional<ElementFormula> formula =
      llvm::TypeSwitch<Operation *, std::optional<ElementFormula>>(op)
      .Case([](TileFillOp op) { return fill(op); })
      .Case([](TileCopyOp op) { return copy(op); })
      .Case([&](TileScoreModOp op) { return scoreMod(b, op); })
      .Case([&](TileScoreGradOp op) { return scoreGrad(b, op); })
      .Case([](TileMaskOp op) { return mask(op); })
      .Case([&](TileDropoutOp op) { return dropout(b, op); })
      .Case([](TileExpLseOp op) { return expLse(op); })
      .Case([](TileSoftmaxGradOp op) { return softmaxGrad(op); })
      .Default([](Operation *) { return std::nullopt; });
  if (formula)
    formula->rowSourcesByColumn = readsRowSourcesByColumn(op);
  return formula;
}

void populateGpuElementwiseTileOpsPatterns(RewritePatternSet &patterns,
                                           const TargetInfo &target) {
  patterns.add<LowerElementwise<TileFillOp>, LowerElementwise<TileCopyOp>,
               LowerElementwise<TileScoreModOp>,
               LowerElementwise<TileScoreGradOp>, LowerElementwise<TileMaskOp>,
               LowerElementwise<TileDropoutOp>, LowerElementwise<TileExpLseOp>,
               LowerElementwise<TileSoftmaxGradOp>>(patterns.getContext(),
                                                    target);
}

} // namespace flashc::nvidia
