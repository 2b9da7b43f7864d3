//===- BlockBounds.h - which tile pairs a mask lets through -----*- C++ -*-===//
//
// For one tile along the "fixed" axis (a query tile in the forward pass, a
// key tile in the backward pass), the range of tiles along the "free" axis
// that can hold a kept score, and the sub-range where every score is kept:
//
//   blocks [lo, hi)          may hold a kept score: visited;
//   blocks [fullLo, fullHi)  hold only kept scores: visited without a mask;
//   all other blocks         hold none: never visited.
//
// The same arithmetic runs in two domains: emitted as arith ops into a
// kernel (ValueDomain), and evaluated on integers by the IO report
// (IntDomain), so what `flashc explain` counts is what the kernel does.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_PASSES_BLOCKBOUNDS_H
#define FLASHC_PASSES_BLOCKBOUNDS_H

#include "passes/MaskAnalysis.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

#include <algorithm>

namespace flashc {

/// A constraint restated over the fixed axis x and the free axis y:
/// `cx * x + cy * y + c0 + cshift * shift >= 0`.
struct AxisConstraint {
  int64_t cx, cy, c0, cshift;
};

/// Restates constraints for a pass whose fixed axis is the query row
/// (forward, dQ) or the key column (dK/dV).
llvm::SmallVector<AxisConstraint>
toAxes(llvm::ArrayRef<LinearConstraint> constraints, bool queryIsFixed);

template <typename Num> struct BlockBounds {
  Num lo, hi, fullLo, fullHi;
};

/// Everything the bounds depend on; Num is an int64_t or an mlir::Value.
template <typename Num> struct BlockBoundsInputs {
  Num fixed0;      ///< first index of the fixed tile
  int64_t fixedTile; ///< its size
  Num fixedValid;  ///< valid length of the fixed axis (nq or nk)
  int64_t freeTile;  ///< size of a tile along the free axis
  Num freeValid;   ///< valid length of the free axis
  Num shift;       ///< nk - nq under bottom-right alignment, else 0
};

/// Integer evaluation, for the IO report and tests.
struct IntDomain {
  using Num = int64_t;
  using Bool = bool;
  Num cst(int64_t v) { return v; }
  Num add(Num a, Num b) { return a + b; }
  Num mul(Num a, int64_t c) { return a * c; }
  Num floorDiv(Num a, int64_t d) {
    Num q = a / d;
    return (a % d != 0 && ((a < 0) != (d < 0))) ? q - 1 : q;
  }
  Num ceilDiv(Num a, int64_t d) { return -floorDiv(-a, d); }
  Num max(Num a, Num b) { return std::max(a, b); }
  Num min(Num a, Num b) { return std::min(a, b); }
  Bool lt(Num a, Num b) { return a < b; }
  Num select(Bool c, Num a, Num b) { return c ? a : b; }
};

/// Emission as arith ops on index values.
struct ValueDomain {
  using Num = mlir::Value;
  using Bool = mlir::Value;
  mlir::OpBuilder &b;
  mlir::Location loc;

  Num cst(int64_t v) {
    return mlir::arith::ConstantIndexOp::create(b, loc, v);
  }
  Num add(Num x, Num y) { return mlir::arith::AddIOp::create(b, loc, x, y); }
  Num mul(Num x, int64_t c) {
    if (c == 1)
      return x;
    return mlir::arith::MulIOp::create(b, loc, x, cst(c));
  }
  Num floorDiv(Num x, int64_t d) {
    if (d == 1)
      return x;
    return mlir::arith::FloorDivSIOp::create(b, loc, x, cst(d));
  }
  Num ceilDiv(Num x, int64_t d) {
    if (d == 1)
      return x;
    return mlir::arith::CeilDivSIOp::create(b, loc, x, cst(d));
  }
  Num max(Num x, Num y) { return mlir::arith::MaxSIOp::create(b, loc, x, y); }
  Num min(Num x, Num y) { return mlir::arith::MinSIOp::create(b, loc, x, y); }
  Bool lt(Num x, Num y) {
    return mlir::arith::CmpIOp::create(b, loc, mlir::arith::CmpIPredicate::slt,
                                         x, y);
  }
  Num select(Bool c, Num x, Num y) {
    return mlir::arith::SelectOp::create(b, loc, c, x, y);
  }
};

/// The bounds for one fixed tile. Ranges may come out empty (hi <= lo, or
/// fullHi <= fullLo); callers iterate `for y in [lo, hi)` and treat y as full
/// when fullLo <= y < fullHi.
template <typename Domain>
BlockBounds<typename Domain::Num>
computeBlockBounds(Domain &d, llvm::ArrayRef<AxisConstraint> constraints,
                   const BlockBoundsInputs<typename Domain::Num> &in) {
  using Num = typename Domain::Num;
  Num zero = d.cst(0);
  // Last valid fixed index, and the last one of the tile (full blocks need
  // every fixed index of the tile valid).
  Num fixedEnd = d.min(d.add(in.fixed0, d.cst(in.fixedTile)), in.fixedValid);
  Num xLast = d.add(fixedEnd, d.cst(-1));
  Num xTileLast = d.add(in.fixed0, d.cst(in.fixedTile - 1));

  Num lo = zero;
  Num hi = d.ceilDiv(in.freeValid, in.freeTile);
  Num fullLo = zero;
  Num fullHi = d.floorDiv(in.freeValid, in.freeTile);

  for (const AxisConstraint &c : constraints) {
    Num c0 = d.add(d.cst(c.c0), d.mul(in.shift, c.cshift));
    // Some fixed index must satisfy the constraint for a block to be
    // non-empty: take the x maximising cx*x. Every fixed index must satisfy
    // it for the block to be full: take the x minimising cx*x.
    Num xSome = c.cx > 0 ? xLast : in.fixed0;
    Num xAll = c.cx > 0 ? in.fixed0 : xTileLast;
    Num someTerm = d.add(d.mul(xSome, c.cx), c0);
    Num allTerm = d.add(d.mul(xAll, c.cx), c0);
    if (c.cy < 0) {
      // y <= floor((cx*x + c0) / -cy): an upper bound on the free index.
      Num ySome = d.floorDiv(someTerm, -c.cy);
      Num yAll = d.floorDiv(allTerm, -c.cy);
      hi = d.min(hi, d.add(d.floorDiv(ySome, in.freeTile), d.cst(1)));
      fullHi = d.min(fullHi, d.floorDiv(d.add(yAll, d.cst(1)), in.freeTile));
    } else if (c.cy > 0) {
      // y >= ceil(-(cx*x + c0) / cy): a lower bound on the free index.
      Num ySome = d.ceilDiv(d.mul(someTerm, -1), c.cy);
      Num yAll = d.ceilDiv(d.mul(allTerm, -1), c.cy);
      lo = d.max(lo, d.floorDiv(ySome, in.freeTile));
      fullLo = d.max(fullLo, d.ceilDiv(yAll, in.freeTile));
    } else {
      // A constraint on the fixed index alone.
      hi = d.select(d.lt(someTerm, zero), zero, hi);
      fullHi = d.select(d.lt(allTerm, zero), zero, fullHi);
    }
  }
  // A fixed tile with no valid index has nothing to visit; one with some
  // invalid indices has no full block (those rows need masking).
  hi = d.select(d.lt(xLast, in.fixed0), zero, hi);
  Num tileEnd = d.add(in.fixed0, d.cst(in.fixedTile));
  fullHi = d.select(d.lt(in.fixedValid, tileEnd), zero, fullHi);
  fullLo = d.max(fullLo, lo);
  fullHi = d.min(fullHi, hi);
  return {lo, hi, fullLo, fullHi};
}

} // namespace flashc

#endif // FLASHC_PASSES_BLOCKBOUNDS_H
