//===- AttnTileOps.td - IO-aware tiled attn ops -------------*- tablegen -*-===//
//
// Level 2 of flashc's IR: the per-CTA program of FlashAttention. Tiles are
// statically shaped memrefs that stand for on-chip memory (SRAM); the large
// tensors stay in global memory (HBM) and are touched only by tile.load and
// tile.store. Loops, grids and block ranges are ordinary scf/arith ops around
// these; each op here is one step of the algorithm that a target lowers in
// its own way (scalar loops on the CPU, mma fragments on a GPU).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_DIALECT_ATTNTILEOPS_TD
#define FLASHC_DIALECT_ATTNTILEOPS_TD

include "dialect/AttnBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Attn_Tile : MemRefRankOf<[F16, BF16, F32], [1, 2]>;
def Attn_F32Tile2D : MemRefRankOf<[F32], [2]>;
def Attn_F32Tile1D : MemRefRankOf<[F32], [1]>;
def Attn_GlobalTensor : MemRefRankOf<[F16, BF16, F32], [3, 4]>;

class Attn_TileOp<string mnemonic, list<Trait> traits = []>
    : Attn_Op<"tile." # mnemonic, traits>;

// Where a score tile sits: batch, query head, first query row0, first key
// col0. Ops on score tiles take a `transposed` flag: the tile then holds S^T
// (element (r, c) is the score of query row0 + c and key col0 + r, and 1-D
// per-query operands are read at the column), the backward dK/dV kernel's
// layout, in which the key rows its accumulators own are the tile's rows.
defvar Attn_TileCoords = (ins Index:$batch, Index:$head, Index:$row0,
                               Index:$col0);
defvar Attn_TileCoordsFormat =
    "`at` ` ` `[` $batch `,` $head `,` $row0 `,` $col0 `]`";

def Attn_TileFillOp : Attn_TileOp<"fill"> {
  let summary = "fills a tile with a constant";
  let description = [{
    ```mlir
    attn.tile.fill %m, 0xFF800000 : memref<64xf32>   // -inf
    ```
  }];
  let arguments = (ins Attn_Tile:$tile, F32Attr:$value);
  let assemblyFormat = "$tile `,` $value attr-dict `:` type($tile)";
}

def Attn_TileCopyOp : Attn_TileOp<"copy"> {
  let summary = "copies one tile into another of the same shape";
  let description = [{
    ```mlir
    attn.tile.copy %s, %p : memref<64x64xf32>, memref<64x64xf32>
    ```
  }];
  let arguments = (ins Attn_Tile:$source, Attn_Tile:$dest);
  let assemblyFormat = [{
    $source `,` $dest attr-dict `:` type($source) `,` type($dest)
  }];
  let hasVerifier = 1;
}

def Attn_TileLoadOp : Attn_TileOp<"load"> {
  let summary = "copies rows of a global tensor into a tile, zero-filling";
  let description = [{
    Copies `min(rows, R)` rows starting at `row0` of slice `[batch, head]` of
    a `[B, H, N, D]` (or `[B, H, N]`) global tensor into an `R x D` (or `R`)
    tile; the remaining tile rows are set to zero, so that padded keys and
    values can never bring garbage (or NaN) into a product. `rows <= 0`
    zero-fills the whole tile.

    ```mlir
    attn.tile.load %k[%b, %hk, %k0] rows %nrows into %ktile
        : memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
          -> memref<64x64xbf16>
    ```
  }];
  let arguments = (ins Attn_GlobalTensor:$source, Index:$batch, Index:$head,
                       Index:$row0, Index:$rows, Attn_Tile:$tile);
  let assemblyFormat = [{
    $source `[` $batch `,` $head `,` $row0 `]` `rows` $rows `into` $tile
    attr-dict `:` type($source) `->` type($tile)
  }];
  let hasVerifier = 1;
}

def Attn_TileStoreOp : Attn_TileOp<"store"> {
  let summary = "writes the first rows of a tile to a global tensor";
  let description = [{
    Writes tile rows `[0, min(rows, R))` to rows `row0 + r` of slice
    `[batch, head]`, converting to the tensor's element type. With
    `accumulate` it adds to what is there instead (an atomic add where tiles
    of several CTAs meet).

    ```mlir
    attn.tile.store %acc into %o[%b, %h, %q0] rows %nrows
        : memref<64x64xf32> -> memref<?x?x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
    ```
  }];
  let arguments = (ins Attn_Tile:$tile, Attn_GlobalTensor:$dest, Index:$batch,
                       Index:$head, Index:$row0, Index:$rows,
                       UnitAttr:$accumulate);
  let assemblyFormat = [{
    $tile `into` $dest `[` $batch `,` $head `,` $row0 `]` `rows` $rows
    (`accumulate` $accumulate^)? attr-dict `:` type($tile) `->` type($dest)
  }];
  let hasVerifier = 1;
}

def Attn_TileMatmulOp : Attn_TileOp<"matmul"> {
  let summary = "C = alpha * op(A) * op(B) (+ C), accumulated in f32";
  let description = [{
    `op(X)` is `X` or its transpose. Operands may be f16/bf16/f32; the
    products are summed in f32 and `C` is f32. Without `accumulate`, `C` is
    overwritten.

    ```mlir
    // S = scale * Q K^T
    attn.tile.matmul %q, %k, %s transpose_b alpha(0.125)
        : memref<64x64xbf16>, memref<64x64xbf16>, memref<64x64xf32>
    // acc += P V
    attn.tile.matmul %p, %v, %acc accumulate
        : memref<64x64xf32>, memref<64x64xbf16>, memref<64x64xf32>
    ```
  }];
  let arguments = (ins MemRefRankOf<[F16, BF16, F32], [2]>:$lhs,
                       MemRefRankOf<[F16, BF16, F32], [2]>:$rhs,
                       Attn_F32Tile2D:$acc, UnitAttr:$transpose_a,
                       UnitAttr:$transpose_b, UnitAttr:$accumulate,
                       DefaultValuedAttr<F64Attr, "1.0">:$alpha);
  let assemblyFormat = [{
    $lhs `,` $rhs `,` $acc (`transpose_a` $transpose_a^)?
    (`transpose_b` $transpose_b^)? (`accumulate` $accumulate^)?
    (`alpha` `(` $alpha^ `)`)?
    attr-dict `:` type($lhs) `,` type($rhs) `,` type($acc)
  }];
  let hasVerifier = 1;
}

def Attn_TileScoreModOp : Attn_TileOp<"score_mod", [SingleBlock]> {
  let summary = "applies softcap, ALiBi and a custom score region to S";
  let description = [{
    For every element of the score tile at `(i, j) = (row0 + r, col0 + c)`
    (`(row0 + c, col0 + r)` when `transposed`):
    `s = c * tanh(s / c)` (softcap), then `s -= slope_h * |i + shift - j|`
    (ALiBi, `slope_h = 2^(-8 (h + 1) / heads)`), then the custom `score`
    region. Applies to every visited block, full or partial.

    ```mlir
    attn.tile.score_mod %s at [%b, %h, %q0, %k0] shift %shift heads %hq
        softcap(30.0) alibi : memref<64x64xf32>
    ```
  }];
  let arguments = !con((ins Attn_F32Tile2D:$scores), Attn_TileCoords,
                       (ins Index:$shift, Index:$heads,
                            OptionalAttr<F64Attr>:$softcap, UnitAttr:$alibi,
                            UnitAttr:$transposed));
  let regions = (region AnyRegion:$score);
  let assemblyFormat = !strconcat("$scores ", Attn_TileCoordsFormat, [{
    (`transposed` $transposed^)? `shift` $shift `heads` $heads
    (`softcap` `(` $softcap^ `)`)? (`alibi` $alibi^)? (`score` $score^)?
    attr-dict `:` type($scores)
  }]);
}

def Attn_TileScoreGradOp : Attn_TileOp<"score_grad", [SingleBlock]> {
  let summary = "multiplies dS by the derivative of the score modifiers";
  let description = [{
    `grads` holds the gradient with respect to the modified score; `raw` the
    scaled scores before any modifier. Each gradient element is multiplied by
    `d(modified)/d(raw)`: softcap's `1 - tanh^2(raw / c)` times the custom
    score region's derivative (ALiBi's is 1), evaluated at the same point as
    the forward pass.

    ```mlir
    attn.tile.score_grad %ds, %sraw at [%b, %h, %q0, %k0] shift %shift
        heads %hq softcap(30.0) : memref<64x64xf32>, memref<64x64xf32>
    ```
  }];
  let arguments = !con((ins Attn_F32Tile2D:$grads, Attn_F32Tile2D:$raw),
                       Attn_TileCoords,
                       (ins Index:$shift, Index:$heads,
                            OptionalAttr<F64Attr>:$softcap, UnitAttr:$alibi,
                            UnitAttr:$transposed));
  let regions = (region AnyRegion:$score);
  let assemblyFormat = !strconcat("$grads `,` $raw ", Attn_TileCoordsFormat, [{
    (`transposed` $transposed^)? `shift` $shift `heads` $heads
    (`softcap` `(` $softcap^ `)`)? (`alibi` $alibi^)? (`score` $score^)?
    attr-dict `:` type($grads) `,` type($raw)
  }]);
}

def Attn_TileMaskOp : Attn_TileOp<"mask", [SingleBlock]> {
  let summary = "sets masked scores of a partial block to -inf";
  let description = [{
    Keeps `(i, j) = (row0 + r, col0 + c)` (`(row0 + c, col0 + r)` when
    `transposed`) iff `i < seq_q`, `j < seq_k`, and,
    where present, `j <= i + shift` (causal),
    `i + shift - left <= j <= i + shift + right` (window) and the custom
    `mask` region; every other element becomes -inf. Emitted only on blocks
    that mask analysis could not prove full.

    ```mlir
    attn.tile.mask %s at [%b, %h, %q0, %k0] shift %shift bounds [%nq, %nk]
        causal : memref<64x64xf32>
    ```
  }];
  let arguments = !con((ins Attn_F32Tile2D:$scores), Attn_TileCoords,
                       (ins Index:$shift, Index:$seq_q, Index:$seq_k,
                            UnitAttr:$causal,
                            OptionalAttr<I64Attr>:$window_left,
                            OptionalAttr<I64Attr>:$window_right,
                            UnitAttr:$transposed));
  let regions = (region AnyRegion:$mask);
  let assemblyFormat = !strconcat("$scores ", Attn_TileCoordsFormat, [{
    (`transposed` $transposed^)? `shift` $shift `bounds` ` ` `[` $seq_q `,` $seq_k `]` (`causal` $causal^)?
    (`window` `(` $window_left^ `,` $window_right `)`)? (`mask` $mask^)?
    attr-dict `:` type($scores)
  }]);
}

def Attn_TileSoftmaxUpdateOp : Attn_TileOp<"softmax_update"> {
  let summary = "one step of the online softmax; turns S into P in place";
  let description = [{
    Per row r, with the running max `m`, sum `l` and output accumulator `acc`:

    ```
    m_new  = max(m, max_c S[r, c])
    alpha  = exp(m - m_new)             (1 when both are -inf)
    P[r,c] = exp(S[r, c] - m_new)       (0 when S[r, c] = -inf)
    l      = alpha * l + sum_c P[r, c]
    acc    = alpha * acc
    m      = m_new
    ```

    ```mlir
    attn.tile.softmax_update %s, %m, %l, %acc
        : memref<64x64xf32>, memref<64xf32>, memref<64xf32>, memref<64x64xf32>
    ```
  }];
  let arguments = (ins Attn_F32Tile2D:$scores, Attn_F32Tile1D:$max,
                       Attn_F32Tile1D:$sum, Attn_F32Tile2D:$acc);
  let assemblyFormat = [{
    $scores `,` $max `,` $sum `,` $acc attr-dict `:` type($scores) `,`
    type($max) `,` type($sum) `,` type($acc)
  }];
  let hasVerifier = 1;
}

def Attn_TileDropoutOp : Attn_TileOp<"dropout"> {
  let summary = "drops probabilities with chance p and rescales the rest";
  let description = [{
    Element `(i, j) = (row0 + r, col0 + c)` (`(row0 + c, col0 + r)` when
    `transposed`) is kept iff the Philox4x32-10
    uniform `u(seed, offset, batch * heads + head, i, j) >= p` (key = seed,
    counter = (j, i, batch * heads + head, offset), `u = (word0 >> 8) 2^-24`),
    and is then multiplied by `1 / (1 - p)`; otherwise it becomes 0. The
    backward pass calls this with the same arguments to regenerate the mask.

    ```mlir
    attn.tile.dropout %p at [%b, %h, %q0, %k0] heads %hq seed %seed
        offset %off prob(0.1) : memref<64x64xf32>
    ```
  }];
  let arguments = !con((ins Attn_F32Tile2D:$probs), Attn_TileCoords,
                       (ins Index:$heads, I64:$seed, I64:$offset,
                            F64Attr:$prob, UnitAttr:$transposed));
  let assemblyFormat = !strconcat("$probs ", Attn_TileCoordsFormat, [{
    (`transposed` $transposed^)? `heads` $heads `seed` $seed `offset` $offset `prob` `(` $prob `)`
    attr-dict `:` type($probs)
  }]);
}

def Attn_TileFinalizeOp : Attn_TileOp<"finalize"> {
  let summary = "normalizes the accumulator and forms the log-sum-exp";
  let description = [{
    Per row: `acc /= l` and `lse = m + log(l)`; a row with `l = 0` (every key
    masked) gets `acc = 0` and `lse = -inf`, never NaN.

    ```mlir
    attn.tile.finalize %acc, %m, %l, %lse
        : memref<64x64xf32>, memref<64xf32>, memref<64xf32>, memref<64xf32>
    ```
  }];
  let arguments = (ins Attn_F32Tile2D:$acc, Attn_F32Tile1D:$max,
                       Attn_F32Tile1D:$sum, Attn_F32Tile1D:$lse);
  let assemblyFormat = [{
    $acc `,` $max `,` $sum `,` $lse attr-dict `:` type($acc) `,` type($max)
    `,` type($sum) `,` type($lse)
  }];
}

def Attn_TileRowDotOp : Attn_TileOp<"row_dot"> {
  let summary = "d[r] = sum_c a[r, c] * b[r, c] (the backward pass's D)";
  let description = [{
    ```mlir
    attn.tile.row_dot %do, %o, %d
        : memref<64x64xbf16>, memref<64x64xbf16>, memref<64xf32>
    ```
  }];
  let arguments = (ins MemRefRankOf<[F16, BF16, F32], [2]>:$lhs,
                       MemRefRankOf<[F16, BF16, F32], [2]>:$rhs,
                       Attn_F32Tile1D:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs `,` $result attr-dict `:` type($lhs) `,` type($rhs) `,`
    type($result)
  }];
}

def Attn_TileExpLseOp : Attn_TileOp<"exp_lse"> {
  let summary = "recomputes P = exp(S - LSE) in place";
  let description = [{
    `S[r, c] = exp(S[r, c] - lse[r])`, and 0 where `S[r, c]` or `lse[r]` is
    -inf: the backward pass's recomputation of the probabilities from the
    forward pass's log-sum-exp. With `transposed` the tile holds S^T and
    `lse` is read at the column: `S[r, c] = exp(S[r, c] - lse[c])`.

    ```mlir
    attn.tile.exp_lse %s, %lse : memref<64x64xf32>, memref<64xf32>
    ```
  }];
  let arguments = (ins Attn_F32Tile2D:$scores, Attn_F32Tile1D:$lse,
                       UnitAttr:$transposed);
  let assemblyFormat = [{
    $scores `,` $lse (`transposed` $transposed^)? attr-dict `:` type($scores)
    `,` type($lse)
  }];
  let hasVerifier = 1;
}

def Attn_TileSoftmaxGradOp : Attn_TileOp<"softmax_grad"> {
  let summary = "dS = P * (dP - D), in place in dP";
  let description = [{
    `dP[r, c] = P[r, c] * (dP[r, c] - D[r])`; with `transposed` (P^T, dP^T)
    `D` is read at the column: `dP[r, c] = P[r, c] * (dP[r, c] - D[c])`.

    ```mlir
    attn.tile.softmax_grad %p, %dp, %d
        : memref<64x64xf32>, memref<64x64xf32>, memref<64xf32>
    ```
  }];
  let arguments = (ins Attn_F32Tile2D:$probs, Attn_F32Tile2D:$grads,
                       Attn_F32Tile1D:$rowdot, UnitAttr:$transposed);
  let assemblyFormat = [{
    $probs `,` $grads `,` $rowdot (`transposed` $transposed^)? attr-dict `:`
    type($probs) `,` type($grads) `,` type($rowdot)
  }];
  let hasVerifier = 1;
}

#endif // FLASHC_DIALECT_ATTNTILEOPS_TD
