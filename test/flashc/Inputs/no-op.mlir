// Valid IR, but nothing for flashc to compile.
func.func @spec(%q: tensor<1x2x16x32xf32>) -> tensor<1x2x16x32xf32> {
  return %q : tensor<1x2x16x32xf32>
}
