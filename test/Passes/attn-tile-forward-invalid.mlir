// RUN: flashc-opt %s -split-input-file -attn-tile-forward -verify-diagnostics

func.func @untiled(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{has no 'attn.tile_sizes' attribute; run attn-select-tiles first}}
  %o, %lse = attn.attention %q, %k, %v : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>, tensor<1x1x8xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

// Only a gradient has the dQ kernel's tiles.
func.func @four_sizes(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{'attn.tile_sizes' holds 4 sizes; expected Br, Bc}}
  %o, %lse = attn.attention %q, %k, %v {attn.tile_sizes = array<i64: 16, 16, 32, 16>} : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>, tensor<1x1x8xf32>
  return %o : tensor<1x1x8x16xf32>
}

// -----

func.func @zero_size(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  // expected-error @+1 {{'attn.tile_sizes' holds a size of 0; expected positive sizes}}
  %o, %lse = attn.attention %q, %k, %v {attn.tile_sizes = array<i64: 16, 0>} : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>, tensor<1x1x8xf32>
  return %o : tensor<1x1x8x16xf32>
}
