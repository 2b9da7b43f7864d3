// RUN: flashc-opt %s --attn-lower-to-cpu | FileCheck %s
// RUN: flashc-opt %s --attn-lower-to-cpu | FileCheck %s --check-prefix=NONE

// A small forward kernel with every kind of op the CPU pipeline meets (a
// grid, a KV loop, tile allocas, bf16 tiles, math, Philox) lowers all the
// way to the llvm dialect, with the C interface the JIT calls.

// Nothing but the llvm dialect is left anywhere:
// NONE-NOT: scf.
// NONE-NOT: memref.
// NONE-NOT: attn.tile
// NONE-NOT: arith.
// NONE-NOT: math.
// NONE-NOT: cf.
// NONE-NOT: func.func
// NONE-NOT: func.call
// NONE-NOT: unrealized_conversion_cast

// NONE-NOT: llvm.intr.stacksave

// The tiles are allocated once, in the entry block, not per grid point.
// CHECK-LABEL: llvm.func @tiny_fwd(
// CHECK-NOT: llvm.br
// CHECK: llvm.alloca
// CHECK-NOT: llvm.br
// CHECK: llvm.alloca
// CHECK-NOT: llvm.br
// CHECK: llvm.alloca
// CHECK-NOT: llvm.br
// CHECK: llvm.alloca
// CHECK-NOT: llvm.br
// CHECK: llvm.alloca
// CHECK-NOT: llvm.br
// CHECK: llvm.alloca
// CHECK-NOT: llvm.br
// CHECK: llvm.alloca
// CHECK-NOT: llvm.br
// CHECK: llvm.alloca
// CHECK-NOT: llvm.alloca
// CHECK: llvm.br
// CHECK-NOT: llvm.alloca
// CHECK: llvm.intr.tanh
// CHECK: llvm.intr.exp
// CHECK: llvm.intr.log
// CHECK: llvm.return
// CHECK-LABEL: llvm.func @_mlir_ciface_tiny_fwd(
// CHECK-SAME: %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: i64, %{{[^:]+}}: i64)
// CHECK: llvm.call @tiny_fwd(

!q = memref<?x?x?x8xbf16, strided<[?, ?, ?, 1], offset: ?>>
!l = memref<?x?x?xf32, strided<[?, ?, 1], offset: ?>>
func.func @tiny_fwd(%q: !q, %k: !q, %v: !q, %o: !q, %lse: !l, %seed: i64, %offset: i64)
    attributes {attn.kernel_kind = "fwd", attn.kernel_info = {block_q = 4 : i64, block_k = 4 : i64, dropout}} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %nb = memref.dim %q, %c0 : !q
  %nh = memref.dim %q, %c1 : !q
  %nq = memref.dim %q, %c2 : !q
  %nk = memref.dim %k, %c2 : !q
  %mq = arith.ceildivui %nq, %c4 : index
  %mk = arith.ceildivui %nk, %c4 : index
  scf.forall (%b, %h, %qb) in (%nb, %nh, %mq) {
   // As the tiling passes emit it: the CTA body in its own allocation scope.
   memref.alloca_scope {
    %q0 = arith.muli %qb, %c4 : index
    %qrows = arith.subi %nq, %q0 : index
    %qt = memref.alloca() : memref<4x8xbf16>
    %kt = memref.alloca() : memref<4x8xbf16>
    %vt = memref.alloca() : memref<4x8xbf16>
    %st = memref.alloca() : memref<4x4xf32>
    %m = memref.alloca() : memref<4xf32>
    %l = memref.alloca() : memref<4xf32>
    %acc = memref.alloca() : memref<4x8xf32>
    %lt = memref.alloca() : memref<4xf32>
    attn.tile.load %q[%b, %h, %q0] rows %qrows into %qt : !q -> memref<4x8xbf16>
    attn.tile.fill %m, 0xFF800000 : memref<4xf32>
    attn.tile.fill %l, 0.0 : memref<4xf32>
    attn.tile.fill %acc, 0.0 : memref<4x8xf32>
    scf.for %kb = %c0 to %mk step %c1 {
      %k0 = arith.muli %kb, %c4 : index
      %krows = arith.subi %nk, %k0 : index
      attn.tile.load %k[%b, %h, %k0] rows %krows into %kt : !q -> memref<4x8xbf16>
      attn.tile.load %v[%b, %h, %k0] rows %krows into %vt : !q -> memref<4x8xbf16>
      attn.tile.matmul %qt, %kt, %st transpose_b alpha(0.35) : memref<4x8xbf16>, memref<4x8xbf16>, memref<4x4xf32>
      attn.tile.score_mod %st at [%b, %h, %q0, %k0] shift %c0 heads %nh softcap(20.0) : memref<4x4xf32>
      attn.tile.mask %st at [%b, %h, %q0, %k0] shift %c0 bounds [%nq, %nk] causal : memref<4x4xf32>
      attn.tile.softmax_update %st, %m, %l, %acc : memref<4x4xf32>, memref<4xf32>, memref<4xf32>, memref<4x8xf32>
      attn.tile.dropout %st at [%b, %h, %q0, %k0] heads %nh seed %seed offset %offset prob(0.25) : memref<4x4xf32>
      attn.tile.matmul %st, %vt, %acc accumulate : memref<4x4xf32>, memref<4x8xbf16>, memref<4x8xf32>
    }
    attn.tile.finalize %acc, %m, %l, %lt : memref<4x8xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>
    attn.tile.store %acc into %o[%b, %h, %q0] rows %qrows : memref<4x8xf32> -> !q
    attn.tile.store %lt into %lse[%b, %h, %q0] rows %qrows : memref<4xf32> -> !l
   }
  }
  return
}
