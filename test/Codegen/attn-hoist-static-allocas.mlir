// RUN: flashc-opt %s --split-input-file --attn-hoist-static-allocas | FileCheck %s

// Static allocas inside loops move to the function's entry block; the loop
// body keeps its uses.
// CHECK-LABEL: func.func @in_loops
// CHECK-NEXT: %[[B:.+]] = memref.alloca() : memref<4xf32>
// CHECK-NEXT: %[[A:.+]] = memref.alloca() : memref<4x4xf32>
// CHECK-NOT: memref.alloca
// CHECK: scf.for
// CHECK: memref.store %{{.+}}, %[[A]]
// CHECK: scf.for
// CHECK: memref.store %{{.+}}, %[[B]]
func.func @in_loops(%n: index, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %a = memref.alloca() : memref<4x4xf32>
    memref.store %x, %a[%c0, %c0] : memref<4x4xf32>
    scf.for %j = %c0 to %n step %c1 {
      %b = memref.alloca() : memref<4xf32>
      memref.store %x, %b[%c0] : memref<4xf32>
    }
  }
  return
}

// -----

// Dynamic allocas and allocas outside loops stay where they are.
// CHECK-LABEL: func.func @stays
// CHECK-NEXT: arith.constant
// CHECK-NEXT: arith.constant
// CHECK-NEXT: memref.alloca() : memref<8xf32>
// CHECK: scf.for
// CHECK-NEXT: memref.alloca(%{{.+}}) : memref<?xf32>
func.func @stays(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %top = memref.alloca() : memref<8xf32>
  scf.for %i = %c0 to %n step %c1 {
    %d = memref.alloca(%i) : memref<?xf32>
  }
  return
}

// -----

// Out of an alloca_scope inside a loop as well (the tiling passes emit
// those); the scope itself is left for the canonicalizer.
// CHECK-LABEL: func.func @in_scope
// CHECK-NEXT: %[[A:.+]] = memref.alloca() : memref<64x64xf32>
// CHECK: scf.for
// CHECK-NEXT: memref.alloca_scope
// CHECK-NEXT: memref.store %{{.+}}, %[[A]]
func.func @in_scope(%n: index, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    memref.alloca_scope {
      %a = memref.alloca() : memref<64x64xf32>
      memref.store %x, %a[%c0, %c0] : memref<64x64xf32>
    }
  }
  return
}

// -----

// An alloca_scope outside any loop runs once: nothing moves.
// CHECK-LABEL: func.func @scope_without_loop
// CHECK-NEXT: memref.alloca_scope
// CHECK-NEXT: memref.alloca
func.func @scope_without_loop(%x: f32) {
  memref.alloca_scope {
    %a = memref.alloca() : memref<4xf32>
  }
  return
}
