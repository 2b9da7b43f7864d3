// RUN: flashc-opt %s -split-input-file -attn-select-tiles="block-q=48" -verify-diagnostics
// RUN: not flashc-opt %s -split-input-file -attn-select-tiles="dq-block-q=64" 2>&1 | FileCheck %s --check-prefix=DQ
// RUN: not flashc-opt %s -attn-select-tiles="target=sm_99" 2>&1 | FileCheck %s --check-prefix=TARGET

// TARGET: unknown target 'sm_99'; expected cpu, sm_80 or sm_90
// DQ: error: dq-block-q = 64 does not divide the layout block size 32

func.func @bad_override(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{block-q = 48: tile sizes must be powers of two in [16, 128]}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>, tensor<1x1x8xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// The dQ kernel's tiles must divide the layout blocks too.
func.func @bad_dq_override(%q: tensor<1x1x64x16xf16>, %k: tensor<1x1x64x16xf16>, %v: tensor<1x1x64x16xf16>, %o: tensor<1x1x64x16xf16>, %lse: tensor<1x1x64xf32>, %do: tensor<1x1x64x16xf16>, %l: tensor<1x1x2x2xi8>) -> tensor<1x1x64x16xf16> {
  // expected-error @+1 {{block-q = 48: tile sizes must be powers of two in [16, 128]}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do layout(%l : tensor<1x1x2x2xi8>, block [32, 32]) : tensor<1x1x64x16xf16>, tensor<1x1x64x16xf16>, tensor<1x1x64x16xf16>, tensor<1x1x64x16xf16>, tensor<1x1x64xf32>, tensor<1x1x64x16xf16> -> tensor<1x1x64x16xf16>, tensor<1x1x64x16xf16>, tensor<1x1x64x16xf16>
  return %dq : tensor<1x1x64x16xf16>
}
