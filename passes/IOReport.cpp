//===- IOReport.cpp - HBM traffic, FLOPs and blocks of a tiled kernel -----===//

#include "passes/IOReport.h"
#include "passes/BlockBounds.h"

#include <algorithm>
#include <functional>

namespace flashc {

namespace {
/// a / b rounded up, for a >= 0 and b > 0, without forming a + b - 1 (layout
/// block sizes may be as large as INT64_MAX - 15).
int64_t ceilDiv(int64_t a, int64_t b) { return a / b + (a % b != 0); }

/// Walks the tile pairs a kernel visits, exactly as the kernel's loops do.
class PairWalker {
public:
  PairWalker(const attn::AttentionConfig &cfg, const ReportProblem &p,
             TileSizes tiles)
      : cfg(cfg), p(p), tiles(tiles), masks(analyzeMasks(cfg)) {}

  int64_t seqLenQ(int64_t b) const {
    return p.seqLensQ.empty() ? p.seqQ
                              : std::clamp<int64_t>(p.seqLensQ[b], 0, p.seqQ);
  }
  int64_t seqLenK(int64_t b) const {
    return p.seqLensK.empty() ? p.seqK
                              : std::clamp<int64_t>(p.seqLensK[b], 0, p.seqK);
  }

  /// Calls visit(y, isFull) for each free-axis block of one fixed tile.
  void forEachBlock(bool queryIsFixed, int64_t b, int64_t h, int64_t fixed0,
                    const std::function<void(int64_t, bool)> &visit) const {
    int64_t nq = seqLenQ(b), nk = seqLenK(b);
    int64_t shift = cfg.bottomRight ? nk - nq : 0;
    IntDomain d;
    BlockBoundsInputs<int64_t> in =
        queryIsFixed
            ? BlockBoundsInputs<int64_t>{fixed0, tiles.blockQ, nq,
                                         tiles.blockK, nk, shift}
            : BlockBoundsInputs<int64_t>{fixed0, tiles.blockK, nk,
                                         tiles.blockQ, nq, shift};
    BlockBounds<int64_t> bounds =
        computeBlockBounds(d, toAxes(masks.constraints, queryIsFixed), in);
    auto range = [&](int64_t lo, int64_t hi) {
      for (int64_t y = lo; y < hi; ++y)
        visit(y, masks.exact && y >= bounds.fullLo && y < bounds.fullHi);
    };
    if (!cfg.hasLayout || p.layout.empty()) {
      range(bounds.lo, bounds.hi);
      return;
    }
    int64_t layoutFixed = queryIsFixed ? cfg.layoutBlockQ : cfg.layoutBlockK;
    int64_t layoutFree = queryIsFixed ? cfg.layoutBlockK : cfg.layoutBlockQ;
    int64_t freeTile = queryIsFixed ? tiles.blockK : tiles.blockQ;
    int64_t ratio = layoutFree / freeTile;
    int64_t mq = ceilDiv(p.seqQ, cfg.layoutBlockQ);
    int64_t mk = ceilDiv(p.seqK, cfg.layoutBlockK);
    int64_t lb = p.layoutB == 1 ? 0 : b, lh = p.layoutH == 1 ? 0 : h;
    int64_t row = fixed0 / layoutFixed;
    int64_t cols = queryIsFixed ? mk : mq;
    for (int64_t c = 0; c < cols; ++c) {
      int64_t r = queryIsFixed ? row : c, k = queryIsFixed ? c : row;
      if (!p.layout[((lb * p.layoutH + lh) * mq + r) * mk + k])
        continue;
      range(std::max(c * ratio, bounds.lo),
            std::min(c * ratio + ratio, bounds.hi));
    }
  }

  const attn::AttentionConfig &cfg;
  const ReportProblem &p;
  TileSizes tiles;
  MaskAnalysis masks;
};

/// Rows a tile.load of `tile` rows at `row0` moves: min(valid - row0, tile,
/// size - row0), at least 0.
int64_t loadedRows(int64_t row0, int64_t tile, int64_t valid, int64_t size) {
  return std::max<int64_t>(
      0, std::min({valid - row0, tile, size - row0}));
}

int64_t elementBytes(mlir::Type t) {
  return t.isF32() ? 4 : 2;
}
} // namespace

void forEachVisitedPair(
    const attn::AttentionConfig &cfg, const ReportProblem &p, TileSizes tiles,
    bool queryMajor,
    const std::function<void(int64_t, int64_t, int64_t, int64_t, bool)>
        &visit) {
  PairWalker walker(cfg, p, tiles);
  int64_t fixedTile = queryMajor ? tiles.blockQ : tiles.blockK;
  int64_t fixedBlocks = ceilDiv(queryMajor ? p.seqQ : p.seqK, fixedTile);
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t h = 0; h < p.headsQ; ++h)
      for (int64_t x = 0; x < fixedBlocks; ++x)
        walker.forEachBlock(queryMajor, b, h, x * fixedTile,
                            [&](int64_t y, bool full) {
                              if (queryMajor)
                                visit(b, h, x, y, full);
                              else
                                visit(b, h, y, x, full);
                            });
}

namespace {
/// Figures of the forward kernel at \p tiles.
PassFigures forwardFigures(const attn::AttentionConfig &cfg,
                           const ReportProblem &p, TileSizes tiles) {
  PairWalker walker(cfg, p, tiles);
  const int64_t br = tiles.blockQ, bc = tiles.blockK;
  const int64_t d = cfg.shape.headDim, dv = cfg.shape.headDimV;
  const double e = elementBytes(cfg.elementType);
  const int64_t qBlocks = ceilDiv(p.seqQ, br), kBlocks = ceilDiv(p.seqK, bc);
  const int64_t pairs = p.batch * p.headsQ * qBlocks * kBlocks;

  // Forward: one CTA per (b, h, query tile).
  PassFigures f;
  f.blocks.total = pairs;
  f.onChipBytes = static_cast<int64_t>(e * (br * d + bc * d + bc * dv)) +
                  4 * (br * bc + br * dv + 3 * br);
  for (int64_t b = 0; b < p.batch; ++b) {
    int64_t nq = walker.seqLenQ(b), nk = walker.seqLenK(b);
    for (int64_t h = 0; h < p.headsQ; ++h)
      for (int64_t qb = 0; qb < qBlocks; ++qb) {
        int64_t q0 = qb * br;
        f.hbmReadBytes += e * d * loadedRows(q0, br, nq, p.seqQ);
        walker.forEachBlock(true, b, h, q0, [&](int64_t y, bool full) {
          ++f.blocks.visited;
          f.blocks.full += full;
          f.hbmReadBytes +=
              e * (d + dv) * loadedRows(y * bc, bc, nk, p.seqK);
          f.flops += 2.0 * br * bc * (d + dv);
        });
        int64_t outRows = std::min(br, p.seqQ - q0);
        f.hbmWriteBytes += (e * dv + 4) * outRows;
      }
  }
  return f;
}

/// Figures of the backward kernels at \p tiles (bwd_dq's: tiles.forDq()).
PassFigures backwardFigures(const attn::AttentionConfig &cfg,
                            const ReportProblem &p, TileSizes tiles,
                            bool sumDq) {
  PairWalker walker(cfg, p, tiles);
  const int64_t br = tiles.blockQ, bc = tiles.blockK;
  const int64_t d = cfg.shape.headDim, dv = cfg.shape.headDimV;
  const double e = elementBytes(cfg.elementType);
  const int64_t group = p.headsQ / p.headsKV;
  const int64_t qBlocks = ceilDiv(p.seqQ, br), kBlocks = ceilDiv(p.seqK, bc);
  const int64_t pairs = p.batch * p.headsQ * qBlocks * kBlocks;

  // Backward: bwd_prep, then bwd_dkdv (one CTA per (b, KV head, key tile),
  // looping over the group's query heads), then bwd_dq: with sumDq, bwd_dkdv
  // adds each pair's dQ into the f32 dq_accum and bwd_dq converts it; else
  // bwd_dq walks the pairs again as the forward does, at its own tiles.
  PassFigures g;
  const TileSizes dqTiles = tiles.forDq();
  const int64_t dqBr = dqTiles.blockQ, dqBc = dqTiles.blockK;
  const int64_t dqQBlocks = ceilDiv(p.seqQ, dqBr);
  PairWalker dqWalker(cfg, p, dqTiles);
  g.blocks.total =
      sumDq ? pairs
            : pairs + p.batch * p.headsQ * dqQBlocks * ceilDiv(p.seqK, dqBc);
  int64_t dropBytes = cfg.hasDropout() ? 4 * br * bc : 0;
  int64_t dkdvChip =
      static_cast<int64_t>(e * (bc * (d + dv) + br * (d + dv))) +
      4 * (bc * (d + dv) + 2 * br + 3 * br * bc) + dropBytes;
  if (sumDq) // dS^T in the element type, the pair's dQ and its staged copy
    g.onChipBytes = dkdvChip + static_cast<int64_t>(e * bc * br) + 8 * br * d;
  else
    g.onChipBytes = std::max(
        dkdvChip,
        static_cast<int64_t>(e * (dqBr * (d + dv) + dqBc * (d + dv))) +
            4 * (dqBr * d + 2 * dqBr + 3 * dqBr * dqBc));
  for (int64_t b = 0; b < p.batch; ++b) {
    int64_t nq = walker.seqLenQ(b), nk = walker.seqLenK(b);
    for (int64_t h = 0; h < p.headsQ; ++h) {
      // bwd_prep reads O and dO, writes D (and zeros into dq_accum); bwd_dq
      // writes dQ.
      g.hbmReadBytes += 2 * e * dv * p.seqQ;
      g.hbmWriteBytes += (4 + e * d) * p.seqQ;
      if (sumDq) {
        // bwd_dq reads dq_accum.
        g.hbmReadBytes += 4 * d * p.seqQ;
        g.hbmWriteBytes += 4 * d * p.seqQ;
        continue;
      }
      for (int64_t qb = 0; qb < dqQBlocks; ++qb) {
        int64_t q0 = qb * dqBr;
        // bwd_dq reads Q, dO, LSE, D once and K, V per visited pair.
        g.hbmReadBytes +=
            (e * (d + dv) + 8) * loadedRows(q0, dqBr, nq, p.seqQ);
        dqWalker.forEachBlock(true, b, h, q0, [&](int64_t y, bool full) {
          ++g.blocks.visited;
          g.blocks.full += full;
          g.hbmReadBytes +=
              e * (d + dv) * loadedRows(y * dqBc, dqBc, nk, p.seqK);
          g.flops += 2.0 * dqBr * dqBc * (2 * d + dv);
        });
      }
    }
    for (int64_t hk = 0; hk < p.headsKV; ++hk)
      for (int64_t kb = 0; kb < kBlocks; ++kb) {
        int64_t k0 = kb * bc, rows = std::min(bc, p.seqK - k0);
        g.hbmReadBytes += e * (d + dv) * loadedRows(k0, bc, nk, p.seqK);
        for (int64_t h = hk * group; h < (hk + 1) * group; ++h)
          walker.forEachBlock(false, b, h, k0, [&](int64_t y, bool full) {
            ++g.blocks.visited;
            g.blocks.full += full;
            g.hbmReadBytes +=
                (e * (d + dv) + 8) * loadedRows(y * br, br, nq, p.seqQ);
            g.flops += 2.0 * br * bc * (2 * d + 2 * dv);
            if (!sumDq)
              return;
            // The pair's dQ: an f32 add (read and write) per element.
            int64_t dqRows =
                std::max<int64_t>(0, std::min(br, nq - y * br));
            g.hbmReadBytes += 4 * d * dqRows;
            g.hbmWriteBytes += 4 * d * dqRows;
            g.flops += 2.0 * br * bc * d;
          });
        g.hbmWriteBytes += e * (d + dv) * rows;
      }
  }
  return g;
}
} // namespace

IOReport computeIOReport(const attn::AttentionConfig &cfg,
                         const ReportProblem &p, TileSizes forwardTiles,
                         TileSizes backwardTiles, int64_t sramBytes,
                         bool sumDq) {
  IOReport r;
  r.sramBytes = sramBytes;
  r.forward = forwardFigures(cfg, p, forwardTiles);
  r.backward = backwardFigures(cfg, p, backwardTiles, sumDq);
  const int64_t d = cfg.shape.headDim, dv = cfg.shape.headDimV;
  const double e = elementBytes(cfg.elementType);

  // The field's conventions and standard attention, per (b, h) times B Hq.
  const double bh = static_cast<double>(p.batch) * p.headsQ;
  const double nqnk = static_cast<double>(p.seqQ) * p.seqK;
  r.conventionForwardFlops =
      bh * 2.0 * nqnk * (d + dv) * (cfg.causal ? 0.5 : 1.0);
  r.conventionBackwardFlops = 2.5 * r.conventionForwardFlops;
  // Forward (the paper's Algorithm 0): read Q, K, V; write S, read S, write
  // P, read P; write O.
  r.standardForwardBytes =
      bh * e * (p.seqQ * d + p.seqK * d + p.seqK * dv + p.seqQ * dv +
                4.0 * nqnk);
  // Backward: read P twice, write and read dP, write dS and read it twice
  // (for dQ and dK); read Q, K, V, dO, write dQ, dK, dV.
  r.standardBackwardBytes =
      bh * e * (2.0 * (p.seqQ * d + p.seqK * d + p.seqK * dv) +
                2.0 * p.seqQ * dv + 7.0 * nqnk);
  const double m = sramBytes / e; // on-chip memory in elements
  const double dd = static_cast<double>(std::max(d, dv));
  r.theorem2Bytes = bh * e * nqnk * dd * dd / m;
  return r;
}

} // namespace flashc
