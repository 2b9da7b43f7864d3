//===- ScoreModifiers.h - element formulas of masks and scores --*- C++ -*-===//
//
// The per-element meaning of attn.tile.mask, score_mod and score_grad, as
// arith/math ops on scalars. Targets differ in how they walk a tile (scalar
// loops on the CPU, register fragments on a GPU) but not in what one element
// computes, so every backend builds its elements here.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_SCOREMODIFIERS_H
#define FLASHC_CODEGEN_SCOREMODIFIERS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Region.h"

#include <optional>

namespace flashc::attn {
class TileMaskOp;
class TileScoreModOp;
class TileScoreGradOp;
} // namespace flashc::attn

namespace flashc::codegen {

/// Where one score sits: batch, query head, query row i, key column j (all
/// `index`).
struct ElementCoords {
  mlir::Value batch, head, row, col;

  /// Element \p idx (tile row, tile column) of a score tile whose first
  /// query is \p row0 and first key \p col0: query row0 + r, key col0 + c,
  /// or row0 + c, col0 + r when the tile is \p transposed (holds S^T).
  static ElementCoords of(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Value batch, mlir::Value head,
                          mlir::Value row0, mlir::Value col0,
                          mlir::ValueRange idx, bool transposed);
};

/// The modifiers of a score tile, in the order they apply: softcap, ALiBi,
/// then the custom score region.
struct ScoreModifiers {
  std::optional<double> softcap;
  bool alibi = false;
  /// Diagonal offset of the ALiBi distance (`index`).
  mlir::Value shift;
  /// The custom `score` region, or null when the op has none.
  mlir::Region *custom = nullptr;

  static ScoreModifiers of(attn::TileScoreModOp op);
  static ScoreModifiers of(attn::TileScoreGradOp op);
};

/// Clones the single block of \p region at the insertion point, with its
/// arguments bound to \p args, and returns what its `attn.yield` yields.
llvm::SmallVector<mlir::Value>
inlineRegion(mlir::OpBuilder &b, mlir::Region &region, mlir::ValueRange args);

/// slope_h = 2^(-8 (h + 1) / heads) in f32. It depends on the head only:
/// emit it outside the element loops.
mlir::Value emitAlibiSlope(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value head, mlir::Value heads);

/// The modified score of f32 \p raw at \p at: softcap c * tanh(s / c), then
/// s - slope * |i + shift - j|, then the custom region. \p slope is
/// emitAlibiSlope's value (unused without ALiBi).
mlir::Value emitModifiedScore(mlir::OpBuilder &b, mlir::Location loc,
                              const ScoreModifiers &mods, mlir::Value raw,
                              const ElementCoords &at, mlir::Value slope);

/// d(modified score)/d(raw) at f32 \p raw: softcap's 1 - tanh^2(raw / c)
/// times the custom region's derivative at the score it receives (ALiBi
/// adds a constant). The custom region must have passed
/// verifyScoreRegionDifferentiable.
mlir::Value emitModifiedScoreDerivative(mlir::OpBuilder &b, mlir::Location loc,
                                        const ScoreModifiers &mods,
                                        mlir::Value raw,
                                        const ElementCoords &at,
                                        mlir::Value slope);

/// Whether attn.tile.mask keeps element \p at (an i1): i < seq_q, j < seq_k,
/// the causal and window bounds around i + shift, and the custom region.
mlir::Value emitMaskKeeps(mlir::OpBuilder &b, mlir::Location loc,
                          attn::TileMaskOp op, const ElementCoords &at);

} // namespace flashc::codegen

#endif // FLASHC_CODEGEN_SCOREMODIFIERS_H
