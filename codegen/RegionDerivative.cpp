//===- RegionDerivative.cpp - forward-mode derivative of a region ---------===//

#include "codegen/RegionDerivative.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;

namespace flashc::codegen {
namespace {

bool hasFloatResult(Operation *op) {
  return llvm::any_of(op->getResultTypes(),
                      [](Type type) { return isa<FloatType>(type); });
}

bool hasDerivativeRule(Operation *op) {
  return isa<arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::DivFOp,
             arith::NegFOp, arith::MaximumFOp, arith::MinimumFOp,
             arith::MaxNumFOp, arith::MinNumFOp, arith::SelectOp,
             arith::ConstantOp, arith::SIToFPOp, arith::UIToFPOp, arith::ExtFOp,
             arith::TruncFOp, math::TanhOp, math::ExpOp, math::Exp2Op,
             math::LogOp, math::SqrtOp, math::RsqrtOp, math::AbsFOp,
             math::SinOp, math::CosOp, math::PowFOp>(op);
}

/// Whether \p op reads a value in \p dependent, directly or from inside one
/// of its regions.
bool readsAnyOf(Operation *op, const llvm::DenseSet<Value> &dependent) {
  bool reads = false;
  op->walk([&](Operation *nested) {
    for (Value operand : nested->getOperands())
      if (dependent.contains(operand))
        reads = true;
  });
  return reads;
}

/// Builds tangents. Null stands for zero throughout, so that a value that
/// does not depend on the argument costs nothing.
class TangentBuilder {
public:
  TangentBuilder(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value add(Value x, Value y) {
    if (!x)
      return y;
    if (!y)
      return x;
    return arith::AddFOp::create(b, loc, x, y);
  }
  Value sub(Value x, Value y) {
    if (!y)
      return x;
    if (!x)
      return arith::NegFOp::create(b, loc, y);
    return arith::SubFOp::create(b, loc, x, y);
  }
  /// factor * t, with factor an ordinary value.
  Value scale(Value factor, Value t) {
    if (!t)
      return Value();
    return arith::MulFOp::create(b, loc, factor, t);
  }
  Value div(Value t, Value divisor) {
    if (!t)
      return Value();
    return arith::DivFOp::create(b, loc, t, divisor);
  }
  Value neg(Value t) {
    if (!t)
      return Value();
    return arith::NegFOp::create(b, loc, t);
  }
  /// select(cond, x, y) of two tangents, materialising a zero if needed.
  Value select(Value cond, Value x, Value y, Type type) {
    if (!x && !y)
      return Value();
    return arith::SelectOp::create(b, loc, cond, x ? x : zero(type),
                                   y ? y : zero(type));
  }
  Value constant(Type type, double value) {
    return arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, value));
  }
  Value zero(Type type) { return constant(type, 0.0); }

  OpBuilder &b;
  Location loc;
};

/// The tangent of \p newOp's result (\p y), a clone of an op with a rule,
/// from its operands (\p x: the clone's operands) and their tangents \p t.
Value tangentOf(TangentBuilder &tb, Operation *newOp, ArrayRef<Value> t) {
  OpBuilder &b = tb.b;
  Location loc = tb.loc;
  auto x = [&](unsigned i) { return newOp->getOperand(i); };
  Value y = newOp->getNumResults() == 1 ? newOp->getResult(0) : Value();
  Type type = y ? y.getType() : Type();
  auto cmp = [&](arith::CmpFPredicate pred) {
    return arith::CmpFOp::create(b, loc, pred, x(0), x(1));
  };
  return llvm::TypeSwitch<Operation *, Value>(newOp)
      .Case<arith::AddFOp>([&](auto) { return tb.add(t[0], t[1]); })
      .Case<arith::SubFOp>([&](auto) { return tb.sub(t[0], t[1]); })
      // d(ab) = da b + a db
      .Case<arith::MulFOp>([&](auto) {
        return tb.add(tb.scale(x(1), t[0]), tb.scale(x(0), t[1]));
      })
      // d(a/b) = (da - (a/b) db) / b
      .Case<arith::DivFOp>(
          [&](auto) { return tb.div(tb.sub(t[0], tb.scale(y, t[1])), x(1)); })
      .Case<arith::NegFOp>([&](auto) { return tb.neg(t[0]); })
      // The derivative of the operand that wins; at a tie either is valid.
      .Case<arith::MaximumFOp, arith::MaxNumFOp>([&](auto) {
        return tb.select(cmp(arith::CmpFPredicate::OGE), t[0], t[1], type);
      })
      .Case<arith::MinimumFOp, arith::MinNumFOp>([&](auto) {
        return tb.select(cmp(arith::CmpFPredicate::OLE), t[0], t[1], type);
      })
      .Case<arith::SelectOp>([&](arith::SelectOp op) {
        return tb.select(op.getCondition(), t[1], t[2], type);
      })
      .Case<arith::ExtFOp>([&](auto) -> Value {
        return t[0] ? arith::ExtFOp::create(b, loc, type, t[0]) : Value();
      })
      .Case<arith::TruncFOp>([&](auto) -> Value {
        return t[0] ? arith::TruncFOp::create(b, loc, type, t[0]) : Value();
      })
      // Constants and integer conversions do not vary with a float.
      .Case<arith::ConstantOp, arith::SIToFPOp, arith::UIToFPOp>(
          [&](auto) { return Value(); })
      // d tanh(a) = (1 - tanh^2(a)) da
      .Case<math::TanhOp>([&](auto) {
        Value square = arith::MulFOp::create(b, loc, y, y);
        Value factor =
            arith::SubFOp::create(b, loc, tb.constant(type, 1.0), square);
        return tb.scale(factor, t[0]);
      })
      .Case<math::ExpOp>([&](auto) { return tb.scale(y, t[0]); })
      // d 2^a = 2^a ln 2 da
      .Case<math::Exp2Op>([&](auto) {
        return tb.scale(tb.constant(type, M_LN2), tb.scale(y, t[0]));
      })
      .Case<math::LogOp>([&](auto) { return tb.div(t[0], x(0)); })
      // d sqrt(a) = da / (2 sqrt(a))
      .Case<math::SqrtOp>([&](auto) {
        Value twice = arith::AddFOp::create(b, loc, y, y);
        return tb.div(t[0], twice);
      })
      // d a^(-1/2) = -1/2 a^(-1/2) / a da
      .Case<math::RsqrtOp>([&](auto) {
        Value factor = arith::DivFOp::create(b, loc, y, x(0));
        factor = arith::MulFOp::create(b, loc, tb.constant(type, -0.5), factor);
        return tb.scale(factor, t[0]);
      })
      .Case<math::AbsFOp>([&](auto) {
        Value negative = arith::CmpFOp::create(
            b, loc, arith::CmpFPredicate::OLT, x(0), tb.zero(type));
        return tb.select(negative, tb.neg(t[0]), t[0], type);
      })
      .Case<math::SinOp>([&](auto) {
        return tb.scale(math::CosOp::create(b, loc, x(0)), t[0]);
      })
      .Case<math::CosOp>([&](auto) {
        return tb.neg(tb.scale(math::SinOp::create(b, loc, x(0)), t[0]));
      })
      // d a^c = c a^(c-1) da + a^c ln(a) dc; each term only where it is
      // needed, so that a constant exponent never takes ln of a negative a.
      .Case<math::PowFOp>([&](auto) {
        Value baseTerm, expTerm;
        if (t[0]) {
          Value exponentLessOne =
              arith::SubFOp::create(b, loc, x(1), tb.constant(type, 1.0));
          Value power = math::PowFOp::create(b, loc, x(0), exponentLessOne);
          baseTerm = tb.scale(arith::MulFOp::create(b, loc, x(1), power), t[0]);
        }
        if (t[1]) {
          Value logBase = math::LogOp::create(b, loc, x(0));
          expTerm = tb.scale(arith::MulFOp::create(b, loc, y, logBase), t[1]);
        }
        return tb.add(baseTerm, expTerm);
      })
      .Default([](Operation *) -> Value {
        llvm_unreachable("op without a derivative rule reached emission");
      });
}

} // namespace

Operation *findUndifferentiableOp(Region &region, unsigned wrtArg) {
  Block &block = region.front();
  llvm::DenseSet<Value> dependent;
  dependent.insert(block.getArgument(wrtArg));
  for (Operation &op : block.without_terminator()) {
    if (!readsAnyOf(&op, dependent))
      continue;
    if (hasFloatResult(&op) && !hasDerivativeRule(&op))
      return &op;
    for (Value result : op.getResults())
      dependent.insert(result);
  }
  return nullptr;
}

LogicalResult verifyDifferentiable(Region &region, unsigned wrtArg,
                                   StringRef what) {
  Operation *op = findUndifferentiableOp(region, wrtArg);
  if (!op)
    return success();
  return op->emitError() << "cannot differentiate '" << op->getName()
                         << "' in the " << what
                         << ": it has a float result that depends on the "
                            "score and no derivative rule";
}

SmallVector<DualValue> emitForwardDerivative(OpBuilder &b, Region &region,
                                             ValueRange args, unsigned wrtArg) {
  Block &block = region.front();
  IRMapping mapping;
  mapping.map(block.getArguments(), args);
  // Tangents keyed by the region's original values.
  DenseMap<Value, Value> tangents;
  BlockArgument seed = block.getArgument(wrtArg);
  tangents[seed] = arith::ConstantOp::create(
      b, seed.getLoc(), seed.getType(), b.getFloatAttr(seed.getType(), 1.0));

  for (Operation &op : block.without_terminator()) {
    Operation *newOp = b.clone(op, mapping);
    SmallVector<Value> operandTangents;
    bool anyTangent = false;
    for (Value operand : op.getOperands()) {
      operandTangents.push_back(tangents.lookup(operand));
      anyTangent |= static_cast<bool>(operandTangents.back());
    }
    if (!anyTangent || !hasFloatResult(&op))
      continue;
    TangentBuilder tb(b, op.getLoc());
    if (Value tangent = tangentOf(tb, newOp, operandTangents))
      tangents[op.getResult(0)] = tangent;
  }

  SmallVector<DualValue> results;
  for (Value yielded : block.getTerminator()->getOperands())
    results.push_back(
        {mapping.lookupOrDefault(yielded), tangents.lookup(yielded)});
  return results;
}

} // namespace flashc::codegen
