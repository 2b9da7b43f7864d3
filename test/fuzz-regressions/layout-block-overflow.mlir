// RUN: flashc-opt %s | FileCheck %s

// Found by fuzz-spec-builder (Inputs/fuzz-spec-builder/layout-block-overflow):
// the verifier computed ceil(Nq / bq) as (Nq + bq - 1) / bq, which overflows
// int64 for a block size near INT64_MAX (still a multiple of 16), and so did
// the IO report. Both now divide without forming the sum: one layout block
// covers the whole sequence.

// CHECK-LABEL: func.func @huge_block
// CHECK: block [9223372036854775792, 9223372036854775792]
func.func @huge_block(%q: tensor<2x2x2x16xf16>, %k: tensor<2x1x16x16xf16>, %v: tensor<2x1x16x16xf16>, %l: tensor<1x1x1x1xi8>) -> (tensor<2x2x2x16xf16>, tensor<2x2x2xf32>) {
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<1x1x1x1xi8>, block [9223372036854775792, 9223372036854775792]) : tensor<2x2x2x16xf16>, tensor<2x1x16x16xf16>, tensor<2x1x16x16xf16> -> tensor<2x2x2x16xf16>, tensor<2x2x2xf32>
  return %o, %lse : tensor<2x2x2x16xf16>, tensor<2x2x2xf32>
}
