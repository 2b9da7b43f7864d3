// RUN: flashc-opt %s -split-input-file --attn-analyze-masks | FileCheck %s --check-prefix=MASKS
// RUN: flashc-opt %s -split-input-file --attn-tile | FileCheck %s --check-prefix=TILED

// Found by fuzz-spec-builder (Inputs/fuzz-spec-builder/window-bound-overflow):
// window bounds near INT64_MAX made `i + shift +- bound` overflow, which is
// undefined behaviour in the IO report's block bounds (flashc explain) and
// wraps in the kernels' index arithmetic, so that blocks holding kept scores
// were skipped. Bounds are clamped to 2^40 (AttentionConfig.h,
// kMaxWindowBound), which keeps every key of any sequence that fits in
// memory, as the unclamped bound means to.

// MASKS-LABEL: func.func @huge_left
// MASKS: attn.mask_constraints = ["-i + j - shift + 1099511627776 >= 0", "i - j + shift + 16 >= 0"]
// TILED-LABEL: func.func @huge_left_fwd
// TILED: attn.tile.mask {{.*}} window(1099511627776, 16)
func.func @huge_left(%q: tensor<4x2x2x16xf16>, %k: tensor<4x2x2x16xf16>, %v: tensor<4x2x2x16xf16>) -> (tensor<4x2x2x16xf16>, tensor<4x2x2xf32>) {
  %o, %lse = attn.attention %q, %k, %v window(9223372036854775807, 16) : tensor<4x2x2x16xf16>, tensor<4x2x2x16xf16>, tensor<4x2x2x16xf16> -> tensor<4x2x2x16xf16>, tensor<4x2x2xf32>
  return %o, %lse : tensor<4x2x2x16xf16>, tensor<4x2x2xf32>
}

// -----

// Both sides, bottom-right aligned with Nq > Nk (a negative shift).
// MASKS-LABEL: func.func @huge_both
// MASKS: attn.mask_constraints = ["-i + j - shift + 1099511627776 >= 0", "i - j + shift + 1099511627776 >= 0"]
// TILED-LABEL: func.func @huge_both_fwd
// TILED: attn.tile.mask {{.*}} window(1099511627776, 1099511627776)
func.func @huge_both(%q: tensor<1x1x100x16xbf16>, %k: tensor<1x1x30x16xbf16>, %v: tensor<1x1x30x16xbf16>) -> (tensor<1x1x100x16xbf16>, tensor<1x1x100xf32>) {
  %o, %lse = attn.attention %q, %k, %v align(bottom_right) window(9223372036854775807, 9223372036854775807) : tensor<1x1x100x16xbf16>, tensor<1x1x30x16xbf16>, tensor<1x1x30x16xbf16> -> tensor<1x1x100x16xbf16>, tensor<1x1x100xf32>
  return %o, %lse : tensor<1x1x100x16xbf16>, tensor<1x1x100xf32>
}
