// RUN: flashc-opt %s -split-input-file -attn-analyze-masks | FileCheck %s

// CHECK-LABEL: func.func @causal_window
// CHECK: attn.mask_constraints = ["i - j + shift >= 0", "-i + j - shift + 64 >= 0", "i - j + shift >= 0"], attn.mask_exact = true
func.func @causal_window(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  %o, %lse = attn.attention %q, %k, %v causal align(bottom_right) window(64, 0) : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>, tensor<1x1x8xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// A custom mask made of affine comparisons is understood exactly:
// i >= j and i - j < 100 and 2*j + 3 != ... (only affine conjuncts).
// CHECK-LABEL: func.func @affine_custom
// CHECK: attn.mask_constraints = ["i - j >= 0", "-i + j + 99 >= 0"], attn.mask_exact = true
func.func @affine_custom(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c100 = arith.constant 100 : index
    %ge = arith.cmpi sge, %i, %j : index
    %d = arith.subi %i, %j : index
    %near = arith.cmpi slt, %d, %c100 : index
    %keep = arith.andi %ge, %near : i1
    attn.yield %keep : i1
  } : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>, tensor<1x1x8xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// A per-head condition is not linear in (i, j): the affine conjunct still
// bounds the blocks, but no block can be proven full.
// CHECK-LABEL: func.func @inexact_custom
// CHECK: attn.mask_constraints = ["2*i - j + 3 >= 0"], attn.mask_exact = false
func.func @inexact_custom(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c0 = arith.constant 0 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %i2 = arith.muli %c2, %i : index
    %lim = arith.addi %i2, %c3 : index
    %lin = arith.cmpi sle, %j, %lim : index
    %odd = arith.remui %j, %c2 : index
    %head0 = arith.cmpi eq, %h, %c0 : index
    %a = arith.andi %lin, %head0 : i1
    attn.yield %a : i1
  } : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>, tensor<1x2x8xf32>
  return %o : tensor<1x2x8x16xf32>
}
