// RUN: flashc-opt %s -split-input-file -verify-diagnostics

// One case for every diagnostic of attn.attention and attn.attention_grad
// (dialect/AttnOps.cpp), with the full message text, and a few parse errors.

//===----------------------------------------------------------------------===//
// Operands: ranks, element types, matching dimensions
//===----------------------------------------------------------------------===//

// Q must be [B, Hq, Nq, D].
func.func @query_rank(%q: tensor<2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'query' must be a rank-4 tensor [B, Hq, Nq, D], got 'tensor<2x16x32xf32>'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// K must be [B, Hkv, Nk, D].
func.func @key_rank(%q: tensor<1x2x16x32xf32>, %k: tensor<1x1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'key' must be a rank-4 tensor [B, Hkv, Nk, D], got 'tensor<1x1x2x16x32xf32>'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// V must be [B, Hkv, Nk, Dv].
func.func @value_rank(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'value' must be a rank-4 tensor [B, Hkv, Nk, Dv], got 'tensor<2x16x32xf32>'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// Only f16, bf16 and f32 inputs.
func.func @query_element_type_f64(%q: tensor<1x2x16x32xf64>, %k: tensor<1x2x16x32xf64>, %v: tensor<1x2x16x32xf64>) {
  // expected-error @below {{'attn.attention' op 'query' element type must be f16, bf16 or f32, got 'f64'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf64>, tensor<1x2x16x32xf64>, tensor<1x2x16x32xf64> -> tensor<1x2x16x32xf64>, tensor<1x2x16xf32>
  return
}

// -----

// Integer inputs are not attention inputs.
func.func @query_element_type_int(%q: tensor<1x2x16x32xi8>, %k: tensor<1x2x16x32xi8>, %v: tensor<1x2x16x32xi8>) {
  // expected-error @below {{'attn.attention' op 'query' element type must be f16, bf16 or f32, got 'i8'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xi8>, tensor<1x2x16x32xi8>, tensor<1x2x16x32xi8> -> tensor<1x2x16x32xi8>, tensor<1x2x16xf32>
  return
}

// -----

// K must have Q's element type.
func.func @key_element_type(%q: tensor<1x2x16x32xbf16>, %k: tensor<1x2x16x32xf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @below {{'attn.attention' op 'key' element type 'f16' does not match 'query' element type 'bf16'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xbf16>, tensor<1x2x16x32xf16>, tensor<1x2x16x32xbf16> -> tensor<1x2x16x32xbf16>, tensor<1x2x16xf32>
  return
}

// -----

// V must have Q's element type.
func.func @value_element_type(%q: tensor<1x2x16x32xf16>, %k: tensor<1x2x16x32xf16>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'value' element type 'f32' does not match 'query' element type 'f16'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf16>, tensor<1x2x16x32xf16>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf16>, tensor<1x2x16xf32>
  return
}

// -----

// B of K must match Q.
func.func @key_batch(%q: tensor<1x2x16x32xf32>, %k: tensor<2x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op batch size B of 'key' (2) does not match batch size B of 'query' (1)}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<2x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// B of V must match Q.
func.func @value_batch(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<3x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op batch size B of 'value' (3) does not match batch size B of 'query' (1)}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<3x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// D of K must match Q.
func.func @key_head_dim(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x64xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op head dimension D of 'key' (64) does not match head dimension D of 'query' (32)}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// V has K's heads.
func.func @value_heads(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x1x16x32xf32>) {
  // expected-error @below {{'attn.attention' op head count Hkv of 'value' (1) does not match head count Hkv of 'key' (2)}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x1x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// V has K's sequence length.
func.func @value_seq_len(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x24x32xf32>) {
  // expected-error @below {{'attn.attention' op sequence length Nk of 'value' (24) does not match sequence length Nk of 'key' (16)}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x24x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// Dynamic sizes elsewhere do not hide a static mismatch.
func.func @dynamic_mismatch_still_caught(%q: tensor<?x?x?x32xf32>, %k: tensor<?x?x16x32xf32>, %v: tensor<?x?x8x32xf32>) {
  // expected-error @below {{'attn.attention' op sequence length Nk of 'value' (8) does not match sequence length Nk of 'key' (16)}}
  %o, %lse = attn.attention %q, %k, %v : tensor<?x?x?x32xf32>, tensor<?x?x16x32xf32>, tensor<?x?x8x32xf32> -> tensor<?x?x?x32xf32>, tensor<?x?x?xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Sizes: head dimensions static and in range, every size at least 1, GQA
//===----------------------------------------------------------------------===//

// D must be static.
func.func @head_dim_dynamic(%q: tensor<1x2x16x?xf32>, %k: tensor<1x2x16x?xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op head dimension D must be static, got '?'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x?xf32>, tensor<1x2x16x?xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// Dv must be static.
func.func @value_head_dim_dynamic(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x?xf32>) {
  // expected-error @below {{'attn.attention' op head dimension Dv must be static, got '?'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x?xf32> -> tensor<1x2x16x?xf32>, tensor<1x2x16xf32>
  return
}

// -----

// D = 0 is below the range.
func.func @head_dim_zero(%q: tensor<1x2x16x0xf32>, %k: tensor<1x2x16x0xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op head dimension D = 0 is outside the supported range [1, 256]}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x0xf32>, tensor<1x2x16x0xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// D = 512 is above the range.
func.func @head_dim_too_large(%q: tensor<1x2x16x512xf32>, %k: tensor<1x2x16x512xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op head dimension D = 512 is outside the supported range [1, 256]}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x512xf32>, tensor<1x2x16x512xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// Dv = 0 is below the range.
func.func @value_head_dim_zero(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x0xf32>) {
  // expected-error @below {{'attn.attention' op head dimension Dv = 0 is outside the supported range [1, 256]}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x0xf32> -> tensor<1x2x16x0xf32>, tensor<1x2x16xf32>
  return
}

// -----

// Dv = 257 is just above the range.
func.func @value_head_dim_too_large(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x257xf32>) {
  // expected-error @below {{'attn.attention' op head dimension Dv = 257 is outside the supported range [1, 256]}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x257xf32> -> tensor<1x2x16x257xf32>, tensor<1x2x16xf32>
  return
}

// -----

// B must be at least 1.
func.func @batch_zero(%q: tensor<0x2x16x32xf32>, %k: tensor<0x2x16x32xf32>, %v: tensor<0x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op size B must be at least 1, got 0}}
  %o, %lse = attn.attention %q, %k, %v : tensor<0x2x16x32xf32>, tensor<0x2x16x32xf32>, tensor<0x2x16x32xf32> -> tensor<0x2x16x32xf32>, tensor<0x2x16xf32>
  return
}

// -----

// Hq must be at least 1.
func.func @query_heads_zero(%q: tensor<1x0x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op size Hq must be at least 1, got 0}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x0x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x0x16x32xf32>, tensor<1x0x16xf32>
  return
}

// -----

// Hkv must be at least 1 (and is not divided by).
func.func @kv_heads_zero(%q: tensor<1x2x16x32xf32>, %k: tensor<1x0x16x32xf32>, %v: tensor<1x0x16x32xf32>) {
  // expected-error @below {{'attn.attention' op size Hkv must be at least 1, got 0}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x0x16x32xf32>, tensor<1x0x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// Nq must be at least 1.
func.func @query_len_zero(%q: tensor<1x2x0x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op size Nq must be at least 1, got 0}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x0x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x0x32xf32>, tensor<1x2x0xf32>
  return
}

// -----

// Nk must be at least 1.
func.func @key_len_zero(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x0x32xf32>, %v: tensor<1x2x0x32xf32>) {
  // expected-error @below {{'attn.attention' op size Nk must be at least 1, got 0}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x0x32xf32>, tensor<1x2x0x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// Hq must be a multiple of Hkv.
func.func @gqa_not_multiple(%q: tensor<1x6x16x32xf32>, %k: tensor<1x4x16x32xf32>, %v: tensor<1x4x16x32xf32>) {
  // expected-error @below {{'attn.attention' op query heads Hq = 6 must be a multiple of key/value heads Hkv = 4}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x6x16x32xf32>, tensor<1x4x16x32xf32>, tensor<1x4x16x32xf32> -> tensor<1x6x16x32xf32>, tensor<1x6x16xf32>
  return
}

// -----

// More KV heads than query heads.
func.func @gqa_more_kv_heads(%q: tensor<1x2x16x32xf32>, %k: tensor<1x4x16x32xf32>, %v: tensor<1x4x16x32xf32>) {
  // expected-error @below {{'attn.attention' op query heads Hq = 2 must be a multiple of key/value heads Hkv = 4}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x4x16x32xf32>, tensor<1x4x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Results
//===----------------------------------------------------------------------===//

// O has the inputs' element type.
func.func @out_element_type(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'out' must have type 'tensor<1x2x16x32xf32>' ([B, Hq, Nq, Dv]), got 'tensor<1x2x16x32xf16>'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf16>, tensor<1x2x16xf32>
  return
}

// -----

// O's last dimension is Dv, not D.
func.func @out_takes_dv(%q: tensor<1x2x16x32xbf16>, %k: tensor<1x2x16x32xbf16>, %v: tensor<1x2x16x64xbf16>) {
  // expected-error @below {{'attn.attention' op 'out' must have type 'tensor<1x2x16x64xbf16>' ([B, Hq, Nq, Dv]), got 'tensor<1x2x16x32xbf16>'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xbf16>, tensor<1x2x16x32xbf16>, tensor<1x2x16x64xbf16> -> tensor<1x2x16x32xbf16>, tensor<1x2x16xf32>
  return
}

// -----

// O has Hq heads, not Hkv.
func.func @out_takes_hq(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'out' must have type 'tensor<1x8x16x32xf32>' ([B, Hq, Nq, Dv]), got 'tensor<1x2x16x32xf32>'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x8x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x8x16xf32>
  return
}

// -----

// O is dynamic exactly where Q is.
func.func @out_dynamic_where_static(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'out' must have type 'tensor<1x2x16x32xf32>' ([B, Hq, Nq, Dv]), got 'tensor<1x2x?x32xf32>'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x?x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// LSE is f32 whatever the inputs are.
func.func @lse_element_type(%q: tensor<1x2x16x32xbf16>, %k: tensor<1x2x16x32xbf16>, %v: tensor<1x2x16x32xbf16>) {
  // expected-error @below {{'attn.attention' op 'lse' must have type 'tensor<1x2x16xf32>' ([B, Hq, Nq]), got 'tensor<1x2x16xbf16>'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xbf16>, tensor<1x2x16x32xbf16>, tensor<1x2x16x32xbf16> -> tensor<1x2x16x32xbf16>, tensor<1x2x16xbf16>
  return
}

// -----

// LSE has no head-dimension axis.
func.func @lse_rank(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'lse' must have type 'tensor<1x2x16xf32>' ([B, Hq, Nq]), got 'tensor<1x2x16x1xf32>'}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16x1xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// scale, softcap, window, dropout
//===----------------------------------------------------------------------===//

func.func @scale_zero(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'scale' must be a positive finite number, got 0.000000e+00}}
  %o, %lse = attn.attention %q, %k, %v scale(0.0) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @scale_negative(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'scale' must be a positive finite number, got -1.250000e-01}}
  %o, %lse = attn.attention %q, %k, %v scale(-0.125) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// +inf as a hexadecimal f64.
func.func @scale_infinite(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'scale' must be a positive finite number, got INF}}
  %o, %lse = attn.attention %q, %k, %v scale(0x7FF0000000000000) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// NaN as a hexadecimal f64.
func.func @scale_nan(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'scale' must be a positive finite number, got nan}}
  %o, %lse = attn.attention %q, %k, %v scale(0x7FF8000000000000) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @softcap_zero(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'softcap' must be a positive finite number, got 0.000000e+00}}
  %o, %lse = attn.attention %q, %k, %v softcap(0.0) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @softcap_negative(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'softcap' must be a positive finite number, got -3.000000e+01}}
  %o, %lse = attn.attention %q, %k, %v softcap(-30.0) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @softcap_infinite(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'softcap' must be a positive finite number, got INF}}
  %o, %lse = attn.attention %q, %k, %v softcap(0x7FF0000000000000) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// The window clause always has both bounds; the attributes may not.
func.func @window_left_only(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'window' needs both bounds: window(left, right)}}
  %o, %lse = attn.attention %q, %k, %v {window_left = 16 : i64} : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @window_right_only(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'window' needs both bounds: window(left, right)}}
  %o, %lse = attn.attention %q, %k, %v {window_right = 0 : i64} : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @window_left_negative(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'window' bounds must be non-negative, got window(-1, 0)}}
  %o, %lse = attn.attention %q, %k, %v window(-1, 0) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @window_right_negative(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'window' bounds must be non-negative, got window(8, -5)}}
  %o, %lse = attn.attention %q, %k, %v causal window(8, -5) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// The dropout clause always has a seed; the attributes may not.
func.func @dropout_without_seed(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'dropout' needs a probability and a seed: dropout(p, seed s)}}
  %o, %lse = attn.attention %q, %k, %v {dropout_p = 1.000000e-01 : f64} : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @dropout_seed_without_p(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'dropout' needs a probability and a seed: dropout(p, seed s)}}
  %o, %lse = attn.attention %q, %k, %v {dropout_seed = 7 : i64} : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// p = 1 would drop everything and divide by zero.
func.func @dropout_p_one(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'dropout' probability must be in [0, 1), got 1.000000e+00}}
  %o, %lse = attn.attention %q, %k, %v dropout(1.0, seed 1) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @dropout_p_negative(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'dropout' probability must be in [0, 1), got -1.000000e-01}}
  %o, %lse = attn.attention %q, %k, %v dropout(-0.1, seed 1) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @dropout_p_nan(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'dropout' probability must be in [0, 1), got nan}}
  %o, %lse = attn.attention %q, %k, %v dropout(0x7FF8000000000000, seed 1) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// seqlens_q, seqlens_k
//===----------------------------------------------------------------------===//

func.func @seqlens_q_rank(%q: tensor<4x2x16x32xf16>, %k: tensor<4x2x16x32xf16>, %v: tensor<4x2x16x32xf16>, %s: tensor<4x1xi32>) {
  // expected-error @below {{'attn.attention' op 'seqlens_q' must be a rank-1 tensor of i32 with B = 4 elements, got 'tensor<4x1xi32>'}}
  %o, %lse = attn.attention %q, %k, %v seqlens_q(%s : tensor<4x1xi32>) : tensor<4x2x16x32xf16>, tensor<4x2x16x32xf16>, tensor<4x2x16x32xf16> -> tensor<4x2x16x32xf16>, tensor<4x2x16xf32>
  return
}

// -----

func.func @seqlens_q_element_type(%q: tensor<4x2x16x32xf16>, %k: tensor<4x2x16x32xf16>, %v: tensor<4x2x16x32xf16>, %s: tensor<4xi64>) {
  // expected-error @below {{'attn.attention' op 'seqlens_q' must be a rank-1 tensor of i32 with B = 4 elements, got 'tensor<4xi64>'}}
  %o, %lse = attn.attention %q, %k, %v seqlens_q(%s : tensor<4xi64>) : tensor<4x2x16x32xf16>, tensor<4x2x16x32xf16>, tensor<4x2x16x32xf16> -> tensor<4x2x16x32xf16>, tensor<4x2x16xf32>
  return
}

// -----

func.func @seqlens_q_size(%q: tensor<4x2x16x32xf16>, %k: tensor<4x2x16x32xf16>, %v: tensor<4x2x16x32xf16>, %s: tensor<3xi32>) {
  // expected-error @below {{'attn.attention' op 'seqlens_q' must be a rank-1 tensor of i32 with B = 4 elements, got 'tensor<3xi32>'}}
  %o, %lse = attn.attention %q, %k, %v seqlens_q(%s : tensor<3xi32>) : tensor<4x2x16x32xf16>, tensor<4x2x16x32xf16>, tensor<4x2x16x32xf16> -> tensor<4x2x16x32xf16>, tensor<4x2x16xf32>
  return
}

// -----

func.func @seqlens_k_size(%q: tensor<4x2x16x32xf16>, %k: tensor<4x2x16x32xf16>, %v: tensor<4x2x16x32xf16>, %s: tensor<4xi32>, %t: tensor<5xi32>) {
  // expected-error @below {{'attn.attention' op 'seqlens_k' must be a rank-1 tensor of i32 with B = 4 elements, got 'tensor<5xi32>'}}
  %o, %lse = attn.attention %q, %k, %v seqlens_q(%s : tensor<4xi32>) seqlens_k(%t : tensor<5xi32>) : tensor<4x2x16x32xf16>, tensor<4x2x16x32xf16>, tensor<4x2x16x32xf16> -> tensor<4x2x16x32xf16>, tensor<4x2x16xf32>
  return
}

// -----

// With B dynamic only the rank and element type are checked.
func.func @seqlens_k_element_type_dynamic_batch(%q: tensor<?x2x16x32xf16>, %k: tensor<?x2x16x32xf16>, %v: tensor<?x2x16x32xf16>, %t: tensor<?xf32>) {
  // expected-error @below {{'attn.attention' op 'seqlens_k' must be a rank-1 tensor of i32 with B = ? elements, got 'tensor<?xf32>'}}
  %o, %lse = attn.attention %q, %k, %v seqlens_k(%t : tensor<?xf32>) : tensor<?x2x16x32xf16>, tensor<?x2x16x32xf16>, tensor<?x2x16x32xf16> -> tensor<?x2x16x32xf16>, tensor<?x2x16xf32>
  return
}

// -----

// Signless i32 only.
func.func @seqlens_k_unsigned(%q: tensor<4x2x16x32xf16>, %k: tensor<4x2x16x32xf16>, %v: tensor<4x2x16x32xf16>, %t: tensor<4xui32>) {
  // expected-error @below {{'attn.attention' op 'seqlens_k' must be a rank-1 tensor of i32 with B = 4 elements, got 'tensor<4xui32>'}}
  %o, %lse = attn.attention %q, %k, %v seqlens_k(%t : tensor<4xui32>) : tensor<4x2x16x32xf16>, tensor<4x2x16x32xf16>, tensor<4x2x16x32xf16> -> tensor<4x2x16x32xf16>, tensor<4x2x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// layout and block
//===----------------------------------------------------------------------===//

func.func @block_without_layout(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x200x64xbf16>, %v: tensor<2x4x200x64xbf16>) {
  // expected-error @below {{'attn.attention' op 'block' sizes given without a 'layout' operand}}
  %o, %lse = attn.attention %q, %k, %v {layout_block = array<i64: 64, 64>} : tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return
}

// -----

func.func @block_one_size(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x200x64xbf16>, %v: tensor<2x4x200x64xbf16>, %l: tensor<1x1x2x2xi8>) {
  // expected-error @below {{'attn.attention' op 'layout' needs two block sizes: layout(%l : type, block [bq, bk])}}
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<1x1x2x2xi8>, block [64]) : tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return
}

// -----

func.func @block_three_sizes(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x200x64xbf16>, %v: tensor<2x4x200x64xbf16>, %l: tensor<1x1x2x2xi8>) {
  // expected-error @below {{'attn.attention' op 'layout' needs two block sizes: layout(%l : type, block [bq, bk])}}
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<1x1x2x2xi8>, block [64, 64, 64]) : tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return
}

// -----

func.func @block_not_multiple_of_16(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x200x64xbf16>, %v: tensor<2x4x200x64xbf16>, %l: tensor<1x1x2x9xi8>) {
  // expected-error @below {{'attn.attention' op layout block sizes must be positive multiples of 16, got [64, 24]}}
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<1x1x2x9xi8>, block [64, 24]) : tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return
}

// -----

func.func @block_too_small(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x200x64xbf16>, %v: tensor<2x4x200x64xbf16>, %l: tensor<1x1x13x25xi8>) {
  // expected-error @below {{'attn.attention' op layout block sizes must be positive multiples of 16, got [8, 8]}}
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<1x1x13x25xi8>, block [8, 8]) : tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return
}

// -----

func.func @block_zero(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x200x64xbf16>, %v: tensor<2x4x200x64xbf16>, %l: tensor<1x1x1x4xi8>) {
  // expected-error @below {{'attn.attention' op layout block sizes must be positive multiples of 16, got [0, 64]}}
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<1x1x1x4xi8>, block [0, 64]) : tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return
}

// -----

func.func @block_negative(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x200x64xbf16>, %v: tensor<2x4x200x64xbf16>, %l: tensor<1x1x1x13xi8>) {
  // expected-error @below {{'attn.attention' op layout block sizes must be positive multiples of 16, got [-16, 16]}}
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<1x1x1x13xi8>, block [-16, 16]) : tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return
}

// -----

func.func @layout_rank(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x200x64xbf16>, %v: tensor<2x4x200x64xbf16>, %l: tensor<2x2xi8>) {
  // expected-error @below {{'attn.attention' op 'layout' must be a rank-4 tensor of integers [1 or B, 1 or Hq, ceil(Nq/bq), ceil(Nk/bk)], got 'tensor<2x2xi8>'}}
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<2x2xi8>, block [64, 128]) : tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return
}

// -----

func.func @layout_element_type(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x200x64xbf16>, %v: tensor<2x4x200x64xbf16>, %l: tensor<1x1x2x2xf32>) {
  // expected-error @below {{'attn.attention' op 'layout' must be a rank-4 tensor of integers [1 or B, 1 or Hq, ceil(Nq/bq), ceil(Nk/bk)], got 'tensor<1x1x2x2xf32>'}}
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<1x1x2x2xf32>, block [64, 128]) : tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return
}

// -----

func.func @layout_unsigned(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x200x64xbf16>, %v: tensor<2x4x200x64xbf16>, %l: tensor<1x1x2x2xui8>) {
  // expected-error @below {{'attn.attention' op 'layout' must be a rank-4 tensor of integers [1 or B, 1 or Hq, ceil(Nq/bq), ceil(Nk/bk)], got 'tensor<1x1x2x2xui8>'}}
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<1x1x2x2xui8>, block [64, 128]) : tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return
}

// -----

// The batch axis is 1 or B.
func.func @layout_batch(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x200x64xbf16>, %v: tensor<2x4x200x64xbf16>, %l: tensor<3x4x2x2xi8>) {
  // expected-error @below {{'attn.attention' op 'layout' must have shape [1 or 2, 1 or 4, 2, 2] for block [64, 128], got 'tensor<3x4x2x2xi8>'}}
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<3x4x2x2xi8>, block [64, 128]) : tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return
}

// -----

// The head axis is 1 or Hq (not Hkv).
func.func @layout_heads(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x200x64xbf16>, %v: tensor<2x4x200x64xbf16>, %l: tensor<2x2x2x2xi8>) {
  // expected-error @below {{'attn.attention' op 'layout' must have shape [1 or 2, 1 or 4, 2, 2] for block [64, 128], got 'tensor<2x2x2x2xi8>'}}
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<2x2x2x2xi8>, block [64, 128]) : tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return
}

// -----

// ceil(100 / 64) = 2 query blocks.
func.func @layout_query_blocks(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x200x64xbf16>, %v: tensor<2x4x200x64xbf16>, %l: tensor<1x1x1x2xi8>) {
  // expected-error @below {{'attn.attention' op 'layout' must have shape [1 or 2, 1 or 4, 2, 2] for block [64, 128], got 'tensor<1x1x1x2xi8>'}}
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<1x1x1x2xi8>, block [64, 128]) : tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return
}

// -----

// ceil(200 / 128) = 2 key blocks.
func.func @layout_key_blocks(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x200x64xbf16>, %v: tensor<2x4x200x64xbf16>, %l: tensor<1x1x2x3xi8>) {
  // expected-error @below {{'attn.attention' op 'layout' must have shape [1 or 2, 1 or 4, 2, 2] for block [64, 128], got 'tensor<1x1x2x3xi8>'}}
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<1x1x2x3xi8>, block [64, 128]) : tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16> -> tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>
  return
}

// -----

// With dynamic N the block counts are '?', and the batch is still checked.
func.func @layout_dynamic_lengths(%q: tensor<2x4x?x64xbf16>, %k: tensor<2x4x?x64xbf16>, %v: tensor<2x4x?x64xbf16>, %l: tensor<4x1x?x?xi8>) {
  // expected-error @below {{'attn.attention' op 'layout' must have shape [1 or 2, 1 or 4, ?, ?] for block [64, 64], got 'tensor<4x1x?x?xi8>'}}
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<4x1x?x?xi8>, block [64, 64]) : tensor<2x4x?x64xbf16>, tensor<2x4x?x64xbf16>, tensor<2x4x?x64xbf16> -> tensor<2x4x?x64xbf16>, tensor<2x4x?xf32>
  return
}

// -----

// A layout operand without block sizes can only be written in generic form.
func.func @layout_without_block(%q: tensor<2x4x100x64xbf16>, %k: tensor<2x4x200x64xbf16>, %v: tensor<2x4x200x64xbf16>, %l: tensor<1x1x2x2xi8>) {
  // expected-error @below {{'attn.attention' op 'layout' needs two block sizes: layout(%l : type, block [bq, bk])}}
  %o:2 = "attn.attention"(%q, %k, %v, %l) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 1>}> ({}, {}) : (tensor<2x4x100x64xbf16>, tensor<2x4x200x64xbf16>, tensor<2x4x200x64xbf16>, tensor<1x1x2x2xi8>) -> (tensor<2x4x100x64xbf16>, tensor<2x4x100xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// mask and score regions
//===----------------------------------------------------------------------===//

func.func @mask_two_blocks(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'mask' region must have exactly one block}}
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %t = arith.constant true
    attn.yield %t : i1
  ^bb1:
    %f = arith.constant false
    attn.yield %f : i1
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @mask_too_few_args(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'mask' region must take (%b: index, %h: index, %i: index, %j: index)}}
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%i: index, %j: index):
    %keep = arith.cmpi sge, %i, %j : index
    attn.yield %keep : i1
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @mask_arg_types(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'mask' region must take (%b: index, %h: index, %i: index, %j: index)}}
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: i32, %h: i32, %i: i32, %j: i32):
    %keep = arith.cmpi sge, %i, %j : i32
    attn.yield %keep : i1
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// A mask does not see the score.
func.func @mask_score_args(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'mask' region must take (%b: index, %h: index, %i: index, %j: index)}}
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %keep = arith.cmpi sge, %i, %j : index
    attn.yield %keep : i1
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @mask_yield_type(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'mask' region must end with 'attn.yield' of one 'i1'}}
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %d = arith.subi %i, %j : index
    attn.yield %d : index
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @mask_yield_two(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'mask' region must end with 'attn.yield' of one 'i1'}}
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %keep = arith.cmpi sge, %i, %j : index
    attn.yield %keep, %keep : i1, i1
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @mask_yield_none(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'mask' region must end with 'attn.yield' of one 'i1'}}
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    attn.yield
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// Everything a mask reads comes through its arguments.
func.func @mask_captures(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>, %prefix: index) {
  // expected-error @below {{'attn.attention' op 'mask' region must not use values defined outside it; pass everything through its arguments}}
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %keep = arith.cmpi slt, %j, %prefix : index
    attn.yield %keep : i1
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// The error is reported on the op with side effects.
func.func @mask_side_effect(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    // expected-error @below {{'memref.alloc' op has side effects and cannot appear in the 'mask' region of 'attn.attention'}}
    %m = memref.alloc() : memref<4xi1>
    %keep = arith.cmpi sge, %i, %j : index
    attn.yield %keep : i1
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @score_two_blocks(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'score' region must have exactly one block}}
  %o, %lse = attn.attention %q, %k, %v score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    attn.yield %s : f32
  ^bb1:
    %z = arith.constant 0.0 : f32
    attn.yield %z : f32
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// The score region's first argument is the score.
func.func @score_missing_score_arg(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'score' region must take (%s: f32, %b: index, %h: index, %i: index, %j: index)}}
  %o, %lse = attn.attention %q, %k, %v score {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %z = arith.constant 0.0 : f32
    attn.yield %z : f32
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// Scores are f32 whatever the inputs are.
func.func @score_arg_f16(%q: tensor<1x2x16x32xf16>, %k: tensor<1x2x16x32xf16>, %v: tensor<1x2x16x32xf16>) {
  // expected-error @below {{'attn.attention' op 'score' region must take (%s: f32, %b: index, %h: index, %i: index, %j: index)}}
  %o, %lse = attn.attention %q, %k, %v score {
  ^bb0(%s: f16, %b: index, %h: index, %i: index, %j: index):
    attn.yield %s : f16
  } : tensor<1x2x16x32xf16>, tensor<1x2x16x32xf16>, tensor<1x2x16x32xf16> -> tensor<1x2x16x32xf16>, tensor<1x2x16xf32>
  return
}

// -----

func.func @score_yield_type(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'score' region must end with 'attn.yield' of one 'f32'}}
  %o, %lse = attn.attention %q, %k, %v score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %keep = arith.cmpi sge, %i, %j : index
    attn.yield %keep : i1
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @score_yield_two(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @below {{'attn.attention' op 'score' region must end with 'attn.yield' of one 'f32'}}
  %o, %lse = attn.attention %q, %k, %v score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    attn.yield %s, %s : f32, f32
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @score_captures(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>, %bias: f32) {
  // expected-error @below {{'attn.attention' op 'score' region must not use values defined outside it; pass everything through its arguments}}
  %o, %lse = attn.attention %q, %k, %v score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %r = arith.addf %s, %bias : f32
    attn.yield %r : f32
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

func.func @score_side_effect(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  %o, %lse = attn.attention %q, %k, %v score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    // expected-error @below {{'memref.alloca' op has side effects and cannot appear in the 'score' region of 'attn.attention'}}
    %m = memref.alloca() : memref<f32>
    attn.yield %s : f32
  } : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// attn.attention_grad
//===----------------------------------------------------------------------===//

// The gradient checks its inputs like the forward op.
func.func @grad_query_rank(%q: tensor<4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xf16>) {
  // expected-error @below {{'attn.attention_grad' op 'query' must be a rank-4 tensor [B, Hq, Nq, D], got 'tensor<4x128x64xf16>'}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xf16> -> tensor<4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
  return
}

// -----

func.func @grad_gqa_not_multiple(%q: tensor<1x4x128x64xf16>, %k: tensor<1x3x128x64xf16>, %v: tensor<1x3x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xf16>) {
  // expected-error @below {{'attn.attention_grad' op query heads Hq = 4 must be a multiple of key/value heads Hkv = 3}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x4x128x64xf16>, tensor<1x3x128x64xf16>, tensor<1x3x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>, tensor<1x3x128x64xf16>, tensor<1x3x128x64xf16>
  return
}

// -----

// ... and its clauses.
func.func @grad_window_negative(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xf16>) {
  // expected-error @below {{'attn.attention_grad' op 'window' bounds must be non-negative, got window(-4, 4)}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do deterministic window(-4, 4) : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
  return
}

// -----

func.func @grad_dropout_p(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xf16>) {
  // expected-error @below {{'attn.attention_grad' op 'dropout' probability must be in [0, 1), got 1.500000e+00}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do dropout(1.5, seed 3) : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
  return
}

// -----

// O is the forward op's output [B, Hq, Nq, Dv].
func.func @grad_out_type(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xbf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xf16>) {
  // expected-error @below {{'attn.attention_grad' op 'out' must have type 'tensor<1x4x128x64xf16>' ([B, Hq, Nq, Dv]), got 'tensor<1x4x128x64xbf16>'}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xbf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
  return
}

// -----

func.func @grad_out_takes_dv(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x32xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x32xf16>) {
  // expected-error @below {{'attn.attention_grad' op 'out' must have type 'tensor<1x4x128x32xf16>' ([B, Hq, Nq, Dv]), got 'tensor<1x4x128x64xf16>'}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x32xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x128x32xf16> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x32xf16>
  return
}

// -----

func.func @grad_lse_type(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf16>, %do: tensor<1x4x128x64xf16>) {
  // expected-error @below {{'attn.attention_grad' op 'lse' must have type 'tensor<1x4x128xf32>' ([B, Hq, Nq]), got 'tensor<1x4x128xf16>'}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf16>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
  return
}

// -----

func.func @grad_lse_shape(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x64xf32>, %do: tensor<1x4x128x64xf16>) {
  // expected-error @below {{'attn.attention_grad' op 'lse' must have type 'tensor<1x4x128xf32>' ([B, Hq, Nq]), got 'tensor<1x4x64xf32>'}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x64xf32>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
  return
}

// -----

// dO is shaped and typed like O.
func.func @grad_dout_type(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xf32>) {
  // expected-error @below {{'attn.attention_grad' op 'dout' must have type 'tensor<1x4x128x64xf16>' (like 'out'), got 'tensor<1x4x128x64xf32>'}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xf32> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
  return
}

// -----

func.func @grad_dout_shape(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x127x64xf16>) {
  // expected-error @below {{'attn.attention_grad' op 'dout' must have type 'tensor<1x4x128x64xf16>' (like 'out'), got 'tensor<1x4x127x64xf16>'}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x127x64xf16> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
  return
}

// -----

// dQ, dK and dV have exactly the types of Q, K and V.
func.func @grad_dquery_type(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xf16>) {
  // expected-error @below {{'attn.attention_grad' op 'dquery' must have the type of its input, 'tensor<1x4x128x64xf16>', got 'tensor<1x4x128x64xf32>'}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf32>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
  return
}

// -----

// With GQA dK has Hkv heads, not Hq.
func.func @grad_dkey_gqa(%q: tensor<1x4x128x64xf16>, %k: tensor<1x2x128x64xf16>, %v: tensor<1x2x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xf16>) {
  // expected-error @below {{'attn.attention_grad' op 'dkey' must have the type of its input, 'tensor<1x2x128x64xf16>', got 'tensor<1x4x128x64xf16>'}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x4x128x64xf16>, tensor<1x2x128x64xf16>, tensor<1x2x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x2x128x64xf16>
  return
}

// -----

func.func @grad_dvalue_dynamic(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xf16>) {
  // expected-error @below {{'attn.attention_grad' op 'dvalue' must have the type of its input, 'tensor<1x4x128x64xf16>', got 'tensor<1x4x?x64xf16>'}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x?x64xf16>
  return
}

// -----

// Regions are checked as in the forward op.
func.func @grad_mask_args(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xf16>) {
  // expected-error @below {{'attn.attention_grad' op 'mask' region must take (%b: index, %h: index, %i: index, %j: index)}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do mask {
  ^bb0(%i: index, %j: index):
    %keep = arith.cmpi sge, %i, %j : index
    attn.yield %keep : i1
  } : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
  return
}

// -----

func.func @grad_score_yield(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xf16>) {
  // expected-error @below {{'attn.attention_grad' op 'score' region must end with 'attn.yield' of one 'f32'}}
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %d = arith.subi %i, %j : index
    attn.yield %d : index
  } : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
  return
}

// -----

// math.floor has no useful derivative; the error is on the op.
func.func @grad_score_math_not_differentiable(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    // expected-error @below {{'math.floor' op cannot be differentiated: the 'score' region of 'attn.attention_grad' may use only arith ops without float results, arith.addf/subf/mulf/divf/negf/maximumf/minimumf/maxnumf/minnumf/select/constant/sitofp/uitofp and math.tanh/exp/exp2/log/sqrt/rsqrt/absf/sin/cos/powf}}
    %r = math.floor %s : f32
    attn.yield %r : f32
  } : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
  return
}

// -----

// Float arith ops outside the list are rejected too.
func.func @grad_score_arith_float_not_differentiable(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 2.0 : f32
    // expected-error @below {{'arith.remf' op cannot be differentiated: the 'score' region of 'attn.attention_grad' may use only arith ops without float results, arith.addf/subf/mulf/divf/negf/maximumf/minimumf/maxnumf/minnumf/select/constant/sitofp/uitofp and math.tanh/exp/exp2/log/sqrt/rsqrt/absf/sin/cos/powf}}
    %r = arith.remf %s, %c : f32
    attn.yield %r : f32
  } : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
  return
}

// -----

// Side effects are reported before differentiability.
func.func @grad_score_side_effect(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>, %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xf16>, %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    // expected-error @below {{'memref.alloca' op has side effects and cannot appear in the 'score' region of 'attn.attention_grad'}}
    %m = memref.alloca() : memref<f32>
    attn.yield %s : f32
  } : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128xf32>, tensor<1x4x128x64xf16> -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Parse errors
//===----------------------------------------------------------------------===//

// An unknown clause.
func.func @unknown_clause(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @+1 {{expected ':'}}
  %o, %lse = attn.attention %q, %k, %v bogus : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// Three operand types are required.
func.func @missing_type(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @+1 {{expected ','}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// Two result types are required.
func.func @missing_result_type(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @+1 {{expected ','}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>
  return
}

// -----

// window takes both bounds.
func.func @window_one_bound(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @+1 {{expected ','}}
  %o, %lse = attn.attention %q, %k, %v window(16) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// dropout takes a seed.
func.func @dropout_without_seed_syntax(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @+1 {{expected ','}}
  %o, %lse = attn.attention %q, %k, %v dropout(0.1) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}

// -----

// Only top_left and bottom_right.
func.func @unknown_alignment(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x32xf32>) {
  // expected-error @+1 {{custom op 'attn.attention' expected string or keyword containing one of the following enum values for attribute 'alignment' [top_left, bottom_right]}}
  %o, %lse = attn.attention %q, %k, %v causal align(center) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>, tensor<1x2x16xf32>
  return
}
