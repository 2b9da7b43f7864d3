//===- KernelABI.h - the calling convention of generated kernels -*- C++ -*-===//
//
// The tiling passes turn each spec-level op into kernel functions on memrefs;
// every backend compiles those functions and every runner (the CPU JIT, the
// GPU runtime) calls them. This header is the one statement of their
// arguments, so that producers and callers cannot drift apart.
//
// Kernel functions are `func.func`s with the unit attribute
// `attn.kernel_kind = "<kind>"` (see KernelKind) and the dictionary
// `attn.kernel_info` (tile sizes and which optional arguments are present:
// keys below). Their names are `<spec function>_<kind>`.
//
// Tensors are passed as memrefs with dynamic sizes, dynamic strides and a
// contiguous last dimension (`strided<[?, ?, ?, 1], offset: ?>`), so BHSD and
// BSHD layouts both work; head dimensions are static. Arguments, in order:
//
// forward (`fwd`):
//   q [B,Hq,Nq,D] T, k [B,Hkv,Nk,D] T, v [B,Hkv,Nk,Dv] T,
//   o [B,Hq,Nq,Dv] T (written), lse [B,Hq,Nq] f32 (written),
//   [seqlens_q [B] i32], [seqlens_k [B] i32],
//   [layout_offsets [LB,LH,MQ+1] i32, layout_blocks [nnz] i32],
//   [seed i64, offset i64]
//
// backward, three kernels called in this order. By default (the kernels'
// attn.kernel_info has `dq_accum`), dQ is summed in an f32 scratch:
//   `bwd_prep`: o, dout [B,Hq,Nq,Dv] T, delta [B,Hq,Nq] f32 (written:
//               delta = rowsum(dout * o)), dq_accum [B,Hq,Nq,D] f32
//               (written: zeros)
//   `bwd_dkdv`: q, k, v, dout, lse, delta, dk (written), dv (written),
//               dq_accum (accumulated: += scale dS K of every (query
//               block, key block) pair the kernel visits; an atomic add on
//               a GPU, so the order of the additions is not fixed),
//               [seqlens_q], [seqlens_k],
//               [layout_t_offsets [LB,LH,MK+1] i32, layout_t_blocks [nnz] i32],
//               [seed, offset]
//   `bwd_dq`:   dq_accum, dq (written: dq_accum in dq's element type)
// dq_accum is the caller's scratch; nothing of it is read before `bwd_prep`
// has zeroed it. A `deterministic` attn.attention_grad (no atomics) has no
// dq_accum; its `bwd_dq` recomputes the scores of its query block:
//   `bwd_prep`: o, dout, delta (written)
//   `bwd_dkdv`: q, k, v, dout, lse, delta, dk (written), dv (written),
//               [seqlens_q], [seqlens_k], [layout_t_offsets,
//               layout_t_blocks], [seed, offset]
//   `bwd_dq`:   q, k, v, dout, lse, delta, dq (written), [seqlens_q],
//               [seqlens_k], [layout_offsets, layout_blocks], [seed, offset]
//
// The layout arguments are the compressed-row form of the dense layout
// [LB, LH, MQ, MK] (LB = 1 or B, LH = 1 or Hq; MQ = ceil(Nq/bq),
// MK = ceil(Nk/bk)): for slab (lb, lh) and layout row r, the kept layout
// columns are layout_blocks[offsets[lb][lh][r] .. offsets[lb][lh][r+1]), in
// increasing order. The transposed form (`layout_t_*`) lists, for each layout
// column, the kept layout rows. runtime/BlockLayout.h builds both.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_PASSES_KERNELABI_H
#define FLASHC_PASSES_KERNELABI_H

#include "llvm/ADT/StringRef.h"

namespace flashc::abi {

/// Attribute naming what a kernel function computes.
inline constexpr llvm::StringLiteral kKernelKindAttr = "attn.kernel_kind";
/// Dictionary attribute with the kernel's launch facts.
inline constexpr llvm::StringLiteral kKernelInfoAttr = "attn.kernel_info";

inline constexpr llvm::StringLiteral kForward = "fwd";
inline constexpr llvm::StringLiteral kBackwardPrep = "bwd_prep";
inline constexpr llvm::StringLiteral kBackwardDkDv = "bwd_dkdv";
inline constexpr llvm::StringLiteral kBackwardDq = "bwd_dq";

// Keys of attn.kernel_info.
/// i64: rows of a query tile (Br) and of a key/value tile (Bc).
inline constexpr llvm::StringLiteral kTileRows = "block_q";
inline constexpr llvm::StringLiteral kTileCols = "block_k";
/// unit: which optional argument groups are present.
inline constexpr llvm::StringLiteral kHasSeqLensQ = "seqlens_q";
inline constexpr llvm::StringLiteral kHasSeqLensK = "seqlens_k";
inline constexpr llvm::StringLiteral kHasLayout = "layout";
inline constexpr llvm::StringLiteral kHasDropout = "dropout";
/// unit, on backward kernels: dQ is summed in dq_accum (not deterministic).
inline constexpr llvm::StringLiteral kSumsDqInScratch = "dq_accum";
/// i64: the layout's block sizes (multiples of block_q / block_k).
inline constexpr llvm::StringLiteral kLayoutBlockQ = "layout_block_q";
inline constexpr llvm::StringLiteral kLayoutBlockK = "layout_block_k";

} // namespace flashc::abi

#endif // FLASHC_PASSES_KERNELABI_H
