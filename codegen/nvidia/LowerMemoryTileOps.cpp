//===- LowerMemoryTileOps.cpp - load and store for a CTA ------------------===//
//
// The ops that move data. Between global memory and a tile every thread
// moves 16 bytes at a time when the tensor's pointer, offset and strides
// allow it (checked at run time: the ABI admits any strides), element by
// element otherwise; loads go through cp.async where the chip has it, so
// that all of a thread's copies are in flight together. Rows at or past
// min(rows, tile rows, tensor rows - row0) are never touched in global memory.
//
//===----------------------------------------------------------------------===//

#include "codegen/nvidia/CtaBuilders.h"
#include "codegen/nvidia/LowerTileOpsToGpu.h"
#include "codegen/nvidia/MmaFragments.h"
#include "codegen/nvidia/Wgmma.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace flashc::attn;

namespace flashc::nvidia {
namespace {

constexpr int64_t kVectorBytes = 16;

int64_t elementBytes(Value memref) {
  return cast<MemRefType>(memref.getType()).getElementTypeBitWidth() / 8;
}

/// max(0, min(rows, tileRows, tensorRows - row0)): the rows a load or store
/// may move.
Value clampRows(OpBuilder &b, Location loc, Value rows, int64_t tileRows,
                Value tensor, Value row0) {
  Value tensorRows =
      memref::DimOp::create(b, loc, tensor, indexConstant(b, loc, 2));
  Value available = arith::SubIOp::create(b, loc, tensorRows, row0);
  Value n =
      arith::MinSIOp::create(b, loc, rows, indexConstant(b, loc, tileRows));
  n = arith::MinSIOp::create(b, loc, n, available);
  return arith::MaxSIOp::create(b, loc, n, indexConstant(b, loc, 0));
}

/// [batch, head, row0 + r, c...] for tile element [r, c...].
SmallVector<Value> globalIndices(OpBuilder &b, Location loc, Value batch,
                                 Value head, Value row0, ValueRange tileIdx) {
  SmallVector<Value> indices = {
      batch, head, arith::AddIOp::create(b, loc, row0, tileIdx.front())};
  llvm::append_range(indices, tileIdx.drop_front());
  return indices;
}

/// Whether every row of global \p tensor starts on a 16-byte boundary, so
/// that groups of \p width elements can move as one vector: the aligned
/// pointer plus offset, and every stride but the last, in whole vectors.
Value isVectorAligned(OpBuilder &b, Location loc, Value tensor, int64_t width) {
  int64_t eltBytes = elementBytes(tensor);
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, tensor);
  Value pointer =
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, tensor);
  Value start = arith::AddIOp::create(
      b, loc, pointer,
      arith::MulIOp::create(b, loc, metadata.getOffset(),
                            indexConstant(b, loc, eltBytes)));
  Value zero = indexConstant(b, loc, 0);
  auto divides = [&](Value x, int64_t by) {
    Value rem = arith::RemUIOp::create(b, loc, x, indexConstant(b, loc, by));
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, rem, zero)
        .getResult();
  };
  Value ok = divides(start, kVectorBytes);
  for (Value stride : metadata.getStrides().drop_back())
    ok = arith::AndIOp::create(b, loc, ok, divides(stride, width));
  return ok;
}

/// if (cond) then() else otherwise(), both without results.
void buildIfElse(OpBuilder &b, Location loc, Value cond,
                 llvm::function_ref<void(OpBuilder &, Location)> then,
                 llvm::function_ref<void(OpBuilder &, Location)> otherwise) {
  auto ifOp = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  then(b, loc);
  b.setInsertionPointToStart(ifOp.elseBlock());
  otherwise(b, loc);
}

/// cond ? then() : zero of \p type, where then() may only run under cond.
Value loadOrZero(OpBuilder &b, Location loc, Value cond, Type type,
                 llvm::function_ref<Value(OpBuilder &, Location)> then) {
  auto ifOp = scf::IfOp::create(b, loc, TypeRange{type}, cond,
                                /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  scf::YieldOp::create(b, loc, then(b, loc));
  b.setInsertionPointToStart(ifOp.elseBlock());
  Value zero = arith::ConstantOp::create(b, loc, type, b.getZeroAttr(type));
  scf::YieldOp::create(b, loc, zero);
  return ifOp.getResult(0);
}

/// Adds the first \p rows rows of shared f32 \p tile into global f32 \p dest
/// at [batch, head, row0] with cp.reduce.async.bulk .add.f32, a row per
/// thread (rows of whole 16-byte chunks, 16-byte aligned: isVectorAligned),
/// once every thread's writes to the tile are fenced for the async proxy
/// and past a barrier (the only one between the tile's writes and this
/// read: attn-insert-tile-barriers leaves the pair to this op). Each thread
/// waits until its row has been read, so that a barrier after this is
/// enough before the tile is written again.
void emitBulkReduceAdd(OpBuilder &b, Location loc, const CtaThread &cta,
                       Value tile, Value dest, Value batch, Value head,
                       Value row0, Value rows) {
  emitAsyncProxyFence(b, loc);
  gpu::BarrierOp::create(b, loc);
  int64_t cols = cast<MemRefType>(tile.getType()).getShape()[1];
  auto global = memref::ExtractStridedMetadataOp::create(b, loc, dest);
  auto shared = memref::ExtractStridedMetadataOp::create(b, loc, tile);
  // Element offsets of row 0 in dest and tile.
  Value first = global.getOffset();
  SmallVector<Value> indices = {batch, head, row0};
  for (auto [index, stride] : llvm::zip(indices, global.getStrides()))
    first = arith::AddIOp::create(
        b, loc, first, arith::MulIOp::create(b, loc, index, stride));
  Value globalBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, dest);
  Value sharedBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, tile);
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  Value bytes = arith::ConstantIntOp::create(b, loc, 4 * cols, 32);
  auto loop = scf::ForOp::create(b, loc, cta.tid, rows,
                                 indexConstant(b, loc, cta.threads));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value r = loop.getInductionVar();
  auto address = [&](Value base, Value element) {
    return arith::AddIOp::create(b, loc, base, mulIndex(b, loc, element, 4))
        .getResult();
  };
  Value to = address(
      globalBase,
      arith::AddIOp::create(
          b, loc, first,
          arith::MulIOp::create(b, loc, r, global.getStrides()[2])));
  Value from = address(
      sharedBase,
      arith::AddIOp::create(
          b, loc, shared.getOffset(),
          arith::MulIOp::create(b, loc, r, shared.getStrides()[0])));
  LLVM::InlineAsmOp::create(
      b, loc, TypeRange{},
      ValueRange{arith::IndexCastUIOp::create(b, loc, i64, to),
                 arith::IndexCastUIOp::create(b, loc, i32, from), bytes},
      "{\n.reg .u64 g;\ncvta.to.global.u64 g, $0;\n"
      "cp.reduce.async.bulk.global.shared::cta.bulk_group.add.f32 [g], [$1], "
      "$2;\ncp.async.bulk.commit_group;\ncp.async.bulk.wait_group.read 0;\n}",
      "l,r,r,~{memory}", /*has_side_effects=*/true, /*is_align_stack=*/false,
      LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
      /*operand_attrs=*/ArrayAttr());
}

Value rowInRange(OpBuilder &b, Location loc, Value row, Value n) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, row, n);
}

struct LowerTileLoad : CtaPattern<TileLoadOp> {
  using CtaPattern::CtaPattern;
  LogicalResult
  matchAndRewrite(TileLoadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    CtaThread cta = CtaThread::build(rewriter, loc, target);
    Value tile = adaptor.getTile(), source = adaptor.getSource();
    ArrayRef<int64_t> shape = tileShape(tile);
    Type eltType = cast<MemRefType>(tile.getType()).getElementType();
    Value n = clampRows(rewriter, loc, adaptor.getRows(), shape.front(), source,
                        adaptor.getRow0());
    auto at = [&](OpBuilder &b, Location loc, ValueRange idx) {
      return globalIndices(b, loc, adaptor.getBatch(), adaptor.getHead(),
                           adaptor.getRow0(), idx);
    };
    // Where tile element idx (a whole 16-byte group in the vector paths)
    // is stored: in place, or swizzled for wgmma (Wgmma.h).
    bool swizzled = isSwizzledTile(tile);
    auto stored = [&](OpBuilder &b, Location loc,
                      ValueRange idx) -> SmallVector<Value> {
      if (!swizzled)
        return SmallVector<Value>(idx);
      auto [row, col] = swizzledIndex(
          b, loc, cast<MemRefType>(tile.getType()), idx[0], idx[1]);
      return {row, col};
    };
    // Rows [0, n) come from the tensor, rows [n, R) are zero, so padding
    // never brings garbage (or NaN) into a product.
    auto byElement = [&](OpBuilder &b, Location loc) {
      forEachElement(
          b, loc, cta, shape, [&](OpBuilder &b, Location loc, ValueRange idx) {
            Value v = loadOrZero(b, loc, rowInRange(b, loc, idx[0], n), eltType,
                                 [&](OpBuilder &b, Location loc) {
                                   return memref::LoadOp::create(
                                              b, loc, source, at(b, loc, idx))
                                       .getResult();
                                 });
            memref::StoreOp::create(b, loc, v, tile, stored(b, loc, idx));
          });
    };
    int64_t width = kVectorBytes / elementBytes(tile);
    if (shape.size() != 2 || shape.back() % width != 0) {
      byElement(rewriter, loc);
      rewriter.eraseOp(op);
      return success();
    }
    auto vectorType = VectorType::get({width}, eltType);
    auto byVector = [&](OpBuilder &b, Location loc) {
      forEachElementGroup(
          b, loc, cta, shape, width,
          [&](OpBuilder &b, Location loc, ValueRange idx) {
            Value inRange = rowInRange(b, loc, idx[0], n);
            if (target.hasCpAsync()) {
              // cp.async: every copy of the thread in flight at once, and
              // zero-filled (no bytes read) for rows at or past n.
              Value lastRow = arith::MaxSIOp::create(
                  b, loc,
                  arith::SubIOp::create(b, loc, n, indexConstant(b, loc, 1)),
                  indexConstant(b, loc, 0));
              SmallVector<Value> row(idx);
              row[0] = arith::MinSIOp::create(b, loc, idx[0], lastRow);
              Value srcElements = arith::SelectOp::create(
                  b, loc, inRange, indexConstant(b, loc, width),
                  indexConstant(b, loc, 0));
              nvgpu::DeviceAsyncCopyOp::create(
                  b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()),
                  tile, stored(b, loc, idx), source, at(b, loc, row),
                  b.getIndexAttr(width),
                  srcElements, b.getUnitAttr());
              return;
            }
            Value v = loadOrZero(
                b, loc, inRange, vectorType, [&](OpBuilder &b, Location loc) {
                  return vector::LoadOp::create(b, loc, vectorType, source,
                                                at(b, loc, idx),
                                                /*nontemporal=*/false,
                                                llvm::MaybeAlign(kVectorBytes))
                      .getResult();
                });
            vector::StoreOp::create(b, loc, v, tile, stored(b, loc, idx),
                                    /*nontemporal=*/false,
                                    llvm::MaybeAlign(kVectorBytes));
          });
      // The copies complete at the next barrier (waitForAsyncCopies), which
      // attn-insert-tile-barriers put before the tile's first reader: until
      // then they overlap whatever the CTA does.
      if (target.hasCpAsync())
        NVVM::CpAsyncCommitGroupOp::create(b, loc);
    };
    buildIfElse(rewriter, loc, isVectorAligned(rewriter, loc, source, width),
                byVector, byElement);
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileStore : CtaPattern<TileStoreOp> {
  using CtaPattern::CtaPattern;
  LogicalResult
  matchAndRewrite(TileStoreOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    CtaThread cta = CtaThread::build(rewriter, loc, target);
    Value tile = adaptor.getTile(), dest = adaptor.getDest();
    ArrayRef<int64_t> shape = tileShape(tile);
    Type destType = cast<MemRefType>(dest.getType()).getElementType();
    Value n = clampRows(rewriter, loc, adaptor.getRows(), shape.front(), dest,
                        adaptor.getRow0());
    bool accumulate = op.getAccumulate();
    auto at = [&](OpBuilder &b, Location loc, ValueRange idx) {
      return globalIndices(b, loc, adaptor.getBatch(), adaptor.getHead(),
                           adaptor.getRow0(), idx);
    };
    auto ifRowInRange =
        [&](OpBuilder &b, Location loc, Value row,
            llvm::function_ref<void(OpBuilder &, Location)> body) {
          auto ifOp = scf::IfOp::create(b, loc, rowInRange(b, loc, row, n),
                                        /*withElseRegion=*/false);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifOp.thenBlock());
          body(b, loc);
        };
    auto byElement = [&](OpBuilder &b, Location loc) {
      forEachElement(
          b, loc, cta, shape, [&](OpBuilder &b, Location loc, ValueRange idx) {
            ifRowInRange(b, loc, idx[0], [&](OpBuilder &b, Location loc) {
              Value value = loadAsF32(b, loc, tile, idx);
              if (!accumulate) {
                storeFromF32(b, loc, value, dest, at(b, loc, idx));
                return;
              }
              // Where the tiles of several CTAs meet: an atomic add.
              memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::addf,
                                          convertFloat(b, loc, value, destType),
                                          dest, at(b, loc, idx));
            });
          });
    };
    int64_t width = kVectorBytes / elementBytes(dest);
    // An f32 tile added into f32 rows on 16-byte boundaries: in bulk, a row
    // per thread.
    if (accumulate && target.hasBulkReduce() && shape.size() == 2 &&
        elementBytes(tile) == 4 && elementBytes(dest) == 4 &&
        (shape[1] * 4) % kVectorBytes == 0) {
      buildIfElse(
          rewriter, loc, isVectorAligned(rewriter, loc, dest, width),
          [&](OpBuilder &b, Location loc) {
            emitBulkReduceAdd(b, loc, cta, tile, dest, adaptor.getBatch(),
                              adaptor.getHead(), adaptor.getRow0(), n);
          },
          byElement);
      rewriter.eraseOp(op);
      return success();
    }
    if (accumulate || shape.size() != 2 || shape.back() % width != 0) {
      byElement(rewriter, loc);
      rewriter.eraseOp(op);
      return success();
    }
    Type tileType = cast<MemRefType>(tile.getType()).getElementType();
    auto byVector = [&](OpBuilder &b, Location loc) {
      forEachElementGroup(
          b, loc, cta, shape, width,
          [&](OpBuilder &b, Location loc, ValueRange idx) {
            ifRowInRange(b, loc, idx[0], [&](OpBuilder &b, Location loc) {
              int64_t tileBytes = width * elementBytes(tile);
              Value v = vector::LoadOp::create(
                  b, loc, VectorType::get({width}, tileType), tile, idx,
                  /*nontemporal=*/false,
                  llvm::MaybeAlign(std::min(tileBytes, kVectorBytes)));
              vector::StoreOp::create(b, loc, convertFloat(b, loc, v, destType),
                                      dest, at(b, loc, idx),
                                      /*nontemporal=*/false,
                                      llvm::MaybeAlign(kVectorBytes));
            });
          });
    };
    buildIfElse(rewriter, loc, isVectorAligned(rewriter, loc, dest, width),
                byVector, byElement);
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void populateGpuMemoryTileOpsPatterns(RewritePatternSet &patterns,
                                      const TargetInfo &target) {
  patterns.add<LowerTileLoad, LowerTileStore>(patterns.getContext(), target);
}

} // namespace flashc::nvidia
