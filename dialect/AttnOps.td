//===- AttnOps.td - spec-level attn ops ---------------------*- tablegen -*-===//
//
// Level 1 of flashc's IR: what attention to compute.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_DIALECT_ATTNOPS_TD
#define FLASHC_DIALECT_ATTNOPS_TD

include "dialect/AttnBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// The configuration both spec-level ops share: masks, score modifiers and
// dropout. Kept in one place so that the forward op and its gradient can never
// disagree on what a spec means.
defvar Attn_ConfigAttrs = (ins
  OptionalAttr<F64Attr>:$scale,
  UnitAttr:$causal,
  DefaultValuedAttr<Attn_Alignment,
                    "::flashc::attn::Alignment::top_left">:$alignment,
  OptionalAttr<I64Attr>:$window_left,
  OptionalAttr<I64Attr>:$window_right,
  OptionalAttr<F64Attr>:$softcap,
  UnitAttr:$alibi,
  OptionalAttr<F64Attr>:$dropout_p,
  OptionalAttr<I64Attr>:$dropout_seed,
  OptionalAttr<DenseI64ArrayAttr>:$layout_block
);

defvar Attn_OptionalOperands = (ins
  Optional<AnyRankedTensor>:$seqlens_q,
  Optional<AnyRankedTensor>:$seqlens_k,
  Optional<AnyRankedTensor>:$layout
);

// Textual form of the shared clauses, in the order they print.
defvar Attn_ClauseFormat = [{
    (`seqlens_q` `(` $seqlens_q^ `:` type($seqlens_q) `)`)?
    (`seqlens_k` `(` $seqlens_k^ `:` type($seqlens_k) `)`)?
    (`layout` `(` $layout^ `:` type($layout) `,` `block` $layout_block `)`)?
    (`scale` `(` $scale^ `)`)?
    (`causal` $causal^)?
    (`align` `(` $alignment^ `)`)?
    (`window` `(` $window_left^ `,` $window_right `)`)?
    (`softcap` `(` $softcap^ `)`)?
    (`alibi` $alibi^)?
    (`dropout` `(` $dropout_p^ `,` `seed` $dropout_seed `)`)?
    (`mask` $mask^)?
    (`score` $score^)?
}];

def Attn_AttentionOp : Attn_Op<"attention", [
    AttrSizedOperandSegments, Pure
  ]> {
  let summary = "scaled dot-product attention, as specified by the user";
  let description = [{
    Computes `O = dropout(softmax(mask(score(scale * Q K^T)))) V` and the
    natural-log row sum `LSE = log sum_j exp(S_ij)` of the masked scores.

    Operands: `Q [B, Hq, Nq, D]`, `K [B, Hkv, Nk, D]`, `V [B, Hkv, Nk, Dv]`
    with `Hq % Hkv == 0` (query head `h` reads KV head `h / (Hq / Hkv)`: MQA
    and GQA), all of one element type (f16, bf16 or f32). Results:
    `O [B, Hq, Nq, Dv]` of that element type and `LSE [B, Hq, Nq]` in f32.
    B, H and N may be dynamic (`?`); D and Dv must be static, at most 256.

    Clauses (all optional, combined by AND for masks):
    - `scale(s)`: the score scale, default `1/sqrt(D)`.
    - `causal`, `align(top_left|bottom_right)`: keep `j <= i + shift`, where
      `shift = nk - nq` under bottom-right alignment and 0 otherwise.
    - `window(left, right)`: keep `i + shift - left <= j <= i + shift + right`.
    - `softcap(c)`: `s -> c * tanh(s / c)`.
    - `alibi`: `s -> s - slope_h * |i + shift - j|`, `slope_h = 2^(-8(h+1)/Hq)`.
    - `seqlens_q(%t : tensor<Bxi32>)`, `seqlens_k(...)`: per-batch valid
      lengths (padding / varlen); padded rows give `O = 0`, `LSE = -inf`.
    - `layout(%l : tensor<LBxLHxMQxMKxi8>, block [bq, bk])`: a run-time
      block-sparsity layout; `LB` is 1 or B, `LH` is 1 or Hq,
      `MQ = ceil(Nq / bq)`, `MK = ceil(Nk / bk)`; a zero entry removes the
      block.
    - `dropout(p, seed s)`: drop each probability with chance `p`, rescale by
      `1 / (1 - p)`, from Philox keyed by (seed, offset, b, h, i, j).
    - `mask { ^bb0(%b: index, %h: index, %i: index, %j: index): ... }`: a
      custom mask yielding `i1` (true keeps the score).
    - `score { ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index): ... }`:
      a custom score modifier yielding `f32`, applied after softcap and ALiBi.

    A row whose every key is masked gives `O = 0` and `LSE = -inf`.

    Example:

    ```mlir
    %o, %lse = attn.attention %q, %k, %v causal align(bottom_right)
        window(256, 0) softcap(30.0)
        : tensor<2x8x1000x64xbf16>, tensor<2x2x1200x64xbf16>,
          tensor<2x2x1200x64xbf16>
        -> tensor<2x8x1000x64xbf16>, tensor<2x8x1000xf32>
    ```
  }];

  let arguments = !con((ins AnyRankedTensor:$query, AnyRankedTensor:$key,
                            AnyRankedTensor:$value),
                       Attn_OptionalOperands, Attn_ConfigAttrs);
  let results = (outs AnyRankedTensor:$out, AnyRankedTensor:$lse);
  let regions = (region AnyRegion:$mask, AnyRegion:$score);

  let assemblyFormat = !strconcat("$query `,` $key `,` $value",
    Attn_ClauseFormat, [{
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type($out) `,` type($lse)
  }]);
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The score scale, defaulting to 1/sqrt(D).
    double getScaleOrDefault();
  }];
}

def Attn_AttentionGradOp : Attn_Op<"attention_grad", [
    AttrSizedOperandSegments, Pure
  ]> {
  let summary = "gradient of attn.attention with respect to Q, K and V";
  let description = [{
    Given the forward operands, its outputs `O` and `LSE`, and the output
    gradient `dO [B, Hq, Nq, Dv]`, produces `dQ`, `dK`, `dV` shaped like
    `Q`, `K`, `V`. Takes exactly the clauses of `attn.attention` (they must
    match the forward op's), plus `deterministic`, which forbids
    accumulation orders that depend on scheduling (no atomics).

    The gradient is computed by recomputation: P is rebuilt tile by tile from
    `LSE`; no `N x N` buffer is formed. Dropout masks are regenerated from the
    same seed. Custom score regions must be differentiable: every op in them
    must be one flashc can differentiate (arith and math on f32).

    Example:

    ```mlir
    %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do causal
        : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>,
          tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>,
          tensor<1x4x128xf32>, tensor<1x4x128x64xf16>
        -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>,
           tensor<1x4x128x64xf16>
    ```
  }];

  let arguments = !con((ins AnyRankedTensor:$query, AnyRankedTensor:$key,
                            AnyRankedTensor:$value, AnyRankedTensor:$out,
                            AnyRankedTensor:$lse, AnyRankedTensor:$dout),
                       Attn_OptionalOperands, Attn_ConfigAttrs,
                       (ins UnitAttr:$deterministic));
  let results = (outs AnyRankedTensor:$dquery, AnyRankedTensor:$dkey,
                      AnyRankedTensor:$dvalue);
  let regions = (region AnyRegion:$mask, AnyRegion:$score);

  let assemblyFormat = !strconcat([{
    $query `,` $key `,` $value `,` $out `,` $lse `,` $dout
    (`deterministic` $deterministic^)?
  }], Attn_ClauseFormat, [{
    attr-dict `:` type($query) `,` type($key) `,` type($value) `,`
    type($out) `,` type($lse) `,` type($dout)
    `->` type($dquery) `,` type($dkey) `,` type($dvalue)
  }]);
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The score scale, defaulting to 1/sqrt(D).
    double getScaleOrDefault();
  }];
}

def Attn_YieldOp : Attn_Op<"yield", [
    Pure, Terminator,
    ParentOneOf<["AttentionOp", "AttentionGradOp", "TileMaskOp",
                 "TileScoreModOp", "TileScoreGradOp"]>
  ]> {
  let summary = "yields the value of a mask or score region";
  let description = [{
    Terminates the `mask` region (one `i1`: keep the score) or the `score`
    region (one `f32`: the modified score) of an attn op.

    ```mlir
    mask {
    ^bb0(%b: index, %h: index, %i: index, %j: index):
      %keep = arith.cmpi sge, %i, %j : index
      attn.yield %keep : i1
    }
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

include "dialect/AttnTileOps.td"

#endif // FLASHC_DIALECT_ATTNOPS_TD
