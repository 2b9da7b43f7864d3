// RUN: flashc-opt %s -split-input-file | flashc-opt -split-input-file | FileCheck %s

// Every attn.tile.* op, printed and parsed back.

// CHECK-LABEL: func.func @fill
// CHECK-SAME: %[[M:[a-z0-9]+]]: memref<64xf32>, %[[S:[a-z0-9]+]]: memref<64x32xbf16>
// CHECK: attn.tile.fill %[[M]], 0xFF800000 : memref<64xf32>
// CHECK: attn.tile.fill %[[S]], 0.000000e+00 : memref<64x32xbf16>
func.func @fill(%m: memref<64xf32>, %s: memref<64x32xbf16>) {
  attn.tile.fill %m, 0xFF800000 : memref<64xf32>
  attn.tile.fill %s, 0.0 : memref<64x32xbf16>
  return
}

// -----

// CHECK-LABEL: func.func @copy
// CHECK-SAME: %[[A:[a-z0-9]+]]: memref<64x32xf32>, %[[B:[a-z0-9]+]]: memref<64x32xbf16>, %[[C:[a-z0-9]+]]: memref<16xf16>, %[[D:[a-z0-9]+]]: memref<16xf32>
// CHECK: attn.tile.copy %[[A]], %[[B]] : memref<64x32xf32>, memref<64x32xbf16>
// CHECK: attn.tile.copy %[[C]], %[[D]] : memref<16xf16>, memref<16xf32>
func.func @copy(%a: memref<64x32xf32>, %b: memref<64x32xbf16>, %c: memref<16xf16>, %d: memref<16xf32>) {
  attn.tile.copy %a, %b : memref<64x32xf32>, memref<64x32xbf16>
  attn.tile.copy %c, %d : memref<16xf16>, memref<16xf32>
  return
}

// -----

// Rows of a 4-D tensor into a 2-D tile, and of a 3-D tensor (LSE) into a
// 1-D tile.
// CHECK-LABEL: func.func @load
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %[[LSE:[a-z0-9]+]]: memref<?x?x?xf32>, %[[B:[a-z0-9]+]]: index, %[[H:[a-z0-9]+]]: index, %[[R0:[a-z0-9]+]]: index, %[[N:[a-z0-9]+]]: index, %[[QT:[a-z0-9]+]]: memref<128x64xbf16>, %[[LT:[a-z0-9]+]]: memref<128xf32>
// CHECK: attn.tile.load %[[Q]][%[[B]], %[[H]], %[[R0]]] rows %[[N]] into %[[QT]] : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> memref<128x64xbf16>
// CHECK: attn.tile.load %[[LSE]][%[[B]], %[[H]], %[[R0]]] rows %[[N]] into %[[LT]] : memref<?x?x?xf32> -> memref<128xf32>
func.func @load(%q: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %lse: memref<?x?x?xf32>, %b: index, %h: index, %r0: index, %n: index, %qt: memref<128x64xbf16>, %lt: memref<128xf32>) {
  attn.tile.load %q[%b, %h, %r0] rows %n into %qt : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> memref<128x64xbf16>
  attn.tile.load %lse[%b, %h, %r0] rows %n into %lt : memref<?x?x?xf32> -> memref<128xf32>
  return
}

// -----

// A store converts the element type; `accumulate` adds instead.
// CHECK-LABEL: func.func @store
// CHECK-SAME: %[[ACC:[a-z0-9]+]]: memref<64x128xf32>, %[[O:[a-z0-9]+]]: memref<2x4x100x128xf16>, %[[LT:[a-z0-9]+]]: memref<64xf32>, %[[LSE:[a-z0-9]+]]: memref<2x4x100xf32>, %[[B:[a-z0-9]+]]: index, %[[H:[a-z0-9]+]]: index, %[[R0:[a-z0-9]+]]: index, %[[N:[a-z0-9]+]]: index
// CHECK: attn.tile.store %[[ACC]] into %[[O]][%[[B]], %[[H]], %[[R0]]] rows %[[N]] : memref<64x128xf32> -> memref<2x4x100x128xf16>
// CHECK: attn.tile.store %[[ACC]] into %[[O]][%[[B]], %[[H]], %[[R0]]] rows %[[N]] accumulate : memref<64x128xf32> -> memref<2x4x100x128xf16>
// CHECK: attn.tile.store %[[LT]] into %[[LSE]][%[[B]], %[[H]], %[[R0]]] rows %[[N]] : memref<64xf32> -> memref<2x4x100xf32>
func.func @store(%acc: memref<64x128xf32>, %o: memref<2x4x100x128xf16>, %lt: memref<64xf32>, %lse: memref<2x4x100xf32>, %b: index, %h: index, %r0: index, %n: index) {
  attn.tile.store %acc into %o[%b, %h, %r0] rows %n : memref<64x128xf32> -> memref<2x4x100x128xf16>
  attn.tile.store %acc into %o[%b, %h, %r0] rows %n accumulate : memref<64x128xf32> -> memref<2x4x100x128xf16>
  attn.tile.store %lt into %lse[%b, %h, %r0] rows %n : memref<64xf32> -> memref<2x4x100xf32>
  return
}

// -----

// S = scale * Q K^T, acc += P V, dK += dS^T Q; alpha = 1 is the default and
// is not printed.
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<64x128xbf16>, %[[K:[a-z0-9]+]]: memref<32x128xbf16>, %[[S:[a-z0-9]+]]: memref<64x32xf32>, %[[V:[a-z0-9]+]]: memref<32x16xbf16>, %[[ACC:[a-z0-9]+]]: memref<64x16xf32>, %[[DK:[a-z0-9]+]]: memref<32x128xf32>, %[[T:[a-z0-9]+]]: memref<32x32xf32>
// CHECK: attn.tile.matmul %[[Q]], %[[K]], %[[S]] transpose_b alpha(1.250000e-01) : memref<64x128xbf16>, memref<32x128xbf16>, memref<64x32xf32>
// CHECK: attn.tile.matmul %[[S]], %[[V]], %[[ACC]] accumulate : memref<64x32xf32>, memref<32x16xbf16>, memref<64x16xf32>
// CHECK: attn.tile.matmul %[[S]], %[[Q]], %[[DK]] transpose_a accumulate : memref<64x32xf32>, memref<64x128xbf16>, memref<32x128xf32>
// CHECK: attn.tile.matmul %[[T]], %[[T]], %[[T]] transpose_a transpose_b alpha(-2.000000e+00) : memref<32x32xf32>, memref<32x32xf32>, memref<32x32xf32>
func.func @matmul(%q: memref<64x128xbf16>, %k: memref<32x128xbf16>, %s: memref<64x32xf32>, %v: memref<32x16xbf16>, %acc: memref<64x16xf32>, %dk: memref<32x128xf32>, %t: memref<32x32xf32>) {
  attn.tile.matmul %q, %k, %s transpose_b alpha(0.125) : memref<64x128xbf16>, memref<32x128xbf16>, memref<64x32xf32>
  attn.tile.matmul %s, %v, %acc accumulate alpha(1.0) : memref<64x32xf32>, memref<32x16xbf16>, memref<64x16xf32>
  attn.tile.matmul %s, %q, %dk transpose_a accumulate : memref<64x32xf32>, memref<64x128xbf16>, memref<32x128xf32>
  attn.tile.matmul %t, %t, %t transpose_a transpose_b alpha(-2.0) : memref<32x32xf32>, memref<32x32xf32>, memref<32x32xf32>
  return
}

// -----

// CHECK-LABEL: func.func @score_mod
// CHECK-SAME: %[[S:[a-z0-9]+]]: memref<64x32xf32>, %[[B:[a-z0-9]+]]: index, %[[H:[a-z0-9]+]]: index, %[[R0:[a-z0-9]+]]: index, %[[C0:[a-z0-9]+]]: index, %[[SH:[a-z0-9]+]]: index, %[[HQ:[a-z0-9]+]]: index
// CHECK: attn.tile.score_mod %[[S]] at [%[[B]], %[[H]], %[[R0]], %[[C0]]] shift %[[SH]] heads %[[HQ]] : memref<64x32xf32>
// CHECK: attn.tile.score_mod %[[S]] at [%[[B]], %[[H]], %[[R0]], %[[C0]]] shift %[[SH]] heads %[[HQ]] softcap(3.000000e+01) alibi score {
// CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index):
// CHECK-NEXT: %[[Y:.+]] = arith.mulf %[[X]], %[[X]] : f32
// CHECK-NEXT: attn.yield %[[Y]] : f32
// CHECK-NEXT: } : memref<64x32xf32>
func.func @score_mod(%s: memref<64x32xf32>, %b: index, %h: index, %r0: index, %c0: index, %shift: index, %hq: index) {
  attn.tile.score_mod %s at [%b, %h, %r0, %c0] shift %shift heads %hq : memref<64x32xf32>
  attn.tile.score_mod %s at [%b, %h, %r0, %c0] shift %shift heads %hq softcap(30.0) alibi score {
  ^bb0(%x: f32, %bb: index, %hh: index, %i: index, %j: index):
    %y = arith.mulf %x, %x : f32
    attn.yield %y : f32
  } : memref<64x32xf32>
  return
}

// -----

// CHECK-LABEL: func.func @score_grad
// CHECK-SAME: %[[DS:[a-z0-9]+]]: memref<64x32xf32>, %[[RAW:[a-z0-9]+]]: memref<64x32xf32>, %[[B:[a-z0-9]+]]: index, %[[H:[a-z0-9]+]]: index, %[[R0:[a-z0-9]+]]: index, %[[C0:[a-z0-9]+]]: index, %[[SH:[a-z0-9]+]]: index, %[[HQ:[a-z0-9]+]]: index
// CHECK: attn.tile.score_grad %[[DS]], %[[RAW]] at [%[[B]], %[[H]], %[[R0]], %[[C0]]] shift %[[SH]] heads %[[HQ]] softcap(5.000000e+01) : memref<64x32xf32>, memref<64x32xf32>
// CHECK: attn.tile.score_grad %[[DS]], %[[RAW]] at [%[[B]], %[[H]], %[[R0]], %[[C0]]] shift %[[SH]] heads %[[HQ]] alibi score {
// CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index):
// CHECK-NEXT: %[[Y:.+]] = math.tanh %[[X]] : f32
// CHECK-NEXT: attn.yield %[[Y]] : f32
// CHECK-NEXT: } : memref<64x32xf32>, memref<64x32xf32>
func.func @score_grad(%ds: memref<64x32xf32>, %raw: memref<64x32xf32>, %b: index, %h: index, %r0: index, %c0: index, %shift: index, %hq: index) {
  attn.tile.score_grad %ds, %raw at [%b, %h, %r0, %c0] shift %shift heads %hq softcap(50.0) : memref<64x32xf32>, memref<64x32xf32>
  attn.tile.score_grad %ds, %raw at [%b, %h, %r0, %c0] shift %shift heads %hq alibi score {
  ^bb0(%x: f32, %bb: index, %hh: index, %i: index, %j: index):
    %y = math.tanh %x : f32
    attn.yield %y : f32
  } : memref<64x32xf32>, memref<64x32xf32>
  return
}

// -----

// CHECK-LABEL: func.func @mask
// CHECK-SAME: %[[S:[a-z0-9]+]]: memref<64x32xf32>, %[[B:[a-z0-9]+]]: index, %[[H:[a-z0-9]+]]: index, %[[R0:[a-z0-9]+]]: index, %[[C0:[a-z0-9]+]]: index, %[[SH:[a-z0-9]+]]: index, %[[NQ:[a-z0-9]+]]: index, %[[NK:[a-z0-9]+]]: index
// CHECK: attn.tile.mask %[[S]] at [%[[B]], %[[H]], %[[R0]], %[[C0]]] shift %[[SH]] bounds [%[[NQ]], %[[NK]]] : memref<64x32xf32>
// CHECK: attn.tile.mask %[[S]] at [%[[B]], %[[H]], %[[R0]], %[[C0]]] shift %[[SH]] bounds [%[[NQ]], %[[NK]]] causal : memref<64x32xf32>
// CHECK: attn.tile.mask %[[S]] at [%[[B]], %[[H]], %[[R0]], %[[C0]]] shift %[[SH]] bounds [%[[NQ]], %[[NK]]] causal window(128, 0) mask {
// CHECK-NEXT: ^bb0(%{{.+}}: index, %{{.+}}: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK-NEXT: %[[KEEP:.+]] = arith.cmpi ne, %[[I]], %[[J]] : index
// CHECK-NEXT: attn.yield %[[KEEP]] : i1
// CHECK-NEXT: } : memref<64x32xf32>
func.func @mask(%s: memref<64x32xf32>, %b: index, %h: index, %r0: index, %c0: index, %shift: index, %nq: index, %nk: index) {
  attn.tile.mask %s at [%b, %h, %r0, %c0] shift %shift bounds [%nq, %nk] : memref<64x32xf32>
  attn.tile.mask %s at [%b, %h, %r0, %c0] shift %shift bounds [%nq, %nk] causal : memref<64x32xf32>
  attn.tile.mask %s at [%b, %h, %r0, %c0] shift %shift bounds [%nq, %nk] causal window(128, 0) mask {
  ^bb0(%bb: index, %hh: index, %i: index, %j: index):
    %keep = arith.cmpi ne, %i, %j : index
    attn.yield %keep : i1
  } : memref<64x32xf32>
  return
}

// -----

// CHECK-LABEL: func.func @softmax_update
// CHECK-SAME: %[[S:[a-z0-9]+]]: memref<64x32xf32>, %[[M:[a-z0-9]+]]: memref<64xf32>, %[[L:[a-z0-9]+]]: memref<64xf32>, %[[ACC:[a-z0-9]+]]: memref<64x128xf32>
// CHECK: attn.tile.softmax_update %[[S]], %[[M]], %[[L]], %[[ACC]] : memref<64x32xf32>, memref<64xf32>, memref<64xf32>, memref<64x128xf32>
func.func @softmax_update(%s: memref<64x32xf32>, %m: memref<64xf32>, %l: memref<64xf32>, %acc: memref<64x128xf32>) {
  attn.tile.softmax_update %s, %m, %l, %acc : memref<64x32xf32>, memref<64xf32>, memref<64xf32>, memref<64x128xf32>
  return
}

// -----

// CHECK-LABEL: func.func @dropout
// CHECK-SAME: %[[P:[a-z0-9]+]]: memref<64x32xf32>, %[[B:[a-z0-9]+]]: index, %[[H:[a-z0-9]+]]: index, %[[R0:[a-z0-9]+]]: index, %[[C0:[a-z0-9]+]]: index, %[[HQ:[a-z0-9]+]]: index, %[[SEED:[a-z0-9]+]]: i64, %[[OFF:[a-z0-9]+]]: i64
// CHECK: attn.tile.dropout %[[P]] at [%[[B]], %[[H]], %[[R0]], %[[C0]]] heads %[[HQ]] seed %[[SEED]] offset %[[OFF]] prob(1.000000e-01) : memref<64x32xf32>
func.func @dropout(%p: memref<64x32xf32>, %b: index, %h: index, %r0: index, %c0: index, %hq: index, %seed: i64, %off: i64) {
  attn.tile.dropout %p at [%b, %h, %r0, %c0] heads %hq seed %seed offset %off prob(0.1) : memref<64x32xf32>
  return
}

// -----

// CHECK-LABEL: func.func @finalize
// CHECK-SAME: %[[ACC:[a-z0-9]+]]: memref<64x128xf32>, %[[M:[a-z0-9]+]]: memref<64xf32>, %[[L:[a-z0-9]+]]: memref<64xf32>, %[[LSE:[a-z0-9]+]]: memref<64xf32>
// CHECK: attn.tile.finalize %[[ACC]], %[[M]], %[[L]], %[[LSE]] : memref<64x128xf32>, memref<64xf32>, memref<64xf32>, memref<64xf32>
func.func @finalize(%acc: memref<64x128xf32>, %m: memref<64xf32>, %l: memref<64xf32>, %lse: memref<64xf32>) {
  attn.tile.finalize %acc, %m, %l, %lse : memref<64x128xf32>, memref<64xf32>, memref<64xf32>, memref<64xf32>
  return
}

// -----

// CHECK-LABEL: func.func @row_dot
// CHECK-SAME: %[[DO:[a-z0-9]+]]: memref<64x128xbf16>, %[[O:[a-z0-9]+]]: memref<64x128xf16>, %[[D:[a-z0-9]+]]: memref<64xf32>
// CHECK: attn.tile.row_dot %[[DO]], %[[O]], %[[D]] : memref<64x128xbf16>, memref<64x128xf16>, memref<64xf32>
func.func @row_dot(%do: memref<64x128xbf16>, %o: memref<64x128xf16>, %d: memref<64xf32>) {
  attn.tile.row_dot %do, %o, %d : memref<64x128xbf16>, memref<64x128xf16>, memref<64xf32>
  return
}

// -----

// CHECK-LABEL: func.func @exp_lse
// CHECK-SAME: %[[S:[a-z0-9]+]]: memref<64x32xf32>, %[[LSE:[a-z0-9]+]]: memref<64xf32>
// CHECK: attn.tile.exp_lse %[[S]], %[[LSE]] : memref<64x32xf32>, memref<64xf32>
func.func @exp_lse(%s: memref<64x32xf32>, %lse: memref<64xf32>) {
  attn.tile.exp_lse %s, %lse : memref<64x32xf32>, memref<64xf32>
  return
}

// -----

// CHECK-LABEL: func.func @softmax_grad
// CHECK-SAME: %[[P:[a-z0-9]+]]: memref<64x32xf32>, %[[DP:[a-z0-9]+]]: memref<64x32xf32>, %[[D:[a-z0-9]+]]: memref<64xf32>
// CHECK: attn.tile.softmax_grad %[[P]], %[[DP]], %[[D]] : memref<64x32xf32>, memref<64x32xf32>, memref<64xf32>
func.func @softmax_grad(%p: memref<64x32xf32>, %dp: memref<64x32xf32>, %d: memref<64xf32>) {
  attn.tile.softmax_grad %p, %dp, %d : memref<64x32xf32>, memref<64x32xf32>, memref<64xf32>
  return
}

// -----

// The transposed forms of the dK/dV kernel (the tile holds S^T).
// CHECK-LABEL: func.func @transposed
// CHECK: attn.tile.score_mod %{{.+}} at [{{.+}}] transposed shift %{{.+}} heads %{{.+}} softcap(3.000000e+01) : memref<32x64xf32>
// CHECK: attn.tile.mask %{{.+}} at [{{.+}}] transposed shift %{{.+}} bounds [{{.+}}] causal : memref<32x64xf32>
// CHECK: attn.tile.exp_lse %{{.+}}, %{{.+}} transposed : memref<32x64xf32>, memref<64xf32>
// CHECK: attn.tile.dropout %{{.+}} at [{{.+}}] transposed heads %{{.+}} seed %{{.+}} offset %{{.+}} prob(1.000000e-01) : memref<32x64xf32>
// CHECK: attn.tile.softmax_grad %{{.+}}, %{{.+}}, %{{.+}} transposed : memref<32x64xf32>, memref<32x64xf32>, memref<64xf32>
// CHECK: attn.tile.score_grad %{{.+}}, %{{.+}} at [{{.+}}] transposed shift %{{.+}} heads %{{.+}} softcap(3.000000e+01) : memref<32x64xf32>, memref<32x64xf32>
func.func @transposed(%s: memref<32x64xf32>, %raw: memref<32x64xf32>, %lse: memref<64xf32>, %b: index, %h: index, %r0: index, %c0: index, %shift: index, %nq: index, %nk: index, %hq: index, %seed: i64, %off: i64) {
  attn.tile.score_mod %s at [%b, %h, %r0, %c0] transposed shift %shift heads %hq softcap(30.0) : memref<32x64xf32>
  attn.tile.mask %s at [%b, %h, %r0, %c0] transposed shift %shift bounds [%nq, %nk] causal : memref<32x64xf32>
  attn.tile.exp_lse %s, %lse transposed : memref<32x64xf32>, memref<64xf32>
  attn.tile.dropout %s at [%b, %h, %r0, %c0] transposed heads %hq seed %seed offset %off prob(0.1) : memref<32x64xf32>
  attn.tile.softmax_grad %s, %raw, %lse transposed : memref<32x64xf32>, memref<32x64xf32>, memref<64xf32>
  attn.tile.score_grad %raw, %s at [%b, %h, %r0, %c0] transposed shift %shift heads %hq softcap(30.0) : memref<32x64xf32>, memref<32x64xf32>
  return
}

// -----

// One step of the forward loop, as the tiling pass writes it.
// CHECK-LABEL: func.func @forward_step
// CHECK: attn.tile.load
// CHECK: attn.tile.matmul {{.+}} transpose_b
// CHECK: attn.tile.score_mod
// CHECK: attn.tile.mask
// CHECK: attn.tile.softmax_update
// CHECK: attn.tile.dropout
// CHECK: attn.tile.matmul {{.+}} accumulate
// CHECK: attn.tile.finalize
// CHECK: attn.tile.store
func.func @forward_step(%q: memref<?x?x?x64xf16, strided<[?, ?, ?, 1], offset: ?>>, %k: memref<?x?x?x64xf16, strided<[?, ?, ?, 1], offset: ?>>, %v: memref<?x?x?x64xf16, strided<[?, ?, ?, 1], offset: ?>>, %o: memref<?x?x?x64xf16, strided<[?, ?, ?, 1], offset: ?>>, %b: index, %h: index, %q0: index, %k0: index, %nq: index, %nk: index, %hq: index, %seed: i64, %off: i64) {
  %c0 = arith.constant 0 : index
  %qt = memref.alloca() : memref<64x64xf16>
  %kt = memref.alloca() : memref<32x64xf16>
  %vt = memref.alloca() : memref<32x64xf16>
  %s = memref.alloca() : memref<64x32xf32>
  %m = memref.alloca() : memref<64xf32>
  %l = memref.alloca() : memref<64xf32>
  %lse = memref.alloca() : memref<64xf32>
  %acc = memref.alloca() : memref<64x64xf32>
  attn.tile.fill %m, 0xFF800000 : memref<64xf32>
  attn.tile.fill %l, 0.0 : memref<64xf32>
  attn.tile.fill %acc, 0.0 : memref<64x64xf32>
  attn.tile.load %q[%b, %h, %q0] rows %nq into %qt : memref<?x?x?x64xf16, strided<[?, ?, ?, 1], offset: ?>> -> memref<64x64xf16>
  attn.tile.load %k[%b, %h, %k0] rows %nk into %kt : memref<?x?x?x64xf16, strided<[?, ?, ?, 1], offset: ?>> -> memref<32x64xf16>
  attn.tile.load %v[%b, %h, %k0] rows %nk into %vt : memref<?x?x?x64xf16, strided<[?, ?, ?, 1], offset: ?>> -> memref<32x64xf16>
  attn.tile.matmul %qt, %kt, %s transpose_b alpha(0.125) : memref<64x64xf16>, memref<32x64xf16>, memref<64x32xf32>
  attn.tile.score_mod %s at [%b, %h, %q0, %k0] shift %c0 heads %hq softcap(30.0) : memref<64x32xf32>
  attn.tile.mask %s at [%b, %h, %q0, %k0] shift %c0 bounds [%nq, %nk] causal : memref<64x32xf32>
  attn.tile.softmax_update %s, %m, %l, %acc : memref<64x32xf32>, memref<64xf32>, memref<64xf32>, memref<64x64xf32>
  attn.tile.dropout %s at [%b, %h, %q0, %k0] heads %hq seed %seed offset %off prob(0.1) : memref<64x32xf32>
  attn.tile.matmul %s, %vt, %acc accumulate : memref<64x32xf32>, memref<32x64xf16>, memref<64x64xf32>
  attn.tile.finalize %acc, %m, %l, %lse : memref<64x64xf32>, memref<64xf32>, memref<64xf32>, memref<64xf32>
  attn.tile.store %acc into %o[%b, %h, %q0] rows %nq : memref<64x64xf32> -> memref<?x?x?x64xf16, strided<[?, ?, ?, 1], offset: ?>>
  return
}
