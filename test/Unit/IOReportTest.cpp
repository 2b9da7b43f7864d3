//===- IOReportTest.cpp - the IO report against the formulas --------------===//
//
// Block classification is checked element by element against the float64
// reference's own mask (reference::isKept): every block holding a kept score
// must be visited, every block called full must keep every score; and for
// single masks the classification must be exact. HBM bytes are checked
// against the closed forms of the FlashAttention paper.
//
//===----------------------------------------------------------------------===//

#include "passes/IOReport.h"
#include "reference/Reference.h"

#include "dialect/AttnDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <tuple>

using namespace flashc;

namespace {
struct Case {
  int64_t nq, nk, br, bc;
  bool causal = false, bottomRight = false;
  std::optional<std::pair<int64_t, int64_t>> window;
  std::vector<int32_t> lensQ, lensK;
  int64_t batch = 1;
};

class IOReportTest : public ::testing::Test {
protected:
  mlir::MLIRContext ctx;
  mlir::Builder b{&ctx};

  attn::AttentionConfig config(const Case &c, mlir::Type elt, int64_t d = 64) {
    attn::AttentionConfig cfg;
    cfg.shape = {c.batch, 1, 1, c.nq, c.nk, d, d};
    cfg.elementType = elt;
    cfg.causal = c.causal;
    cfg.bottomRight = c.bottomRight;
    if (c.window) {
      cfg.windowLeft = c.window->first;
      cfg.windowRight = c.window->second;
    }
    cfg.hasSeqLensQ = !c.lensQ.empty();
    cfg.hasSeqLensK = !c.lensK.empty();
    return cfg;
  }

  ReportProblem problem(const Case &c) {
    ReportProblem p;
    p.batch = c.batch;
    p.seqQ = c.nq;
    p.seqK = c.nk;
    p.seqLensQ = c.lensQ;
    p.seqLensK = c.lensK;
    return p;
  }

  reference::Problem refProblem(const Case &c) {
    reference::Problem r;
    r.batch = c.batch;
    r.seqQ = c.nq;
    r.seqK = c.nk;
    r.causal = c.causal;
    r.bottomRight = c.bottomRight;
    r.window = c.window;
    r.seqLensQ = c.lensQ;
    r.seqLensK = c.lensK;
    return r;
  }

  /// Checks the walk against the element-level mask; returns whether the
  /// classification was exact.
  bool checkAgainstMask(const Case &c, bool queryMajor) {
    attn::AttentionConfig cfg = config(c, b.getF32Type());
    reference::Problem ref = refProblem(c);
    std::set<std::tuple<int64_t, int64_t, int64_t>> visited, full;
    forEachVisitedPair(cfg, problem(c), {c.br, c.bc}, queryMajor,
                       [&](int64_t bi, int64_t, int64_t qb, int64_t kb,
                           bool isFull) {
                         EXPECT_TRUE(visited.insert({bi, qb, kb}).second)
                             << "pair visited twice";
                         if (isFull)
                           full.insert({bi, qb, kb});
                       });
    bool exact = true;
    for (int64_t bi = 0; bi < c.batch; ++bi)
      for (int64_t qb = 0; qb * c.br < c.nq; ++qb)
        for (int64_t kb = 0; kb * c.bc < c.nk; ++kb) {
          bool any = false, all = true;
          for (int64_t i = qb * c.br; i < (qb + 1) * c.br; ++i)
            for (int64_t j = kb * c.bc; j < (kb + 1) * c.bc; ++j) {
              bool kept = i < c.nq && j < c.nk && reference::isKept(ref, bi, 0, i, j);
              any |= kept;
              all &= kept;
            }
          bool v = visited.count({bi, qb, kb}), f = full.count({bi, qb, kb});
          EXPECT_TRUE(!any || v) << "block (" << qb << ", " << kb
                                 << ") holds kept scores but is skipped";
          EXPECT_TRUE(!f || all) << "block (" << qb << ", " << kb
                                 << ") is called full but masks scores";
          exact &= (any == v) && (all == f);
        }
    return exact;
  }
};
} // namespace

TEST_F(IOReportTest, CausalSquareIsExact) {
  Case c{256, 256, 64, 64, /*causal=*/true};
  EXPECT_TRUE(checkAgainstMask(c, true));
  EXPECT_TRUE(checkAgainstMask(c, false));
  IOReport r = computeIOReport(config(c, b.getBF16Type()), problem(c),
                               {64, 64}, 256 * 1024, /*sumDq=*/true);
  // 4 x 4 tiles: 10 on or below the diagonal, 6 strictly below.
  EXPECT_EQ(r.forward.blocks.total, 16);
  EXPECT_EQ(r.forward.blocks.visited, 10);
  EXPECT_EQ(r.forward.blocks.full, 6);
  EXPECT_EQ(r.forward.blocks.skipped(), 6);
}

TEST_F(IOReportTest, CausalBottomRightRectangular) {
  Case c{64, 256, 64, 64, true, /*bottomRight=*/true};
  EXPECT_TRUE(checkAgainstMask(c, true));
  IOReport r = computeIOReport(config(c, b.getBF16Type()), problem(c),
                               {64, 64}, 256 * 1024, /*sumDq=*/true);
  // shift = 192: the single query tile sees all 4 key tiles, 3 of them full.
  EXPECT_EQ(r.forward.blocks.visited, 4);
  EXPECT_EQ(r.forward.blocks.full, 3);
  // More queries than keys: the first rows see nothing at all.
  Case tall{256, 64, 64, 32, true, true};
  EXPECT_TRUE(checkAgainstMask(tall, true));
  EXPECT_TRUE(checkAgainstMask(tall, false));
}

TEST_F(IOReportTest, OddSizesPaddingAndWindowsAreSafe) {
  std::mt19937 rng(std::random_device{}());
  for (int trial = 0; trial < 400; ++trial) {
    std::uniform_int_distribution<int64_t> len(1, 200);
    Case c{len(rng), len(rng), int64_t(16) << (rng() % 3),
           int64_t(16) << (rng() % 3)};
    c.causal = rng() % 2;
    c.bottomRight = rng() % 2;
    if (rng() % 2)
      c.window = {{int64_t(rng() % 70), int64_t(rng() % 40)}};
    c.batch = 2;
    if (rng() % 2) {
      c.lensQ = {int32_t(rng() % (c.nq + 1)), int32_t(c.nq)};
      c.lensK = {int32_t(rng() % (c.nk + 1)), 0};
    }
    SCOPED_TRACE(::testing::Message()
                 << "nq=" << c.nq << " nk=" << c.nk << " br=" << c.br
                 << " bc=" << c.bc << " causal=" << c.causal
                 << " br_align=" << c.bottomRight
                 << " window=" << (c.window ? c.window->first : -1) << ","
                 << (c.window ? c.window->second : -1)
                 << " lens=" << !c.lensQ.empty());
    checkAgainstMask(c, true);
    checkAgainstMask(c, false);
  }
}

TEST_F(IOReportTest, DenseHbmBytesMatchTheClosedForm) {
  // No mask, sizes multiples of the tiles: Q, O and LSE move once, K and V
  // once per query tile: e (Nq D + Nq Dv) + 4 Nq + (Nq / Br) e Nk (D + Dv).
  Case c{256, 512, 64, 128};
  IOReport r = computeIOReport(config(c, b.getBF16Type()), problem(c),
                               {64, 128}, 256 * 1024, /*sumDq=*/true);
  double e = 2, d = 64, n = 256, nk = 512;
  EXPECT_DOUBLE_EQ(r.forward.hbmReadBytes, e * n * d + (n / 64) * e * nk * 2 * d);
  EXPECT_DOUBLE_EQ(r.forward.hbmWriteBytes, e * n * d + 4 * n);
  EXPECT_EQ(r.forward.blocks.visited, 4 * 4);
  EXPECT_EQ(r.forward.blocks.full, 16);
  EXPECT_DOUBLE_EQ(r.forward.flops, 16 * 2.0 * 64 * 128 * 128);
  EXPECT_DOUBLE_EQ(r.conventionForwardFlops, 4.0 * n * nk * d);
  EXPECT_DOUBLE_EQ(r.conventionBackwardFlops, 2.5 * 4.0 * n * nk * d);
  // Standard attention: e (Nq D + Nk D + Nk Dv + Nq Dv + 4 Nq Nk).
  EXPECT_DOUBLE_EQ(r.standardForwardBytes,
                   e * (n * d + nk * d + nk * d + n * d + 4 * n * nk));
  // Theorem 2: N^2 d^2 / M elements, M = 256 KiB / e.
  EXPECT_DOUBLE_EQ(r.theorem2Bytes, e * n * nk * d * d / (256 * 1024 / e));
  // Flash moves fewer bytes than standard attention here.
  EXPECT_LT(r.forward.hbmReadBytes + r.forward.hbmWriteBytes,
            r.standardForwardBytes);
}

TEST_F(IOReportTest, BackwardFormsVisitAndCountAsTheirKernels) {
  // Dense, 4 x 4 tile pairs of 64 x 64, d = dv = 64, bf16. Summing dQ in
  // dq_accum: one pass over the pairs, 5 block matmuls each, and the f32
  // dq_accum rows read and written per pair. Recomputing: the dK/dV pass
  // (4 matmuls) and the dQ pass (3), no dq_accum.
  Case c{256, 256, 64, 64};
  IOReport sum = computeIOReport(config(c, b.getBF16Type()), problem(c),
                                 {64, 64}, 256 * 1024, /*sumDq=*/true);
  IOReport rec = computeIOReport(config(c, b.getBF16Type()), problem(c),
                                 {64, 64}, 256 * 1024, /*sumDq=*/false);
  double pair = 2.0 * 64 * 64 * 64;
  EXPECT_EQ(sum.backward.blocks.visited, 16);
  EXPECT_EQ(rec.backward.blocks.visited, 32);
  EXPECT_DOUBLE_EQ(sum.backward.flops, 16 * 5 * pair);
  EXPECT_DOUBLE_EQ(rec.backward.flops, 16 * 7 * pair);
  // Writes: D (4 B), zeros into dq_accum and dQ (4 d + e d) per query row,
  // each pair's dq_accum rows (64 x 4 d), dK and dV once.
  double e = 2, d = 64, n = 256;
  EXPECT_DOUBLE_EQ(sum.backward.hbmWriteBytes,
                   n * (4 + 4 * d + e * d) + 16 * 64 * 4 * d + n * e * 2 * d);
  EXPECT_DOUBLE_EQ(rec.backward.hbmWriteBytes, n * 4 + n * e * d + n * e * 2 * d);
}

TEST_F(IOReportTest, RecomputedDqWalksItsOwnTiles) {
  // Causal N = 256, d = 64, bf16; dK/dV at 64 x 128, bwd_dq at 128 x 64.
  // dK/dV: 4 x 2 pairs, 6 on or below the diagonal; bwd_dq: 2 x 4 pairs, 6
  // too. bwd_dq reads Q, dO, LSE, D once per query tile (2 tiles of 128
  // rows) and K, V (64 rows) per visited pair; its on-chip bytes are those
  // of 128 x 64 tiles.
  Case c{256, 256, 64, 128};
  c.causal = true;
  attn::AttentionConfig cfg = config(c, b.getBF16Type());
  IOReport same = computeIOReport(cfg, problem(c), {64, 128}, 256 * 1024,
                                  /*sumDq=*/false);
  IOReport own = computeIOReport(cfg, problem(c), {64, 128, 128, 64},
                                 256 * 1024, /*sumDq=*/false);
  double e = 2, d = 64;
  EXPECT_EQ(own.backward.blocks.total, 8 + 8);
  EXPECT_EQ(own.backward.blocks.visited, 6 + 6);
  // The dK/dV pass is the same in both; bwd_dq's pairs are 128 x 64 instead
  // of 64 x 128, as many FLOPs a pair, as many pairs visited.
  EXPECT_DOUBLE_EQ(own.backward.flops, same.backward.flops);
  // bwd_dq's reads at 64 x 128: Q, dO, LSE, D per row (256 (2 e d + 8))
  // and K, V per visited pair: query tiles of 64 see 1, 1, 2, 2 key tiles
  // of 128 rows; at 128 x 64, query tiles of 128 see 2 and 4 of 64 rows.
  double dqReadsSame = 256 * (2 * e * d + 8) + 6 * 128 * 2 * e * d;
  double dqReadsOwn = 256 * (2 * e * d + 8) + 6 * 64 * 2 * e * d;
  EXPECT_DOUBLE_EQ(own.backward.hbmReadBytes - same.backward.hbmReadBytes,
                   dqReadsOwn - dqReadsSame);
  // On chip: the larger of the two kernels; bwd_dq's at 128 x 128 (Q, dO,
  // K, V tiles, the f32 dQ, LSE and D, S, P and dP) outgrows dK/dV's at
  // 64 x 64.
  IOReport wide = computeIOReport(cfg, problem(c), {64, 64, 128, 128},
                                  256 * 1024, /*sumDq=*/false);
  EXPECT_EQ(wide.backward.onChipBytes,
            e * (128 * 2 * d + 128 * 2 * d) +
                4 * (128 * d + 2 * 128 + 3 * 128 * 128));
}

TEST_F(IOReportTest, PaddedBatchReadsOnlyValidRows) {
  // Batch 1 has no valid keys: nothing is visited for it, and its query rows
  // are still written (O = 0, LSE = -inf).
  Case c{100, 100, 32, 32};
  c.batch = 2;
  c.lensQ = {100, 100};
  c.lensK = {100, 0};
  IOReport r = computeIOReport(config(c, b.getF32Type(), 16), problem(c),
                               {32, 32}, 256 * 1024, /*sumDq=*/true);
  EXPECT_EQ(r.forward.blocks.visited, 4 * 4);
  EXPECT_DOUBLE_EQ(r.forward.hbmWriteBytes, 2 * (4.0 * 16 + 4) * 100);
  // Keys read: per query tile, rows 32+32+32+4 of 16+16 floats, batch 0 only.
  EXPECT_DOUBLE_EQ(r.forward.hbmReadBytes,
                   2 * 4.0 * 16 * 100 + 4 * 4.0 * 32 * 100);
}
