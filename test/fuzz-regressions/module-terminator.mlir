// RUN: flashc-opt %s --attn-tile | FileCheck %s

// Found by fuzz-pipeline (Inputs/fuzz-pipeline/module-terminator) once the
// fuzzers' context registered the NVIDIA backend's dialects (vector among
// them): a spec module may end with a terminator op, where it verifies; the
// tiling passes appended their kernels after it, and "succeeded" with IR
// that does not verify ('vector.yield' op must be the last operation in the
// parent block). Kernels now go before such a terminator.

// CHECK: func.func @f_fwd(
// CHECK: vector.yield
// CHECK-NEXT: }
func.func @f(%q: tensor<1x1x8x64xbf16>, %k: tensor<1x1x8x64xbf16>, %v: tensor<1x1x8x64xbf16>) -> (tensor<1x1x8x64xbf16>, tensor<1x1x8xf32>) {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x1x8x64xbf16>, tensor<1x1x8x64xbf16>, tensor<1x1x8x64xbf16> -> tensor<1x1x8x64xbf16>, tensor<1x1x8xf32>
  return %o, %lse : tensor<1x1x8x64xbf16>, tensor<1x1x8xf32>
}
vector.yield
