// The gradient of a causal attention, not deterministic: dQ is summed in
// dq_accum by the dK/dV kernel.
func.func @grad(%q: tensor<2x4x512x64xbf16>, %k: tensor<2x4x512x64xbf16>,
                %v: tensor<2x4x512x64xbf16>, %o: tensor<2x4x512x64xbf16>,
                %lse: tensor<2x4x512xf32>, %do: tensor<2x4x512x64xbf16>)
    -> (tensor<2x4x512x64xbf16>, tensor<2x4x512x64xbf16>,
        tensor<2x4x512x64xbf16>) {
  %dq, %dk, %dv = attn.attention_grad %q, %k, %v, %o, %lse, %do causal
      : tensor<2x4x512x64xbf16>, tensor<2x4x512x64xbf16>,
        tensor<2x4x512x64xbf16>, tensor<2x4x512x64xbf16>,
        tensor<2x4x512xf32>, tensor<2x4x512x64xbf16>
      -> tensor<2x4x512x64xbf16>, tensor<2x4x512x64xbf16>,
         tensor<2x4x512x64xbf16>
  return %dq, %dk, %dv : tensor<2x4x512x64xbf16>, tensor<2x4x512x64xbf16>,
                         tensor<2x4x512x64xbf16>
}
