//===- KernelBuilder.h - pieces shared by the tiled kernels -----*- C++ -*-===//
//
// The forward and backward tiling passes build their kernels from the same
// parts: the ABI's argument list, per-batch sequence lengths, the score tile
// (S = scale Q K^T, modifiers, mask on partial blocks only) and the loop over
// the blocks that mask analysis and the run-time layout let through.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_PASSES_KERNELBUILDER_H
#define FLASHC_PASSES_KERNELBUILDER_H

#include "dialect/AttentionConfig.h"
#include "passes/BlockBounds.h"
#include "passes/TileSelection.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <functional>

namespace flashc {

/// What a kernel argument is; the ABI fixes the order (passes/KernelABI.h).
enum class ArgRole {
  Q, K, V, O, Lse, DOut, Delta, DQ, DK, DV, DQAccum,
  SeqLensQ, SeqLensK, LayoutOffsets, LayoutBlocks, Seed, Offset
};

/// A kernel function being built, with its arguments by role.
struct Kernel {
  mlir::func::FuncOp func;
  llvm::DenseMap<unsigned, mlir::Value> args;

  mlir::Value arg(ArgRole role) const {
    return args.lookup(static_cast<unsigned>(role));
  }
};

/// Builds the parts of one spec op's kernels.
class KernelBuilder {
public:
  KernelBuilder(mlir::ImplicitLocOpBuilder &b,
                const attn::AttentionConfig &config, TileSizes tiles,
                MaskAnalysis masks);

  /// Creates `@<baseName>_<kind>` at the end of `module` (before a
  /// terminator op it may end with) with the tensor
  /// arguments `roles` followed by the optional groups the config asks for
  /// (sequence lengths, layout lists, dropout seed and offset), and leaves the
  /// builder in its entry block.
  Kernel createKernel(mlir::ModuleOp module, llvm::StringRef baseName,
                      llvm::StringRef kind, llvm::ArrayRef<ArgRole> roles);

  mlir::Value cst(int64_t v);
  /// A statically shaped on-chip tile.
  mlir::Value tile(llvm::ArrayRef<int64_t> shape, mlir::Type elementType);
  mlir::Value f32Tile(llvm::ArrayRef<int64_t> shape);

  /// Valid length of batch `batch`: seqlens[batch] clamped to [0, full], or
  /// `full` when there is no seqlens argument.
  mlir::Value seqLen(mlir::Value seqlens, mlir::Value batch, mlir::Value full);
  /// nk - nq under bottom-right alignment, else 0.
  mlir::Value shift(mlir::Value nq, mlir::Value nk);

  /// The coordinates of one score tile.
  /// Where a score tile sits (row0: first query, col0: first key). A
  /// `transposed` tile holds S^T: its rows are keys.
  struct ScoreTile {
    mlir::Value batch, head, row0, col0, shift, heads, nq, nk;
    bool transposed = false;
  };

  /// S = scale * Q K^T (S^T = scale * K Q^T when transposed) into `scores`,
  /// then the score modifiers; when `raw` is given it receives the scores
  /// before the modifiers (for their derivative).
  void emitScores(const ScoreTile &at, mlir::Value qTile, mlir::Value kTile,
                  mlir::Value scores, mlir::Value raw = nullptr);
  /// Masks `scores` unless the block is full (`isFull` is an i1).
  void emitMaskIfPartial(const ScoreTile &at, mlir::Value scores,
                         mlir::Value isFull);
  /// Dropout of `probs` (a no-op without dropout).
  void emitDropout(const ScoreTile &at, mlir::Value probs, Kernel &kernel);
  /// dS *= d(modified)/d(raw) (a no-op without score modifiers).
  void emitScoreGrad(const ScoreTile &at, mlir::Value grads, mlir::Value raw);
  bool hasScoreModifiers() const;
  /// The `transposed` flag of the tile ops on \p at's scores.
  mlir::UnitAttr transposedAttr(const ScoreTile &at);

  /// Calls `body(block, isFull)` for every block along the free axis that
  /// the masks and, when `layoutOffsets` is given, the layout lists let
  /// through. `fixedTile`/`freeTile` are the tile sizes along each axis,
  /// `layoutFixed`/`layoutFree` the layout's block sizes along them.
  void forEachBlock(const BlockBoundsInputs<mlir::Value> &bounds,
                    bool queryIsFixed, mlir::Value layoutOffsets,
                    mlir::Value layoutBlocks, mlir::Value layoutBatch,
                    mlir::Value layoutHead,
                    llvm::function_ref<void(mlir::Value, mlir::Value)> body);

  /// Slab index of the layout for batch b / head h (0 when broadcast).
  mlir::Value layoutSlab(mlir::Value offsets, unsigned dim, mlir::Value idx);

  const attn::AttentionConfig &config() const { return cfg; }
  TileSizes tiles() const { return tileSizes; }
  mlir::ImplicitLocOpBuilder &builder() { return b; }

private:
  mlir::ImplicitLocOpBuilder &b;
  const attn::AttentionConfig &cfg;
  TileSizes tileSizes;
  MaskAnalysis masks;
};

/// Emits `scf.forall` over `upperBounds` whose body runs inside a
/// `memref.alloca_scope`, so on-chip tiles are released per iteration.
void emitGrid(mlir::ImplicitLocOpBuilder &b, mlir::ValueRange upperBounds,
              llvm::function_ref<void(mlir::ValueRange)> body);

} // namespace flashc

#endif // FLASHC_PASSES_KERNELBUILDER_H
