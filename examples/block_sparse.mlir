// block_sparse.mlir - block-sparse attention with a layout given at run time
// (the block-sparse FlashAttention of Dao et al., 2022, section 3.3).
//
// Q, K, V: 2 sequences of 1024 tokens, 4 heads of dimension 64, f16.
// The layout operand %layout [1, 4, 8, 8] says, per head (shared by both
// batch entries: its leading 1 broadcasts over B), which 128 x 128 blocks of
// the 1024 x 1024 score matrix exist: 8 = ceil(1024 / 128) query blocks by
// 8 key blocks. A zero entry removes the block; the kernel never loads its
// K and V tiles, so time and HBM traffic scale with the number of nonzero
// blocks. A query row whose every block is removed gets O = 0, LSE = -inf.
//
// The layout is data, not part of the compiled kernel: one compiled spec
// serves every sparsity pattern of this shape. The runtime converts the dense
// layout into per-row lists of kept key blocks before launching.
//
//   O [2, 4, 1024, 64] f16,  LSE [2, 4, 1024] f32
//
// Run it (`flashc run` draws a random layout; --density sets the fraction
// of kept blocks, 0.5 by default):
//   flashc run examples/block_sparse.mlir
//   flashc run examples/block_sparse.mlir --density 0.25

func.func @block_sparse(%q: tensor<2x4x1024x64xf16>,
                        %k: tensor<2x4x1024x64xf16>,
                        %v: tensor<2x4x1024x64xf16>,
                        %layout: tensor<1x4x8x8xi8>)
    -> (tensor<2x4x1024x64xf16>, tensor<2x4x1024xf32>) {
  %o, %lse = attn.attention %q, %k, %v
      layout(%layout : tensor<1x4x8x8xi8>, block [128, 128])
      : tensor<2x4x1024x64xf16>, tensor<2x4x1024x64xf16>,
        tensor<2x4x1024x64xf16>
      -> tensor<2x4x1024x64xf16>, tensor<2x4x1024xf32>
  return %o, %lse : tensor<2x4x1024x64xf16>, tensor<2x4x1024xf32>
}
