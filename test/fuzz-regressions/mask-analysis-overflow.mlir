// RUN: flashc-opt %s -split-input-file --attn-analyze-masks | FileCheck %s

// Mask analysis read custom mask regions as exact integer arithmetic. With
// large constants it overflowed int64 while analysing (undefined behaviour:
// UBSan aborts fuzz-pipeline on Inputs/fuzz-pipeline/mask-analysis-overflow.mlir),
// and where the region's own index arithmetic wraps it could prove blocks
// full that the region masks, so the region was never evaluated there (a
// silently wrong answer). Now coefficients are kept within 2^20, constants
// within 2^60 and arithmetic to 64 bits, with checked operations; anything
// else leaves the mask to the region (mask_exact = false).

// CHECK-LABEL: func.func @product_overflows
// CHECK: attn.mask_constraints = [], attn.mask_exact = false
func.func @product_overflows(%q: tensor<1x1x64x16xf32>, %k: tensor<1x1x64x16xf32>, %v: tensor<1x1x64x16xf32>) -> (tensor<1x1x64x16xf32>, tensor<1x1x64xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 9223372036854775807 : index
    %t = arith.muli %i, %c : index
    %u = arith.muli %t, %c : index
    %keep = arith.cmpi sge, %u, %j : index
    attn.yield %keep : i1
  } : tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32> -> tensor<1x1x64x16xf32>, tensor<1x1x64xf32>
  return %o, %lse : tensor<1x1x64x16xf32>, tensor<1x1x64xf32>
}

// -----

// i + (2^63 - 1) >= j: exactly true for every (i, j), but the region's
// i + (2^63 - 1) wraps negative for i >= 1.
// CHECK-LABEL: func.func @region_wraps
// CHECK: attn.mask_constraints = [], attn.mask_exact = false
func.func @region_wraps(%q: tensor<1x1x64x16xf32>, %k: tensor<1x1x64x16xf32>, %v: tensor<1x1x64x16xf32>) -> (tensor<1x1x64x16xf32>, tensor<1x1x64xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 9223372036854775807 : index
    %t = arith.addi %i, %c : index
    %keep = arith.cmpi sge, %t, %j : index
    attn.yield %keep : i1
  } : tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32> -> tensor<1x1x64x16xf32>, tensor<1x1x64xf32>
  return %o, %lse : tensor<1x1x64x16xf32>, tensor<1x1x64xf32>
}

// -----

// i32 arithmetic wraps at 2^31: not analysed.
// CHECK-LABEL: func.func @narrow
// CHECK: attn.mask_constraints = [], attn.mask_exact = false
func.func @narrow(%q: tensor<1x1x64x16xf32>, %k: tensor<1x1x64x16xf32>, %v: tensor<1x1x64x16xf32>) -> (tensor<1x1x64x16xf32>, tensor<1x1x64xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %i32 = arith.index_cast %i : index to i32
    %j32 = arith.index_cast %j : index to i32
    %c = arith.constant 2147483647 : i32
    %t = arith.addi %i32, %c : i32
    %keep = arith.cmpi sge, %t, %j32 : i32
    attn.yield %keep : i1
  } : tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32> -> tensor<1x1x64x16xf32>, tensor<1x1x64xf32>
  return %o, %lse : tensor<1x1x64x16xf32>, tensor<1x1x64xf32>
}

// -----

// Within the bounds the analysis is unchanged: a band of width 1024.
// CHECK-LABEL: func.func @band
// CHECK: attn.mask_constraints = ["i - j + 1024 >= 0", "-i + j >= 0"], attn.mask_exact = true
func.func @band(%q: tensor<1x1x64x16xf32>, %k: tensor<1x1x64x16xf32>, %v: tensor<1x1x64x16xf32>) -> (tensor<1x1x64x16xf32>, tensor<1x1x64xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 1024 : index
    %t = arith.addi %i, %c : index
    %lo = arith.cmpi sge, %t, %j : index
    %hi = arith.cmpi sge, %j, %i : index
    %keep = arith.andi %lo, %hi : i1
    attn.yield %keep : i1
  } : tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32> -> tensor<1x1x64x16xf32>, tensor<1x1x64xf32>
  return %o, %lse : tensor<1x1x64x16xf32>, tensor<1x1x64xf32>
}
