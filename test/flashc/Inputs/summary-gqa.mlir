// GQA with every structural mask: causal + window, bottom-right aligned,
// and a softcap. Nq = 1000 < Nk = 1200, so shift = 200.
func.func @gqa(%q: tensor<2x8x1000x64xbf16>, %k: tensor<2x2x1200x64xbf16>,
               %v: tensor<2x2x1200x64xbf16>) -> tensor<2x8x1000x64xbf16> {
  %o, %lse = attn.attention %q, %k, %v causal align(bottom_right)
      window(256, 0) softcap(30.0)
      : tensor<2x8x1000x64xbf16>, tensor<2x2x1200x64xbf16>,
        tensor<2x2x1200x64xbf16>
      -> tensor<2x8x1000x64xbf16>, tensor<2x8x1000xf32>
  return %o : tensor<2x8x1000x64xbf16>
}
