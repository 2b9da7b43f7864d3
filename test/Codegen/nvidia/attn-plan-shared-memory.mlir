// RUN: flashc-opt %s -split-input-file -allow-unregistered-dialect -attn-plan-shared-memory=chip=sm_90 -verify-diagnostics | FileCheck %s
// RUN: flashc-opt %s -split-input-file -allow-unregistered-dialect -attn-plan-shared-memory="chip=sm_90 pad=false" -verify-diagnostics | FileCheck %s --check-prefix=NOPAD

// Tiles in program order, 16-byte aligned; rows of 128 bytes padded by 16
// (bf16) or 32 (f32) bytes against bank conflicts; the total on the kernel.
// CHECK-LABEL: func.func @k_fwd(
// CHECK-SAME: attn.shared_bytes = 28176 : i64
// CHECK: memref.alloca() {attn.shared_offset = 0 : i64, attn.shared_pitch = 72 : i64} : memref<64x64xbf16>
// CHECK: memref.alloca() {attn.shared_offset = 9216 : i64} : memref<64xf32>
// CHECK: memref.alloca() {attn.shared_offset = 9472 : i64} : memref<3xf32>
// CHECK: memref.alloca() {attn.shared_offset = 9488 : i64, attn.shared_pitch = 72 : i64} : memref<64x64xf32>
// CHECK: memref.alloca() {attn.shared_offset = 27920 : i64, attn.shared_pitch = 8 : i64} : memref<16x8xf16>
// NOPAD-LABEL: func.func @k_fwd(
// NOPAD-SAME: attn.shared_bytes = 25104 : i64
// NOPAD: memref.alloca() {attn.shared_offset = 0 : i64, attn.shared_pitch = 64 : i64} : memref<64x64xbf16>
func.func @k_fwd() attributes {attn.kernel_kind = "fwd"} {
  %q = memref.alloca() : memref<64x64xbf16>
  %m = memref.alloca() : memref<64xf32>
  %odd = memref.alloca() : memref<3xf32>
  %acc = memref.alloca() : memref<64x64xf32>
  %small = memref.alloca() : memref<16x8xf16>
  "test.use"(%q, %m, %odd, %acc, %small) : (memref<64x64xbf16>, memref<64xf32>, memref<3xf32>, memref<64x64xf32>, memref<16x8xf16>) -> ()
  return
}

// -----

// Tiles stored 128-byte swizzled for wgmma (attn-select-wgmma) get no pad
// and start on a 1024-byte swizzle atom, padded or not.
// CHECK-LABEL: func.func @k_swizzled(
// CHECK-SAME: attn.shared_bytes = 17408 : i64
// CHECK: memref.alloca() {attn.shared_offset = 0 : i64} : memref<4xf32>
// CHECK: memref.alloca() {attn.shared_offset = 1024 : i64, attn.shared_pitch = 64 : i64, attn.swizzled_128b} : memref<128x64xbf16>
// NOPAD-LABEL: func.func @k_swizzled(
// NOPAD: memref.alloca() {attn.shared_offset = 1024 : i64, attn.shared_pitch = 64 : i64, attn.swizzled_128b} : memref<128x64xbf16>
func.func @k_swizzled() attributes {attn.kernel_kind = "fwd"} {
  %m = memref.alloca() : memref<4xf32>
  %k = memref.alloca() {attn.swizzled_128b} : memref<128x64xbf16>
  "test.use"(%m, %k) : (memref<4xf32>, memref<128x64xbf16>) -> ()
  return
}

// -----

// Functions that are not kernels are left alone.
// CHECK-LABEL: func.func @helper(
// CHECK-NOT: attn.shared
func.func @helper() {
  %t = memref.alloca() : memref<64x64xf32>
  "test.use"(%t) : (memref<64x64xf32>) -> ()
  return
}

// -----

// More than a CTA of sm_90 may have (227 KiB, less the 16 bytes of the
// buffer's declaration).
// expected-error @+1 {{kernel 'big_bwd_dkdv' needs 262144 bytes of shared memory for its tiles, more than the 232432 bytes a CTA of sm_90 can have; choose smaller tiles}}
func.func @big_bwd_dkdv() attributes {attn.kernel_kind = "bwd_dkdv"} {
  // expected-note @+1 {{131072 bytes: 'memref<256x128xf32>'}}
  %a = memref.alloca() : memref<256x128xf32>
  // expected-note @+1 {{131072 bytes: 'memref<256x128xf32>'}}
  %b = memref.alloca() : memref<256x128xf32>
  "test.use"(%a, %b) : (memref<256x128xf32>, memref<256x128xf32>) -> ()
  return
}
