//===- CtaBuilders.cpp - code the threads of a CTA run together -----------===//

#include "codegen/nvidia/CtaBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "llvm/Support/MathExtras.h"

#include <limits>

using namespace mlir;

namespace flashc::nvidia {

CtaThread CtaThread::build(OpBuilder &b, Location loc,
                           const TargetInfo &target) {
  CtaThread cta;
  // The kernel's own block size, as attn-map-kernels-to-gpu set it.
  cta.threads = target.threadsPerBlock();
  if (Block *block = b.getInsertionBlock()) {
    Operation *parent = block->getParentOp();
    auto kernel = dyn_cast<gpu::GPUFuncOp>(parent);
    if (!kernel)
      kernel = parent->getParentOfType<gpu::GPUFuncOp>();
    if (kernel)
      if (DenseI32ArrayAttr known = kernel.getKnownBlockSizeAttr())
        cta.threads = known[0];
  }
  cta.warps = cta.threads / target.warpSize();
  cta.tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value warpSize = indexConstant(b, loc, target.warpSize());
  cta.lane = arith::RemUIOp::create(b, loc, cta.tid, warpSize);
  cta.warp = arith::DivUIOp::create(b, loc, cta.tid, warpSize);
  return cta;
}

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value floatConstant(OpBuilder &b, Location loc, Type type, double value) {
  return arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, value));
}

Value f32Constant(OpBuilder &b, Location loc, double value) {
  return floatConstant(b, loc, b.getF32Type(), value);
}

Value f32NegInf(OpBuilder &b, Location loc) {
  return f32Constant(b, loc, -std::numeric_limits<double>::infinity());
}

Value isNegInf(OpBuilder &b, Location loc, Value x) {
  return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x,
                               f32NegInf(b, loc));
}

Value convertFloat(OpBuilder &b, Location loc, Value value, Type to) {
  Type from = getElementTypeOrSelf(value.getType());
  if (from == to)
    return value;
  auto retype = [&](Type elt) -> Type {
    if (auto vec = dyn_cast<VectorType>(value.getType()))
      return vec.clone(elt);
    return elt;
  };
  unsigned fromWidth = from.getIntOrFloatBitWidth();
  unsigned toWidth = to.getIntOrFloatBitWidth();
  if (fromWidth < toWidth)
    return arith::ExtFOp::create(b, loc, retype(to), value);
  if (fromWidth > toWidth)
    return arith::TruncFOp::create(b, loc, retype(to), value);
  // f16 <-> bf16: through f32.
  Value wide = arith::ExtFOp::create(b, loc, retype(b.getF32Type()), value);
  return arith::TruncFOp::create(b, loc, retype(to), wide);
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

ArrayRef<int64_t> tileShape(Value tile) {
  return cast<MemRefType>(tile.getType()).getShape();
}

/// for i in [0, ceil(count / step)): body(i * step + first), guarded by
/// `< count` unless step divides count (then the trip count is a constant
/// the backend can unroll).
static void
buildStridedLoop(OpBuilder &b, Location loc, Value first, int64_t step,
                 int64_t count,
                 llvm::function_ref<void(OpBuilder &, Location, Value)> body) {
  int64_t trips = llvm::divideCeil(count, step);
  bool exact = count % step == 0;
  auto loop = scf::ForOp::create(b, loc, indexConstant(b, loc, 0),
                                 indexConstant(b, loc, trips),
                                 indexConstant(b, loc, 1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value index = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, loop.getInductionVar(),
                            indexConstant(b, loc, step)),
      first);
  if (exact) {
    body(b, loc, index);
    return;
  }
  Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                        index, indexConstant(b, loc, count));
  auto ifOp = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
  b.setInsertionPointToStart(ifOp.thenBlock());
  body(b, loc, index);
}

/// The indices of flat element \p flat of a row-major \p shape.
static SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value flat,
                                      ArrayRef<int64_t> shape) {
  SmallVector<Value> indices(shape.size());
  for (int64_t d = shape.size() - 1; d >= 0; --d) {
    Value size = indexConstant(b, loc, shape[d]);
    indices[d] = d == 0 ? flat : arith::RemUIOp::create(b, loc, flat, size);
    if (d != 0)
      flat = arith::DivUIOp::create(b, loc, flat, size);
  }
  return indices;
}

void forEachElement(OpBuilder &b, Location loc, const CtaThread &cta,
                    ArrayRef<int64_t> shape, ElementBody body) {
  forEachElementGroup(b, loc, cta, shape, 1, body);
}

void forEachElementGroup(OpBuilder &b, Location loc, const CtaThread &cta,
                         ArrayRef<int64_t> shape, int64_t width,
                         ElementBody body) {
  SmallVector<int64_t> groups(shape);
  assert(groups.back() % width == 0 && "groups must tile the rows");
  groups.back() /= width;
  int64_t count = 1;
  for (int64_t size : groups)
    count *= size;
  buildStridedLoop(b, loc, cta.tid, cta.threads, count,
                   [&](OpBuilder &b, Location loc, Value flat) {
                     SmallVector<Value> indices =
                         delinearize(b, loc, flat, groups);
                     if (width != 1)
                       indices.back() =
                           arith::MulIOp::create(b, loc, indices.back(),
                                                 indexConstant(b, loc, width));
                     body(b, loc, indices);
                   });
}

void mapTileElements(OpBuilder &b, Location loc, const CtaThread &cta,
                     Value dest, ValueRange sources, ElementMap body) {
  ArrayRef<int64_t> shape = tileShape(dest);
  Type destType = cast<MemRefType>(dest.getType()).getElementType();
  constexpr int64_t kGroup = 4;
  int64_t width = shape.size() == 2 && shape.back() % kGroup == 0 ? kGroup : 1;
  if (width == 1) {
    forEachElement(b, loc, cta, shape,
                   [&](OpBuilder &b, Location loc, ValueRange indices) {
                     SmallVector<Value> elements;
                     for (Value source : sources)
                       elements.push_back(loadAsF32(b, loc, source, indices));
                     storeFromF32(b, loc, body(b, loc, indices, elements), dest,
                                  indices);
                   });
    return;
  }
  auto vectorOf = [&](Type elt) { return VectorType::get({width}, elt); };
  auto alignment = [&](Value tile) {
    Type elt = cast<MemRefType>(tile.getType()).getElementType();
    return static_cast<uint64_t>(width * elt.getIntOrFloatBitWidth() / 8);
  };
  forEachElementGroup(
      b, loc, cta, shape, width,
      [&](OpBuilder &b, Location loc, ValueRange indices) {
        SmallVector<Value> groups;
        for (Value source : sources) {
          Type elt = cast<MemRefType>(source.getType()).getElementType();
          Value group = vector::LoadOp::create(
              b, loc, vectorOf(elt), source, indices, /*nontemporal=*/false,
              llvm::MaybeAlign(alignment(source)));
          groups.push_back(convertFloat(b, loc, group, b.getF32Type()));
        }
        SmallVector<Value> results;
        for (int64_t k = 0; k < width; ++k) {
          SmallVector<Value> at(indices);
          at.back() = arith::AddIOp::create(b, loc, at.back(),
                                            indexConstant(b, loc, k));
          SmallVector<Value> elements;
          for (Value group : groups)
            elements.push_back(vector::ExtractOp::create(b, loc, group, k));
          results.push_back(body(b, loc, at, elements));
        }
        Value group = vector::FromElementsOp::create(
            b, loc, vectorOf(b.getF32Type()), results);
        vector::StoreOp::create(b, loc, convertFloat(b, loc, group, destType),
                                dest, indices, /*nontemporal=*/false,
                                llvm::MaybeAlign(alignment(dest)));
      });
}

void forEachRowPerWarp(
    OpBuilder &b, Location loc, const CtaThread &cta, int64_t rows,
    llvm::function_ref<void(OpBuilder &, Location, Value)> body) {
  buildStridedLoop(b, loc, cta.warp, cta.warps, rows, body);
}

Value reduceColumnsPerLane(OpBuilder &b, Location loc, const CtaThread &cta,
                           int64_t cols, Value init, ColumnReduction body) {
  int64_t lanes = 32;
  int64_t trips = llvm::divideCeil(cols, lanes);
  auto loop = scf::ForOp::create(b, loc, indexConstant(b, loc, 0),
                                 indexConstant(b, loc, trips),
                                 indexConstant(b, loc, 1), ValueRange{init});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value partial = loop.getRegionIterArgs().front();
  Value col = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, loop.getInductionVar(),
                            indexConstant(b, loc, lanes)),
      cta.lane);
  Value next;
  if (cols % lanes == 0) {
    next = body(b, loc, col, partial);
  } else {
    Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                          col, indexConstant(b, loc, cols));
    auto ifOp = scf::IfOp::create(b, loc, TypeRange{init.getType()}, inRange,
                                  /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      scf::YieldOp::create(b, loc, body(b, loc, col, partial));
      b.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(b, loc, partial);
    }
    next = ifOp.getResult(0);
  }
  scf::YieldOp::create(b, loc, next);
  return loop.getResult(0);
}

void forEachColumnPerLane(
    OpBuilder &b, Location loc, const CtaThread &cta, int64_t cols,
    llvm::function_ref<void(OpBuilder &, Location, Value)> body) {
  buildStridedLoop(b, loc, cta.lane, 32, cols, body);
}

Value warpAllReduce(OpBuilder &b, Location loc, Value value,
                    gpu::AllReduceOperation op) {
  for (int32_t offset = 16; offset >= 1; offset /= 2) {
    Value other = gpu::ShuffleOp::create(b, loc, value, offset, /*width=*/32,
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    switch (op) {
    case gpu::AllReduceOperation::MAXIMUMF:
      value = arith::MaximumFOp::create(b, loc, value, other);
      break;
    case gpu::AllReduceOperation::ADD:
      value = arith::AddFOp::create(b, loc, value, other);
      break;
    default:
      llvm_unreachable("only max and add reductions are used");
    }
  }
  return value;
}

void onLaneZero(OpBuilder &b, Location loc, const CtaThread &cta,
                llvm::function_ref<void(OpBuilder &, Location)> body) {
  // Lane 0 often overwrites what all lanes just read (a row's max and sum):
  // __syncwarp orders those reads before the write (the shuffles in between
  // synchronize the lanes but are no memory barrier; compute-sanitizer's
  // racecheck flags the hazard without this).
  NVVM::SyncWarpOp::create(b, loc,
                           arith::ConstantOp::create(b, loc, b.getI32Type(),
                                                     b.getI32IntegerAttr(-1)));
  Value isZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                       cta.lane, indexConstant(b, loc, 0));
  auto ifOp = scf::IfOp::create(b, loc, isZero, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  body(b, loc);
}

Value emitExp(OpBuilder &b, Location loc, Value x) {
  Value scaled = arith::MulFOp::create(
      b, loc, x, f32Constant(b, loc, llvm::numbers::log2e));
  return math::Exp2Op::create(b, loc, scaled);
}

void emitAsyncProxyFence(OpBuilder &b, Location loc) {
  NVVM::FenceProxyOp::create(
      b, loc,
      NVVM::ProxyKindAttr::get(b.getContext(), NVVM::ProxyKind::async_shared),
      NVVM::SharedSpaceAttr::get(b.getContext(),
                                 NVVM::SharedSpace::shared_cta));
}

} // namespace flashc::nvidia
