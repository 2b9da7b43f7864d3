// RUN: flashc-opt %s -split-input-file --attn-tile -verify-diagnostics

// Found by fuzz-spec-builder (Inputs/fuzz-spec-builder/kernel-name-clash):
// the tiling passes name kernels <func>_<kind>; a function of the module that
// already had such a name was duplicated, and the pass "succeeded" with IR
// that does not verify (redefinition of symbol). Now the pass says why.

func.func @f(%q: tensor<2x4x2x8xf16>, %k: tensor<2x4x17x8xf16>, %v: tensor<2x4x17x8xf16>) -> (tensor<2x4x2x8xf16>, tensor<2x4x2xf32>) {
  // expected-error @+1 {{kernel '@f_fwd' would share its name with another function of the module; rename that function}}
  %o, %lse = attn.attention %q, %k, %v : tensor<2x4x2x8xf16>, tensor<2x4x17x8xf16>, tensor<2x4x17x8xf16> -> tensor<2x4x2x8xf16>, tensor<2x4x2xf32>
  return %o, %lse : tensor<2x4x2x8xf16>, tensor<2x4x2xf32>
}
func.func @f_fwd() {
  return
}

// -----

// Two spec ops in @g give @g_0_fwd and @g_1_fwd; @g_0's own op gives
// @g_0_fwd again.
func.func @g(%q: tensor<1x1x16x16xf32>) -> (tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>) {
  %o0, %l0 = attn.attention %q, %q, %q : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>, tensor<1x1x16xf32>
  %o1, %l1 = attn.attention %q, %q, %q causal : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>, tensor<1x1x16xf32>
  return %o0, %o1 : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>
}
func.func @g_0(%q: tensor<1x1x16x16xf32>) -> tensor<1x1x16x16xf32> {
  // expected-error @+1 {{kernel '@g_0_fwd' would share its name with another function of the module; rename that function}}
  %o, %l = attn.attention %q, %q, %q : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>, tensor<1x1x16xf32>
  return %o : tensor<1x1x16x16xf32>
}
