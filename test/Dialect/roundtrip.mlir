// RUN: flashc-opt %s -split-input-file | flashc-opt -split-input-file | FileCheck %s

// Every clause of attn.attention and attn.attention_grad, printed and parsed
// back. Float attributes print in scientific notation; `align(top_left)` is
// the default and is not printed.

// CHECK-LABEL: func.func @plain
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x16x32xf32>
func.func @plain(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) -> tensor<1x2x16x32xf32> {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return %o : tensor<1x2x16x32xf32>
}

// -----

// CHECK-LABEL: func.func @operands_and_results
// CHECK-SAME: %[[Q:.+]]: tensor<1x2x16x32xf32>, %[[K:.+]]: tensor<1x2x24x32xf32>, %[[V:.+]]: tensor<1x2x24x32xf32>
// CHECK: %[[O:.+]], %[[LSE:.+]] = attn.attention %[[Q]], %[[K]], %[[V]] :
// CHECK-SAME: tensor<1x2x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
// CHECK: return %[[O]], %[[LSE]]
func.func @operands_and_results(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x32xf32>) -> (tensor<1x2x16x32xf32>, tensor<1x2x16xf32>) {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return %o, %lse : tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
}

// -----

// CHECK-LABEL: func.func @f16
// CHECK: attn.attention
// CHECK-SAME: : tensor<2x4x128x64xf16>, tensor<2x4x128x64xf16>, tensor<2x4x128x64xf16> -> tensor<2x4x128x64xf16>, tensor<2x4x128xf32>
func.func @f16(%q: tensor<2x4x128x64xf16>, %k: tensor<2x4x128x64xf16>, %v: tensor<2x4x128x64xf16>) -> tensor<2x4x128x64xf16> {
  %o, %lse = attn.attention %q, %k, %v : tensor<2x4x128x64xf16>, tensor<2x4x128x64xf16>, tensor<2x4x128x64xf16> -> tensor<2x4x128x64xf16>, tensor<2x4x128xf32>
  return %o : tensor<2x4x128x64xf16>
}

// -----

// CHECK-LABEL: func.func @bf16
// CHECK: attn.attention
// CHECK-SAME: : tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16> -> tensor<1x8x256x128xbf16>, tensor<1x8x256xf32>
func.func @bf16(%q: tensor<1x8x256x128xbf16>, %k: tensor<1x8x256x128xbf16>, %v: tensor<1x8x256x128xbf16>) -> tensor<1x8x256x128xbf16> {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16>, tensor<1x8x256x128xbf16> -> tensor<1x8x256x128xbf16>, tensor<1x8x256xf32>
  return %o : tensor<1x8x256x128xbf16>
}

// -----

// Largest and smallest supported head dimensions.
// CHECK-LABEL: func.func @head_dim_bounds
// CHECK: attn.attention
// CHECK-SAME: : tensor<1x1x8x256xf16>, tensor<1x1x8x256xf16>, tensor<1x1x8x1xf16> -> tensor<1x1x8x1xf16>, tensor<1x1x8xf32>
func.func @head_dim_bounds(%q: tensor<1x1x8x256xf16>, %k: tensor<1x1x8x256xf16>, %v: tensor<1x1x8x1xf16>) -> tensor<1x1x8x1xf16> {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x1x8x256xf16>, tensor<1x1x8x256xf16>, tensor<1x1x8x1xf16> -> tensor<1x1x8x1xf16>, tensor<1x1x8xf32>
  return %o : tensor<1x1x8x1xf16>
}

// -----

// B, H and N may be dynamic; the results follow the query's sizes.
// CHECK-LABEL: func.func @dynamic_dims
// CHECK: attn.attention
// CHECK-SAME: : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>
func.func @dynamic_dims(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  %o, %lse = attn.attention %q, %k, %v : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>
  return %o : tensor<?x?x?x64xbf16>
}

// -----

// A dynamic size is compatible with a static one on the other operand.
// CHECK-LABEL: func.func @mixed_static_dynamic
// CHECK: attn.attention
// CHECK-SAME: : tensor<2x8x?x64xf16>, tensor<?x2x100x64xf16>, tensor<2x?x?x64xf16> -> tensor<2x8x?x64xf16>, tensor<2x8x?xf32>
func.func @mixed_static_dynamic(%q: tensor<2x8x?x64xf16>, %k: tensor<?x2x100x64xf16>, %v: tensor<2x?x?x64xf16>) -> tensor<2x8x?x64xf16> {
  %o, %lse = attn.attention %q, %k, %v : tensor<2x8x?x64xf16>, tensor<?x2x100x64xf16>, tensor<2x?x?x64xf16> -> tensor<2x8x?x64xf16>, tensor<2x8x?xf32>
  return %o : tensor<2x8x?x64xf16>
}

// -----

// Grouped-query attention: 8 query heads share 2 KV heads.
// CHECK-LABEL: func.func @gqa
// CHECK: attn.attention
// CHECK-SAME: : tensor<1x8x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16> -> tensor<1x8x128x64xbf16>, tensor<1x8x128xf32>
func.func @gqa(%q: tensor<1x8x128x64xbf16>, %k: tensor<1x2x128x64xbf16>, %v: tensor<1x2x128x64xbf16>) -> tensor<1x8x128x64xbf16> {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x8x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16> -> tensor<1x8x128x64xbf16>, tensor<1x8x128xf32>
  return %o : tensor<1x8x128x64xbf16>
}

// -----

// Multi-query attention: one KV head.
// CHECK-LABEL: func.func @mqa
// CHECK: attn.attention
// CHECK-SAME: : tensor<2x8x64x128xf16>, tensor<2x1x96x128xf16>, tensor<2x1x96x128xf16> -> tensor<2x8x64x128xf16>, tensor<2x8x64xf32>
func.func @mqa(%q: tensor<2x8x64x128xf16>, %k: tensor<2x1x96x128xf16>, %v: tensor<2x1x96x128xf16>) -> tensor<2x8x64x128xf16> {
  %o, %lse = attn.attention %q, %k, %v : tensor<2x8x64x128xf16>, tensor<2x1x96x128xf16>, tensor<2x1x96x128xf16> -> tensor<2x8x64x128xf16>, tensor<2x8x64xf32>
  return %o : tensor<2x8x64x128xf16>
}

// -----

// Value head dimension Dv differs from D; the output takes Dv.
// CHECK-LABEL: func.func @dv_ne_d
// CHECK: attn.attention
// CHECK-SAME: : tensor<1x4x64x128xbf16>, tensor<1x4x64x128xbf16>, tensor<1x4x64x64xbf16> -> tensor<1x4x64x64xbf16>, tensor<1x4x64xf32>
func.func @dv_ne_d(%q: tensor<1x4x64x128xbf16>, %k: tensor<1x4x64x128xbf16>, %v: tensor<1x4x64x64xbf16>) -> tensor<1x4x64x64xbf16> {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x4x64x128xbf16>, tensor<1x4x64x128xbf16>, tensor<1x4x64x64xbf16> -> tensor<1x4x64x64xbf16>, tensor<1x4x64xf32>
  return %o : tensor<1x4x64x64xbf16>
}

// -----

// CHECK-LABEL: func.func @seqlens
// CHECK-SAME: %[[SQ:[a-z0-9]+]]: tensor<4xi32>, %[[SK:[a-z0-9]+]]: tensor<4xi32>
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} seqlens_q(%[[SQ]] : tensor<4xi32>) seqlens_k(%[[SK]] : tensor<4xi32>) :
func.func @seqlens(%q: tensor<4x2x128x64xf16>, %k: tensor<4x2x128x64xf16>, %v: tensor<4x2x128x64xf16>, %sq: tensor<4xi32>, %sk: tensor<4xi32>) -> tensor<4x2x128x64xf16> {
  %o, %lse = attn.attention %q, %k, %v seqlens_q(%sq : tensor<4xi32>) seqlens_k(%sk : tensor<4xi32>) : tensor<4x2x128x64xf16>, tensor<4x2x128x64xf16>, tensor<4x2x128x64xf16> -> tensor<4x2x128x64xf16>, tensor<4x2x128xf32>
  return %o : tensor<4x2x128x64xf16>
}

// -----

// Either length may be given alone; a dynamic B takes lengths of any size.
// CHECK-LABEL: func.func @seqlens_one_side
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} seqlens_q(%{{.+}} : tensor<?xi32>) :
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} seqlens_k(%{{.+}} : tensor<3xi32>) :
func.func @seqlens_one_side(%q: tensor<?x2x?x64xf16>, %k: tensor<?x2x?x64xf16>, %v: tensor<?x2x?x64xf16>, %sq: tensor<?xi32>, %sk: tensor<3xi32>) -> (tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16>) {
  %o, %lse = attn.attention %q, %k, %v seqlens_q(%sq : tensor<?xi32>) : tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16> -> tensor<?x2x?x64xf16>, tensor<?x2x?xf32>
  %o2, %lse2 = attn.attention %q, %k, %v seqlens_k(%sk : tensor<3xi32>) : tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16> -> tensor<?x2x?x64xf16>, tensor<?x2x?xf32>
  return %o, %o2 : tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16>
}

// -----

// A block-sparsity layout, one per batch entry and head, and one broadcast
// over both; ceil(100 / 64) = 2 and ceil(200 / 128) = 2 blocks.
// CHECK-LABEL: func.func @layout
// CHECK-SAME: %[[L:[a-z0-9]+]]: tensor<2x4x2x2xi8>, %[[L1:[a-z0-9]+]]: tensor<1x1x2x2xi1>
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} layout(%[[L]] : tensor<2x4x2x2xi8>, block [64, 128]) :
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} layout(%[[L1]] : tensor<1x1x2x2xi1>, block [64, 128]) :
func.func @layout(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x200x64xbf16>, %v: tensor<2x4x200x64xbf16>, %l: tensor<2x4x2x2xi8>, %l1: tensor<1x1x2x2xi1>) -> (tensor<2x4x100x64xbf16>, tensor<2x4x100x64xbf16>) {
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<2x4x2x2xi8>, block [64, 128]) : tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  %o1, %lse1 = attn.attention %q, %k, %v layout(%l1 : tensor<1x1x2x2xi1>, block [64, 128]) : tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return %o, %o1 : tensor<2x4x100x64xbf16>, tensor<2x4x100x64xbf16>
}

// -----

// With dynamic sequence lengths the layout's block counts are dynamic too.
// CHECK-LABEL: func.func @layout_dynamic
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} layout(%{{.+}} : tensor<1x8x?x?xi32>, block [16, 16]) :
func.func @layout_dynamic(%q: tensor<1x8x?x64xf16>, %k: tensor<1x8x?x64xf16>, %v: tensor<1x8x?x64xf16>, %l: tensor<1x8x?x?xi32>) -> tensor<1x8x?x64xf16> {
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<1x8x?x?xi32>, block [16, 16]) : tensor<1x8x?x64xf16>, tensor<1x8x?x64xf16>, tensor<1x8x?x64xf16> -> tensor<1x8x?x64xf16>, tensor<1x8x?xf32>
  return %o : tensor<1x8x?x64xf16>
}

// -----

// CHECK-LABEL: func.func @scale
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} scale(1.250000e-01) :
func.func @scale(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) -> tensor<1x2x16x32xf32> {
  %o, %lse = attn.attention %q, %k, %v scale(0.125) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return %o : tensor<1x2x16x32xf32>
}

// -----

// `align(top_left)` is the default and prints as nothing.
// CHECK-LABEL: func.func @causal
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} causal :
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} causal :
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} causal align(bottom_right) :
func.func @causal(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x48x32xf32>, %v: tensor<1x2x48x32xf32>) -> (tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>) {
  %o0, %lse0 = attn.attention %q, %k, %v causal : tensor<1x2x16x32xf32>, tensor<1x2x48x32xf32>, tensor<1x2x48x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  %o1, %lse1 = attn.attention %q, %k, %v causal align(top_left) : tensor<1x2x16x32xf32>, tensor<1x2x48x32xf32>, tensor<1x2x48x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  %o2, %lse2 = attn.attention %q, %k, %v causal align(bottom_right) : tensor<1x2x16x32xf32>, tensor<1x2x48x32xf32>, tensor<1x2x48x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return %o0, %o1, %o2 : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>
}

// -----

// A window alone, a window anchored bottom-right, and a window with zero
// width on either side.
// CHECK-LABEL: func.func @window
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} window(4, 2) :
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} align(bottom_right) window(256, 0) :
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} causal window(0, 0) :
func.func @window(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x48x32xf32>, %v: tensor<1x2x48x32xf32>) -> (tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>) {
  %o0, %lse0 = attn.attention %q, %k, %v window(4, 2) : tensor<1x2x16x32xf32>, tensor<1x2x48x32xf32>, tensor<1x2x48x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  %o1, %lse1 = attn.attention %q, %k, %v align(bottom_right) window(256, 0) : tensor<1x2x16x32xf32>, tensor<1x2x48x32xf32>, tensor<1x2x48x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  %o2, %lse2 = attn.attention %q, %k, %v causal window(0, 0) : tensor<1x2x16x32xf32>, tensor<1x2x48x32xf32>, tensor<1x2x48x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return %o0, %o1, %o2 : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>
}

// -----

// CHECK-LABEL: func.func @softcap
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} softcap(3.000000e+01) :
func.func @softcap(%q: tensor<1x2x16x32xbf16>, %k: tensor<1x2x16x32xbf16>, %v: tensor<1x2x16x32xbf16>) -> tensor<1x2x16x32xbf16> {
  %o, %lse = attn.attention %q, %k, %v softcap(30.0) : tensor<1x2x16x32xbf16>, tensor<1x2x16x32xbf16>, tensor<1x2x16x32xbf16> -> tensor<1x2x16x32xbf16>, tensor<1x2x16xf32>
  return %o : tensor<1x2x16x32xbf16>
}

// -----

// CHECK-LABEL: func.func @alibi
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} causal alibi :
func.func @alibi(%q: tensor<1x8x16x32xbf16>, %k: tensor<1x8x16x32xbf16>, %v: tensor<1x8x16x32xbf16>) -> tensor<1x8x16x32xbf16> {
  %o, %lse = attn.attention %q, %k, %v causal alibi : tensor<1x8x16x32xbf16>, tensor<1x8x16x32xbf16>, tensor<1x8x16x32xbf16> -> tensor<1x8x16x32xbf16>, tensor<1x8x16xf32>
  return %o : tensor<1x8x16x32xbf16>
}

// -----

// p = 0 is allowed (no dropout).
// CHECK-LABEL: func.func @dropout
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} dropout(1.000000e-01, seed 42) :
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} dropout(0.000000e+00, seed 0) :
func.func @dropout(%q: tensor<1x2x16x32xf16>, %k: tensor<1x2x16x32xf16>, %v: tensor<1x2x16x32xf16>) -> (tensor<1x2x16x32xf16>, tensor<1x2x16x32xf16>) {
  %o, %lse = attn.attention %q, %k, %v dropout(0.1, seed 42) : tensor<1x2x16x32xf16>, tensor<1x2x16x32xf16>, tensor<1x2x16x32xf16> -> tensor<1x2x16x32xf16>, tensor<1x2x16xf32>
  %o1, %lse1 = attn.attention %q, %k, %v dropout(0.0, seed 0) : tensor<1x2x16x32xf16>, tensor<1x2x16x32xf16>, tensor<1x2x16x32xf16> -> tensor<1x2x16x32xf16>, tensor<1x2x16xf32>
  return %o, %o1 : tensor<1x2x16x32xf16>, tensor<1x2x16x32xf16>
}

// -----

// CHECK-LABEL: func.func @mask_region
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} mask {
// CHECK-NEXT: ^bb0(%[[B:.+]]: index, %[[H:.+]]: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK-NEXT: %[[C:.+]] = arith.constant 4 : index
// CHECK-NEXT: %[[D:.+]] = arith.subi %[[I]], %[[J]] : index
// CHECK-NEXT: %[[R:.+]] = arith.remui %[[D]], %[[C]] : index
// CHECK-NEXT: %[[Z:.+]] = arith.constant 0 : index
// CHECK-NEXT: %[[KEEP:.+]] = arith.cmpi eq, %[[R]], %[[Z]] : index
// CHECK-NEXT: attn.yield %[[KEEP]] : i1
// CHECK-NEXT: } : tensor<1x2x16x32xf32>
func.func @mask_region(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) -> tensor<1x2x16x32xf32> {
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c4 = arith.constant 4 : index
    %d = arith.subi %i, %j : index
    %r = arith.remui %d, %c4 : index
    %c0 = arith.constant 0 : index
    %keep = arith.cmpi eq, %r, %c0 : index
    attn.yield %keep : i1
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return %o : tensor<1x2x16x32xf32>
}

// -----

// CHECK-LABEL: func.func @score_region
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} score {
// CHECK-NEXT: ^bb0(%[[S:.+]]: f32, %[[B:.+]]: index, %[[H:.+]]: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK-NEXT: %[[D:.+]] = arith.subi %[[J]], %[[I]] : index
// CHECK-NEXT: %[[DI:.+]] = arith.index_cast %[[D]] : index to i64
// CHECK-NEXT: %[[DF:.+]] = arith.sitofp %[[DI]] : i64 to f32
// CHECK-NEXT: %[[C:.+]] = arith.constant 1.250000e-01 : f32
// CHECK-NEXT: %[[BIAS:.+]] = arith.mulf %[[DF]], %[[C]] : f32
// CHECK-NEXT: %[[R:.+]] = arith.addf %[[S]], %[[BIAS]] : f32
// CHECK-NEXT: attn.yield %[[R]] : f32
// CHECK-NEXT: } : tensor<1x2x16x32xf32>
func.func @score_region(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) -> tensor<1x2x16x32xf32> {
  %o, %lse = attn.attention %q, %k, %v score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %d = arith.subi %j, %i : index
    %di = arith.index_cast %d : index to i64
    %df = arith.sitofp %di : i64 to f32
    %c = arith.constant 0.125 : f32
    %bias = arith.mulf %df, %c : f32
    %r = arith.addf %s, %bias : f32
    attn.yield %r : f32
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return %o : tensor<1x2x16x32xf32>
}

// -----

// A score region may use ops the forward pass can evaluate but the backward
// pass cannot differentiate (here math.floor).
// CHECK-LABEL: func.func @score_region_forward_only
// CHECK: score {
// CHECK: math.floor
// CHECK: attn.yield
func.func @score_region_forward_only(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) -> tensor<1x2x16x32xf32> {
  %o, %lse = attn.attention %q, %k, %v score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %r = math.floor %s : f32
    attn.yield %r : f32
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return %o : tensor<1x2x16x32xf32>
}

// -----

// Every clause at once, written in a different order from the printed one
// where attr-dict allows it; prints in the canonical order.
// CHECK-LABEL: func.func @all_clauses
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<?x8x?x64xbf16>, %[[K:[a-z0-9]+]]: tensor<?x2x?x64xbf16>, %[[V:[a-z0-9]+]]: tensor<?x2x?x32xbf16>, %[[SQ:[a-z0-9]+]]: tensor<?xi32>, %[[SK:[a-z0-9]+]]: tensor<?xi32>, %[[L:[a-z0-9]+]]: tensor<1x8x?x?xi8>
// CHECK: attn.attention %[[Q]], %[[K]], %[[V]] seqlens_q(%[[SQ]] : tensor<?xi32>) seqlens_k(%[[SK]] : tensor<?xi32>)
// CHECK-SAME: layout(%[[L]] : tensor<1x8x?x?xi8>, block [64, 128]) scale(1.250000e-01) causal align(bottom_right)
// CHECK-SAME: window(128, 0) softcap(3.000000e+01) alibi dropout(1.000000e-01, seed 7) mask {
// CHECK: attn.yield %{{.+}} : i1
// CHECK-NEXT: } score {
// CHECK: attn.yield %{{.+}} : f32
// CHECK-NEXT: } : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x32xbf16> -> tensor<?x8x?x32xbf16>, tensor<?x8x?xf32>
func.func @all_clauses(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>, %v: tensor<?x2x?x32xbf16>, %sq: tensor<?xi32>, %sk: tensor<?xi32>, %l: tensor<1x8x?x?xi8>) -> tensor<?x8x?x32xbf16> {
  %o, %lse = attn.attention %q, %k, %v seqlens_q(%sq : tensor<?xi32>) seqlens_k(%sk : tensor<?xi32>) layout(%l : tensor<1x8x?x?xi8>, block [64, 128]) scale(0.125) causal align(bottom_right) window(128, 0) softcap(30.0) alibi dropout(0.1, seed 7) mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %keep = arith.cmpi sge, %i, %j : index
    attn.yield %keep : i1
  } score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %t = math.tanh %s : f32
    attn.yield %t : f32
  } : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x32xbf16> -> tensor<?x8x?x32xbf16>, tensor<?x8x?xf32>
  return %o : tensor<?x8x?x32xbf16>
}

// -----

// Clauses given as attributes parse to the same op.
// CHECK-LABEL: func.func @clauses_as_attributes
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} scale(5.000000e-01) causal align(bottom_right) window(8, 8) dropout(2.500000e-01, seed 3) :
func.func @clauses_as_attributes(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) -> tensor<1x2x16x32xf32> {
  %o, %lse = attn.attention %q, %k, %v {scale = 0.5 : f64, causal, alignment = 1 : i32, window_left = 8 : i64, window_right = 8 : i64, dropout_p = 0.25 : f64, dropout_seed = 3 : i64} : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return %o : tensor<1x2x16x32xf32>
}

// -----

//===----------------------------------------------------------------------===//
// attn.attention_grad
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @grad_plain
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<1x4x128x64xf16>, %[[K:[a-z0-9]+]]: tensor<1x4x128x64xf16>, %[[V:[a-z0-9]+]]: tensor<1x4x128x64xf16>, %[[O:[a-z0-9]+]]: tensor<1x4x128x64xf16>, %[[LSE:[a-z0-9]+]]: tensor<1x4x128xf32>, %[[DO:[a-z0-9]+]]: tensor<1x4x128x64xf16>
// CHECK: %[[DQ:.+]], %[[DK:.+]], %[[DV:.+]] = attn.attention_grad %[[Q]], %[[K]], %[[V]], %[[O]], %[[LSE]], %[[DO]] :
// CHECK-SAME: tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
// CHECK: return %[[DQ]], %[[DK]], %[[DV]]
func.func @grad_plain(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xf16>) -> (tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
  return %dq, %dk, %dv : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
}

// -----

// `deterministic` prints before the shared clauses.
// CHECK-LABEL: func.func @grad_deterministic
// CHECK: attn.attention_grad %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} deterministic causal :
func.func @grad_deterministic(%q: tensor<1x4x128x64xbf16>, %k: tensor<1x4x128x64xbf16>, %v: tensor<1x4x128x64xbf16>, %o: tensor<1x4x128x64xbf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xbf16>) -> tensor<1x4x128x64xbf16> {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do deterministic causal : tensor<1x4x128x64xbf16>, tensor<1x4x128x64xbf16>, tensor<1x4x128x64xbf16>, tensor<1x4x128x64xbf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xbf16> -> tensor<1x4x128x64xbf16>, tensor<1x4x128x64xbf16>, tensor<1x4x128x64xbf16>
  return %dq : tensor<1x4x128x64xbf16>
}

// -----

// GQA with Dv != D in f32: dK and dV take the shapes of K and V.
// CHECK-LABEL: func.func @grad_gqa_dv
// CHECK: attn.attention_grad
// CHECK-SAME: : tensor<2x8x64x128xf32>, tensor<2x2x96x128xf32>, tensor<2x2x96x64xf32>, tensor<2x8x64x64xf32>, tensor<2x8x64xf32>, tensor<2x8x64x64xf32>
// CHECK-SAME: -> tensor<2x8x64x128xf32>, tensor<2x2x96x128xf32>, tensor<2x2x96x64xf32>
func.func @grad_gqa_dv(%q: tensor<2x8x64x128xf32>, %k: tensor<2x2x96x128xf32>, %v: tensor<2x2x96x64xf32>, %o: tensor<2x8x64x64xf32>, %lse: tensor<2x8x64xf32>, %do: tensor<2x8x64x64xf32>) -> tensor<2x2x96x64xf32> {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<2x8x64x128xf32>, tensor<2x2x96x128xf32>, tensor<2x2x96x64xf32>, tensor<2x8x64x64xf32>, tensor<2x8x64xf32>, tensor<2x8x64x64xf32> -> tensor<2x8x64x128xf32>, tensor<2x2x96x128xf32>, tensor<2x2x96x64xf32>
  return %dv : tensor<2x2x96x64xf32>
}

// -----

// MQA with dynamic B, H and N.
// CHECK-LABEL: func.func @grad_mqa_dynamic
// CHECK: attn.attention_grad
// CHECK-SAME: : tensor<?x?x?x64xbf16>, tensor<?x1x?x64xbf16>, tensor<?x1x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>, tensor<?x?x?x64xbf16>
// CHECK-SAME: -> tensor<?x?x?x64xbf16>, tensor<?x1x?x64xbf16>, tensor<?x1x?x64xbf16>
func.func @grad_mqa_dynamic(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x1x?x64xbf16>, %v: tensor<?x1x?x64xbf16>, %o: tensor<?x?x?x64xbf16>, %lse: tensor<?x?x?xf32>, %do: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<?x?x?x64xbf16>, tensor<?x1x?x64xbf16>, tensor<?x1x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>, tensor<?x1x?x64xbf16>, tensor<?x1x?x64xbf16>
  return %dq : tensor<?x?x?x64xbf16>
}

// -----

// Every clause of the gradient, with a differentiable score region.
// CHECK-LABEL: func.func @grad_all_clauses
// CHECK-SAME: %[[SQ:[a-z0-9]+]]: tensor<2xi32>, %[[SK:[a-z0-9]+]]: tensor<2xi32>, %[[L:[a-z0-9]+]]: tensor<2x1x2x4xi8>
// CHECK: attn.attention_grad %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} deterministic
// CHECK-SAME: seqlens_q(%[[SQ]] : tensor<2xi32>) seqlens_k(%[[SK]] : tensor<2xi32>)
// CHECK-SAME: layout(%[[L]] : tensor<2x1x2x4xi8>, block [64, 32]) scale(1.000000e-01) causal align(bottom_right)
// CHECK-SAME: window(64, 16) softcap(5.000000e+01) alibi dropout(2.000000e-01, seed 1234) mask {
// CHECK: attn.yield %{{.+}} : i1
// CHECK-NEXT: } score {
// CHECK-NEXT: ^bb0(%[[S:.+]]: f32, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index):
// CHECK: math.tanh
// CHECK: math.exp
// CHECK: math.powf
// CHECK: arith.select
// CHECK: attn.yield %{{.+}} : f32
// CHECK-NEXT: } : tensor<2x4x100x64xbf16>
func.func @grad_all_clauses(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x2x120x64xbf16>, %v: tensor<2x2x120x64xbf16>, %o: tensor<2x4x100x64xbf16>, %lse: tensor<2x4x100xf32>, %do: tensor<2x4x100x64xbf16>, %sq: tensor<2xi32>, %sk: tensor<2xi32>, %l: tensor<2x1x2x4xi8>) -> tensor<2x4x100x64xbf16> {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do deterministic seqlens_q(%sq : tensor<2xi32>) seqlens_k(%sk : tensor<2xi32>) layout(%l : tensor<2x1x2x4xi8>, block [64, 32]) scale(0.1) causal align(bottom_right) window(64, 16) softcap(50.0) alibi dropout(0.2, seed 1234) mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c1 = arith.constant 1 : index
    %hb = arith.andi %h, %c1 : index
    %c0 = arith.constant 0 : index
    %keep = arith.cmpi eq, %hb, %c0 : index
    attn.yield %keep : i1
  } score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %t = math.tanh %s : f32
    %e = math.exp %t : f32
    %two = arith.constant 2.0 : f32
    %p = math.powf %e, %two : f32
    %lt = arith.cmpi slt, %i, %j : index
    %r = arith.select %lt, %p, %s : f32
    attn.yield %r : f32
  } : tensor<2x4x100x64xbf16>, tensor<2x2x120x64xbf16>, tensor<2x2x120x64xbf16>, tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>, tensor<2x4x100x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x2x120x64xbf16>, tensor<2x2x120x64xbf16>
  return %dq : tensor<2x4x100x64xbf16>
}
