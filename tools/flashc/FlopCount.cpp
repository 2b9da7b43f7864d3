//===- FlopCount.cpp - FLOPs of an attention problem ----------------------===//

#include "tools/flashc/FlopCount.h"

#include "dialect/AttentionConfig.h"

#include <algorithm>
#include <vector>

namespace flashc::tool {

namespace {

/// Sizes up to 2^63 - 1 and window bounds as large: sums and differences of
/// a few of them need more than 64 bits.
using Wide = __int128;

/// Sum over the integers i in [i0, i1) of max(0, alpha + beta * i), for beta
/// in {-1, 0, 1}; exact while the result fits a double's 53 bits.
double sumPositive(Wide alpha, int beta, Wide i0, Wide i1) {
  // Restrict [i0, i1) to where alpha + beta * i >= 1, then sum the series.
  if (beta > 0)
    i0 = std::max(i0, 1 - alpha);
  else if (beta < 0)
    i1 = std::min(i1, alpha);
  else if (alpha < 1)
    return 0.0;
  if (i1 <= i0)
    return 0.0;
  double n = static_cast<double>(i1 - i0);
  double first = static_cast<double>(alpha) + beta * static_cast<double>(i0);
  double last = static_cast<double>(alpha) + beta * static_cast<double>(i1 - 1);
  return n * (first + last) / 2.0;
}

} // namespace

double countKeptPairs(const FlopProblem &p) {
  // Row i keeps the keys j in [lo(i), hi(i)] with hi(i) = min(Nk - 1, i + a)
  // and lo(i) = max(0, i + c): a = shift (+ right), c = shift - left, either
  // absent when nothing bounds that side. Between the two breakpoints, where
  // the min and the max switch sides, the count hi - lo + 1 is linear in i.
  const Wide nq = p.seqQ, nk = p.seqK;
  const Wide shift = p.bottomRight ? nk - nq : 0;
  // Bounds beyond Nq + Nk change nothing; clamping keeps sums in range.
  auto clampBound = [&](int64_t x) { return std::min<Wide>(x, nq + nk); };
  std::optional<Wide> a, c;
  if (p.windowLeft && p.windowRight) {
    a = shift + clampBound(*p.windowRight);
    c = shift - clampBound(*p.windowLeft);
  }
  if (p.causal)
    a = a ? std::min(*a, shift) : shift;

  std::vector<Wide> cuts = {0, nq};
  auto cut = [&](Wide i) { cuts.push_back(std::clamp<Wide>(i, 0, nq)); };
  if (a)
    cut(nk - 1 - *a);
  if (c)
    cut(1 - *c);
  std::sort(cuts.begin(), cuts.end());

  double kept = 0.0;
  for (size_t k = 0; k + 1 < cuts.size(); ++k) {
    Wide i0 = cuts[k], i1 = cuts[k + 1];
    if (i0 == i1)
      continue;
    bool hiFixed = !a || i0 + *a >= nk - 1;
    bool loFixed = !c || i0 + *c <= 0;
    // hi - lo + 1 = alpha + beta * i.
    Wide alpha = (hiFixed ? nk - 1 : *a) - (loFixed ? 0 : *c) + 1;
    int beta = (hiFixed ? 0 : 1) - (loFixed ? 0 : 1);
    kept += sumPositive(alpha, beta, i0, i1);
  }
  return kept;
}

double forwardFlops(const FlopProblem &p) {
  return 2.0 * static_cast<double>(p.batch) * static_cast<double>(p.headsQ) *
         countKeptPairs(p) * static_cast<double>(p.headDim + p.headDimV);
}

std::optional<FlopProblem> flopProblemOf(const attn::AttentionConfig &config) {
  if (!config.shape.isStatic())
    return std::nullopt;
  FlopProblem p;
  p.batch = config.shape.batch;
  p.headsQ = config.shape.headsQ;
  p.seqQ = config.shape.seqQ;
  p.seqK = config.shape.seqK;
  p.headDim = config.shape.headDim;
  p.headDimV = config.shape.headDimV;
  p.causal = config.causal;
  p.bottomRight = config.bottomRight;
  p.windowLeft = config.windowLeft;
  p.windowRight = config.windowRight;
  return p;
}

} // namespace flashc::tool
