//===- MmaFragments.h - operands and results of mma.sync m16n8k16 -*- C++ -*-===//
//
// What every lowering onto warp-level mma.sync m16n8k16 (f32 accumulation)
// needs: the lane's place in the fragments, loading A and B fragments from
// shared-memory tiles, and the mma itself. Fragment layouts (PTX ISA,
// mma.m16n8k16 with .f16/.bf16): lane = 4g + t;
//   A: a0 = A[g][2t..2t+1], a1 = A[g+8][..], a2 = A[g][2t+8..],
//      a3 = A[g+8][2t+8..]
//   B: b0 = B[2t..2t+1][g], b1 = B[2t+8..2t+9][g]
//   C: c0,c1 = C[g][2t..2t+1], c2,c3 = C[g+8][2t..2t+1]
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_NVIDIA_MMAFRAGMENTS_H
#define FLASHC_CODEGEN_NVIDIA_MMAFRAGMENTS_H

#include "mlir/IR/Builders.h"

namespace flashc::nvidia {

constexpr int64_t kMmaM = 16, kMmaN = 8, kMmaK = 16;

mlir::Type elementTypeOf(mlir::Value memref);
bool inSharedMemory(mlir::Value memref);

/// The 16-bit type the tensor cores multiply in for operands of types \p a
/// and \p b (one may be f32: it is converted), or null.
mlir::Type multiplicandType(mlir::Type a, mlir::Type b);

/// The lane's coordinates within mma fragments.
struct LaneCoords {
  mlir::Value g;      ///< lane / 4: fragment row (A, C) or column (B)
  mlir::Value t2;     ///< 2 * (lane % 4): first fragment column (A, C) or row (B)
  mlir::Value row16;  ///< lane % 16: ldmatrix row address of an A fragment
  mlir::Value half8;  ///< 8 * (lane / 16)
  mlir::Value row8;   ///< lane % 8: row within an 8x8 matrix of ldmatrix
  mlir::Value mat;    ///< lane / 8: which 8x8 matrix the lane addresses
  mlir::Value matLo8; ///< 8 * (mat % 2)
  mlir::Value matHi8; ///< 8 * (mat / 2)
};

LaneCoords laneCoords(mlir::OpBuilder &b, mlir::Location loc, mlir::Value lane);

/// x + y on `index`.
mlir::Value addIndex(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                     mlir::Value y);
mlir::Value addIndex(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                     int64_t y);
/// x / y, x % y (unsigned) and x * y on `index`, y a constant.
mlir::Value divIndex(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                     int64_t y);
mlir::Value remIndex(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                     int64_t y);
mlir::Value mulIndex(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                     int64_t y);

/// Reads mma fragments of one operand from its shared-memory tile.
/// `transposed`: the tile holds op(X)^T, i.e. A as [K][M], B as [N][K].
class FragmentLoader {
public:
  FragmentLoader(mlir::Value tile, bool transposed, mlir::Type mmaType,
                 const LaneCoords &lane)
      : tile(tile), transposed(transposed), mmaType(mmaType), lane(lane) {}

  /// The four registers of the A fragment at (m0, k0) of op(A).
  llvm::SmallVector<mlir::Value> loadA(mlir::OpBuilder &b, mlir::Location loc,
                                       mlir::Value m0, mlir::Value k0);

  /// The two registers of each of the \p count (1 or 2) B fragments at
  /// columns n0, n0 + 8 of op(B), rows k0...
  llvm::SmallVector<mlir::Value> loadB(mlir::OpBuilder &b, mlir::Location loc,
                                       mlir::Value n0, mlir::Value k0,
                                       int64_t count);

private:
  bool is16Bit() const;
  llvm::SmallVector<mlir::Value> ldmatrix(mlir::OpBuilder &b,
                                          mlir::Location loc,
                                          mlir::ValueRange at, int64_t numTiles,
                                          bool transpose);
  mlir::Value loadPair(mlir::OpBuilder &b, mlir::Location loc, mlir::Value r,
                       mlir::Value c, bool alongRow, bool isB = false);

  mlir::Value tile;
  bool transposed;
  mlir::Type mmaType;
  const LaneCoords &lane;
};

/// A pair of 16-bit values (vector<2xbf16> or vector<2xf16>) as the one
/// 32-bit register it occupies (mma.sync's bf16 operands, inline PTX).
mlir::Value pairAsI32(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::Value pair);

/// One m16n8k16 mma on fragments of \p mmaType (f16 or bf16 pairs as
/// vector<2 x mmaType>): returns the four f32 results.
llvm::SmallVector<mlir::Value> emitMma(mlir::OpBuilder &b, mlir::Location loc,
                                       mlir::Type mmaType,
                                       llvm::ArrayRef<mlir::Value> a,
                                       llvm::ArrayRef<mlir::Value> bRegs,
                                       llvm::ArrayRef<mlir::Value> c);

} // namespace flashc::nvidia

#endif // FLASHC_CODEGEN_NVIDIA_MMAFRAGMENTS_H
