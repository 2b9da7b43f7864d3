// RUN: flashc-opt %s --split-input-file --attn-lower-tiles-to-loops | FileCheck %s

// Fill stores the constant, rounded to the tile's element type, everywhere.
// CHECK-LABEL: func.func @fill
// CHECK-NOT: attn.tile
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF80 : bf16
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %{{.+}} step
// CHECK: scf.for %[[C:.+]] = %{{.+}} to %{{.+}} step
// CHECK: memref.store %[[NEGINF]], %{{.+}}[%[[R]], %[[C]]] : memref<4x8xbf16>
func.func @fill(%t: memref<4x8xbf16>) {
  attn.tile.fill %t, 0xFF800000 : memref<4x8xbf16>
  return
}

// -----

// Copy converts between element types.
// CHECK-LABEL: func.func @copy
// CHECK: %[[X:.+]] = memref.load %{{.+}} : memref<4x8xf32>
// CHECK: %[[Y:.+]] = arith.truncf %[[X]] : f32 to bf16
// CHECK: memref.store %[[Y]], %{{.+}} : memref<4x8xbf16>
func.func @copy(%a: memref<4x8xf32>, %b: memref<4x8xbf16>) {
  attn.tile.copy %a, %b : memref<4x8xf32>, memref<4x8xbf16>
  return
}

// -----

// Load moves max(0, min(rows, R, N - row0)) rows from [b, h, row0 + r, c]
// and zero-fills the rest of the tile.
// CHECK-LABEL: func.func @load
// CHECK-SAME: (%[[G:[^:]+]]: memref<?x?x?x8xbf16, {{.+}}>, %[[T:[^:]+]]: memref<4x8xbf16>, %[[B:[^:]+]]: index, %[[H:[^:]+]]: index, %[[R0:[^:]+]]: index, %[[N:[^:]+]]: index)
// CHECK: %[[C2:.+]] = arith.constant 2 : index
// CHECK: %[[DIM:.+]] = memref.dim %[[G]], %[[C2]]
// CHECK: %[[LEFT:.+]] = arith.subi %[[DIM]], %[[R0]] : index
// CHECK: %[[C4:.+]] = arith.constant 4 : index
// CHECK: %[[M1:.+]] = arith.minsi %[[N]], %[[C4]] : index
// CHECK: %[[M2:.+]] = arith.minsi %[[M1]], %[[LEFT]] : index
// CHECK: %[[ROWS:.+]] = arith.maxsi %[[M2]], %{{.+}} : index
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %[[ROWS]] step
// CHECK: scf.for %[[C:.+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[ROW:.+]] = arith.addi %[[R0]], %[[R]] : index
// CHECK: %[[X:.+]] = memref.load %[[G]][%[[B]], %[[H]], %[[ROW]], %[[C]]]
// CHECK: memref.store %[[X]], %[[T]][%[[R]], %[[C]]]
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : bf16
// CHECK: scf.for %[[R2:.+]] = %[[ROWS]] to %{{.+}} step
// CHECK: scf.for %[[C2:.+]] = %{{.+}} to %{{.+}} step
// CHECK: memref.store %[[ZERO]], %[[T]][%[[R2]], %[[C2]]]
func.func @load(%g: memref<?x?x?x8xbf16, strided<[?, ?, ?, 1], offset: ?>>, %t: memref<4x8xbf16>, %b: index, %h: index, %r0: index, %n: index) {
  attn.tile.load %g[%b, %h, %r0] rows %n into %t : memref<?x?x?x8xbf16, strided<[?, ?, ?, 1], offset: ?>> -> memref<4x8xbf16>
  return
}

// -----

// A [B, H, N] tensor goes into a rank-1 tile.
// CHECK-LABEL: func.func @load_rows
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %{{.+}} step
// CHECK-NOT: scf.for
// CHECK: memref.load %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] : memref<?x?x?xf32>
// CHECK: memref.store %{{.+}}, %{{.+}}[%[[R]]] : memref<16xf32>
func.func @load_rows(%g: memref<?x?x?xf32>, %t: memref<16xf32>, %b: index, %h: index, %r0: index, %n: index) {
  attn.tile.load %g[%b, %h, %r0] rows %n into %t : memref<?x?x?xf32> -> memref<16xf32>
  return
}

// -----

// Store writes the clamped rows only; with accumulate it adds in f32 and
// truncates to the tensor's type.
// CHECK-LABEL: func.func @store_accumulate
// CHECK: %[[ROWS:.+]] = arith.maxsi
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %[[ROWS]] step
// CHECK: scf.for %[[C:.+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[ROW:.+]] = arith.addi %{{.+}}, %[[R]] : index
// CHECK: %[[NEW:.+]] = memref.load %{{.+}}[%[[R]], %[[C]]] : memref<4x8xf32>
// CHECK: %[[OLD:.+]] = memref.load %{{.+}}[%{{.+}}, %{{.+}}, %[[ROW]], %[[C]]]
// CHECK: %[[OLD32:.+]] = arith.extf %[[OLD]] : bf16 to f32
// CHECK: %[[SUM:.+]] = arith.addf %[[OLD32]], %[[NEW]] : f32
// CHECK: %[[OUT:.+]] = arith.truncf %[[SUM]] : f32 to bf16
// CHECK: memref.store %[[OUT]], %{{.+}}[%{{.+}}, %{{.+}}, %[[ROW]], %[[C]]]
// CHECK-NOT: scf.for
func.func @store_accumulate(%g: memref<?x?x?x8xbf16, strided<[?, ?, ?, 1], offset: ?>>, %t: memref<4x8xf32>, %b: index, %h: index, %r0: index, %n: index) {
  attn.tile.store %t into %g[%b, %h, %r0] rows %n accumulate : memref<4x8xf32> -> memref<?x?x?x8xbf16, strided<[?, ?, ?, 1], offset: ?>>
  return
}

// -----

// S = alpha Q K^T: a dot product of two rows, summed in f32 with reassoc so
// that it can vectorize, then scaled.
// CHECK-LABEL: func.func @matmul_transpose_b
// CHECK: scf.for %[[M:.+]] = %{{.+}} to %{{.+}} step
// CHECK: scf.for %[[N:.+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[SUM:.+]] = scf.for %[[K:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (f32)
// CHECK: %[[A:.+]] = memref.load %{{.+}}[%[[M]], %[[K]]] : memref<4x8xbf16>
// CHECK: %[[A32:.+]] = arith.extf %[[A]] : bf16 to f32
// CHECK: %[[B:.+]] = memref.load %{{.+}}[%[[N]], %[[K]]] : memref<6x8xbf16>
// CHECK: %[[B32:.+]] = arith.extf %[[B]] : bf16 to f32
// CHECK: %[[P:.+]] = arith.mulf %[[A32]], %[[B32]] fastmath<reassoc,contract> : f32
// CHECK: %[[NEXT:.+]] = arith.addf %[[ACC]], %[[P]] fastmath<reassoc,contract> : f32
// CHECK: scf.yield %[[NEXT]] : f32
// CHECK: %[[ALPHA:.+]] = arith.constant 1.250000e-01 : f32
// CHECK: %[[S:.+]] = arith.mulf %[[ALPHA]], %[[SUM]] : f32
// CHECK: memref.store %[[S]], %{{.+}}[%[[M]], %[[N]]] : memref<4x6xf32>
func.func @matmul_transpose_b(%q: memref<4x8xbf16>, %k: memref<6x8xbf16>, %s: memref<4x6xf32>) {
  attn.tile.matmul %q, %k, %s transpose_b alpha(0.125) : memref<4x8xbf16>, memref<6x8xbf16>, memref<4x6xf32>
  return
}

// -----

// acc += P V: an axpy over rows of V, no zeroing when accumulating.
// CHECK-LABEL: func.func @matmul_accumulate
// CHECK: scf.for %[[M:.+]] = %{{.+}} to %{{.+}} step
// CHECK-NOT: memref.store
// CHECK: scf.for %[[K:.+]] = %{{.+}} to %{{.+}} step
// CHECK-NEXT: %[[A:.+]] = memref.load %{{.+}}[%[[M]], %[[K]]] : memref<4x6xf32>
// CHECK: scf.for %[[N:.+]] = %{{.+}} to %{{.+}} step
// CHECK-NEXT: %[[B:.+]] = memref.load %{{.+}}[%[[K]], %[[N]]] : memref<6x8xf32>
// CHECK-NEXT: %[[P:.+]] = arith.mulf %[[A]], %[[B]]
// CHECK-NEXT: %[[OLD:.+]] = memref.load %{{.+}}[%[[M]], %[[N]]] : memref<4x8xf32>
// CHECK-NEXT: %[[NEW:.+]] = arith.addf %[[OLD]], %[[P]]
// CHECK-NEXT: memref.store %[[NEW]], %{{.+}}[%[[M]], %[[N]]] : memref<4x8xf32>
func.func @matmul_accumulate(%p: memref<4x6xf32>, %v: memref<6x8xf32>, %acc: memref<4x8xf32>) {
  attn.tile.matmul %p, %v, %acc accumulate : memref<4x6xf32>, memref<6x8xf32>, memref<4x8xf32>
  return
}

// -----

// dK = alpha dS^T Q, overwriting: each row is zeroed first and A is read
// transposed.
// CHECK-LABEL: func.func @matmul_transpose_a
// CHECK: scf.for %[[M:.+]] = %{{.+}} to %{{.+}} step
// CHECK: scf.for %[[Z:.+]] = %{{.+}} to %{{.+}} step
// CHECK-NEXT: memref.store %{{.+}}, %{{.+}}[%[[M]], %[[Z]]] : memref<6x8xf32>
// CHECK: scf.for %[[K:.+]] = %{{.+}} to %{{.+}} step
// CHECK-NEXT: %[[A:.+]] = memref.load %{{.+}}[%[[K]], %[[M]]] : memref<4x6xf32>
// CHECK: %[[AA:.+]] = arith.mulf %{{.+}}, %[[A]] : f32
// CHECK: scf.for
// CHECK: arith.mulf %[[AA]], %{{.+}}
func.func @matmul_transpose_a(%ds: memref<4x6xf32>, %q: memref<4x8xf16>, %dk: memref<6x8xf32>) {
  attn.tile.matmul %ds, %q, %dk transpose_a alpha(0.5) : memref<4x6xf32>, memref<4x8xf16>, memref<6x8xf32>
  return
}

// -----

// The online softmax: a row max, m_new, a guarded alpha and P = exp(S - m).
// CHECK-LABEL: func.func @softmax_update
// CHECK-SAME: (%[[S:[^:]+]]: memref<4x6xf32>, %[[MAX:[^:]+]]: memref<4xf32>, %[[SUM:[^:]+]]: memref<4xf32>, %[[ACC:[^:]+]]: memref<4x8xf32>)
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[MOLD:.+]] = memref.load %[[MAX]][%[[R]]]
// CHECK: %[[ROWMAX:.+]] = scf.for {{.+}} iter_args(%[[PART:.+]] = %{{.+}}) -> (f32)
// CHECK: arith.maximumf %[[PART]], %{{.+}} : f32
// CHECK: %[[MNEW:.+]] = arith.maximumf %[[MOLD]], %[[ROWMAX]] : f32
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[EMPTY:.+]] = arith.cmpf oeq, %[[MNEW]], %[[NEGINF]] : f32
// CHECK: %[[MSAFE:.+]] = arith.select %[[EMPTY]], %{{.+}}, %[[MNEW]] : f32
// CHECK: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[D:.+]] = arith.subf %[[MOLD]], %[[MSAFE]] : f32
// CHECK: %[[E:.+]] = math.exp %[[D]] : f32
// CHECK: %[[ALPHA:.+]] = arith.select %[[EMPTY]], %[[ONE]], %[[E]] : f32
// CHECK: %[[ROWSUM:.+]] = scf.for {{.+}} iter_args(%[[PSUM:.+]] = %{{.+}}) -> (f32)
// CHECK: %[[X:.+]] = memref.load %[[S]]
// CHECK: %[[XS:.+]] = arith.subf %[[X]], %[[MSAFE]] : f32
// CHECK: %[[P:.+]] = math.exp %[[XS]] : f32
// CHECK: memref.store %[[P]], %[[S]]
// CHECK: arith.addf %[[PSUM]], %[[P]] : f32
// CHECK: %[[LOLD:.+]] = memref.load %[[SUM]][%[[R]]]
// CHECK: %[[LA:.+]] = arith.mulf %[[ALPHA]], %[[LOLD]] : f32
// CHECK: %[[LNEW:.+]] = arith.addf %[[LA]], %[[ROWSUM]] : f32
// CHECK: memref.store %[[LNEW]], %[[SUM]][%[[R]]]
// CHECK: scf.for
// CHECK: arith.mulf %[[ALPHA]], %{{.+}} : f32
// CHECK: memref.store %{{.+}}, %[[ACC]]
// CHECK: memref.store %[[MNEW]], %[[MAX]][%[[R]]]
func.func @softmax_update(%s: memref<4x6xf32>, %m: memref<4xf32>, %l: memref<4xf32>, %acc: memref<4x8xf32>) {
  attn.tile.softmax_update %s, %m, %l, %acc : memref<4x6xf32>, memref<4xf32>, memref<4xf32>, memref<4x8xf32>
  return
}

// -----

// A row with l = 0 gives acc = 0 and lse = -inf, never 0/0.
// CHECK-LABEL: func.func @finalize
// CHECK-SAME: (%[[ACC:[^:]+]]: memref<4x8xf32>, %[[MAX:[^:]+]]: memref<4xf32>, %[[SUM:[^:]+]]: memref<4xf32>, %[[LSE:[^:]+]]: memref<4xf32>)
// CHECK: %[[L:.+]] = memref.load %[[SUM]]
// CHECK: %[[M:.+]] = memref.load %[[MAX]]
// CHECK: %[[EMPTY:.+]] = arith.cmpf oeq, %[[L]], %{{.+}} : f32
// CHECK: %[[Q:.+]] = arith.divf %{{.+}}, %[[L]] : f32
// CHECK: %[[O:.+]] = arith.select %[[EMPTY]], %{{.+}}, %[[Q]] : f32
// CHECK: memref.store %[[O]], %[[ACC]]
// CHECK: %[[LOG:.+]] = math.log %[[L]] : f32
// CHECK: %[[V:.+]] = arith.addf %[[M]], %[[LOG]] : f32
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[OUT:.+]] = arith.select %[[EMPTY]], %[[NEGINF]], %[[V]] : f32
// CHECK: memref.store %[[OUT]], %[[LSE]]
func.func @finalize(%acc: memref<4x8xf32>, %m: memref<4xf32>, %l: memref<4xf32>, %lse: memref<4xf32>) {
  attn.tile.finalize %acc, %m, %l, %lse : memref<4x8xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>
  return
}

// -----

// CHECK-LABEL: func.func @exp_lse
// CHECK: %[[LSE:.+]] = memref.load
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[EMPTYROW:.+]] = arith.cmpf oeq, %[[LSE]], %[[NEGINF]] : f32
// CHECK: scf.for
// CHECK: %[[S:.+]] = memref.load
// CHECK: %[[D:.+]] = arith.subf %[[S]], %[[LSE]] : f32
// CHECK: %[[P:.+]] = math.exp %[[D]] : f32
// CHECK: %[[MASKED:.+]] = arith.cmpf oeq, %[[S]], %{{.+}} : f32
// CHECK: %[[DEAD:.+]] = arith.ori %[[MASKED]], %[[EMPTYROW]] : i1
// CHECK: %[[OUT:.+]] = arith.select %[[DEAD]], %{{.+}}, %[[P]] : f32
// CHECK: memref.store %[[OUT]]
func.func @exp_lse(%s: memref<2x4xf32>, %lse: memref<2xf32>) {
  attn.tile.exp_lse %s, %lse : memref<2x4xf32>, memref<2xf32>
  return
}

// -----

// Transposed (the tile is S^T): the LSE is read at the column, inside the
// column loop.
// CHECK-LABEL: func.func @exp_lse_transposed
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %{{.+}} step
// CHECK-NOT: memref.load
// CHECK: scf.for %[[C:.+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[LSE:.+]] = memref.load %{{.+}}[%[[C]]] : memref<4xf32>
// CHECK: %[[S:.+]] = memref.load %{{.+}}[%[[R]], %[[C]]] : memref<2x4xf32>
// CHECK: arith.subf %[[S]], %[[LSE]] : f32
// CHECK: arith.cmpf oeq, %[[LSE]], %{{.+}} : f32
func.func @exp_lse_transposed(%s: memref<2x4xf32>, %lse: memref<4xf32>) {
  attn.tile.exp_lse %s, %lse transposed : memref<2x4xf32>, memref<4xf32>
  return
}

// -----

// dS = P (dP - D)
// CHECK-LABEL: func.func @softmax_grad
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %{{.+}} step
// CHECK: scf.for %[[C:.+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[P:.+]] = memref.load %{{.+}}[%[[R]], %[[C]]]
// CHECK: %[[DP:.+]] = memref.load %{{.+}}[%[[R]], %[[C]]]
// CHECK: %[[D:.+]] = memref.load %{{.+}}[%[[R]]] : memref<2xf32>
// CHECK: %[[DIFF:.+]] = arith.subf %[[DP]], %[[D]] : f32
// CHECK: %[[DS:.+]] = arith.mulf %[[P]], %[[DIFF]] : f32
// CHECK: memref.store %[[DS]], %{{.+}}[%[[R]], %[[C]]]
func.func @softmax_grad(%p: memref<2x4xf32>, %dp: memref<2x4xf32>, %d: memref<2xf32>) {
  attn.tile.softmax_grad %p, %dp, %d : memref<2x4xf32>, memref<2x4xf32>, memref<2xf32>
  return
}

// -----

// CHECK-LABEL: func.func @row_dot
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[SUM:.+]] = scf.for {{.+}} -> (f32)
// CHECK: arith.extf %{{.+}} : bf16 to f32
// CHECK: arith.extf %{{.+}} : f16 to f32
// CHECK: arith.mulf {{.+}} fastmath<reassoc,contract>
// CHECK: memref.store %[[SUM]], %{{.+}}[%[[R]]] : memref<2xf32>
func.func @row_dot(%a: memref<2x4xbf16>, %b: memref<2x4xf16>, %d: memref<2xf32>) {
  attn.tile.row_dot %a, %b, %d : memref<2x4xbf16>, memref<2x4xf16>, memref<2xf32>
  return
}

// -----

// Softcap, then ALiBi with a per-head slope computed once, then the custom
// score region, cloned per element with %s, i, j bound.
// CHECK-LABEL: func.func @score_mod
// CHECK-SAME: (%[[S:[^:]+]]: memref<2x4xf32>, %[[B:[^:]+]]: index, %[[H:[^:]+]]: index, %[[R0:[^:]+]]: index, %[[C0:[^:]+]]: index, %[[SHIFT:[^:]+]]: index, %[[HEADS:[^:]+]]: index)
// CHECK: %[[SLOPE:.+]] = math.exp2 %{{.+}} : f32
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %{{.+}} step
// CHECK: scf.for %[[C:.+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[I:.+]] = arith.addi %[[R0]], %[[R]] : index
// CHECK: %[[J:.+]] = arith.addi %[[C0]], %[[C]] : index
// CHECK: %[[X:.+]] = memref.load %[[S]][%[[R]], %[[C]]]
// CHECK: %[[CAP:.+]] = arith.constant 3.000000e+01 : f32
// CHECK: %[[XC:.+]] = arith.divf %[[X]], %[[CAP]] : f32
// CHECK: %[[T:.+]] = math.tanh %[[XC]] : f32
// CHECK: %[[SOFT:.+]] = arith.mulf %[[CAP]], %[[T]] : f32
// CHECK: %[[DIAG:.+]] = arith.addi %[[I]], %[[SHIFT]] : index
// CHECK: %[[DELTA:.+]] = arith.subi %[[DIAG]], %[[J]] : index
// CHECK: %[[DIST:.+]] = math.absi
// CHECK: %[[DISTF:.+]] = arith.sitofp %[[DIST]] : i64 to f32
// CHECK: %[[BIAS:.+]] = arith.mulf %[[SLOPE]], %[[DISTF]] : f32
// CHECK: %[[ALIBI:.+]] = arith.subf %[[SOFT]], %[[BIAS]] : f32
// CHECK: %[[JI:.+]] = arith.index_cast %[[J]] : index to i64
// CHECK: %[[JF:.+]] = arith.sitofp %[[JI]] : i64 to f32
// CHECK: %[[OUT:.+]] = arith.subf %[[ALIBI]], %[[JF]] : f32
// CHECK-NOT: attn.yield
// CHECK: memref.store %[[OUT]], %[[S]][%[[R]], %[[C]]]
func.func @score_mod(%s: memref<2x4xf32>, %b: index, %h: index, %r0: index, %c0: index, %shift: index, %heads: index) {
  attn.tile.score_mod %s at [%b, %h, %r0, %c0] shift %shift heads %heads softcap(30.0) alibi score {
  ^bb0(%x: f32, %bb: index, %hh: index, %i: index, %j: index):
    %ji = arith.index_cast %j : index to i64
    %jf = arith.sitofp %ji : i64 to f32
    %y = arith.subf %x, %jf : f32
    attn.yield %y : f32
  } : memref<2x4xf32>
  return
}

// -----

// dS *= (1 - tanh^2(raw / c)) * d/ds custom(s): the region is cloned with
// its tangents (d(e^s s) = e^s s' + e^s s'), and a zero dS stays zero.
// CHECK-LABEL: func.func @score_grad
// CHECK-SAME: (%[[G:[^:]+]]: memref<2x4xf32>, %[[RAW:[^:]+]]: memref<2x4xf32>
// CHECK: %[[DS:.+]] = memref.load %[[G]]
// CHECK: %[[X:.+]] = memref.load %[[RAW]]
// CHECK: %[[XC:.+]] = arith.divf %[[X]], %{{.+}} : f32
// CHECK: %[[T:.+]] = math.tanh %[[XC]] : f32
// CHECK: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[T2:.+]] = arith.mulf %[[T]], %[[T]] : f32
// CHECK: %[[SOFTCAPD:.+]] = arith.subf %[[ONE]], %[[T2]] : f32
// CHECK: %[[SOFT:.+]] = arith.mulf %{{.+}}, %{{.+}} : f32
// CHECK: %[[SEED:.+]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[E:.+]] = math.exp %[[SOFT]] : f32
// CHECK: %[[DE:.+]] = arith.mulf %[[E]], %[[SEED]] : f32
// CHECK: %[[Y:.+]] = arith.mulf %[[E]], %[[SOFT]] : f32
// CHECK: %[[T1:.+]] = arith.mulf %[[SOFT]], %[[DE]] : f32
// CHECK: %[[T2B:.+]] = arith.mulf %[[E]], %[[SEED]] : f32
// CHECK: %[[DY:.+]] = arith.addf %[[T1]], %[[T2B]] : f32
// CHECK: %[[CHAIN:.+]] = arith.mulf %[[SOFTCAPD]], %[[DY]] : f32
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[ISZERO:.+]] = arith.cmpf oeq, %[[DS]], %[[ZERO]] : f32
// CHECK: %[[PROD:.+]] = arith.mulf %[[DS]], %[[CHAIN]] : f32
// CHECK: %[[OUT:.+]] = arith.select %[[ISZERO]], %[[ZERO]], %[[PROD]] : f32
// CHECK: memref.store %[[OUT]], %[[G]]
func.func @score_grad(%g: memref<2x4xf32>, %s: memref<2x4xf32>, %b: index, %h: index, %r0: index, %c0: index, %sh: index, %hq: index) {
  attn.tile.score_grad %g, %s at [%b, %h, %r0, %c0] shift %sh heads %hq softcap(30.0) score {
  ^bb0(%x: f32, %bb: index, %hh: index, %i: index, %j: index):
    %e = math.exp %x : f32
    %m = arith.mulf %e, %x : f32
    attn.yield %m : f32
  } : memref<2x4xf32>, memref<2x4xf32>
  return
}

// -----

// ALiBi alone has derivative 1: score_grad disappears.
// CHECK-LABEL: func.func @score_grad_alibi_only
// CHECK-NEXT: return
func.func @score_grad_alibi_only(%g: memref<2x4xf32>, %s: memref<2x4xf32>, %c: index) {
  attn.tile.score_grad %g, %s at [%c, %c, %c, %c] shift %c heads %c alibi : memref<2x4xf32>, memref<2x4xf32>
  return
}

// -----

// The mask: bounds, causal, window and the custom region, ANDed; dropped
// scores become -inf through a select.
// CHECK-LABEL: func.func @mask
// CHECK-SAME: (%[[S:[^:]+]]: memref<2x4xf32>, %[[B:[^:]+]]: index, %[[H:[^:]+]]: index, %[[R0:[^:]+]]: index, %[[C0:[^:]+]]: index, %[[SHIFT:[^:]+]]: index, %[[NQ:[^:]+]]: index, %[[NK:[^:]+]]: index)
// CHECK: %[[I:.+]] = arith.addi %[[R0]], %{{.+}} : index
// CHECK: %[[J:.+]] = arith.addi %[[C0]], %{{.+}} : index
// CHECK: %[[INQ:.+]] = arith.cmpi slt, %[[I]], %[[NQ]] : index
// CHECK: %[[INK:.+]] = arith.cmpi slt, %[[J]], %[[NK]] : index
// CHECK: %[[K0:.+]] = arith.andi %[[INQ]], %[[INK]] : i1
// CHECK: %[[DIAG:.+]] = arith.addi %[[I]], %[[SHIFT]] : index
// CHECK: %[[CAUSAL:.+]] = arith.cmpi sle, %[[J]], %[[DIAG]] : index
// CHECK: %[[K1:.+]] = arith.andi %[[K0]], %[[CAUSAL]] : i1
// CHECK: %[[LEFT:.+]] = arith.constant -3 : index
// CHECK: %[[LO:.+]] = arith.addi %[[DIAG]], %[[LEFT]] : index
// CHECK: %[[WL:.+]] = arith.cmpi sge, %[[J]], %[[LO]] : index
// CHECK: %[[K2:.+]] = arith.andi %[[K1]], %[[WL]] : i1
// CHECK: %[[RIGHT:.+]] = arith.constant 2 : index
// CHECK: %[[HI:.+]] = arith.addi %[[DIAG]], %[[RIGHT]] : index
// CHECK: %[[WR:.+]] = arith.cmpi sle, %[[J]], %[[HI]] : index
// CHECK: %[[K3:.+]] = arith.andi %[[K2]], %[[WR]] : i1
// CHECK: %[[CUSTOM:.+]] = arith.cmpi ne, %[[H]], %[[J]] : index
// CHECK: %[[KEEP:.+]] = arith.andi %[[K3]], %[[CUSTOM]] : i1
// CHECK: %[[X:.+]] = memref.load %[[S]]
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[OUT:.+]] = arith.select %[[KEEP]], %[[X]], %[[NEGINF]] : f32
// CHECK: memref.store %[[OUT]], %[[S]]
func.func @mask(%s: memref<2x4xf32>, %b: index, %h: index, %r0: index, %c0: index, %shift: index, %nq: index, %nk: index) {
  attn.tile.mask %s at [%b, %h, %r0, %c0] shift %shift bounds [%nq, %nk] causal window(3, 2) mask {
  ^bb0(%bb: index, %hh: index, %i: index, %j: index):
    %keep = arith.cmpi ne, %hh, %j : index
    attn.yield %keep : i1
  } : memref<2x4xf32>
  return
}

// -----

// Transposed (S^T): the query is row0 + the column index, the key col0 + the
// row index.
// CHECK-LABEL: func.func @mask_transposed
// CHECK-SAME: (%[[S:[^:]+]]: memref<4x2xf32>, %[[B:[^:]+]]: index, %[[H:[^:]+]]: index, %[[R0:[^:]+]]: index, %[[C0:[^:]+]]: index, %[[SHIFT:[^:]+]]: index, %[[NQ:[^:]+]]: index, %[[NK:[^:]+]]: index)
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %{{.+}} step
// CHECK: scf.for %[[C:.+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[I:.+]] = arith.addi %[[R0]], %[[C]] : index
// CHECK: %[[J:.+]] = arith.addi %[[C0]], %[[R]] : index
// CHECK: arith.cmpi slt, %[[I]], %[[NQ]] : index
// CHECK: arith.cmpi slt, %[[J]], %[[NK]] : index
// CHECK: %[[DIAG:.+]] = arith.addi %[[I]], %[[SHIFT]] : index
// CHECK: arith.cmpi sle, %[[J]], %[[DIAG]] : index
func.func @mask_transposed(%s: memref<4x2xf32>, %b: index, %h: index, %r0: index, %c0: index, %shift: index, %nq: index, %nk: index) {
  attn.tile.mask %s at [%b, %h, %r0, %c0] transposed shift %shift bounds [%nq, %nk] causal : memref<4x2xf32>
  return
}

// -----

// Philox4x32-10: the key (seed lo, seed hi) is bumped by the Weyl constants
// 0x9E3779B9 / 0xBB67AE85 per round, hoisted out of the element loops; the
// counter is (j, i, b * heads + h, offset lo); each round multiplies by
// 0xD2511F53 and 0xCD9E8D57 (as i32: -766435501, -845247145). The element is
// kept iff (word0 >> 8) >= ceil(0.1 * 2^24) = 1677722, then scaled by
// 1 / 0.9.
// CHECK-LABEL: func.func @dropout
// CHECK-SAME: (%[[P:[^:]+]]: memref<2x4xf32>, %[[B:[^:]+]]: index, %[[H:[^:]+]]: index, %[[R0:[^:]+]]: index, %[[C0:[^:]+]]: index, %[[HEADS:[^:]+]]: index, %[[SEED:[^:]+]]: i64, %[[OFF:[^:]+]]: i64)
// CHECK: %[[KLO:.+]] = arith.trunci %[[SEED]] : i64 to i32
// CHECK: %[[SHR:.+]] = arith.shrui %[[SEED]], %{{.+}} : i64
// CHECK: %[[KHI:.+]] = arith.trunci %[[SHR]] : i64 to i32
// CHECK: arith.constant -1640531527 : i32
// CHECK: arith.constant -1150833019 : i32
// CHECK: %[[BH0:.+]] = arith.muli %[[B]], %[[HEADS]] : index
// CHECK: %[[BH:.+]] = arith.addi %[[BH0]], %[[H]] : index
// CHECK: %[[W2:.+]] = arith.index_cast %[[BH]] : index to i32
// CHECK: %[[W3:.+]] = arith.trunci %[[OFF]] : i64 to i32
// CHECK: %[[SCALE:.+]] = arith.constant 1.11111116 : f32
// CHECK: scf.for
// CHECK: scf.for
// CHECK: %[[I:.+]] = arith.addi %[[R0]], %{{.+}} : index
// CHECK: %[[J:.+]] = arith.addi %[[C0]], %{{.+}} : index
// CHECK: %[[W0:.+]] = arith.index_cast %[[J]] : index to i32
// CHECK: %[[W1:.+]] = arith.index_cast %[[I]] : index to i32
// CHECK: %[[M0:.+]] = arith.constant -766435501 : i32
// CHECK: %[[M1:.+]] = arith.constant -845247145 : i32
// CHECK: %[[LO0:.+]], %[[HI0:.+]] = arith.mului_extended %[[M0]], %[[W0]] : i32
// CHECK: %[[LO1:.+]], %[[HI1:.+]] = arith.mului_extended %[[M1]], %[[W2]] : i32
// CHECK: %[[X0:.+]] = arith.xori %[[HI1]], %[[W1]] : i32
// CHECK: %[[N0:.+]] = arith.xori %[[X0]], %[[KLO]] : i32
// CHECK: %[[X2:.+]] = arith.xori %[[HI0]], %[[W3]] : i32
// CHECK: %[[N2:.+]] = arith.xori %[[X2]], %[[KHI]] : i32
// CHECK: arith.mului_extended %[[M0]], %[[N0]] : i32
// CHECK: arith.mului_extended %[[M1]], %[[N2]] : i32
// CHECK-COUNT-8: arith.mului_extended %[[M0]]
// CHECK: %[[PARTIAL:.+]] = arith.xori %{{.+}}, %{{.+}} : i32
// CHECK-NEXT: %[[WORD0:.+]] = arith.xori %[[PARTIAL]], %{{.+}} : i32
// CHECK: %[[BITS:.+]] = arith.shrui %[[WORD0]], %{{.+}} : i32
// CHECK: %[[THRESHOLD:.+]] = arith.constant 1677722 : i32
// CHECK: %[[KEEP:.+]] = arith.cmpi uge, %[[BITS]], %[[THRESHOLD]] : i32
// CHECK: %[[X:.+]] = memref.load %[[P]]
// CHECK: %[[KEPT:.+]] = arith.mulf %[[X]], %[[SCALE]] : f32
// CHECK: %[[OUT:.+]] = arith.select %[[KEEP]], %[[KEPT]], %{{.+}} : f32
// CHECK: memref.store %[[OUT]], %[[P]]
func.func @dropout(%p: memref<2x4xf32>, %b: index, %h: index, %r0: index, %c0: index, %hq: index, %seed: i64, %off: i64) {
  attn.tile.dropout %p at [%b, %h, %r0, %c0] heads %hq seed %seed offset %off prob(0.1) : memref<2x4xf32>
  return
}

// -----

// Transposed: D is read at the column.
// CHECK-LABEL: func.func @softmax_grad_transposed
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %{{.+}} step
// CHECK: scf.for %[[C:.+]] = %{{.+}} to %{{.+}} step
// CHECK: memref.load %{{.+}}[%[[C]]] : memref<4xf32>
func.func @softmax_grad_transposed(%p: memref<2x4xf32>, %dp: memref<2x4xf32>, %d: memref<4xf32>) {
  attn.tile.softmax_grad %p, %dp, %d transposed : memref<2x4xf32>, memref<2x4xf32>, memref<4xf32>
  return
}
