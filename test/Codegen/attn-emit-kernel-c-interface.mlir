// RUN: flashc-opt %s --attn-emit-kernel-c-interface | FileCheck %s

// Kernels (functions with attn.kernel_kind) get a C interface; helpers do not.
// CHECK-LABEL: func.func @attn_fwd
// CHECK-SAME: llvm.emit_c_interface
func.func @attn_fwd() attributes {attn.kernel_kind = "fwd"} {
  return
}

// CHECK-LABEL: func.func @helper
// CHECK-NOT: llvm.emit_c_interface
// CHECK: return
func.func @helper() {
  return
}
