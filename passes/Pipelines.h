//===- Pipelines.h - spec to tiled kernels ----------------------*- C++ -*-===//

#ifndef FLASHC_PASSES_PIPELINES_H
#define FLASHC_PASSES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

#include <string>

namespace flashc {

struct TilingOptions {
  /// Target whose on-chip memory sizes the tiles: cpu, sm_80, sm_90.
  std::string target = "cpu";
  /// On-chip bytes; 0 takes the target's.
  int64_t sramBytes = 0;
  /// Tile size overrides; 0 lets tile selection choose.
  int64_t blockQ = 0, blockK = 0;
  /// The backward's dQ kernel's tiles where they differ (TileSizes::forDq).
  int64_t dqBlockQ = 0, dqBlockK = 0;
  /// Backward: dQ summed in dq_accum by the dK/dV kernel (5 block matmuls a
  /// pair), else recomputed in bwd_dq (7; attn-tile-backward's sum-dq).
  bool sumDq = true;
};

/// Spec-level ops to a module of tiled kernels (IR level 2): tile
/// selection, then the forward and backward tiling passes.
void buildTilingPipeline(mlir::OpPassManager &pm, const TilingOptions &opts);

/// Registers the passes and the `attn-tile` pipeline with the global
/// registry (for flashc-opt).
void registerFlashcPassesAndPipelines();

} // namespace flashc

#endif // FLASHC_PASSES_PIPELINES_H
