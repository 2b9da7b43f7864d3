//===- TileLoops.cpp - loop-building helpers of the CPU lowering ----------===//

#include "codegen/cpu/TileLoops.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace flashc::codegen::cpu {

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value floatConstant(OpBuilder &b, Location loc, Type type, double value) {
  return arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, value));
}

Value f32Constant(OpBuilder &b, Location loc, double value) {
  return floatConstant(b, loc, b.getF32Type(), value);
}

Value convertFloat(OpBuilder &b, Location loc, Value value, Type to) {
  Type from = value.getType();
  if (from == to)
    return value;
  unsigned fromWidth = from.getIntOrFloatBitWidth();
  unsigned toWidth = to.getIntOrFloatBitWidth();
  if (fromWidth < toWidth)
    return arith::ExtFOp::create(b, loc, to, value);
  if (fromWidth > toWidth)
    return arith::TruncFOp::create(b, loc, to, value);
  // f16 <-> bf16: neither holds the other, so go through f32.
  Value wide = arith::ExtFOp::create(b, loc, b.getF32Type(), value);
  return arith::TruncFOp::create(b, loc, to, wide);
}

Value loadAsF32(OpBuilder &b, Location loc, Value memref, ValueRange indices) {
  Value element = memref::LoadOp::create(b, loc, memref, indices);
  return convertFloat(b, loc, element, b.getF32Type());
}

void storeFromF32(OpBuilder &b, Location loc, Value value, Value memref,
                  ValueRange indices) {
  Type elementType = cast<MemRefType>(memref.getType()).getElementType();
  memref::StoreOp::create(b, loc, convertFloat(b, loc, value, elementType),
                          memref, indices);
}

void buildLoops(OpBuilder &b, Location loc, ValueRange lbs, ValueRange ubs,
                LoopBody body) {
  SmallVector<Value> steps(lbs.size(), indexConstant(b, loc, 1));
  scf::buildLoopNest(b, loc, lbs, ubs, steps, body);
}

void buildLoopsOverShape(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                         LoopBody body) {
  SmallVector<Value> lbs, ubs;
  for (int64_t size : shape) {
    lbs.push_back(indexConstant(b, loc, 0));
    ubs.push_back(indexConstant(b, loc, size));
  }
  buildLoops(b, loc, lbs, ubs, body);
}

Value buildReduction(OpBuilder &b, Location loc, Value lb, Value ub, Value init,
                     ReductionBody body) {
  Value step = indexConstant(b, loc, 1);
  auto loop = scf::ForOp::create(
      b, loc, lb, ub, step, ValueRange{init},
      [&](OpBuilder &nested, Location nestedLoc, Value iv, ValueRange args) {
        Value next = body(nested, nestedLoc, iv, args.front());
        scf::YieldOp::create(nested, nestedLoc, next);
      });
  return loop.getResult(0);
}

Value buildReduction(OpBuilder &b, Location loc, int64_t size, Value init,
                     ReductionBody body) {
  return buildReduction(b, loc, indexConstant(b, loc, 0),
                        indexConstant(b, loc, size), init, body);
}

ArrayRef<int64_t> tileShape(Value tile) {
  return cast<MemRefType>(tile.getType()).getShape();
}

} // namespace flashc::codegen::cpu
