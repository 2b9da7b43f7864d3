//===- IOReport.h - HBM traffic, FLOPs and blocks of a tiled kernel -*- C++ -*-===//
//
// What `flashc explain` prints: the figures of the tiled program (IR level
// 2) for concrete sizes, next to standard attention's. The block counts come
// from the same bounds arithmetic the kernels execute (BlockBounds.h), so the
// report describes what runs, not an idealisation.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_PASSES_IOREPORT_H
#define FLASHC_PASSES_IOREPORT_H

#include "passes/MaskAnalysis.h"
#include "passes/TileSelection.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace flashc {

/// Concrete sizes and run-time data the report is computed for.
struct ReportProblem {
  int64_t batch = 1, headsQ = 1, headsKV = 1, seqQ = 1, seqK = 1;
  /// Per-batch valid lengths; empty means full.
  std::vector<int32_t> seqLensQ, seqLensK;
  /// Dense layout [layoutB, layoutH, MQ, MK], nonzero keeps; empty: all kept.
  std::vector<uint8_t> layout;
  int64_t layoutB = 1, layoutH = 1;
};

/// Counts of tile pairs (query tile x key tile) over the whole problem.
struct BlockCounts {
  int64_t total = 0;   ///< every pair
  int64_t visited = 0; ///< pairs the kernel computes
  int64_t full = 0;    ///< visited pairs that need no mask
  int64_t partial() const { return visited - full; }
  int64_t skipped() const { return total - visited; }
};

struct PassFigures {
  double hbmReadBytes = 0, hbmWriteBytes = 0;
  double flops = 0; ///< executed, counting whole tiles
  int64_t onChipBytes = 0;
  BlockCounts blocks;
};

struct IOReport {
  int64_t sramBytes = 0;
  PassFigures forward, backward;
  /// The FlashAttention convention's FLOPs (4 B H Nq Nk D per forward, half
  /// when causal; backward 2.5x), as benchmarks count them.
  double conventionForwardFlops = 0, conventionBackwardFlops = 0;
  /// Standard attention (S and P materialised in HBM): Theta(N d + N^2).
  double standardForwardBytes = 0, standardBackwardBytes = 0;
  /// The paper's Theorem 2 term N^2 d^2 / M (in elements, times the element
  /// size), the order of FlashAttention's HBM accesses.
  double theorem2Bytes = 0;
};

/// Calls `visit(b, h, qTile, kTile, isFull)` for every tile pair a kernel
/// visits: walking key tiles per query tile as the forward and dQ kernels do
/// (`queryMajor`), or query tiles per key tile as the dK/dV kernel does.
void forEachVisitedPair(
    const attn::AttentionConfig &config, const ReportProblem &problem,
    TileSizes tiles, bool queryMajor,
    const std::function<void(int64_t, int64_t, int64_t, int64_t, bool)>
        &visit);

/// Computes the report. `config` supplies masks, dims D/Dv and the element
/// type; `problem` the concrete sizes (which must agree with config's static
/// ones: callers check). The forward kernel runs at `forwardTiles`, the
/// backward's at `backwardTiles` (bwd_dq's: its forDq()). `sumDq`: the
/// backward form whose dK/dV kernel sums dQ in dq_accum (the CPU's), else
/// the one whose bwd_dq recomputes it (the GPU's; TilingOptions::sumDq).
IOReport computeIOReport(const attn::AttentionConfig &config,
                         const ReportProblem &problem, TileSizes forwardTiles,
                         TileSizes backwardTiles, int64_t sramBytes,
                         bool sumDq);

/// The report with every kernel at `tiles` (bwd_dq's: tiles.forDq()).
inline IOReport computeIOReport(const attn::AttentionConfig &config,
                                const ReportProblem &problem, TileSizes tiles,
                                int64_t sramBytes, bool sumDq) {
  return computeIOReport(config, problem, tiles, tiles, sramBytes, sumDq);
}

} // namespace flashc

#endif // FLASHC_PASSES_IOREPORT_H
