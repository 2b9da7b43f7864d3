//===- KernelText.h - hand-written tiled attention kernels ------*- C++ -*-===//
//
// The CPU backend's tests do not depend on the tiling passes: they run
// kernels written by hand at the tiled level, in MLIR text, following
// passes/KernelABI.h. These functions produce that text for one
// configuration.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_TEST_CODEGEN_KERNELTEXT_H
#define FLASHC_TEST_CODEGEN_KERNELTEXT_H

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace flashc::test {

struct KernelConfig {
  /// Element type of Q, K, V, O, dO, dQ, dK, dV: "f32", "bf16" or "f16".
  std::string elementType = "f32";
  int64_t headDim = 16, headDimV = 16;
  int64_t blockQ = 16, blockK = 16;
  double scale = 0.25;
  bool causal = false, bottomRight = false;
  std::optional<std::pair<int64_t, int64_t>> window;
  std::optional<double> softcap;
  bool alibi = false;
  /// Body of a custom mask region over %rb, %rh, %ri, %rj (index) that
  /// defines %keep : i1; empty for none.
  std::string customMask;
  /// Body of a custom score region over %rs (f32), %rb, %rh, %ri, %rj that
  /// defines %score : f32; empty for none.
  std::string customScore;
  /// Dropout probability; 0 for no dropout (and no seed/offset arguments).
  double dropoutP = 0.0;
};

/// @attn_fwd(q, k, v, o, lse[, seed, offset]): the FlashAttention forward
/// pass with scf.forall over (b, h, q-block), its body in a
/// memref.alloca_scope as the tiling passes emit it, and scf.for over KV
/// blocks.
std::string forwardKernel(const KernelConfig &config);

/// @attn_bwd_prep(o, dout, delta), @attn_bwd_dkdv(q, k, v, dout, lse, delta,
/// dk, dv[, seed, offset]), @attn_bwd_dq(q, k, v, dout, lse, delta, dq[,
/// seed, offset]): the three backward kernels.
std::string backwardKernels(const KernelConfig &config);

/// @attn_dropout_mask(out[, seed, offset]): writes dropout(1) of every
/// (b, h, i, j) to out[b, h * ceil(Nk / Bc) + j / Bc, i, j % Bc] for an out
/// of shape [B, H * ceil(Nk / Bc), Nq, Bc]; Nk and H come from a dummy k
/// argument [B, H, Nk, 1]. It exposes the keep mask bit for bit.
std::string dropoutMaskKernel(const KernelConfig &config);

} // namespace flashc::test

#endif // FLASHC_TEST_CODEGEN_KERNELTEXT_H
