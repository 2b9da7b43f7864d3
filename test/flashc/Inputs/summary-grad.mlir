// The gradient of causal attention, deterministic.
func.func @train(%q: tensor<1x4x128x64xf16>, %k: tensor<1x4x128x64xf16>,
                 %v: tensor<1x4x128x64xf16>, %o: tensor<1x4x128x64xf16>,
                 %lse: tensor<1x4x128xf32>, %do: tensor<1x4x128x64xf16>)
    -> tensor<1x4x128x64xf16> {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do
      deterministic causal
      : tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>,
        tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>,
        tensor<1x4x128xf32>, tensor<1x4x128x64xf16>
      -> tensor<1x4x128x64xf16>, tensor<1x4x128x64xf16>,
         tensor<1x4x128x64xf16>
  return %dq : tensor<1x4x128x64xf16>
}
