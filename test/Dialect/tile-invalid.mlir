// RUN: flashc-opt %s -split-input-file -verify-diagnostics

// One case for every diagnostic of the attn.tile.* verifiers
// (dialect/AttnTileOps.cpp), with the full message text, and a few type
// constraint and parse errors.

//===----------------------------------------------------------------------===//
// attn.tile.load
//===----------------------------------------------------------------------===//

// Rows of a [B, H, N, D] tensor go into an R x D tile.
func.func @load_tile_rank(%g: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %b: index, %h: index, %r: index, %n: index, %t: memref<64xbf16>) {
  // expected-error @below {{'attn.tile.load' op tile of rank 1 cannot hold rows of a rank-4 tensor (expected rank 2)}}
  attn.tile.load %g[%b, %h, %r] rows %n into %t : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> memref<64xbf16>
  return
}

// -----

// Rows of a [B, H, N] tensor go into an R tile.
func.func @load_tile_rank_lse(%g: memref<?x?x?xf32>, %b: index, %h: index, %r: index, %n: index, %t: memref<64x1xf32>) {
  // expected-error @below {{'attn.tile.load' op tile of rank 2 cannot hold rows of a rank-3 tensor (expected rank 1)}}
  attn.tile.load %g[%b, %h, %r] rows %n into %t : memref<?x?x?xf32> -> memref<64x1xf32>
  return
}

// -----

func.func @load_dynamic_tile(%g: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %b: index, %h: index, %r: index, %n: index, %t: memref<?x64xbf16>) {
  // expected-error @below {{'attn.tile.load' op tile must have a static shape, got 'memref<?x64xbf16>'}}
  attn.tile.load %g[%b, %h, %r] rows %n into %t : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> memref<?x64xbf16>
  return
}

// -----

// The head dimension is static at every level.
func.func @load_dynamic_row_length(%g: memref<?x?x?x?xbf16>, %b: index, %h: index, %r: index, %n: index, %t: memref<64x64xbf16>) {
  // expected-error @below {{'attn.tile.load' op the tensor's last dimension must be static, like the tile's row length 64, got '?'}}
  attn.tile.load %g[%b, %h, %r] rows %n into %t : memref<?x?x?x?xbf16> -> memref<64x64xbf16>
  return
}

// -----

func.func @load_row_length(%g: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %b: index, %h: index, %r: index, %n: index, %t: memref<64x32xbf16>) {
  // expected-error @below {{'attn.tile.load' op tile row length 32 does not match the tensor's last dimension 64}}
  attn.tile.load %g[%b, %h, %r] rows %n into %t : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> memref<64x32xbf16>
  return
}

// -----

// A load does not convert; a store does.
func.func @load_element_type(%g: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %b: index, %h: index, %r: index, %n: index, %t: memref<64x64xf32>) {
  // expected-error @below {{'attn.tile.load' op tile element type 'f32' does not match the tensor's 'bf16'}}
  attn.tile.load %g[%b, %h, %r] rows %n into %t : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>> -> memref<64x64xf32>
  return
}

// -----

// The global tensor is [B, H, N, D] or [B, H, N] (a type constraint).
func.func @load_tensor_rank(%g: memref<16x64xbf16>, %b: index, %h: index, %r: index, %n: index, %t: memref<64xbf16>) {
  // expected-error @below {{'attn.tile.load' op operand #0 must be 3D/4D memref of 16-bit float or bfloat16 type or 32-bit float values, but got 'memref<16x64xbf16>'}}
  attn.tile.load %g[%b, %h, %r] rows %n into %t : memref<16x64xbf16> -> memref<64xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.tile.store
//===----------------------------------------------------------------------===//

func.func @store_tile_rank(%t: memref<64xf32>, %g: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %b: index, %h: index, %r: index, %n: index) {
  // expected-error @below {{'attn.tile.store' op tile of rank 1 cannot hold rows of a rank-4 tensor (expected rank 2)}}
  attn.tile.store %t into %g[%b, %h, %r] rows %n : memref<64xf32> -> memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  return
}

// -----

func.func @store_dynamic_tile(%t: memref<64x?xf32>, %g: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %b: index, %h: index, %r: index, %n: index) {
  // expected-error @below {{'attn.tile.store' op tile must have a static shape, got 'memref<64x?xf32>'}}
  attn.tile.store %t into %g[%b, %h, %r] rows %n : memref<64x?xf32> -> memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  return
}

// -----

func.func @store_dynamic_row_length(%t: memref<64x128xf32>, %g: memref<?x?x?x?xf16>, %b: index, %h: index, %r: index, %n: index) {
  // expected-error @below {{'attn.tile.store' op the tensor's last dimension must be static, like the tile's row length 128, got '?'}}
  attn.tile.store %t into %g[%b, %h, %r] rows %n accumulate : memref<64x128xf32> -> memref<?x?x?x?xf16>
  return
}

// -----

func.func @store_row_length(%t: memref<64x128xf32>, %g: memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>, %b: index, %h: index, %r: index, %n: index) {
  // expected-error @below {{'attn.tile.store' op tile row length 128 does not match the tensor's last dimension 64}}
  attn.tile.store %t into %g[%b, %h, %r] rows %n : memref<64x128xf32> -> memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.tile.copy
//===----------------------------------------------------------------------===//

func.func @copy_shape(%a: memref<64x32xf32>, %c: memref<32x64xf32>) {
  // expected-error @below {{'attn.tile.copy' op source shape and destination shape differ: 'memref<64x32xf32>' vs 'memref<32x64xf32>'}}
  attn.tile.copy %a, %c : memref<64x32xf32>, memref<32x64xf32>
  return
}

// -----

func.func @copy_rank(%a: memref<64xf32>, %c: memref<64x1xbf16>) {
  // expected-error @below {{'attn.tile.copy' op source shape and destination shape differ: 'memref<64xf32>' vs 'memref<64x1xbf16>'}}
  attn.tile.copy %a, %c : memref<64xf32>, memref<64x1xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.tile.matmul
//===----------------------------------------------------------------------===//

// A (64x32) times B (64x32) needs transpose_b.
func.func @matmul_contraction(%a: memref<64x32xf16>, %bb: memref<64x32xf16>, %c: memref<64x64xf32>) {
  // expected-error @below {{'attn.tile.matmul' op contraction sizes differ: op(A) is 64x32, op(B) is 64x32}}
  attn.tile.matmul %a, %bb, %c : memref<64x32xf16>, memref<64x32xf16>, memref<64x64xf32>
  return
}

// -----

// S = Q K^T with K of the wrong head dimension.
func.func @matmul_contraction_transpose_b(%q: memref<64x64xbf16>, %k: memref<32x128xbf16>, %s: memref<64x32xf32>) {
  // expected-error @below {{'attn.tile.matmul' op contraction sizes differ: op(A) is 64x64, op(B) is 128x32}}
  attn.tile.matmul %q, %k, %s transpose_b alpha(0.125) : memref<64x64xbf16>, memref<32x128xbf16>, memref<64x32xf32>
  return
}

// -----

// dK = dS^T Q with Q of the wrong row count.
func.func @matmul_contraction_transpose_a(%ds: memref<64x32xf32>, %q: memref<32x64xbf16>, %dk: memref<32x64xf32>) {
  // expected-error @below {{'attn.tile.matmul' op contraction sizes differ: op(A) is 32x64, op(B) is 32x64}}
  attn.tile.matmul %ds, %q, %dk transpose_a accumulate : memref<64x32xf32>, memref<32x64xbf16>, memref<32x64xf32>
  return
}

// -----

func.func @matmul_accumulator(%p: memref<64x32xf32>, %v: memref<32x128xbf16>, %acc: memref<64x64xf32>) {
  // expected-error @below {{'attn.tile.matmul' op accumulator must be 64x128, got 64x64}}
  attn.tile.matmul %p, %v, %acc accumulate : memref<64x32xf32>, memref<32x128xbf16>, memref<64x64xf32>
  return
}

// -----

func.func @matmul_accumulator_transposed(%q: memref<64x64xbf16>, %k: memref<32x64xbf16>, %s: memref<32x64xf32>) {
  // expected-error @below {{'attn.tile.matmul' op accumulator must be 64x32, got 32x64}}
  attn.tile.matmul %q, %k, %s transpose_b : memref<64x64xbf16>, memref<32x64xbf16>, memref<32x64xf32>
  return
}

// -----

func.func @matmul_dynamic_tile(%a: memref<64x?xf16>, %bb: memref<?x64xf16>, %c: memref<64x64xf32>) {
  // expected-error @below {{'attn.tile.matmul' op tile must have a static shape, got 'memref<64x?xf16>'}}
  attn.tile.matmul %a, %bb, %c : memref<64x?xf16>, memref<?x64xf16>, memref<64x64xf32>
  return
}

// -----

// The accumulator is f32 (a type constraint).
func.func @matmul_accumulator_f16(%a: memref<64x64xf16>, %bb: memref<64x64xf16>, %c: memref<64x64xf16>) {
  // expected-error @below {{'attn.tile.matmul' op operand #2 must be 2D memref of 32-bit float values, but got 'memref<64x64xf16>'}}
  attn.tile.matmul %a, %bb, %c : memref<64x64xf16>, memref<64x64xf16>, memref<64x64xf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.tile.softmax_update
//===----------------------------------------------------------------------===//

func.func @softmax_update_max_rows(%s: memref<64x32xf32>, %m: memref<32xf32>, %l: memref<64xf32>, %acc: memref<64x64xf32>) {
  // expected-error @below {{'attn.tile.softmax_update' op max, sum and acc must have 64 rows, like the score tile}}
  attn.tile.softmax_update %s, %m, %l, %acc : memref<64x32xf32>, memref<32xf32>, memref<64xf32>, memref<64x64xf32>
  return
}

// -----

func.func @softmax_update_sum_rows(%s: memref<64x32xf32>, %m: memref<64xf32>, %l: memref<128xf32>, %acc: memref<64x64xf32>) {
  // expected-error @below {{'attn.tile.softmax_update' op max, sum and acc must have 64 rows, like the score tile}}
  attn.tile.softmax_update %s, %m, %l, %acc : memref<64x32xf32>, memref<64xf32>, memref<128xf32>, memref<64x64xf32>
  return
}

// -----

func.func @softmax_update_acc_rows(%s: memref<64x32xf32>, %m: memref<64xf32>, %l: memref<64xf32>, %acc: memref<32x64xf32>) {
  // expected-error @below {{'attn.tile.softmax_update' op max, sum and acc must have 64 rows, like the score tile}}
  attn.tile.softmax_update %s, %m, %l, %acc : memref<64x32xf32>, memref<64xf32>, memref<64xf32>, memref<32x64xf32>
  return
}

// -----

func.func @softmax_update_dynamic(%s: memref<64x32xf32>, %m: memref<?xf32>, %l: memref<64xf32>, %acc: memref<64x64xf32>) {
  // expected-error @below {{'attn.tile.softmax_update' op tile must have a static shape, got 'memref<?xf32>'}}
  attn.tile.softmax_update %s, %m, %l, %acc : memref<64x32xf32>, memref<?xf32>, memref<64xf32>, memref<64x64xf32>
  return
}

// -----

// Scores are f32 (a type constraint).
func.func @softmax_update_scores_f16(%s: memref<64x32xf16>, %m: memref<64xf32>, %l: memref<64xf32>, %acc: memref<64x64xf32>) {
  // expected-error @below {{'attn.tile.softmax_update' op operand #0 must be 2D memref of 32-bit float values, but got 'memref<64x32xf16>'}}
  attn.tile.softmax_update %s, %m, %l, %acc : memref<64x32xf16>, memref<64xf32>, memref<64xf32>, memref<64x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Parse errors
//===----------------------------------------------------------------------===//

// attn.tile.mask needs the valid lengths.
func.func @mask_missing_bounds(%s: memref<64x32xf32>, %b: index, %h: index, %r: index, %c: index, %sh: index) {
  // expected-error @+1 {{expected 'bounds'}}
  attn.tile.mask %s at [%b, %h, %r, %c] shift %sh causal : memref<64x32xf32>
  return
}

// -----

// attn.tile.dropout needs its probability.
func.func @dropout_missing_prob(%p: memref<64x32xf32>, %b: index, %h: index, %r: index, %c: index, %hq: index, %seed: i64, %off: i64) {
  // expected-error @+1 {{expected 'prob'}}
  attn.tile.dropout %p at [%b, %h, %r, %c] heads %hq seed %seed offset %off : memref<64x32xf32>
  return
}

// -----

func.func @exp_lse_rows(%s: memref<4x2xf32>, %lse: memref<2xf32>) {
  // expected-error @+1 {{lse must have one element per row of the tile (4), got 2}}
  attn.tile.exp_lse %s, %lse : memref<4x2xf32>, memref<2xf32>
  return
}

// -----

func.func @exp_lse_columns(%s: memref<4x2xf32>, %lse: memref<4xf32>) {
  // expected-error @+1 {{lse must have one element per column of the tile (2), got 4}}
  attn.tile.exp_lse %s, %lse transposed : memref<4x2xf32>, memref<4xf32>
  return
}

// -----

func.func @softmax_grad_shapes(%p: memref<4x2xf32>, %dp: memref<2x4xf32>, %d: memref<4xf32>) {
  // expected-error @+1 {{probs and grads must have the same shape}}
  attn.tile.softmax_grad %p, %dp, %d : memref<4x2xf32>, memref<2x4xf32>, memref<4xf32>
  return
}

// -----

func.func @softmax_grad_columns(%p: memref<4x2xf32>, %dp: memref<4x2xf32>, %d: memref<4xf32>) {
  // expected-error @+1 {{rowdot must have one element per column of the tile (2), got 4}}
  attn.tile.softmax_grad %p, %dp, %d transposed : memref<4x2xf32>, memref<4x2xf32>, memref<4xf32>
  return
}
