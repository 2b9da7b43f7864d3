//===- AttnTileOps.cpp - verifiers of the tiled-level attn ops ------------===//

#include "dialect/AttnOps.h"

using namespace mlir;
using namespace flashc::attn;

/// Tiles stand for on-chip buffers and must be statically shaped.
static LogicalResult verifyStaticTiles(Operation *op,
                                       std::initializer_list<MemRefType> tiles) {
  for (MemRefType tile : tiles)
    if (!tile.hasStaticShape())
      return op->emitOpError()
             << "tile must have a static shape, got " << tile;
  return success();
}

/// A tile of rank r - 2 moves rows of a global tensor of rank r: the inner
/// sizes must agree.
static LogicalResult verifyTileOfTensor(Operation *op, MemRefType tile,
                                        MemRefType tensor, bool sameElt) {
  if (tile.getRank() != tensor.getRank() - 2)
    return op->emitOpError() << "tile of rank " << tile.getRank()
                             << " cannot hold rows of a rank-"
                             << tensor.getRank() << " tensor (expected rank "
                             << tensor.getRank() - 2 << ")";
  if (failed(verifyStaticTiles(op, {tile})))
    return failure();
  if (tile.getRank() == 2 && ShapedType::isDynamic(tensor.getDimSize(3)))
    return op->emitOpError()
           << "the tensor's last dimension must be static, like the tile's "
              "row length "
           << tile.getDimSize(1) << ", got '?'";
  if (tile.getRank() == 2 && tile.getDimSize(1) != tensor.getDimSize(3))
    return op->emitOpError()
           << "tile row length " << tile.getDimSize(1)
           << " does not match the tensor's last dimension "
           << tensor.getDimSize(3);
  if (sameElt && tile.getElementType() != tensor.getElementType())
    return op->emitOpError() << "tile element type " << tile.getElementType()
                             << " does not match the tensor's "
                             << tensor.getElementType();
  return success();
}

LogicalResult TileLoadOp::verify() {
  return verifyTileOfTensor(*this, getTile().getType(), getSource().getType(),
                            /*sameElt=*/true);
}

LogicalResult TileStoreOp::verify() {
  return verifyTileOfTensor(*this, getTile().getType(), getDest().getType(),
                            /*sameElt=*/false);
}

LogicalResult TileCopyOp::verify() {
  if (getSource().getType().getShape() != getDest().getType().getShape())
    return emitOpError() << "source shape and destination shape differ: "
                         << getSource().getType() << " vs "
                         << getDest().getType();
  return success();
}

LogicalResult TileMatmulOp::verify() {
  if (failed(verifyStaticTiles(*this, {getLhs().getType(), getRhs().getType(),
                                       getAcc().getType()})))
    return failure();
  ArrayRef<int64_t> a = getLhs().getType().getShape();
  ArrayRef<int64_t> b = getRhs().getType().getShape();
  ArrayRef<int64_t> c = getAcc().getType().getShape();
  int64_t m = getTransposeA() ? a[1] : a[0];
  int64_t ka = getTransposeA() ? a[0] : a[1];
  int64_t kb = getTransposeB() ? b[1] : b[0];
  int64_t n = getTransposeB() ? b[0] : b[1];
  if (ka != kb)
    return emitOpError() << "contraction sizes differ: op(A) is " << m << "x"
                         << ka << ", op(B) is " << kb << "x" << n;
  if (c[0] != m || c[1] != n)
    return emitOpError() << "accumulator must be " << m << "x" << n
                         << ", got " << c[0] << "x" << c[1];
  return success();
}

LogicalResult TileSoftmaxUpdateOp::verify() {
  if (failed(verifyStaticTiles(*this,
                               {getScores().getType(), getMax().getType(),
                                getSum().getType(), getAcc().getType()})))
    return failure();
  int64_t rows = getScores().getType().getDimSize(0);
  if (getMax().getType().getDimSize(0) != rows ||
      getSum().getType().getDimSize(0) != rows ||
      getAcc().getType().getDimSize(0) != rows)
    return emitOpError() << "max, sum and acc must have " << rows
                         << " rows, like the score tile";
  return success();
}

/// A 1-D tile read at each row of \p tile (its column when \p transposed)
/// must have that many elements.
static LogicalResult verifyPerLineTile(Operation *op, MemRefType tile,
                                       MemRefType line, StringRef name,
                                       bool transposed) {
  if (failed(verifyStaticTiles(op, {tile, line})))
    return failure();
  int64_t expected = tile.getDimSize(transposed ? 1 : 0);
  if (line.getDimSize(0) != expected)
    return op->emitOpError()
           << name << " must have one element per "
           << (transposed ? "column" : "row") << " of the tile (" << expected
           << "), got " << line.getDimSize(0);
  return success();
}

LogicalResult TileExpLseOp::verify() {
  return verifyPerLineTile(*this, getScores().getType(), getLse().getType(),
                           "lse", getTransposed());
}

LogicalResult TileSoftmaxGradOp::verify() {
  if (getProbs().getType().getShape() != getGrads().getType().getShape())
    return emitOpError() << "probs and grads must have the same shape, got "
                         << getProbs().getType() << " and "
                         << getGrads().getType();
  return verifyPerLineTile(*this, getGrads().getType(), getRowdot().getType(),
                           "rowdot", getTransposed());
}
