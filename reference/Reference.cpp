//===- Reference.cpp - Independent float64 attention reference ------------===//
//
// Deliberately naive: every (b, h, i) row is evaluated on its own, with the
// whole row of scores materialised, so that each line can be read against
// DESIGN.md "Semantics". Speed does not matter here; clarity does.
//
//===----------------------------------------------------------------------===//

#include "reference/Reference.h"
#include "reference/Philox.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

namespace flashc::reference {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

/// Throws std::invalid_argument naming \p field and what was expected.
[[noreturn]] void fail(const std::string &field, const std::string &expected,
                       const std::string &got) {
  throw std::invalid_argument("flashc::reference: " + field + ": expected " +
                              expected + ", got " + got);
}

template <typename T> std::string str(const T &value) {
  std::ostringstream os;
  os << value;
  return os.str();
}

void checkPositive(const char *field, int64_t value) {
  if (value < 1)
    fail(field, "a positive size", str(value));
}

void checkSeqLens(const char *field, const std::vector<int32_t> &lens,
                  int64_t batch, int64_t maxLen) {
  if (lens.empty())
    return;
  if (static_cast<int64_t>(lens.size()) != batch)
    fail(field, "empty or one entry per batch (" + str(batch) + ")",
         str(lens.size()) + " entries");
  for (size_t b = 0; b < lens.size(); ++b)
    if (lens[b] < 0 || lens[b] > maxLen)
      fail(std::string(field) + "[" + str(b) + "]",
           "a length in [0, " + str(maxLen) + "]", str(lens[b]));
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

void checkLayout(const Problem &p) {
  if (p.layout.empty())
    return;
  if (p.layoutB != 1 && p.layoutB != p.batch)
    fail("layoutB", "1 or batch (" + str(p.batch) + ")", str(p.layoutB));
  if (p.layoutH != 1 && p.layoutH != p.headsQ)
    fail("layoutH", "1 or headsQ (" + str(p.headsQ) + ")", str(p.layoutH));
  checkPositive("blockQ", p.blockQ);
  checkPositive("blockK", p.blockK);
  int64_t expected = p.layoutB * p.layoutH * ceilDiv(p.seqQ, p.blockQ) *
                     ceilDiv(p.seqK, p.blockK);
  if (static_cast<int64_t>(p.layout.size()) != expected)
    fail("layout",
         str(expected) + " entries ([layoutB, layoutH, ceil(seqQ/blockQ), "
                         "ceil(seqK/blockK)])",
         str(p.layout.size()));
}

void checkTensor(const char *field, const std::vector<double> &t,
                 int64_t expected, const char *shape) {
  if (static_cast<int64_t>(t.size()) != expected)
    fail(field, str(expected) + " elements (" + shape + ")", str(t.size()));
}

/// Checks everything forward needs; backward adds dout and customScoreGrad.
/// Validates \p p, q and k; v only when given.
void validate(const Problem &p, const std::vector<double> &q,
              const std::vector<double> &k,
              const std::vector<double> *v = nullptr) {
  checkPositive("batch", p.batch);
  checkPositive("headsQ", p.headsQ);
  checkPositive("headsKV", p.headsKV);
  checkPositive("seqQ", p.seqQ);
  checkPositive("seqK", p.seqK);
  checkPositive("headDim", p.headDim);
  checkPositive("headDimV", p.headDimV);
  if (p.headsQ % p.headsKV != 0)
    fail("headsKV", "a divisor of headsQ (" + str(p.headsQ) + ")",
         str(p.headsKV));
  if (!std::isfinite(p.scale))
    fail("scale", "a finite value", str(p.scale));
  if (p.softcap && !(std::isfinite(*p.softcap) && *p.softcap > 0))
    fail("softcap", "a finite positive cap", str(*p.softcap));
  // Written so that NaN fails too.
  if (!(p.dropoutP >= 0.0 && p.dropoutP < 1.0))
    fail("dropoutP", "a probability in [0, 1)", str(p.dropoutP));
  if (p.customScoreGrad && !p.customScore)
    fail("customScoreGrad", "to be set only together with customScore",
         "a derivative without a customScore");
  checkSeqLens("seqLensQ", p.seqLensQ, p.batch, p.seqQ);
  checkSeqLens("seqLensK", p.seqLensK, p.batch, p.seqK);
  checkLayout(p);
  checkTensor("q", q, p.batch * p.headsQ * p.seqQ * p.headDim,
              "[batch, headsQ, seqQ, headDim]");
  checkTensor("k", k, p.batch * p.headsKV * p.seqK * p.headDim,
              "[batch, headsKV, seqK, headDim]");
  if (v)
    checkTensor("v", *v, p.batch * p.headsKV * p.seqK * p.headDimV,
                "[batch, headsKV, seqK, headDimV]");
}

//===----------------------------------------------------------------------===//
// Indexing
//===----------------------------------------------------------------------===//

int64_t validLenQ(const Problem &p, int64_t b) {
  return p.seqLensQ.empty() ? p.seqQ : p.seqLensQ[b];
}

int64_t validLenK(const Problem &p, int64_t b) {
  return p.seqLensK.empty() ? p.seqK : p.seqLensK[b];
}

/// The diagonal offset of causal, window and ALiBi for batch \p b.
int64_t shiftOf(const Problem &p, int64_t b) {
  return p.bottomRight ? validLenK(p, b) - validLenQ(p, b) : 0;
}

/// The KV head that query head \p h reads (GQA groups are contiguous).
int64_t kvHeadOf(const Problem &p, int64_t h) {
  return h / (p.headsQ / p.headsKV);
}

/// Start of row i of query head h: Q, dQ ([.., D]) or O, dO ([.., Dv]).
size_t queryRow(const Problem &p, int64_t b, int64_t h, int64_t i,
                int64_t width) {
  return static_cast<size_t>(((b * p.headsQ + h) * p.seqQ + i) * width);
}

/// Start of row j of the KV head that query head h reads: K, dK, V or dV.
size_t keyRow(const Problem &p, int64_t b, int64_t h, int64_t j,
              int64_t width) {
  return static_cast<size_t>(((b * p.headsKV + kvHeadOf(p, h)) * p.seqK + j) *
                             width);
}

double dot(const double *a, const double *b, int64_t n) {
  double sum = 0.0;
  for (int64_t d = 0; d < n; ++d)
    sum += a[d] * b[d];
  return sum;
}

/// y += alpha * x.
void axpy(double alpha, const double *x, double *y, int64_t n) {
  for (int64_t d = 0; d < n; ++d)
    y[d] += alpha * x[d];
}

//===----------------------------------------------------------------------===//
// Scores and rows
//===----------------------------------------------------------------------===//

/// The score after each modifier; backward needs the intermediate ones to
/// chain the derivative back through softcap and the custom score.
struct ScoreStages {
  double scaled;       ///< scale * q.k
  double beforeCustom; ///< after softcap and ALiBi
  double modified;     ///< after the custom score
};

ScoreStages scoreStages(const Problem &p, double qk, int64_t b, int64_t h,
                        int64_t i, int64_t j) {
  ScoreStages s;
  s.scaled = p.scale * qk;
  double score = s.scaled;
  if (p.softcap)
    score = *p.softcap * std::tanh(score / *p.softcap);
  if (p.alibi) {
    double slope = std::exp2(-8.0 * static_cast<double>(h + 1) /
                             static_cast<double>(p.headsQ));
    double distance = std::abs(static_cast<double>(i + shiftOf(p, b) - j));
    score -= slope * distance;
  }
  s.beforeCustom = score;
  s.modified = p.customScore ? p.customScore(score, b, h, i, j) : score;
  return s;
}

/// The multiplier Z_ij / (1 - p) that dropout applies to P_ij.
double dropoutFactor(const Problem &p, int64_t b, int64_t h, int64_t i,
                     int64_t j) {
  if (p.dropoutP == 0.0)
    return 1.0;
  double u = philoxUniform(p.seed, p.offset, b * p.headsQ + h, i, j);
  return u >= p.dropoutP ? 1.0 / (1.0 - p.dropoutP) : 0.0;
}

/// One query row: its kept keys with their scores and softmax weights.
struct Row {
  std::vector<int64_t> keys;
  std::vector<ScoreStages> scores;
  std::vector<double> prob;
  double lse = kNegInf;
};

Row evaluateRow(const Problem &p, const std::vector<double> &q,
                const std::vector<double> &k, int64_t b, int64_t h, int64_t i) {
  Row row;
  const double *qi = &q[queryRow(p, b, h, i, p.headDim)];
  for (int64_t j = 0; j < p.seqK; ++j) {
    if (!isKept(p, b, h, i, j))
      continue;
    double qk = dot(qi, &k[keyRow(p, b, h, j, p.headDim)], p.headDim);
    row.keys.push_back(j);
    row.scores.push_back(scoreStages(p, qk, b, h, i, j));
  }
  double max = kNegInf;
  for (const ScoreStages &s : row.scores)
    max = std::max(max, s.modified);
  // No kept key, or a custom score that sent every kept one to -inf: the
  // row is empty, and subtracting max = -inf would give NaN.
  if (max == kNegInf) {
    row.prob.assign(row.keys.size(), 0.0);
    return row;
  }
  double sum = 0.0;
  for (const ScoreStages &s : row.scores)
    sum += std::exp(s.modified - max);
  row.lse = max + std::log(sum);
  for (const ScoreStages &s : row.scores)
    row.prob.push_back(std::exp(s.modified - max) / sum);
  return row;
}

/// d(final score)/d(scaled score): the custom score's derivative times the
/// softcap's; ALiBi adds a constant and contributes 1.
double scoreChain(const Problem &p, const ScoreStages &s, int64_t b, int64_t h,
                  int64_t i, int64_t j) {
  double chain = 1.0;
  if (p.customScore)
    chain *= p.customScoreGrad(s.beforeCustom, b, h, i, j);
  if (p.softcap) {
    double t = std::tanh(s.scaled / *p.softcap);
    chain *= 1.0 - t * t;
  }
  return chain;
}

} // namespace

//===----------------------------------------------------------------------===//
// Public API
//===----------------------------------------------------------------------===//

bool isKept(const Problem &p, int64_t b, int64_t h, int64_t i, int64_t j) {
  if (i >= validLenQ(p, b) || j >= validLenK(p, b))
    return false;
  int64_t diag = i + shiftOf(p, b);
  if (p.causal && j > diag)
    return false;
  if (p.window) {
    auto [left, right] = *p.window;
    if (left >= 0 && j < diag - left)
      return false;
    if (right >= 0 && j > diag + right)
      return false;
  }
  if (!p.layout.empty()) {
    int64_t lb = p.layoutB == 1 ? 0 : b;
    int64_t lh = p.layoutH == 1 ? 0 : h;
    int64_t rows = ceilDiv(p.seqQ, p.blockQ), cols = ceilDiv(p.seqK, p.blockK);
    size_t index = static_cast<size_t>(
        ((lb * p.layoutH + lh) * rows + i / p.blockQ) * cols + j / p.blockK);
    if (p.layout[index] == 0)
      return false;
  }
  return !p.customMask || p.customMask(b, h, i, j);
}

double modifiedScore(const Problem &p, double qk, int64_t b, int64_t h,
                     int64_t i, int64_t j) {
  return scoreStages(p, qk, b, h, i, j).modified;
}

double philoxUniform(uint64_t seed, uint64_t offset, int64_t bh, int64_t i,
                     int64_t j) {
  std::array<uint32_t, 4> counter = {
      static_cast<uint32_t>(j), static_cast<uint32_t>(i),
      static_cast<uint32_t>(bh), static_cast<uint32_t>(offset)};
  std::array<uint32_t, 2> key = {static_cast<uint32_t>(seed),
                                 static_cast<uint32_t>(seed >> 32)};
  // 24 bits: exactly representable in float32, so every backend can produce
  // the same u with a single-precision multiply.
  return static_cast<double>(philox4x32_10(counter, key)[0] >> 8) * 0x1p-24;
}

ForwardResult forward(const Problem &p, const std::vector<double> &q,
                      const std::vector<double> &k,
                      const std::vector<double> &v) {
  validate(p, q, k, &v);
  ForwardResult result;
  result.out.assign(p.batch * p.headsQ * p.seqQ * p.headDimV, 0.0);
  result.lse.assign(p.batch * p.headsQ * p.seqQ, kNegInf);
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t h = 0; h < p.headsQ; ++h) {
      for (int64_t i = 0; i < p.seqQ; ++i) {
        Row row = evaluateRow(p, q, k, b, h, i);
        result.lse[queryRow(p, b, h, i, 1)] = row.lse;
        double *oi = &result.out[queryRow(p, b, h, i, p.headDimV)];
        for (size_t n = 0; n < row.keys.size(); ++n) {
          int64_t j = row.keys[n];
          double weight = row.prob[n] * dropoutFactor(p, b, h, i, j);
          axpy(weight, &v[keyRow(p, b, h, j, p.headDimV)], oi, p.headDimV);
        }
      }
    }
  }
  return result;
}

std::vector<double> customScoreInputs(const Problem &p,
                                      const std::vector<double> &q,
                                      const std::vector<double> &k) {
  validate(p, q, k);
  std::vector<double> inputs;
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t h = 0; h < p.headsQ; ++h)
      for (int64_t i = 0; i < p.seqQ; ++i)
        for (const ScoreStages &s : evaluateRow(p, q, k, b, h, i).scores)
          inputs.push_back(s.beforeCustom);
  return inputs;
}

BackwardResult backward(const Problem &p, const std::vector<double> &q,
                        const std::vector<double> &k,
                        const std::vector<double> &v,
                        const std::vector<double> &dout,
                        const std::vector<double> *rowDot) {
  validate(p, q, k, &v);
  checkTensor("dout", dout, p.batch * p.headsQ * p.seqQ * p.headDimV,
              "[batch, headsQ, seqQ, headDimV]");
  if (rowDot)
    checkTensor("rowDot", *rowDot, p.batch * p.headsQ * p.seqQ,
                "[batch, headsQ, seqQ]");
  if (p.customScore && !p.customScoreGrad)
    fail("customScoreGrad", "a derivative when customScore is set",
         "none (backward needs d customScore / ds)");
  BackwardResult grads;
  grads.dq.assign(q.size(), 0.0);
  grads.dk.assign(k.size(), 0.0);
  grads.dv.assign(v.size(), 0.0);
  const int64_t dim = p.headDim, dimV = p.headDimV;
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t h = 0; h < p.headsQ; ++h) {
      for (int64_t i = 0; i < p.seqQ; ++i) {
        Row row = evaluateRow(p, q, k, b, h, i);
        size_t qi = queryRow(p, b, h, i, dim);
        const double *doi = &dout[queryRow(p, b, h, i, dimV)];
        // dP_ij = (dO_i . v_j) Zs_ij and D_i = sum_j P_ij dP_ij.
        std::vector<double> factor(row.keys.size()), dp(row.keys.size());
        double rowD = 0.0;
        for (size_t n = 0; n < row.keys.size(); ++n) {
          int64_t j = row.keys[n];
          factor[n] = dropoutFactor(p, b, h, i, j);
          dp[n] = dot(doi, &v[keyRow(p, b, h, j, dimV)], dimV) * factor[n];
          rowD += row.prob[n] * dp[n];
        }
        if (rowDot)
          rowD = (*rowDot)[(b * p.headsQ + h) * p.seqQ + i];
        for (size_t n = 0; n < row.keys.size(); ++n) {
          // P_ij = 0 contributes nothing; skipping it also keeps a custom
          // derivative that is infinite at s = -inf from making 0 * inf.
          if (row.prob[n] == 0.0)
            continue;
          int64_t j = row.keys[n];
          double dsFinal = row.prob[n] * (dp[n] - rowD);
          double ds = dsFinal * scoreChain(p, row.scores[n], b, h, i, j);
          size_t kj = keyRow(p, b, h, j, dim);
          axpy(p.scale * ds, &k[kj], &grads.dq[qi], dim);
          axpy(p.scale * ds, &q[qi], &grads.dk[kj], dim);
          axpy(row.prob[n] * factor[n], doi,
               &grads.dv[keyRow(p, b, h, j, dimV)], dimV);
        }
      }
    }
  }
  return grads;
}

} // namespace flashc::reference
