// softcap_alibi.mlir - logit soft-capping and ALiBi position biases on a
// causal decoder, as built-in score modifiers.
//
// For each score s = Q_i . K_j / sqrt(64), in this order:
//   softcap(50.0):  s -> 50 * tanh(s / 50)          (Gemma 2 caps logits at 50)
//   alibi:          s -> s - slope_h * |i - j|,      slope_h = 2^(-8 (h + 1) / Hq)
//                   (ALiBi, Press et al.: no position embeddings, a linear
//                   distance penalty with a different slope per head)
// then the causal mask j <= i and the softmax.
//
// Both modifiers are applied inside the kernel on the score tile; nothing of
// size N x N is ever written.
//
//   O [1, 8, 1024, 64] f16,  LSE [1, 8, 1024] f32
//
// Run it:      flashc run examples/softcap_alibi.mlir

func.func @softcap_alibi(%q: tensor<1x8x1024x64xf16>,
                         %k: tensor<1x8x1024x64xf16>,
                         %v: tensor<1x8x1024x64xf16>)
    -> (tensor<1x8x1024x64xf16>, tensor<1x8x1024xf32>) {
  %o, %lse = attn.attention %q, %k, %v causal softcap(50.0) alibi
      : tensor<1x8x1024x64xf16>, tensor<1x8x1024x64xf16>,
        tensor<1x8x1024x64xf16>
      -> tensor<1x8x1024x64xf16>, tensor<1x8x1024xf32>
  return %o, %lse : tensor<1x8x1024x64xf16>, tensor<1x8x1024xf32>
}
