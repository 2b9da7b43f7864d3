// padded_batch.mlir - a batch of sequences of different lengths, padded to
// one length N, with per-sequence valid lengths.
//
// 4 sequences, 2 heads of dimension 64, f16. Sequence b has
// seqlens_q[b] valid query rows and seqlens_k[b] valid keys; rows and keys
// past those are padding. The kernel keeps only i < seqlens_q[b] and
// j < seqlens_k[b]: padded keys never enter the softmax, and padded query
// rows give O = 0 and LSE = -inf (never NaN). Tiles wholly inside the
// padding are skipped, so a short sequence costs what its length costs.
//
// N is dynamic (`?`): one compiled spec serves every padded length. The
// lengths are tensors given at run time, one i32 per batch entry.
//
//   O [4, 2, N, 64] f16,  LSE [4, 2, N] f32
//
// Run it (`flashc run` picks N, or takes --seqlen-q / --seqlen-k, and draws
// random lengths in [0, N]):
//   flashc run examples/padded_batch.mlir
//   flashc run examples/padded_batch.mlir --seqlen-q 1000 --seqlen-k 1000

func.func @padded_batch(%q: tensor<4x2x?x64xf16>, %k: tensor<4x2x?x64xf16>,
                        %v: tensor<4x2x?x64xf16>,
                        %seqlens_q: tensor<4xi32>, %seqlens_k: tensor<4xi32>)
    -> (tensor<4x2x?x64xf16>, tensor<4x2x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v
      seqlens_q(%seqlens_q : tensor<4xi32>)
      seqlens_k(%seqlens_k : tensor<4xi32>)
      : tensor<4x2x?x64xf16>, tensor<4x2x?x64xf16>, tensor<4x2x?x64xf16>
      -> tensor<4x2x?x64xf16>, tensor<4x2x?xf32>
  return %o, %lse : tensor<4x2x?x64xf16>, tensor<4x2x?xf32>
}
