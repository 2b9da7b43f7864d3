//===- LowerMemoryTileOps.cpp - fill, copy, load, store to loops ----------===//
//
// The ops that move data: between tiles, and between tiles and the global
// tensors. Loads and stores clamp their row count to both the tile and the
// tensor, so a partial last block never touches memory past the tensor.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/LowerTileOpsToLoops.h"
#include "codegen/cpu/TileLoops.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace flashc::attn;

namespace flashc::codegen::cpu {
namespace {

/// max(0, min(rows, tileRows, tensorRows - row0)): how many rows a load or
/// store may move.
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

/// Indices of element (r, c) of a tile row in slice [b, h] of a global
/// tensor: [b, h, row0 + r, c] (rank 4) or [b, h, row0 + r] (rank 3).
SmallVector<Value> globalIndices(OpBuilder &b, Location loc, Value batch,
                                 Value head, Value row0, ValueRange tileIvs) {
  Value row = arith::AddIOp::create(b, loc, row0, tileIvs.front());
  SmallVector<Value> indices = {batch, head, row};
  llvm::append_range(indices, tileIvs.drop_front());
  return indices;
}

/// Loops over rows [lo, hi) and every column of a tile of \p shape.
void buildRowLoops(OpBuilder &b, Location loc, Value lo, Value hi,
                   ArrayRef<int64_t> shape, LoopBody body) {
  SmallVector<Value> lbs = {lo}, ubs = {hi};
  for (int64_t size : shape.drop_front()) {
    lbs.push_back(indexConstant(b, loc, 0));
    ubs.push_back(indexConstant(b, loc, size));
  }
  buildLoops(b, loc, lbs, ubs, body);
}

struct LowerTileFill : OpConversionPattern<TileFillOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileFillOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value tile = adaptor.getTile();
    Type elementType = cast<MemRefType>(tile.getType()).getElementType();
    Value value = floatConstant(rewriter, loc, elementType,
                                op.getValue().convertToDouble());
    buildLoopsOverShape(rewriter, loc, tileShape(tile),
                        [&](OpBuilder &b, Location loc, ValueRange ivs) {
                          memref::StoreOp::create(b, loc, value, tile, ivs);
                        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileCopy : OpConversionPattern<TileCopyOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileCopyOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value source = adaptor.getSource(), dest = adaptor.getDest();
    Type destType = cast<MemRefType>(dest.getType()).getElementType();
    buildLoopsOverShape(
        rewriter, op.getLoc(), tileShape(source),
        [&](OpBuilder &b, Location loc, ValueRange ivs) {
          Value element = memref::LoadOp::create(b, loc, source, ivs);
          memref::StoreOp::create(
              b, loc, convertFloat(b, loc, element, destType), dest, ivs);
        });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileLoad : OpConversionPattern<TileLoadOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileLoadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value tile = adaptor.getTile(), source = adaptor.getSource();
    ArrayRef<int64_t> shape = tileShape(tile);
    Value n = clampRows(rewriter, loc, adaptor.getRows(), shape.front(), source,
                        adaptor.getRow0());
    // Rows [0, n) come from the tensor ...
    buildRowLoops(rewriter, loc, indexConstant(rewriter, loc, 0), n, shape,
                  [&](OpBuilder &b, Location loc, ValueRange ivs) {
                    SmallVector<Value> at = globalIndices(
                        b, loc, adaptor.getBatch(), adaptor.getHead(),
                        adaptor.getRow0(), ivs);
                    Value element = memref::LoadOp::create(b, loc, source, at);
                    memref::StoreOp::create(b, loc, element, tile, ivs);
                  });
    // ... and rows [n, R) are zero, so padding never brings in NaN.
    Type elementType = cast<MemRefType>(tile.getType()).getElementType();
    Value zero = floatConstant(rewriter, loc, elementType, 0.0);
    buildRowLoops(rewriter, loc, n, indexConstant(rewriter, loc, shape.front()),
                  shape, [&](OpBuilder &b, Location loc, ValueRange ivs) {
                    memref::StoreOp::create(b, loc, zero, tile, ivs);
                  });
    rewriter.eraseOp(op);
    return success();
  }
};

struct LowerTileStore : OpConversionPattern<TileStoreOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TileStoreOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value tile = adaptor.getTile(), dest = adaptor.getDest();
    ArrayRef<int64_t> shape = tileShape(tile);
    Value n = clampRows(rewriter, loc, adaptor.getRows(), shape.front(), dest,
                        adaptor.getRow0());
    bool accumulate = op.getAccumulate();
    // Kernels run one grid point at a time on the CPU, so accumulation needs
    // no atomics: a read-modify-write in f32.
    buildRowLoops(rewriter, loc, indexConstant(rewriter, loc, 0), n, shape,
                  [&](OpBuilder &b, Location loc, ValueRange ivs) {
                    SmallVector<Value> at = globalIndices(
                        b, loc, adaptor.getBatch(), adaptor.getHead(),
                        adaptor.getRow0(), ivs);
                    Value value = loadAsF32(b, loc, tile, ivs);
                    if (accumulate)
                      value = arith::AddFOp::create(
                          b, loc, loadAsF32(b, loc, dest, at), value);
                    storeFromF32(b, loc, value, dest, at);
                  });
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void populateLowerMemoryTileOpsPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerTileFill, LowerTileCopy, LowerTileLoad, LowerTileStore>(
      patterns.getContext());
}

} // namespace flashc::codegen::cpu
