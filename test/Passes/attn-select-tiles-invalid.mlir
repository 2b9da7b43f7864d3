// RUN: flashc-opt %s -split-input-file -attn-select-tiles="block-q=48" -verify-diagnostics
// RUN: not flashc-opt %s -attn-select-tiles="target=sm_99" 2>&1 | FileCheck %s --check-prefix=TARGET

// TARGET: unknown target 'sm_99'; expected cpu, sm_80 or sm_90

func.func @bad_override(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{block-q = 48: tile sizes must be powers of two in [16, 128]}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>, tensor<1x1x8xf32>
  return %o : tensor<1x1x8x16xf32>
}
