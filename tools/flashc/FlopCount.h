//===- FlopCount.h - FLOPs of an attention problem --------------*- C++ -*-===//
//
// The FlashAttention papers' convention, which `flashc verify` reports and
// `flashc run` divides by the kernel time: a forward pass costs two matmuls,
// 2 * (D + Dv) FLOPs per (query, key) pair that the masks keep
// (4 * B * Hq * Nq * Nk * D when D == Dv and nothing is masked); a backward
// pass costs 2.5 times its forward pass. Only causal and window masks are
// counted, exactly; padding, layouts and custom masks depend on data or are
// not analysed, and count as kept.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_TOOLS_FLASHC_FLOPCOUNT_H
#define FLASHC_TOOLS_FLASHC_FLOPCOUNT_H

#include <cstdint>
#include <optional>

namespace flashc::attn {
struct AttentionConfig;
} // namespace flashc::attn

namespace flashc::tool {

/// Static sizes and the structural masks of one attention problem.
struct FlopProblem {
  int64_t batch = 1, headsQ = 1, seqQ = 1, seqK = 1, headDim = 1, headDimV = 1;
  bool causal = false, bottomRight = false;
  std::optional<int64_t> windowLeft, windowRight;
};

/// The backward pass's FLOPs relative to the forward pass's.
inline constexpr double kBackwardFlopRatio = 2.5;

/// The (i, j) pairs of one (b, h) slab kept by causal and window, in closed
/// form (exact up to 2^53).
double countKeptPairs(const FlopProblem &p);

/// Forward FLOPs: 2 * B * Hq * keptPairs * (D + Dv).
double forwardFlops(const FlopProblem &p);

/// The FlopProblem of \p config, or nullopt when a size is dynamic.
std::optional<FlopProblem> flopProblemOf(const attn::AttentionConfig &config);

} // namespace flashc::tool

#endif // FLASHC_TOOLS_FLASHC_FLOPCOUNT_H
