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
};

/// On-chip bytes available to one CTA (GPU) or core (CPU) of a target, or an
/// error naming the unknown target.
llvm::Expected<int64_t> onChipBytes(llvm::StringRef target);

/// The paper's Bc = ceil(M / 4d), Br = min(Bc, d) with M in fp32 words,
/// rounded down to powers of two in [16, 128] and made to divide the layout
/// block sizes. Overrides (non-zero) replace the computed values and are
/// checked instead.
llvm::Expected<TileSizes> selectTileSizes(const attn::AttentionConfig &config,
                                          int64_t sramBytes,
                                          int64_t overrideQ = 0,
                                          int64_t overrideK = 0);

} // namespace flashc

#endif // FLASHC_PASSES_TILESELECTION_H
