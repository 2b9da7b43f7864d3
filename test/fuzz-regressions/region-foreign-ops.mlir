// RUN: flashc-opt %s -split-input-file -verify-diagnostics

// Found by fuzz-spec-builder. Mask and score regions accepted any
// side-effect-free op. Tensor ops then failed deep in the CPU lowering
// ("failed to legalize operation 'attn.tile.score_mod'"), and an
// attn.attention nested in a mask region (it is Pure) was tiled as a second
// spec op: the function holding the outer op's kernel, whose tile.mask held
// a copy of the nested op, was erased as a tiled spec function, and the
// nested op's kernel was left as the module's only `fwd` kernel, which
// `flashc run` then ran in place of the spec: a silently wrong answer.
// Regions are evaluated per score element inside the kernels, so the
// verifier now accepts only arith and math ops in them.

func.func @nested_attention(%q: tensor<1x1x64x16xf32>) -> tensor<1x1x64x16xf32> {
  %o, %lse = attn.attention %q, %q, %q mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    // (Its operands can only come from tensor ops in the region: those are
    // what the verifier reports.)
    // expected-error @below {{'tensor.empty' op cannot appear in the 'mask' region of 'attn.attention': custom regions may use only arith and math ops}}
    %t = tensor.empty() : tensor<1x1x16x16xf32>
    %no:2 = attn.attention %t, %t, %t : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>, tensor<1x1x16xf32>
    %keep = arith.cmpi sle, %j, %i : index
    attn.yield %keep : i1
  } : tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32> -> tensor<1x1x64x16xf32>, tensor<1x1x64xf32>
  return %o : tensor<1x1x64x16xf32>
}

// -----

func.func @tensor_ops(%q: tensor<1x1x64x16xf32>) -> tensor<1x1x64x16xf32> {
  %o, %lse = attn.attention %q, %q, %q score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %c256 = arith.constant 256 : index
    // expected-error @below {{'tensor.from_elements' op cannot appear in the 'score' region of 'attn.attention': custom regions may use only arith and math ops}}
    %t = tensor.from_elements %c256, %b : tensor<2xindex>
    %e = tensor.extract %t[%b] : tensor<2xindex>
    attn.yield %s : f32
  } : tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32> -> tensor<1x1x64x16xf32>, tensor<1x1x64xf32>
  return %o : tensor<1x1x64x16xf32>
}

// -----

func.func @grad_tensor_ops(%q: tensor<1x1x64x16xf32>, %lse: tensor<1x1x64xf32>) -> tensor<1x1x64x16xf32> {
  %dq, %dk, %dv = attn.attention_grad %q, %q, %q, %q, %lse, %q mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    // expected-error @below {{'tensor.empty' op cannot appear in the 'mask' region of 'attn.attention_grad': custom regions may use only arith and math ops}}
    %t = tensor.empty() : tensor<4xindex>
    %keep = arith.cmpi sle, %j, %i : index
    attn.yield %keep : i1
  } : tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64xf32>, tensor<1x1x64x16xf32> -> tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>
  return %dq : tensor<1x1x64x16xf32>
}
