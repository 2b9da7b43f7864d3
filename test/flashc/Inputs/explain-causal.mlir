func.func @causal(%q: tensor<1x1x256x64xf16>, %k: tensor<1x1x256x64xf16>, %v: tensor<1x1x256x64xf16>) -> (tensor<1x1x256x64xf16>, tensor<1x1x256xf32>) {
  %o, %lse = attn.attention %q, %k, %v causal : tensor<1x1x256x64xf16>, tensor<1x1x256x64xf16>, tensor<1x1x256x64xf16> -> tensor<1x1x256x64xf16>, tensor<1x1x256xf32>
  return %o, %lse : tensor<1x1x256x64xf16>, tensor<1x1x256xf32>
}
