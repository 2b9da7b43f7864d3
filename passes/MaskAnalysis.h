//===- MaskAnalysis.h - linear constraints implied by masks -----*- C++ -*-===//
//
// Causal, sliding-window and (where provable) custom masks are conjunctions
// of linear constraints on the query row i and key column j. From those, the
// tiling passes bound which tile pairs can hold a kept score (the rest are
// never visited) and which are full (no mask is evaluated on them).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_PASSES_MASKANALYSIS_H
#define FLASHC_PASSES_MASKANALYSIS_H

#include "dialect/AttentionConfig.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace flashc {

/// `ci * i + cj * j + c0 + cshift * shift >= 0`, where shift is nk - nq under
/// bottom-right alignment and 0 otherwise.
struct LinearConstraint {
  int64_t ci = 0, cj = 0, c0 = 0, cshift = 0;

  bool operator==(const LinearConstraint &o) const {
    return ci == o.ci && cj == o.cj && c0 == o.c0 && cshift == o.cshift;
  }
  std::string str() const;
};

struct MaskAnalysis {
  /// Constraints every kept (i, j) satisfies (besides i < nq, j < nk).
  llvm::SmallVector<LinearConstraint> constraints;
  /// True when the constraints are the whole mask: an (i, j) satisfying all
  /// of them (and the bounds) is kept. False when a custom mask region holds
  /// something the analysis could not prove linear; then no block is full.
  bool exact = true;
};

/// Analyses the masks of a spec-level op.
MaskAnalysis analyzeMasks(const attn::AttentionConfig &config);

/// The linear constraints a custom mask region implies: the conjuncts of its
/// yielded i1 that are comparisons of affine expressions in (i, j) with
/// constant coefficients. `exact` says whether they are all of it.
MaskAnalysis analyzeMaskRegion(mlir::Region &mask);

} // namespace flashc

#endif // FLASHC_PASSES_MASKANALYSIS_H
