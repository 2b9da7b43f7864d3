//===- TileAccesses.h - tiles each attn.tile op reads, writes -*- C++ -*-===//
//
// The analyses of the NVIDIA backend (unread tiles, barriers) reason about
// tile ops by the on-chip tiles they read and write; this is the one table
// of those effects, read off each op's description in AttnTileOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_NVIDIA_TILEACCESSES_H
#define FLASHC_CODEGEN_NVIDIA_TILEACCESSES_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/SmallVector.h"

namespace flashc::nvidia {

/// The tiles (on-chip memrefs) an attn.tile op reads and writes. Global
/// tensors are not listed: only tile.load reads them and only tile.store
/// writes them.
struct TileAccesses {
  llvm::SmallVector<mlir::Value, 4> reads, writes;
};

/// The accesses of \p op, or std::nullopt when it is not an attn.tile op.
std::optional<TileAccesses> getTileAccesses(mlir::Operation *op);

/// Whether \p op writes global memory (tile.store).
bool writesGlobalMemory(mlir::Operation *op);

} // namespace flashc::nvidia

#endif // FLASHC_CODEGEN_NVIDIA_TILEACCESSES_H
