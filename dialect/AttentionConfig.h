//===- AttentionConfig.h - what a spec-level op computes --------*- C++ -*-===//
//
// A plain summary of an attn.attention / attn.attention_grad op: shapes,
// element type, masks and modifiers. Passes, the CLI and the IO report read
// this instead of re-deriving it from attributes.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_DIALECT_ATTENTIONCONFIG_H
#define FLASHC_DIALECT_ATTENTIONCONFIG_H

#include "dialect/AttnOps.h"

#include <optional>

namespace flashc::attn {

/// Sizes of an attention problem; a dynamic size is ShapedType::kDynamic.
struct AttentionShape {
  int64_t batch = 0, headsQ = 0, headsKV = 0;
  int64_t seqQ = 0, seqK = 0, headDim = 0, headDimV = 0;

  bool isStatic() const;
};

/// A window bound of 2^40 or more keeps every key of any sequence that fits
/// in memory, exactly as an unbounded side would: the config clamps bounds to
/// this, so that `i + shift +- bound` (in kernels, mask analysis and the IO
/// report) cannot overflow int64 for a spec like window(9223372036854775807, 0).
inline constexpr int64_t kMaxWindowBound = int64_t(1) << 40;

struct AttentionConfig {
  AttentionShape shape;
  mlir::Type elementType;
  double scale = 1.0;
  bool causal = false;
  bool bottomRight = false;
  /// Window bounds, at most kMaxWindowBound (see there).
  std::optional<int64_t> windowLeft, windowRight;
  std::optional<double> softcap;
  bool alibi = false;
  double dropoutP = 0.0;
  int64_t dropoutSeed = 0;
  bool hasSeqLensQ = false, hasSeqLensK = false;
  bool hasLayout = false;
  int64_t layoutBlockQ = 0, layoutBlockK = 0;
  /// Custom regions, or null when absent.
  mlir::Region *mask = nullptr;
  mlir::Region *score = nullptr;

  bool hasWindow() const { return windowLeft.has_value(); }
  bool hasDropout() const { return dropoutP > 0.0; }
};

/// Reads the configuration of a verified spec-level op.
AttentionConfig getAttentionConfig(AttentionOp op);
AttentionConfig getAttentionConfig(AttentionGradOp op);

} // namespace flashc::attn

#endif // FLASHC_DIALECT_ATTENTIONCONFIG_H
