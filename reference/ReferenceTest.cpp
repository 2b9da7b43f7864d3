//===- ReferenceTest.cpp - Tests of the float64 attention reference -------===//
//
// The reference judges the compiler, so it is judged here by means that do
// not share its code: hand-computed numbers, published Philox vectors,
// explicit softmax, and central finite differences of its own forward pass.
//
//===----------------------------------------------------------------------===//

#include "reference/Reference.h"
#include "reference/Philox.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

using namespace flashc::reference;

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

struct Inputs {
  std::vector<double> q, k, v;
};

std::vector<double> randomVector(size_t n, std::mt19937_64 &rng,
                                 double bound = 1.0) {
  std::uniform_real_distribution<double> dist(-bound, bound);
  std::vector<double> x(n);
  for (double &e : x)
    e = dist(rng);
  return x;
}

Inputs randomInputs(const Problem &p, uint64_t seed, double bound = 1.0) {
  std::mt19937_64 rng(seed);
  Inputs in;
  in.q = randomVector(p.batch * p.headsQ * p.seqQ * p.headDim, rng, bound);
  in.k = randomVector(p.batch * p.headsKV * p.seqK * p.headDim, rng, bound);
  in.v = randomVector(p.batch * p.headsKV * p.seqK * p.headDimV, rng, bound);
  return in;
}

size_t outSize(const Problem &p) {
  return p.batch * p.headsQ * p.seqQ * p.headDimV;
}

void expectNoNaN(const std::vector<double> &x, const char *what) {
  for (size_t n = 0; n < x.size(); ++n)
    ASSERT_FALSE(std::isnan(x[n])) << what << "[" << n << "]";
}

/// The problem most tests start from: small, Nq != Nk, D != Dv.
Problem smallProblem() {
  Problem p;
  p.batch = 2;
  p.headsQ = 2;
  p.headsKV = 2;
  p.seqQ = 5;
  p.seqK = 7;
  p.headDim = 3;
  p.headDimV = 4;
  p.scale = 0.7;
  return p;
}

//===----------------------------------------------------------------------===//
// Philox
//===----------------------------------------------------------------------===//

// Known-answer vectors from Random123's kat_vectors (philox4x32 10).
TEST(Philox, KnownAnswerZero) {
  std::array<uint32_t, 4> expected = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c,
                                      0x9b00dbd8};
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}), expected);
}

TEST(Philox, KnownAnswerAllOnes) {
  std::array<uint32_t, 4> expected = {0x408f276d, 0x41c83b0e, 0xa20bc7c6,
                                      0x6d5451fd};
  EXPECT_EQ(philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                          {0xffffffff, 0xffffffff}),
            expected);
}

TEST(Philox, KnownAnswerPi) {
  std::array<uint32_t, 4> expected = {0xd16cfe09, 0x94fdcceb, 0x5001e420,
                                      0x24126ea1};
  EXPECT_EQ(philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                          {0xa4093822, 0x299f31d0}),
            expected);
}

// Pins which coordinate goes into which counter/key word: backends must
// agree on this, not only on the generator.
TEST(Philox, UniformUsesDocumentedCounterAndKey) {
  uint64_t seed = 0x0123456789abcdefull, offset = 0x00000005deadbeefull;
  std::array<uint32_t, 4> words =
      philox4x32_10({7, 11, 13, 0xdeadbeef}, {0x89abcdef, 0x01234567});
  EXPECT_EQ(philoxUniform(seed, offset, 13, 11, 7),
            static_cast<double>(words[0] >> 8) / 16777216.0);
}

TEST(Philox, UniformIsInUnitInterval) {
  for (int64_t j = 0; j < 1000; ++j) {
    double u = philoxUniform(42, 0, 0, 0, j);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

//===----------------------------------------------------------------------===//
// Hand-computed cases
//===----------------------------------------------------------------------===//

// Nq = Nk = 2, D = Dv = 1, scale 1: q = (1, 2), k = (0, 1), v = (1, 3).
// Row i has scores (0, q_i), so with sigma(x) = 1 / (1 + e^-x):
//   P_i = (1 - sigma(q_i), sigma(q_i)),  O_i = 1 + 2 sigma(q_i),
//   LSE_i = log(1 + e^q_i).
// sigma(1) = 0.7310585786300049, sigma(2) = 0.8807970779778823, so
//   O = (2.4621171572600096, 2.7615941559557644),
//   LSE = (1.3132616875182228, 2.1269280110429727).
// Backward with dO = (1, 1): dP_ij = v_j, D_i = O_i, so
//   dS_i = P_i * (v - O_i) = 2 sigma (1 - sigma) * (-1, 1);
//   dQ_i = dS_i . k = 2 sigma(q_i) (1 - sigma(q_i))
//        = (0.3932238664829637, 0.20998717080701323);
//   dK_1 = sum_i dS_i1 q_i = 0.3932238664829637 + 2 * 0.20998717080701323
//        = 0.8131982080969902, dK_0 = -dK_1;
//   dV_j = sum_i P_ij: dV = (2 - sigma(1) - sigma(2), sigma(1) + sigma(2))
//        = (0.3881443433921128, 1.6118556566078872).
Problem handProblem() {
  Problem p;
  p.seqQ = p.seqK = 2;
  return p;
}
const std::vector<double> kHandQ = {1, 2}, kHandK = {0, 1}, kHandV = {1, 3};
constexpr double kHandTol = 1e-14;

TEST(Hand, Forward) {
  ForwardResult r = forward(handProblem(), kHandQ, kHandK, kHandV);
  EXPECT_NEAR(r.out[0], 2.4621171572600096, kHandTol);
  EXPECT_NEAR(r.out[1], 2.7615941559557644, kHandTol);
  EXPECT_NEAR(r.lse[0], 1.3132616875182228, kHandTol);
  EXPECT_NEAR(r.lse[1], 2.1269280110429727, kHandTol);
}

TEST(Hand, Backward) {
  BackwardResult g = backward(handProblem(), kHandQ, kHandK, kHandV, {1, 1});
  EXPECT_NEAR(g.dq[0], 0.3932238664829637, kHandTol);
  EXPECT_NEAR(g.dq[1], 0.20998717080701323, kHandTol);
  EXPECT_NEAR(g.dk[0], -0.8131982080969902, kHandTol);
  EXPECT_NEAR(g.dk[1], 0.8131982080969902, kHandTol);
  EXPECT_NEAR(g.dv[0], 0.3881443433921128, kHandTol);
  EXPECT_NEAR(g.dv[1], 1.6118556566078872, kHandTol);
}

// Causal (top-left): row 0 keeps only key 0, so O_0 = v_0 = 1 and
// LSE_0 = s_00 = 0; row 1 keeps both keys and is as above.
TEST(Hand, CausalForward) {
  Problem p = handProblem();
  p.causal = true;
  ForwardResult r = forward(p, kHandQ, kHandK, kHandV);
  EXPECT_NEAR(r.out[0], 1.0, kHandTol);
  EXPECT_NEAR(r.lse[0], 0.0, kHandTol);
  EXPECT_NEAR(r.out[1], 2.7615941559557644, kHandTol);
  EXPECT_NEAR(r.lse[1], 2.1269280110429727, kHandTol);
}

// The custom score's inputs are the kept pairs' scores before it, in
// (b, h, i, j) order: causal keeps (0, 0), (1, 0), (1, 1), with q_i * k_j =
// 0, 0, 2; the custom score (here 10 s) does not apply to them.
TEST(Hand, CustomScoreInputs) {
  Problem p = handProblem();
  p.causal = true;
  p.customScore = [](double s, int64_t, int64_t, int64_t, int64_t) {
    return 10.0 * s;
  };
  EXPECT_EQ(customScoreInputs(p, kHandQ, kHandK),
            (std::vector<double>{0.0, 0.0, 2.0}));
  p.scale = 0.5;
  EXPECT_EQ(customScoreInputs(p, kHandQ, kHandK),
            (std::vector<double>{0.0, 0.0, 1.0}));
  EXPECT_THROW(customScoreInputs(p, kHandQ, {0, 1, 2}), std::invalid_argument);
}

// Modifier order and constants: softcap, then ALiBi, then the custom score.
// With scale 0.5, qk = 6, c = 2: softcap gives 2 tanh(1.5) =
// 1.8102965072897328. ALiBi for h = 0 of Hq = 2 has slope 2^-4 = 0.0625; at
// (i, j) = (3, 0), top-left, the distance is 3, so s = 1.8102965072897328 -
// 0.1875. The custom score multiplies the result by 10.
TEST(Hand, ModifierOrder) {
  Problem p;
  p.headsQ = p.headsKV = 2;
  p.seqQ = p.seqK = 4;
  p.scale = 0.5;
  p.softcap = 2.0;
  EXPECT_NEAR(modifiedScore(p, 6.0, 0, 0, 3, 0), 1.8102965072897328, 1e-15);
  p.alibi = true;
  EXPECT_NEAR(modifiedScore(p, 6.0, 0, 0, 3, 0), 1.8102965072897328 - 0.1875,
              1e-15);
  // Head 1 of 2: slope 2^-8.
  EXPECT_NEAR(modifiedScore(p, 6.0, 0, 1, 3, 0),
              1.8102965072897328 - 3.0 / 256.0, 1e-15);
  // Bottom-right with Nk - Nq = 2: the distance is |3 + 2 - 0| = 5, and
  // |0 + 2 - 3| = 1 on the other side of the shifted diagonal.
  p.seqK = 6;
  p.bottomRight = true;
  EXPECT_NEAR(modifiedScore(p, 6.0, 0, 0, 3, 0),
              1.8102965072897328 - 5 * 0.0625, 1e-15);
  EXPECT_NEAR(modifiedScore(p, 6.0, 0, 0, 0, 3),
              1.8102965072897328 - 1 * 0.0625, 1e-15);
  p.customScore = [](double s, int64_t, int64_t, int64_t, int64_t) {
    return 10.0 * s;
  };
  // Still bottom-right, distance 5.
  EXPECT_NEAR(modifiedScore(p, 6.0, 0, 0, 3, 0),
              10.0 * (1.8102965072897328 - 5 * 0.0625), 1e-14);
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

// O against P V with P built explicitly from isKept and modifiedScore.
TEST(Softmax, MatchesExplicitProbabilities) {
  Problem p = smallProblem();
  p.headsKV = 1;
  p.causal = true;
  p.bottomRight = true;
  p.softcap = 1.5;
  p.alibi = true;
  Inputs in = randomInputs(p, 1);
  ForwardResult r = forward(p, in.q, in.k, in.v);
  int64_t D = p.headDim, Dv = p.headDimV;
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t h = 0; h < p.headsQ; ++h)
      for (int64_t i = 0; i < p.seqQ; ++i) {
        std::vector<double> e(p.seqK, 0.0);
        double sum = 0.0;
        for (int64_t j = 0; j < p.seqK; ++j) {
          if (!isKept(p, b, h, i, j))
            continue;
          double qk = 0.0;
          for (int64_t d = 0; d < D; ++d)
            qk += in.q[((b * p.headsQ + h) * p.seqQ + i) * D + d] *
                  in.k[(b * p.seqK + j) * D + d];
          // Scores here are O(1): no max subtraction needed.
          e[j] = std::exp(modifiedScore(p, qk, b, h, i, j));
          sum += e[j];
        }
        ASSERT_GT(sum, 0.0);
        size_t row = (b * p.headsQ + h) * p.seqQ + i;
        EXPECT_NEAR(r.lse[row], std::log(sum), 1e-13);
        for (int64_t d = 0; d < Dv; ++d) {
          double o = 0.0;
          for (int64_t j = 0; j < p.seqK; ++j)
            o += e[j] / sum * in.v[(b * p.seqK + j) * Dv + d];
          EXPECT_NEAR(r.out[row * Dv + d], o, 1e-13);
        }
      }
}

// With V = 1 every output element is the row sum of P.
TEST(Softmax, RowsSumToOne) {
  Problem p = smallProblem();
  p.window = std::make_pair(int64_t(2), int64_t(1));
  Inputs in = randomInputs(p, 2, 3.0);
  std::fill(in.v.begin(), in.v.end(), 1.0);
  ForwardResult r = forward(p, in.q, in.k, in.v);
  for (double o : r.out)
    EXPECT_NEAR(o, 1.0, 1e-14);
}

// Scores near 1e4 overflow exp() unless the max is subtracted.
TEST(Softmax, LargeScoresAreStable) {
  Problem p = smallProblem();
  p.scale = 1.0;
  Inputs in = randomInputs(p, 3, 100.0);
  ForwardResult r = forward(p, in.q, in.k, in.v);
  for (double o : r.out)
    ASSERT_TRUE(std::isfinite(o));
  for (double l : r.lse)
    ASSERT_TRUE(std::isfinite(l));
  BackwardResult g =
      backward(p, in.q, in.k, in.v, std::vector<double>(outSize(p), 1.0));
  for (const auto *t : {&g.dq, &g.dk, &g.dv})
    for (double x : *t)
      ASSERT_TRUE(std::isfinite(x));
}

//===----------------------------------------------------------------------===//
// Masks
//===----------------------------------------------------------------------===//

/// The kept keys of row i (b = h = 0) as a string of '1' and '0'.
std::string keptPattern(const Problem &p, int64_t i) {
  std::string s;
  for (int64_t j = 0; j < p.seqK; ++j)
    s += isKept(p, 0, 0, i, j) ? '1' : '0';
  return s;
}

TEST(Masks, CausalAlignmentWithMoreKeys) {
  Problem p;
  p.seqQ = 2;
  p.seqK = 4;
  p.causal = true;
  // Top-left: shift 0, row i keeps j <= i.
  EXPECT_EQ(keptPattern(p, 0), "1000");
  EXPECT_EQ(keptPattern(p, 1), "1100");
  // Bottom-right: shift = 4 - 2 = 2, row i keeps j <= i + 2.
  p.bottomRight = true;
  EXPECT_EQ(keptPattern(p, 0), "1110");
  EXPECT_EQ(keptPattern(p, 1), "1111");
}

TEST(Masks, CausalAlignmentWithMoreQueries) {
  Problem p;
  p.seqQ = 4;
  p.seqK = 2;
  p.headDimV = 1;
  p.causal = true;
  p.bottomRight = true;
  // shift = 2 - 4 = -2: rows 0 and 1 see no key at all.
  EXPECT_EQ(keptPattern(p, 0), "00");
  EXPECT_EQ(keptPattern(p, 1), "00");
  EXPECT_EQ(keptPattern(p, 2), "10");
  EXPECT_EQ(keptPattern(p, 3), "11");
  ForwardResult r = forward(p, {1, 2, 3, 4}, {0.5, -0.5}, {3, 5});
  EXPECT_EQ(r.lse[0], kNegInf);
  EXPECT_EQ(r.lse[1], kNegInf);
  EXPECT_EQ(r.out[0], 0.0);
  EXPECT_EQ(r.out[1], 0.0);
  EXPECT_NEAR(r.out[2], 3.0, 1e-15); // the single key 0
  EXPECT_NEAR(r.lse[2], 1.5, 1e-15); // 3 * 0.5
  p.bottomRight = false;
  ForwardResult topLeft = forward(p, {1, 2, 3, 4}, {0.5, -0.5}, {3, 5});
  EXPECT_NEAR(topLeft.out[0], 3.0, 1e-15);
  EXPECT_NE(topLeft.out[2], r.out[2]);
}

TEST(Masks, SlidingWindow) {
  Problem p;
  p.seqQ = 3;
  p.seqK = 6;
  p.window = std::make_pair(int64_t(1), int64_t(2));
  // Top-left: keeps i - 1 <= j <= i + 2.
  EXPECT_EQ(keptPattern(p, 0), "111000");
  EXPECT_EQ(keptPattern(p, 2), "011110");
  // Bottom-right, shift 3: keeps i + 2 <= j <= i + 5.
  p.bottomRight = true;
  EXPECT_EQ(keptPattern(p, 0), "001111");
  // A negative bound is unbounded on that side.
  p.window = std::make_pair(int64_t(-1), int64_t(0));
  EXPECT_EQ(keptPattern(p, 0), "111100");
  p.window = std::make_pair(int64_t(0), int64_t(-1));
  EXPECT_EQ(keptPattern(p, 1), "000011");
}

TEST(Masks, PaddingAndLayout) {
  Problem p;
  p.batch = 2;
  p.seqQ = 4;
  p.seqK = 5;
  p.seqLensQ = {4, 2};
  p.seqLensK = {5, 3};
  EXPECT_EQ(keptPattern(p, 3), "11111");
  EXPECT_TRUE(isKept(p, 1, 0, 1, 2));
  EXPECT_FALSE(isKept(p, 1, 0, 1, 3)); // j >= nk
  EXPECT_FALSE(isKept(p, 1, 0, 2, 0)); // i >= nq
  // Layout [1, 1, 2, 3] with 2x2 blocks: zero at block (0, 1) and (1, 2).
  p.layout = {1, 0, 1, 1, 1, 0};
  p.blockQ = p.blockK = 2;
  EXPECT_EQ(keptPattern(p, 1), "11001");
  EXPECT_EQ(keptPattern(p, 2), "11110");
  EXPECT_FALSE(isKept(p, 1, 0, 0, 2)); // layout broadcasts over batch
}

// A layout [B = 2, Hq = 2, 1, 2] of 2x2 blocks, not broadcast:
// each (b, h) has its own pair of column blocks, kept or removed.
TEST(Masks, LayoutPerBatchAndHead) {
  Problem p;
  p.batch = 2;
  p.headsQ = 2;
  p.seqQ = 2;
  p.seqK = 4;
  p.blockQ = p.blockK = 2;
  p.layoutB = 2;
  p.layoutH = 2;
  p.layout = {1, 0,  // b 0, h 0
              0, 1,  // b 0, h 1
              1, 1,  // b 1, h 0
              0, 0}; // b 1, h 1
  auto pattern = [&](int64_t b, int64_t h) {
    std::string s;
    for (int64_t j = 0; j < p.seqK; ++j)
      s += isKept(p, b, h, 1, j) ? '1' : '0';
    return s;
  };
  EXPECT_EQ(pattern(0, 0), "1100");
  EXPECT_EQ(pattern(0, 1), "0011");
  EXPECT_EQ(pattern(1, 0), "1111");
  EXPECT_EQ(pattern(1, 1), "0000");
}

// Row 2 is masked by the custom mask, rows 3 and 4 are padding: O = 0,
// LSE = -inf, dQ = 0 there, and nothing is NaN.
TEST(Masks, FullyMaskedRows) {
  Problem p = smallProblem();
  p.softcap = 1.0;
  p.alibi = true;
  p.seqLensQ = {3, 3};
  p.customMask = [](int64_t, int64_t, int64_t i, int64_t) { return i != 2; };
  Inputs in = randomInputs(p, 4);
  std::mt19937_64 rng(5);
  std::vector<double> dout = randomVector(outSize(p), rng);
  ForwardResult r = forward(p, in.q, in.k, in.v);
  BackwardResult g = backward(p, in.q, in.k, in.v, dout);
  expectNoNaN(r.out, "out");
  expectNoNaN(g.dq, "dq");
  expectNoNaN(g.dk, "dk");
  expectNoNaN(g.dv, "dv");
  for (int64_t bh = 0; bh < p.batch * p.headsQ; ++bh)
    for (int64_t i = 0; i < p.seqQ; ++i) {
      bool empty = i >= 2;
      EXPECT_EQ(r.lse[bh * p.seqQ + i] == kNegInf, empty) << bh << "," << i;
      for (int64_t d = 0; d < p.headDimV && empty; ++d)
        EXPECT_EQ(r.out[(bh * p.seqQ + i) * p.headDimV + d], 0.0);
      for (int64_t d = 0; d < p.headDim; ++d)
        EXPECT_EQ(g.dq[(bh * p.seqQ + i) * p.headDim + d] == 0.0, empty);
    }
}

TEST(Masks, EverythingMaskedGivesZeros) {
  Problem p = smallProblem();
  p.customMask = [](int64_t, int64_t, int64_t, int64_t) { return false; };
  Inputs in = randomInputs(p, 6);
  ForwardResult r = forward(p, in.q, in.k, in.v);
  BackwardResult g =
      backward(p, in.q, in.k, in.v, std::vector<double>(outSize(p), 1.0));
  for (double l : r.lse)
    EXPECT_EQ(l, kNegInf);
  for (const auto *t : {&r.out, &g.dq, &g.dk, &g.dv})
    for (double x : *t)
      EXPECT_EQ(x, 0.0);
}

// A custom score may push keys to -inf; a row where it pushes all of them
// is empty, not NaN.
TEST(Masks, CustomScoreToMinusInfinity) {
  Problem p = smallProblem();
  p.customScore = [](double s, int64_t, int64_t, int64_t i, int64_t j) {
    return i == 1 || j == 0 ? kNegInf : s;
  };
  p.customScoreGrad = [](double, int64_t, int64_t, int64_t, int64_t) {
    return 1.0;
  };
  Inputs in = randomInputs(p, 7);
  ForwardResult r = forward(p, in.q, in.k, in.v);
  BackwardResult g =
      backward(p, in.q, in.k, in.v, std::vector<double>(outSize(p), 1.0));
  expectNoNaN(r.out, "out");
  expectNoNaN(g.dq, "dq");
  expectNoNaN(g.dk, "dk");
  expectNoNaN(g.dv, "dv");
  EXPECT_EQ(r.lse[1], kNegInf);
  EXPECT_TRUE(std::isfinite(r.lse[0]));
}

// Query head h of a GQA problem (Hq = 4, Hkv = 2) must give what a
// single-head problem gives for q_h with KV head h / 2.
TEST(Heads, GqaGroupsAreContiguous) {
  Problem p = smallProblem();
  p.batch = 1;
  p.headsQ = 4;
  p.headsKV = 2;
  p.causal = true;
  p.bottomRight = true;
  Inputs in = randomInputs(p, 8);
  ForwardResult r = forward(p, in.q, in.k, in.v);
  Problem single = p;
  single.headsQ = single.headsKV = 1;
  size_t qRow = p.seqQ * p.headDim, kRow = p.seqK * p.headDim,
         vRow = p.seqK * p.headDimV, oRow = p.seqQ * p.headDimV;
  for (int64_t h = 0; h < p.headsQ; ++h) {
    int64_t kvh = h / 2;
    auto slice = [](const std::vector<double> &x, size_t n, int64_t idx) {
      return std::vector<double>(x.begin() + n * idx,
                                 x.begin() + n * (idx + 1));
    };
    ForwardResult one = forward(single, slice(in.q, qRow, h),
                                slice(in.k, kRow, kvh), slice(in.v, vRow, kvh));
    EXPECT_EQ(one.out, slice(r.out, oRow, h)) << "head " << h;
  }
}

//===----------------------------------------------------------------------===//
// Gradients against finite differences
//===----------------------------------------------------------------------===//

/// L = sum(O * G).
double loss(const Problem &p, const Inputs &in, const std::vector<double> &g) {
  std::vector<double> out = forward(p, in.q, in.k, in.v).out;
  double l = 0.0;
  for (size_t n = 0; n < out.size(); ++n)
    l += out[n] * g[n];
  return l;
}

/// Compares \p analytic with central differences of L in each element of
/// \p x (one of in's tensors): max |numeric - analytic| <= 1e-5 max
/// |analytic|, and the gradient must not be identically zero.
void checkTensorGradient(const Problem &p, Inputs &in, std::vector<double> &x,
                         const std::vector<double> &g,
                         const std::vector<double> &analytic,
                         const char *name) {
  constexpr double kStep = 1e-5;
  ASSERT_EQ(x.size(), analytic.size()) << name;
  double maxError = 0.0, maxGrad = 0.0;
  for (size_t n = 0; n < x.size(); ++n) {
    double saved = x[n];
    x[n] = saved + kStep;
    double plus = loss(p, in, g);
    x[n] = saved - kStep;
    double minus = loss(p, in, g);
    x[n] = saved;
    double numeric = (plus - minus) / (2 * kStep);
    maxError = std::max(maxError, std::abs(numeric - analytic[n]));
    maxGrad = std::max(maxGrad, std::abs(analytic[n]));
  }
  EXPECT_GT(maxGrad, 0.0) << name;
  EXPECT_LE(maxError, 1e-5 * maxGrad)
      << name << ": max error " << maxError << ", max gradient " << maxGrad;
}

struct GradientCase {
  const char *name;
  std::function<void(Problem &)> configure;
};

class Gradient : public ::testing::TestWithParam<GradientCase> {};

TEST_P(Gradient, MatchesFiniteDifferences) {
  Problem p = smallProblem();
  GetParam().configure(p);
  Inputs in = randomInputs(p, 11, 1.5);
  std::mt19937_64 rng(12);
  std::vector<double> g = randomVector(outSize(p), rng);
  BackwardResult grads = backward(p, in.q, in.k, in.v, g);
  checkTensorGradient(p, in, in.q, g, grads.dq, "dq");
  checkTensorGradient(p, in, in.k, g, grads.dk, "dk");
  checkTensorGradient(p, in, in.v, g, grads.dv, "dv");
}

double customScoreFn(double s, int64_t b, int64_t h, int64_t i, int64_t j) {
  return s + 0.3 * std::sin(2 * s) + 0.1 * b - 0.05 * (h + 1) * (i - j);
}
double customScoreDerivative(double s, int64_t, int64_t, int64_t, int64_t) {
  return 1 + 0.6 * std::cos(2 * s);
}

/// Layout [1, Hq = 2, 3, 3] for 2x3 blocks; head 1 loses its whole middle
/// row of blocks, so rows 2 and 3 of head 1 are empty.
void addLayout(Problem &p) {
  p.blockQ = 2;
  p.blockK = 3;
  p.layoutH = p.headsQ;
  p.layout = {1, 0, 1, 0, 1, 1, 1, 1, 0, //
              1, 1, 0, 0, 0, 0, 0, 1, 1};
}

const GradientCase kGradientCases[] = {
    {"plain", [](Problem &) {}},
    {"causal", [](Problem &p) { p.causal = true; }},
    {"causalBottomRight",
     [](Problem &p) {
       p.causal = true;
       p.bottomRight = true;
     }},
    {"window",
     [](Problem &p) {
       p.window = std::make_pair(int64_t(2), int64_t(1));
       p.bottomRight = true;
     }},
    {"softcap", [](Problem &p) { p.softcap = 0.8; }},
    {"alibi",
     [](Problem &p) {
       p.alibi = true;
       p.bottomRight = true;
     }},
    {"gqa",
     [](Problem &p) {
       p.headsQ = 4;
       p.headsKV = 2;
     }},
    {"mqa",
     [](Problem &p) {
       p.headsQ = 3;
       p.headsKV = 1;
     }},
    {"padding",
     [](Problem &p) {
       // Batch 1 under bottom-right causal has shift -1: row 0 is empty.
       p.seqLensQ = {3, 5};
       p.seqLensK = {7, 4};
       p.causal = true;
       p.bottomRight = true;
     }},
    {"customScore",
     [](Problem &p) {
       p.customScore = customScoreFn;
       p.customScoreGrad = customScoreDerivative;
     }},
    {"customMask",
     [](Problem &p) {
       p.customMask = [](int64_t b, int64_t h, int64_t i, int64_t j) {
         return (b + h + i + 2 * j) % 3 != 0;
       };
     }},
    {"layout", addLayout},
    {"dropout",
     [](Problem &p) {
       p.dropoutP = 0.3;
       p.seed = 0x243f6a8885a308d3ull;
       p.offset = 17;
     }},
    {"everything",
     [](Problem &p) {
       p.headsQ = 4;
       p.headsKV = 2;
       p.causal = true;
       p.bottomRight = true;
       p.window = std::make_pair(int64_t(3), int64_t(-1));
       p.softcap = 1.2;
       p.alibi = true;
       p.seqLensQ = {4, 5};
       p.seqLensK = {7, 6};
       addLayout(p);
       p.layoutH = 1;
       p.layout.resize(9);
       p.layout[4] = 0;
       p.customMask = [](int64_t, int64_t h, int64_t i, int64_t j) {
         return h != 3 || i != j;
       };
       p.customScore = customScoreFn;
       p.customScoreGrad = customScoreDerivative;
       p.dropoutP = 0.2;
       p.seed = 99;
     }},
};

INSTANTIATE_TEST_SUITE_P(Modifiers, Gradient,
                         ::testing::ValuesIn(kGradientCases),
                         [](const auto &info) {
                           return std::string(info.param.name);
                         });

//===----------------------------------------------------------------------===//
// Dropout
//===----------------------------------------------------------------------===//

TEST(Dropout, KeepRateWithinFourSigma) {
  constexpr double kP = 0.3;
  constexpr int64_t kN = 100 * 100 * 10;
  int64_t kept = 0;
  for (int64_t bh = 0; bh < 10; ++bh)
    for (int64_t i = 0; i < 100; ++i)
      for (int64_t j = 0; j < 100; ++j)
        kept += philoxUniform(0x9e3779b97f4a7c15ull, 3, bh, i, j) >= kP;
  double mean = kN * (1 - kP), sigma = std::sqrt(kN * kP * (1 - kP));
  EXPECT_LE(std::abs(kept - mean), 4 * sigma) << kept << " kept of " << kN;
}

/// O with an explicit keep mask from philoxUniform, built from the
/// dropout-free P (recovered as the forward of V = identity columns).
TEST(Dropout, MatchesExplicitMask) {
  Problem p = smallProblem();
  p.headDimV = p.seqK; // V = identity: O without dropout is P itself.
  p.headsKV = 1;
  p.causal = true;
  Inputs in = randomInputs(p, 21);
  in.v.assign(p.batch * p.seqK * p.seqK, 0.0);
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t j = 0; j < p.seqK; ++j)
      in.v[(b * p.seqK + j) * p.seqK + j] = 1.0;
  ForwardResult plain = forward(p, in.q, in.k, in.v);
  p.dropoutP = 0.4;
  p.seed = 1234567;
  p.offset = 8;
  ForwardResult dropped = forward(p, in.q, in.k, in.v);
  int64_t zeros = 0, kept = 0;
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t h = 0; h < p.headsQ; ++h)
      for (int64_t i = 0; i < p.seqQ; ++i)
        for (int64_t j = 0; j < p.seqK; ++j) {
          size_t n = ((b * p.headsQ + h) * p.seqQ + i) * p.seqK + j;
          bool keep =
              philoxUniform(p.seed, p.offset, b * p.headsQ + h, i, j) >= 0.4;
          double expected = keep ? plain.out[n] / 0.6 : 0.0;
          EXPECT_NEAR(dropped.out[n], expected, 1e-15);
          if (plain.out[n] != 0.0)
            (keep ? kept : zeros) += 1;
        }
  EXPECT_GT(zeros, 0);
  EXPECT_GT(kept, 0);
  // LSE ignores dropout.
  EXPECT_EQ(plain.lse, dropped.lse);
}

TEST(Dropout, ReproducibleAndKeyed) {
  Problem p = smallProblem();
  p.dropoutP = 0.5;
  p.seed = 7;
  p.offset = 1;
  Inputs in = randomInputs(p, 22);
  std::vector<double> a = forward(p, in.q, in.k, in.v).out;
  EXPECT_EQ(forward(p, in.q, in.k, in.v).out, a);
  Problem otherSeed = p;
  otherSeed.seed = 8;
  EXPECT_NE(forward(otherSeed, in.q, in.k, in.v).out, a);
  Problem highSeed = p;
  highSeed.seed = 7 + (uint64_t(1) << 32); // only the key's high word differs
  EXPECT_NE(forward(highSeed, in.q, in.k, in.v).out, a);
  Problem otherOffset = p;
  otherOffset.offset = 2;
  EXPECT_NE(forward(otherOffset, in.q, in.k, in.v).out, a);
}

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

/// Expects forward (or backward) of \p p on correctly sized random inputs
/// to throw std::invalid_argument whose message names \p field.
void expectInvalid(const Problem &p, const std::string &field,
                   bool viaBackward = false) {
  Problem sized = p;
  // Size tensors from sane dimensions so that the bad field is the only fault.
  sized.batch = std::max<int64_t>(p.batch, 1);
  sized.headsQ = std::max<int64_t>(p.headsQ, 1);
  sized.headsKV = std::max<int64_t>(p.headsKV, 1);
  sized.seqQ = std::max<int64_t>(p.seqQ, 1);
  sized.seqK = std::max<int64_t>(p.seqK, 1);
  sized.headDim = std::max<int64_t>(p.headDim, 1);
  sized.headDimV = std::max<int64_t>(p.headDimV, 1);
  Inputs in = randomInputs(sized, 1);
  try {
    if (viaBackward)
      backward(p, in.q, in.k, in.v, std::vector<double>(outSize(sized), 0.0));
    else
      forward(p, in.q, in.k, in.v);
    ADD_FAILURE() << "no exception for a bad " << field;
  } catch (const std::invalid_argument &e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos)
        << "message '" << e.what() << "' does not name " << field;
  }
}

TEST(Validation, RejectsBadProblems) {
  Problem good = smallProblem();
  Inputs in = randomInputs(good, 1);
  EXPECT_NO_THROW(forward(good, in.q, in.k, in.v));

  Problem p = good;
  p.headDim = 0;
  expectInvalid(p, "headDim");
  p = good;
  p.headsQ = 3;
  expectInvalid(p, "headsKV");
  p = good;
  p.dropoutP = 1.0;
  expectInvalid(p, "dropoutP");
  p.dropoutP = -0.1;
  expectInvalid(p, "dropoutP");
  p.dropoutP = std::nan("");
  expectInvalid(p, "dropoutP");
  p = good;
  p.softcap = 0.0;
  expectInvalid(p, "softcap");
  p = good;
  p.seqLensQ = {5};
  expectInvalid(p, "seqLensQ");
  p.seqLensQ = {5, 6};
  expectInvalid(p, "seqLensQ[1]");
  p = good;
  p.seqLensK = {-1, 2};
  expectInvalid(p, "seqLensK[0]");
  p = good;
  addLayout(p);
  p.layout.pop_back();
  expectInvalid(p, "layout");
  addLayout(p);
  p.layoutB = 3;
  expectInvalid(p, "layoutB");
  p = good;
  addLayout(p);
  p.layoutH = 4;
  expectInvalid(p, "layoutH");
  p = good;
  addLayout(p);
  p.blockK = 0;
  expectInvalid(p, "blockK");
  p = good;
  p.customScore = customScoreFn;
  EXPECT_NO_THROW(forward(p, in.q, in.k, in.v));
  expectInvalid(p, "customScoreGrad", /*viaBackward=*/true);
}

TEST(Validation, RejectsMissizedTensors) {
  Problem p = smallProblem();
  Inputs in = randomInputs(p, 1);
  auto expectField = [](const std::function<void()> &call,
                        const std::string &field) {
    try {
      call();
      ADD_FAILURE() << "no exception for a bad " << field;
    } catch (const std::invalid_argument &e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos)
          << e.what();
    }
  };
  std::vector<double> shortVec(3, 0.0), dout(outSize(p), 0.0);
  expectField([&] { forward(p, shortVec, in.k, in.v); }, "q");
  expectField([&] { forward(p, in.q, shortVec, in.v); }, "k");
  expectField([&] { forward(p, in.q, in.k, shortVec); }, "v");
  expectField([&] { backward(p, in.q, in.k, in.v, shortVec); }, "dout");
  EXPECT_NO_THROW(backward(p, in.q, in.k, in.v, dout));
}

} // namespace
