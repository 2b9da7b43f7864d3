//===- AttnBase.td - attn dialect definition ----------------*- tablegen -*-===//
//
// The attn dialect: attention described at the spec level (what to compute)
// and at the IO-aware tiled level (the FlashAttention program).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_DIALECT_ATTNBASE_TD
#define FLASHC_DIALECT_ATTNBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::flashc::attn";
  let summary = "Attention as a compiler input: spec level and tiled level";
  let description = [{
    The `attn` dialect describes scaled dot-product attention. The spec-level
    ops (`attn.attention`, `attn.attention_grad`) say what to compute: shapes,
    element types, scaling, masks, score modifiers, dropout and an optional
    run-time block-sparsity layout. The tiled-level ops (`attn.tile.*`) are
    the per-CTA program of the IO-aware FlashAttention algorithm that passes
    produce from them and that codegen lowers per target.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect"
  ];
}

/// Which corner the causal diagonal (and window and ALiBi distances) are
/// anchored to when Nq != Nk.
def Attn_Alignment : I32EnumAttr<"Alignment",
    "alignment of the causal diagonal when Nq != Nk", [
      I32EnumAttrCase<"top_left", 0>,
      I32EnumAttrCase<"bottom_right", 1>
    ]> {
  let cppNamespace = "::flashc::attn";
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

#endif // FLASHC_DIALECT_ATTNBASE_TD
