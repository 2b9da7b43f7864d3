//===- FlopCountTest.cpp - kept pairs and FLOPs ---------------------------===//

#include "tools/flashc/FlopCount.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

using namespace flashc::tool;

namespace {

/// Counts kept pairs one by one, straight from DESIGN.md's rules.
double bruteForce(const FlopProblem &p) {
  int64_t shift = p.bottomRight ? p.seqK - p.seqQ : 0;
  double kept = 0;
  for (int64_t i = 0; i < p.seqQ; ++i)
    for (int64_t j = 0; j < p.seqK; ++j) {
      bool keep = true;
      if (p.causal)
        keep &= j <= i + shift;
      if (p.windowLeft)
        keep &=
            i + shift - *p.windowLeft <= j && j <= i + shift + *p.windowRight;
      kept += keep;
    }
  return kept;
}

TEST(FlopCount, ConventionForFullAttention) {
  FlopProblem p;
  p.batch = 2;
  p.headsQ = 8;
  p.seqQ = p.seqK = 1024;
  p.headDim = p.headDimV = 64;
  // 4 * B * Hq * Nq * Nk * D.
  EXPECT_EQ(forwardFlops(p), 4.0 * 2 * 8 * 1024 * 1024 * 64);
  p.headDimV = 128;
  EXPECT_EQ(forwardFlops(p), 2.0 * 2 * 8 * 1024 * 1024 * (64 + 128));
}

TEST(FlopCount, CausalCountsKeptPairsExactly) {
  FlopProblem p;
  p.seqQ = p.seqK = 1000;
  p.causal = true;
  EXPECT_EQ(countKeptPairs(p), 1000.0 * 1001 / 2);
  // Bottom-right with Nq < Nk keeps the whole prefix of each row.
  p.seqQ = 3;
  p.seqK = 5;
  p.bottomRight = true;
  EXPECT_EQ(countKeptPairs(p), 3 + 4 + 5);
  // Top-left with Nq > Nk: rows past Nk keep everything.
  p.seqQ = 5;
  p.seqK = 3;
  p.bottomRight = false;
  EXPECT_EQ(countKeptPairs(p), 1 + 2 + 3 + 3 + 3);
  // Bottom-right with Nq > Nk: the first rows keep nothing.
  p.bottomRight = true;
  EXPECT_EQ(countKeptPairs(p), 0 + 0 + 1 + 2 + 3);
}

TEST(FlopCount, ClosedFormMatchesBruteForce) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 3000; ++trial) {
    FlopProblem p;
    p.seqQ = 1 + rng() % 40;
    p.seqK = 1 + rng() % 40;
    p.causal = rng() % 2;
    p.bottomRight = rng() % 2;
    if (rng() % 2) {
      p.windowLeft = rng() % 50;
      p.windowRight = rng() % 50;
    }
    EXPECT_EQ(countKeptPairs(p), bruteForce(p))
        << "Nq=" << p.seqQ << " Nk=" << p.seqK << " causal=" << p.causal
        << " br=" << p.bottomRight
        << " window=" << (p.windowLeft ? *p.windowLeft : -1) << ","
        << (p.windowRight ? *p.windowRight : -1);
  }
}

TEST(FlopCount, HugeWindowsDoNotOverflow) {
  FlopProblem p;
  p.seqQ = 100;
  p.seqK = 200;
  p.windowLeft = INT64_MAX;
  p.windowRight = INT64_MAX;
  EXPECT_EQ(countKeptPairs(p), 100.0 * 200);
  p.windowRight = 0;
  p.windowLeft = 0;
  EXPECT_EQ(countKeptPairs(p), 100.0);
}

} // namespace

namespace {

TEST(FlopCount, SizesNearTheInt64LimitDoNotOverflow) {
  FlopProblem p;
  p.seqQ = p.seqK = int64_t(1) << 62;
  p.causal = true;
  p.windowLeft = INT64_MAX;
  p.windowRight = 3;
  double n = std::ldexp(1.0, 62);
  EXPECT_DOUBLE_EQ(countKeptPairs(p), n * (n + 1) / 2);
  p.bottomRight = true;
  p.seqK = INT64_MAX;
  EXPECT_GT(countKeptPairs(p), 0.0);
}

} // namespace
