//===- Reference.h - Independent float64 attention reference ----*- C++ -*-===//
//
// A straightforward O(N^2) attention in float64, written separately from the
// compiler so that it can judge the compiler's output. It knows nothing of
// MLIR: custom mask and score regions arrive as callbacks.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_REFERENCE_REFERENCE_H
#define FLASHC_REFERENCE_REFERENCE_H

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace flashc::reference {

/// Everything that determines what attention computes (DESIGN.md,
/// "Semantics"). Tensors are dense row-major [B, H, N, D].
struct Problem {
  int64_t batch = 1, headsQ = 1, headsKV = 1;
  int64_t seqQ = 1, seqK = 1, headDim = 1, headDimV = 1;
  double scale = 1.0;
  bool causal = false;
  /// Bottom-right alignment: shift = nk - nq for causal, window and ALiBi.
  bool bottomRight = false;
  /// Sliding window (left, right); a negative bound means unbounded.
  std::optional<std::pair<int64_t, int64_t>> window;
  /// Softcap c: s -> c * tanh(s / c).
  std::optional<double> softcap;
  /// ALiBi with slope_h = 2^(-8 (h + 1) / Hq): s -= slope_h * |i + shift - j|.
  bool alibi = false;
  /// Per-batch valid lengths (padding / varlen); empty means all full.
  std::vector<int32_t> seqLensQ, seqLensK;
  /// Dropout probability and the Philox key (see philoxUniform).
  double dropoutP = 0.0;
  uint64_t seed = 0, offset = 0;
  /// Block-sparsity layout, dense [layoutB, layoutH, ceil(Nq/blockQ),
  /// ceil(Nk/blockK)]; layoutB is 1 or B, layoutH is 1 or Hq. Empty: none.
  std::vector<uint8_t> layout;
  int64_t layoutB = 1, layoutH = 1, blockQ = 0, blockK = 0;
  /// Custom mask region: true keeps (b, h, i, j).
  std::function<bool(int64_t, int64_t, int64_t, int64_t)> customMask;
  /// Custom score region: s -> f(s, b, h, i, j), applied after softcap and
  /// ALiBi. Its derivative df/ds is needed for the backward pass.
  std::function<double(double, int64_t, int64_t, int64_t, int64_t)> customScore;
  std::function<double(double, int64_t, int64_t, int64_t, int64_t)>
      customScoreGrad;
};

struct ForwardResult {
  std::vector<double> out; ///< [B, Hq, Nq, Dv]
  std::vector<double> lse; ///< [B, Hq, Nq], natural log; -inf for empty rows.
};

struct BackwardResult {
  std::vector<double> dq; ///< [B, Hq, Nq, D]
  std::vector<double> dk; ///< [B, Hkv, Nk, D]
  std::vector<double> dv; ///< [B, Hkv, Nk, Dv]
};

/// Whether (b, h, i, j) survives every mask (causal, window, padding,
/// layout, custom), all combined by AND.
bool isKept(const Problem &p, int64_t b, int64_t h, int64_t i, int64_t j);

/// The modified score for a raw dot product qk (before scaling): scale, then
/// softcap, then ALiBi, then the custom score. Like isKept, it assumes a
/// valid Problem (forward and backward validate; these do not).
double modifiedScore(const Problem &p, double qk, int64_t b, int64_t h,
                     int64_t i, int64_t j);

/// The Philox4x32-10 uniform in [0, 1) that decides dropout of (b, h, i, j):
/// key = (seed lo, seed hi), counter = (j, i, b * Hq + h, offset lo);
/// u = (word0 >> 8) * 2^-24. The element is kept iff u >= dropoutP.
double philoxUniform(uint64_t seed, uint64_t offset, int64_t bh, int64_t i,
                     int64_t j);

/// O and LSE of \p p for dense row-major q [B, Hq, Nq, D], k [B, Hkv, Nk, D]
/// and v [B, Hkv, Nk, Dv]. Throws std::invalid_argument, naming the field,
/// if the problem or a tensor size is malformed.
ForwardResult forward(const Problem &p, const std::vector<double> &q,
                      const std::vector<double> &k,
                      const std::vector<double> &v);

/// The score each kept (b, h, i, j) hands the custom score: after scaling,
/// softcap and ALiBi, in (b, h, i, j) order. Lets a test keep its inputs
/// clear of a custom score's kinks, where the derivative is undefined.
/// Validates as forward does.
std::vector<double> customScoreInputs(const Problem &p,
                                      const std::vector<double> &q,
                                      const std::vector<double> &k);

/// dQ, dK and dV of L = sum(O * dout) for dout [B, Hq, Nq, Dv], by
/// recomputing P (and the dropout mask) from the inputs. dK and dV of a KV
/// head sum over its query heads. Validates as forward does, and also needs
/// customScoreGrad whenever customScore is set.
///
/// `rowDot`, when given ([B, Hq, Nq]), replaces D_i = sum_j P_ij dP_ij by
/// the caller's rowsum(dO * O): the gradient that backward kernels compute
/// from the (rounded) O they are handed. Where the true dS cancels to zero
/// (one key per row, say), that is the only meaningful comparison.
BackwardResult backward(const Problem &p, const std::vector<double> &q,
                        const std::vector<double> &k,
                        const std::vector<double> &v,
                        const std::vector<double> &dout,
                        const std::vector<double> *rowDot = nullptr);

} // namespace flashc::reference

#endif // FLASHC_REFERENCE_REFERENCE_H
