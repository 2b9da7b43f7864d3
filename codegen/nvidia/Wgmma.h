//===- Wgmma.h - Hopper warpgroup mma on register tiles ---------*- C++ -*-===//
//
// On sm_90a a tile.matmul whose accumulator is a register tile
// (RegisterTiles.h) runs as wgmma.mma_async m64nNk16 of the warpgroups of
// the CTA: the accumulator layout of register tiles is exactly wgmma's
// (warp w of a warpgroup owns rows 16 w .. 16 w + 15 of each 64-row block;
// lane 4g + t holds rows g, g + 8 at columns 8j + 2t, 8j + 2t + 1), so slab
// s of warp w is row block s W/4 + w/4 of the tile. A comes from registers
// (a register tile, converted to 16 bits as for mma.sync) or from shared
// memory; B always from shared memory, through a matrix descriptor.
//
// wgmma reads shared memory in its own "canonical" layouts. The tiles it
// reads are stored 128-byte swizzled: the tile [R][C] (16-bit, C a
// multiple of 64) is C/64 atoms [R][64] one after the other; row r of an
// atom is 128 bytes at r * 128, its 16-byte chunk c at (c ^ (r % 8)) * 16.
// The same bytes are K-major for a tile read as [M][K] or [N][K], and
// MN-major for one read as [K][N] (V in O += P V) or [K][M] (dS^T as the A
// of dQ = dS K), so one tile serves both.
//
// attn-select-wgmma marks the matmuls (kWgmmaAttr) and their shared tiles
// (kSwizzledTileAttr) where every user of those tiles is a tile.load or a
// copy of a register tile (which then write the swizzled layout) or such a
// matmul; the shared-memory plan
// aligns them to 1024 bytes (a swizzle atom's 8 rows) without padding.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_NVIDIA_WGMMA_H
#define FLASHC_CODEGEN_NVIDIA_WGMMA_H

#include "codegen/nvidia/TargetInfo.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace flashc::nvidia {

/// On a tile.matmul: lowered with wgmma.
inline constexpr llvm::StringLiteral kWgmmaAttr = "attn.wgmma";
/// On a tile (memref.alloca, then its shared-memory view) and on a kernel
/// that has such tiles: stored 128-byte swizzled.
inline constexpr llvm::StringLiteral kSwizzledTileAttr = "attn.swizzled_128b";
/// Alignment of a swizzled tile in shared memory.
inline constexpr int64_t kSwizzleAtomBytes = 1024;

/// Marks the matmuls of \p kernel (a tiled kernel with register tiles) that
/// wgmma can run and their shared tiles; returns how many matmuls.
int64_t selectWgmmaMatmuls(mlir::func::FuncOp kernel, const TargetInfo &target);

/// Whether \p tile (an alloca or view, or a choice between such tiles) is
/// stored swizzled.
bool isSwizzledTile(mlir::Value tile);

/// Where element (row, col) of a swizzled 16-bit tile of type \p tile
/// ([R][C]) is stored, as indices into the same [R][C] memref.
std::pair<mlir::Value, mlir::Value>
swizzledIndex(mlir::OpBuilder &b, mlir::Location loc, mlir::MemRefType tile,
              mlir::Value row, mlir::Value col);
/// The same place as an element offset into the tile: rows 8 further down
/// are kSwizzleEightRows elements further (same chunks), so that callers
/// can derive them by a constant.
mlir::Value swizzledOffset(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::MemRefType tile, mlir::Value row,
                           mlir::Value col);
/// Element offset between rows r and r + 8 of a swizzled 16-bit tile: one
/// atom's 8 rows of 128 bytes.
inline constexpr int64_t kSwizzleEightRows = kSwizzleAtomBytes / 2;
/// Indices into the [R][C] memref \p tile of element offset \p offset.
std::pair<mlir::Value, mlir::Value> delinearize(mlir::OpBuilder &b,
                                                mlir::Location loc,
                                                mlir::MemRefType tile,
                                                mlir::Value offset);

/// A of one wgmma: a shared-memory descriptor (of a K-major [M][K] tile, or
/// an MN-major [K][M] one), or four 32-bit registers of 16-bit pairs (the
/// mma.sync A fragment layout, per warp).
struct WgmmaA {
  mlir::Value descriptor;
  bool mnMajor = false;
  llvm::SmallVector<mlir::Value, 4> registers;
};

/// Shared-memory matrix descriptors of a swizzled tile.
class WgmmaDescriptors {
public:
  WgmmaDescriptors(mlir::OpBuilder &b, mlir::Location loc, mlir::Value tile);
  /// K-major operand ([rows][K]): the 8-row groups from \p row0 (a multiple
  /// of 8), K from \p k0 (a multiple of 16).
  mlir::Value kMajor(mlir::OpBuilder &b, mlir::Location loc, mlir::Value row0,
                     int64_t k0) const;
  /// MN-major operand ([K][MN]): K rows from \p k0 (a multiple of 16), MN
  /// from \p mn0 (a multiple of 8; null: 0): all N of a B, or the columns
  /// of a column group, the 64 rows of an A. Those from mn0 up to the end
  /// of its 64-column atom, or whole atoms from mn0 a multiple of 64.
  mlir::Value mnMajor(mlir::OpBuilder &b, mlir::Location loc, int64_t k0,
                      mlir::Value mn0 = nullptr) const;

private:
  mlir::Value build(mlir::OpBuilder &b, mlir::Location loc, mlir::Value byte,
                    int64_t leadingBytes) const;
  mlir::Value base; ///< i64 shared address of the tile
  int64_t rows = 0;
};

/// D (n / 2 f32 of one 64-row block, wgmma's order) = A B + D for one
/// k16 step: wgmma.mma_async m64nNk16 with f32 accumulation. \p mnMajorB:
/// B is stored [K][N]. Issue wgmma.fence before the first, and
/// commit/wait (emitWgmmaWait) before reading the results.
llvm::SmallVector<mlir::Value> emitWgmma(mlir::OpBuilder &b, mlir::Location loc,
                                         mlir::Type mmaType, const WgmmaA &a,
                                         mlir::Value descriptorB, bool mnMajorB,
                                         mlir::ValueRange d);

/// Commits the wgmmas issued, waits for all of them, and returns \p values
/// (their results) pinned after the wait.
llvm::SmallVector<mlir::Value>
emitWgmmaWait(mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange values);

} // namespace flashc::nvidia

#endif // FLASHC_CODEGEN_NVIDIA_WGMMA_H
