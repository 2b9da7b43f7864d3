//===- ElementwiseTileOps.h - what element-wise tile ops compute -*- C++ -*-===//
//
// fill, copy, mask, score_mod, score_grad, dropout, exp_lse and softmax_grad
// compute each element of a 2-D f32 tile from the same element of other
// tiles, the element's row of 1-D tiles, and its coordinates. How a thread
// walks the tile differs (shared-memory tiles split among the CTA's threads,
// register tiles as mma fragments: RegisterTiles.h); what one element
// computes is built here once, for both.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_NVIDIA_ELEMENTWISETILEOPS_H
#define FLASHC_CODEGEN_NVIDIA_ELEMENTWISETILEOPS_H

#include "mlir/IR/Builders.h"

#include <functional>
#include <optional>

namespace flashc::nvidia {

/// The per-element computation of an element-wise attn.tile op.
struct ElementFormula {
  /// The 2-D tile written.
  mlir::Value dest;
  /// Tiles of dest's shape read at the element (f32 values in `in`).
  llvm::SmallVector<mlir::Value, 2> sources;
  /// 1-D tiles read at the element's row (f32 values in `rows`), or at its
  /// column when `rowSourcesByColumn` (a transposed exp_lse/softmax_grad).
  llvm::SmallVector<mlir::Value, 1> rowSources;
  /// The f32 value of element \p idx (row, column of the tile).
  std::function<mlir::Value(mlir::OpBuilder &, mlir::Location,
                            mlir::ValueRange idx, mlir::ValueRange in,
                            mlir::ValueRange rows)>
      compute;
  bool rowSourcesByColumn = false;
};

/// The formula of \p op, with what depends only on the tile (ALiBi slope,
/// Philox round keys) built at \p b's insertion point. std::nullopt when
/// \p op is not element-wise. A formula without `compute` means the op
/// changes nothing (score_grad without modifiers: the derivative is 1).
std::optional<ElementFormula> buildElementFormula(mlir::OpBuilder &b,
                                                  mlir::Operation *op);

/// Whether \p op is one of the element-wise tile ops.
bool isElementwiseTileOp(mlir::Operation *op);

/// Whether element-wise \p op reads its 1-D tiles at the element's column
/// (a transposed exp_lse or softmax_grad).
bool readsRowSourcesByColumn(mlir::Operation *op);

} // namespace flashc::nvidia

#endif // FLASHC_CODEGEN_NVIDIA_ELEMENTWISETILEOPS_H
