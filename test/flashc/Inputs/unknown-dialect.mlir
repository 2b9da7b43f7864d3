// scf is not a spec dialect.
func.func @spec(%c: i1) {
  scf.if %c {
  }
  return
}
