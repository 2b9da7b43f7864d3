//===- RegisterTiles.h - f32 tiles kept in registers as mma fragments -*- C++ -*-===//
//
// A register tile is an f32 tile whose rows the warps of the CTA split the
// way mma.sync m16n8k16 splits its accumulator (MmaFragments.h): warp w of
// W owns the 16-row slabs w, w + W, w + 2W, ...; in a slab, lane 4g + t
// holds rows g and g + 8 at columns 8j + 2t and 8j + 2t + 1 of every
// 8-column block j. The scores that a QK^T mma leaves in registers are then
// exactly where the online softmax and the PV mma want them (the P of
// FlashAttention-2 never leaves registers), and no op on such a tile needs
// shared memory or a barrier. A 1-D register tile (row max, row sum, LSE)
// holds rows g and g + 8 of each of the thread's slabs; the four lanes of a
// quad keep equal copies.
//
// A 2-D tile of fewer rows than 16 x the warps (a pair's dQ, Br = 64 rows,
// in a dK/dV kernel of 8 warps over Bc = 128 keys) is split by columns as
// well: its R / 16 "row warps" hold one slab each, and the warps' column
// groups (warp w: group w / (R / 16)) hold the column blocks one after the
// other. At 64 rows, group g is warpgroup g, and a wgmma of it computes
// that warpgroup's columns. Such a tile is only formed by a matmul (A not
// in registers), filled, copied to shared memory and stored: no op reduces
// its rows.
//
// attn-assign-register-tiles chooses them and marks their memref.alloca
// with #gpu.address_space<private>; attn-lower-register-tiles gives each a
// thread-private array with constant indices only (which LLVM promotes to
// registers) and lowers every op on it.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_NVIDIA_REGISTERTILES_H
#define FLASHC_CODEGEN_NVIDIA_REGISTERTILES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/SetVector.h"

#include <array>

namespace flashc::nvidia {

/// Whether \p tile is a register tile (private address space).
bool isRegisterTile(mlir::Value tile);

/// Rows of a warpgroup's share of a tile (wgmma's M): 4 warps x 16.
inline constexpr int64_t kWarpgroupRows = 64;

/// How one thread holds a register tile of a CTA of `warps` warps.
struct RegisterTileLayout {
  int64_t warps = 0;
  /// 16-row slabs per warp (0: the tile cannot be split among the warps).
  int64_t slabs = 0;
  /// 8-column blocks a thread holds of a 2-D tile; 0 for a 1-D tile.
  int64_t blocks = 0;
  /// Column groups: warps / the warps that split the rows (1 unless the
  /// tile has fewer rows than 16 x warps).
  int64_t columnGroups = 1;

  static RegisterTileLayout of(mlir::MemRefType tile, int64_t warps);
  bool isRow() const { return blocks == 0; }
  /// Warps that split the rows: slab s of warp w is 16-row slab
  /// s * rowWarps() + w % rowWarps().
  int64_t rowWarps() const { return warps / columnGroups; }
  /// The thread's array: [slabs][blocks][4] (c0..c3 of each fragment) or
  /// [slabs][2] (rows g, g + 8).
  mlir::MemRefType physicalType(mlir::MLIRContext *context) const;
  /// f32 registers a thread spends on it.
  int64_t registers() const { return slabs * (isRow() ? 2 : 4 * blocks); }
};

/// The thread's place in the fragments, built once per op.
struct FragmentThread {
  mlir::Value warp; ///< warp index w
  mlir::Value g;    ///< lane / 4
  mlir::Value t2;   ///< 2 * (lane % 4)
  mlir::Value lane;
  int64_t warps = 0;

  /// \p pinned: the thread index is read by an inline asm with side
  /// effects, so that LLVM neither hoists nor shares the coordinates (nor
  /// the addresses made of them) beyond the op: recomputed where used
  /// rather than held in registers through a loop.
  static FragmentThread build(mlir::OpBuilder &b, mlir::Location loc,
                              int64_t threads, bool pinned = false);
  /// The warp's place among the row warps of a tile of \p layout: w % W.
  mlir::Value rowWarp(mlir::OpBuilder &b, mlir::Location loc,
                      const RegisterTileLayout &layout) const;
  /// First row of the thread's slab \p slab of a tile of \p layout:
  /// 16 (slab W + w) for W row warps.
  mlir::Value slabRow(mlir::OpBuilder &b, mlir::Location loc,
                      const RegisterTileLayout &layout, int64_t slab) const;
  /// Row g + 8 half of slab \p slab.
  mlir::Value row(mlir::OpBuilder &b, mlir::Location loc,
                  const RegisterTileLayout &layout, int64_t slab,
                  int64_t half) const;
  /// Column 8 block + 2t + e of the thread's column group.
  mlir::Value col(mlir::OpBuilder &b, mlir::Location loc,
                  const RegisterTileLayout &layout, int64_t block,
                  int64_t e) const;
  /// The first column of block \p block of the thread's column group:
  /// 8 (blocks (w / W) + block).
  mlir::Value blockCol(mlir::OpBuilder &b, mlir::Location loc,
                       const RegisterTileLayout &layout, int64_t block) const;
};

/// One f32 element a thread holds of a 2-D register tile.
struct FragmentElement {
  int64_t slab, block, half, e;
  /// Index into the physical array.
  std::array<int64_t, 3> at() const { return {slab, block, 2 * half + e}; }
  /// Index of its row in a 1-D tile's physical array.
  std::array<int64_t, 2> rowAt() const { return {slab, half}; }
};

/// Every element the thread holds of a 2-D tile of \p layout, in order.
llvm::SmallVector<FragmentElement>
fragmentElements(const RegisterTileLayout &layout);

/// The tiles of \p kernel (a tiled kernel function, IR level 2) that can
/// live in registers, and the warps its CTA needs for them. Empty when none
/// can (then `warps` is 0).
struct RegisterTilePlan {
  llvm::SetVector<mlir::Value> tiles;
  int64_t warps = 0;
  /// f32 registers a thread spends on them where the most are live.
  int64_t registers = 0;
};
RegisterTilePlan planRegisterTiles(mlir::func::FuncOp kernel,
                                   int64_t maxWarps);

/// Attribute on a kernel: the warps of its CTA (set with register tiles).
inline constexpr llvm::StringLiteral kKernelWarpsAttr = "attn.warps";
/// Attribute on a kernel: the f32 registers a thread spends on register
/// tiles (RegisterTilePlan::registers; set with them).
inline constexpr llvm::StringLiteral kKernelRegisterTileRegistersAttr =
    "attn.register_tile_registers";

} // namespace flashc::nvidia

#endif // FLASHC_CODEGEN_NVIDIA_REGISTERTILES_H
