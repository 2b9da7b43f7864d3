//===- ScoreModifiers.cpp - element formulas of masks and scores ----------===//

#include "codegen/ScoreModifiers.h"
#include "codegen/RegionDerivative.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;

namespace flashc::codegen {
namespace {

std::optional<double> softcapOf(FloatAttr attr) {
  if (!attr)
    return std::nullopt;
  return attr.getValueAsDouble();
}

Region *customOf(Region &region) { return region.empty() ? nullptr : &region; }

Value f32(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF32Type(),
                                   b.getF32FloatAttr(value));
}

/// |i + shift - j| as f32.
Value alibiDistance(OpBuilder &b, Location loc, Value shift,
                    const ElementCoords &at) {
  Value diag = arith::AddIOp::create(b, loc, at.row, shift);
  Value delta = arith::SubIOp::create(b, loc, diag, at.col);
  Value wide = arith::IndexCastOp::create(b, loc, b.getI64Type(), delta);
  Value distance = math::AbsIOp::create(b, loc, wide);
  return arith::SIToFPOp::create(b, loc, b.getF32Type(), distance);
}

/// The score after softcap and ALiBi, before the custom region.
Value emitBuiltinModifiers(OpBuilder &b, Location loc,
                           const ScoreModifiers &mods, Value s,
                           const ElementCoords &at, Value slope) {
  if (mods.softcap) {
    // c * tanh(s / c)
    Value cap = f32(b, loc, *mods.softcap);
    Value t =
        math::TanhOp::create(b, loc, arith::DivFOp::create(b, loc, s, cap));
    s = arith::MulFOp::create(b, loc, cap, t);
  }
  if (mods.alibi) {
    // s - slope_h * |i + shift - j|
    Value bias = arith::MulFOp::create(b, loc, slope,
                                       alibiDistance(b, loc, mods.shift, at));
    s = arith::SubFOp::create(b, loc, s, bias);
  }
  return s;
}

} // namespace

ElementCoords ElementCoords::of(OpBuilder &b, Location loc, Value batch,
                               Value head, Value row0, Value col0,
                               ValueRange idx, bool transposed) {
  Value query = idx[transposed ? 1 : 0], key = idx[transposed ? 0 : 1];
  return {batch, head, arith::AddIOp::create(b, loc, row0, query),
          arith::AddIOp::create(b, loc, col0, key)};
}

ScoreModifiers ScoreModifiers::of(attn::TileScoreModOp op) {
  return {softcapOf(op.getSoftcapAttr()), op.getAlibi(), op.getShift(),
          customOf(op.getScore())};
}

ScoreModifiers ScoreModifiers::of(attn::TileScoreGradOp op) {
  return {softcapOf(op.getSoftcapAttr()), op.getAlibi(), op.getShift(),
          customOf(op.getScore())};
}

SmallVector<Value> inlineRegion(OpBuilder &b, Region &region, ValueRange args) {
  Block &block = region.front();
  IRMapping mapping;
  mapping.map(block.getArguments(), args);
  for (Operation &op : block.without_terminator())
    b.clone(op, mapping);
  SmallVector<Value> results;
  for (Value yielded : block.getTerminator()->getOperands())
    results.push_back(mapping.lookupOrDefault(yielded));
  return results;
}

Value emitAlibiSlope(OpBuilder &b, Location loc, Value head, Value heads) {
  // 2^(-8 (h + 1) / heads)
  Type f32Type = b.getF32Type();
  auto toF32 = [&](Value index) {
    Value wide = arith::IndexCastUIOp::create(b, loc, b.getI64Type(), index);
    return arith::UIToFPOp::create(b, loc, f32Type, wide);
  };
  Value headPlusOne =
      arith::AddFOp::create(b, loc, toF32(head), f32(b, loc, 1.0));
  Value numerator =
      arith::MulFOp::create(b, loc, f32(b, loc, -8.0), headPlusOne);
  Value exponent = arith::DivFOp::create(b, loc, numerator, toF32(heads));
  return math::Exp2Op::create(b, loc, exponent);
}

Value emitModifiedScore(OpBuilder &b, Location loc, const ScoreModifiers &mods,
                        Value raw, const ElementCoords &at, Value slope) {
  Value s = emitBuiltinModifiers(b, loc, mods, raw, at, slope);
  if (!mods.custom)
    return s;
  return inlineRegion(b, *mods.custom, {s, at.batch, at.head, at.row, at.col})
      .front();
}

Value emitModifiedScoreDerivative(OpBuilder &b, Location loc,
                                  const ScoreModifiers &mods, Value raw,
                                  const ElementCoords &at, Value slope) {
  Value derivative;
  if (mods.softcap) {
    // d/ds c tanh(s / c) = 1 - tanh^2(s / c)
    Value t = math::TanhOp::create(
        b, loc, arith::DivFOp::create(b, loc, raw, f32(b, loc, *mods.softcap)));
    derivative = arith::SubFOp::create(b, loc, f32(b, loc, 1.0),
                                       arith::MulFOp::create(b, loc, t, t));
  }
  if (mods.custom) {
    // The chain rule: the custom region's derivative at the score it sees.
    Value s = emitBuiltinModifiers(b, loc, mods, raw, at, slope);
    DualValue custom =
        emitForwardDerivative(b, *mods.custom,
                              {s, at.batch, at.head, at.row, at.col},
                              /*wrtArg=*/0)
            .front();
    // A custom score that ignores s has derivative 0.
    Value customDerivative = custom.tangent ? custom.tangent : f32(b, loc, 0.0);
    derivative =
        derivative ? arith::MulFOp::create(b, loc, derivative, customDerivative)
                         .getResult()
                   : customDerivative;
  }
  return derivative ? derivative : f32(b, loc, 1.0);
}

Value emitMaskKeeps(OpBuilder &b, Location loc, attn::TileMaskOp op,
                    const ElementCoords &at) {
  using arith::CmpIPredicate;
  auto cmp = [&](CmpIPredicate pred, Value lhs, Value rhs) {
    return arith::CmpIOp::create(b, loc, pred, lhs, rhs).getResult();
  };
  auto offset = [&](Value base, int64_t delta) {
    return arith::AddIOp::create(b, loc, base,
                                 arith::ConstantIndexOp::create(b, loc, delta))
        .getResult();
  };
  // i < seq_q and j < seq_k.
  Value keep = arith::AndIOp::create(
      b, loc, cmp(CmpIPredicate::slt, at.row, op.getSeqQ()),
      cmp(CmpIPredicate::slt, at.col, op.getSeqK()));
  auto also = [&](Value condition) {
    keep = arith::AndIOp::create(b, loc, keep, condition);
  };
  Value diag = arith::AddIOp::create(b, loc, at.row, op.getShift());
  if (op.getCausal())
    also(cmp(CmpIPredicate::sle, at.col, diag));
  // A negative window bound leaves that side unbounded.
  if (IntegerAttr left = op.getWindowLeftAttr(); left && left.getInt() >= 0)
    also(cmp(CmpIPredicate::sge, at.col, offset(diag, -left.getInt())));
  if (IntegerAttr right = op.getWindowRightAttr(); right && right.getInt() >= 0)
    also(cmp(CmpIPredicate::sle, at.col, offset(diag, right.getInt())));
  if (!op.getMask().empty())
    also(inlineRegion(b, op.getMask(), {at.batch, at.head, at.row, at.col})
             .front());
  return keep;
}

} // namespace flashc::codegen
