// RUN: flashc-opt %s -split-input-file -attn-select-tiles | FileCheck %s
// RUN: flashc-opt %s -split-input-file -attn-select-tiles="target=sm_80" | FileCheck %s --check-prefix=SM80
// RUN: flashc-opt %s -split-input-file -attn-select-tiles="sram-bytes=16384" | FileCheck %s --check-prefix=SMALL
// RUN: flashc-opt %s -split-input-file -attn-select-tiles="block-q=16 block-k=32" | FileCheck %s --check-prefix=OVERRIDE
// RUN: flashc-opt %s -split-input-file -attn-select-tiles="dq-block-q=32 dq-block-k=16" | FileCheck %s --check-prefix=DQ

// d = 64. CPU: M = 256 KiB / 4 = 65536 words, Bc = ceil(M / 4d) = 256 -> 128,
// Br = min(Bc, d) = 64. sm_80: M = 41728, Bc = 163 -> 128, Br = 64.
// 16 KiB: M = 4096, Bc = 16, Br = 16.
// CHECK-LABEL: func.func @d64
// CHECK: attn.attention {{.*}}attn.tile_sizes = array<i64: 64, 128>
// SM80-LABEL: func.func @d64
// SM80: attn.tile_sizes = array<i64: 64, 128>
// SMALL-LABEL: func.func @d64
// SMALL: attn.tile_sizes = array<i64: 16, 16>
// OVERRIDE-LABEL: func.func @d64
// OVERRIDE: attn.tile_sizes = array<i64: 16, 32>
func.func @d64(%q: tensor<1x1x100x64xf16>, %k: tensor<1x1x100x64xf16>, %v: tensor<1x1x100x64xf16>) -> tensor<1x1x100x64xf16> {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x1x100x64xf16>, tensor<1x1x100x64xf16>, tensor<1x1x100x64xf16> -> tensor<1x1x100x64xf16>, tensor<1x1x100xf32>
  return %o : tensor<1x1x100x64xf16>
}

// -----

// d = max(D, Dv) = 256 on sm_80: Bc = ceil(41728 / 1024) = 41 -> 32, Br = 32.
// The layout block [32, 64] must be divisible by the tiles: Bc stays 32.
// SM80-LABEL: func.func @d256_layout
// SM80: attn.tile_sizes = array<i64: 32, 32>
// CHECK-LABEL: func.func @d256_layout
// CHECK: attn.tile_sizes = array<i64: 32, 64>
func.func @d256_layout(%q: tensor<1x1x64x32xbf16>, %k: tensor<1x1x64x32xbf16>, %v: tensor<1x1x64x256xbf16>, %l: tensor<1x1x2x1xi8>) -> tensor<1x1x64x256xbf16> {
  %o, %lse = attn.attention %q, %k, %v layout(%l : tensor<1x1x2x1xi8>, block [32, 64]) : tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x256xbf16> -> tensor<1x1x64x256xbf16>, tensor<1x1x64xf32>
  return %o : tensor<1x1x64x256xbf16>
}

// -----

// The dQ kernel's own tiles go on gradients only (Br, Bc, then bwd_dq's);
// equal to the others they are left out.
// DQ-LABEL: func.func @grad
// DQ: attn.attention_grad {{.*}}attn.tile_sizes = array<i64: 64, 128, 32, 16>
// OVERRIDE-LABEL: func.func @grad
// OVERRIDE: attn.attention_grad {{.*}}attn.tile_sizes = array<i64: 16, 32>
// DQ-LABEL: func.func @fwd
// DQ: attn.attention {{.*}}attn.tile_sizes = array<i64: 64, 128>}
func.func @grad(%q: tensor<1x1x100x64xf16>, %k: tensor<1x1x100x64xf16>, %v: tensor<1x1x100x64xf16>, %o: tensor<1x1x100x64xf16>, %lse: tensor<1x1x100xf32>, %do: tensor<1x1x100x64xf16>) -> tensor<1x1x100x64xf16> {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do : tensor<1x1x100x64xf16>, tensor<1x1x100x64xf16>, tensor<1x1x100x64xf16>, tensor<1x1x100x64xf16>, tensor<1x1x100xf32>, tensor<1x1x100x64xf16> -> tensor<1x1x100x64xf16>, tensor<1x1x100x64xf16>, tensor<1x1x100x64xf16>
  return %dq : tensor<1x1x100x64xf16>
}
func.func @fwd(%q: tensor<1x1x100x64xf16>, %k: tensor<1x1x100x64xf16>, %v: tensor<1x1x100x64xf16>) -> tensor<1x1x100x64xf16> {
  %o, %lse = attn.attention %q, %k, %v : tensor<1x1x100x64xf16>, tensor<1x1x100x64xf16>, tensor<1x1x100x64xf16> -> tensor<1x1x100x64xf16>, tensor<1x1x100xf32>
  return %o : tensor<1x1x100x64xf16>
}
