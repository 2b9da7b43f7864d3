//===- TileSelection.h - FlashAttention tile sizes --------------*- C++ -*-===//

#ifndef FLASHC_PASSES_TILESELECTION_H
#define FLASHC_PASSES_TILESELECTION_H

#include "dialect/AttentionConfig.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace flashc {

/// Name of the attribute `attn-select-tiles` puts on spec ops.
inline constexpr llvm::StringLiteral kTileSizesAttr = "attn.tile_sizes";

struct TileSizes {
  int64_t blockQ = 0; ///< Br: rows of a query tile
  int64_t blockK = 0; ///< Bc: rows of a key/value tile
  /// The backward's bwd_dq kernel (dQ by recomputation: one CTA a query
  /// tile, walking key tiles) where its tiles differ from the dK/dV
  /// kernel's (one CTA a key tile, walking query tiles); 0: blockQ, blockK.
  int64_t dqBlockQ = 0, dqBlockK = 0;

  /// The tiles of bwd_dq.
  TileSizes forDq() const {
    return {dqBlockQ ? dqBlockQ : blockQ, dqBlockK ? dqBlockK : blockK};
  }
};

/// On-chip bytes available to one CTA (GPU) or core (CPU) of a target, or an
/// error naming the unknown target.
llvm::Expected<int64_t> onChipBytes(llvm::StringRef target);

/// The paper's Bc = ceil(M / 4d), Br = min(Bc, d) with M in fp32 words,
/// rounded down to powers of two in [16, 128] and made to divide the layout
/// block sizes. Overrides (non-zero) replace the computed values and are
/// checked instead; the bwd_dq ones (\p overrideDqQ, \p overrideDqK) give
/// that kernel its own tiles.
llvm::Expected<TileSizes> selectTileSizes(const attn::AttentionConfig &config,
                                          int64_t sramBytes,
                                          int64_t overrideQ = 0,
                                          int64_t overrideK = 0,
                                          int64_t overrideDqQ = 0,
                                          int64_t overrideDqK = 0);

} // namespace flashc

#endif // FLASHC_PASSES_TILESELECTION_H
