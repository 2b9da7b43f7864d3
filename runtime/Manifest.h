//===- Manifest.h - the kernel directory written by flashc compile -*- C++ -*-===//
//
// `flashc compile SPEC -o DIR` writes the kernels of one spec into DIR and a
// manifest, DIR/flashc.json, that says everything the runtime needs to check
// arguments and launch them. This header is the contract between the two:
// the compiler writes exactly this, the runtime reads exactly this.
//
// DIR/flashc.json (format 1), every key required unless marked optional;
// keys not listed here are ignored:
//
//   {
//     "format": 1,
//     "spec": "<path of the spec file>",                (informational)
//     "target": "sm_80" | "sm_90" | "sm_90a",
//     "element_type": "f16" | "bf16" | "f32",           (Q, K, V, O, dO, dQ...)
//     "head_dim": D, "head_dim_v": Dv,                  (1..256)
//     "static_sizes": {"batch": B, "heads_q": Hq, "heads_kv": Hkv,
//                      "seq_q": Nq, "seq_k": Nk},      (-1 = dynamic)
//     "scale": s,                                       (the score scale)
//     "causal": bool, "bottom_right": bool,
//     "window": [left, right] | null,                   (a negative bound is
//                                                        unbounded)
//     "softcap": c | null, "alibi": bool,
//     "dropout_p": p, "dropout_seed": s,                (p in [0, 1); s >= 0)
//     "seqlens_q": bool, "seqlens_k": bool,
//     "layout_block": [bq, bk] | null,                  (a run-time layout of
//                                                        bq x bk blocks)
//     "custom_mask": bool, "custom_score": bool,        (regions compiled in)
//     "deterministic": bool,                          (backward without
//                                                        atomics: no dq_accum)
//     "kernels": [
//       {"kind": "fwd" | "bwd_prep" | "bwd_dkdv" | "bwd_dq",
//        "name": "<PTX entry point>",
//        "ptx": "<file in DIR>",
//        "cubin": "<file in DIR>",                      (optional; used when
//                                                        `target` is exactly
//                                                        the device's arch)
//        "block_q": Br, "block_k": Bc,                 (tile rows and columns)
//        "threads": T,                                  (block = (T, 1, 1))
//        "shared_bytes": S,                             (dynamic shared memory)
//        "grid": "query_blocks" | "key_blocks",
//        "args": ["q", "k", ...]}                       (roles, in ABI order)
//     ]
//   }
//
// A directory holds a `fwd` kernel, the three backward kernels, or both.
// `args` must be exactly the order of passes/KernelABI.h for its kind:
//   fwd:      q k v o lse [seqlens_q] [seqlens_k]
//             [layout_offsets layout_blocks] [seed offset]
//   bwd_prep: o dout delta dq_accum
//   bwd_dkdv: q k v dout lse delta dk dv dq_accum [seqlens_q] [seqlens_k]
//             [layout_offsets layout_blocks] [seed offset]
//   bwd_dq:   dq_accum dq
// or, for a `deterministic` directory (no dq_accum, no atomics):
//   bwd_prep: o dout delta
//   bwd_dkdv: q k v dout lse delta dk dv [seqlens_q] [seqlens_k]
//             [layout_offsets layout_blocks] [seed offset]
//   bwd_dq:   q k v dout lse delta dq [seqlens_q] [seqlens_k]
//             [layout_offsets layout_blocks] [seed offset]
// where the optional groups are present iff `seqlens_q`, `seqlens_k`,
// `layout_block != null` and `dropout_p > 0`. For `bwd_dkdv` the layout
// roles carry the transposed (per key block) lists.
//
// Each role is passed as MLIR's expanded memref descriptor, one 8-byte
// kernel parameter per field: allocated pointer, aligned pointer, offset
// (elements), sizes[rank], strides[rank] (elements). Ranks: 4 for q k v o
// dout dq dk dv dq_accum, 3 for lse and delta [B, Hq, Nq] and layout_offsets
// [LB, LH, M + 1], 1 for seqlens_* [B] and layout_blocks [nnz]; seed and
// offset are one i64 each.
//
// Launch: grid "query_blocks" = (ceil(Nq / block_q), Hq, B), "key_blocks" =
// (ceil(Nk / block_k), Hkv, B); block = (threads, 1, 1); dynamic shared
// memory = shared_bytes (the runtime opts in above 48 KiB).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_RUNTIME_MANIFEST_H
#define FLASHC_RUNTIME_MANIFEST_H

#include "runtime/BlockLayout.h" // Status

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace flashc::runtime {

/// The file name of the manifest inside a kernel directory.
inline constexpr const char *kManifestFileName = "flashc.json";
/// The manifest format this runtime reads.
inline constexpr int64_t kManifestFormat = 1;

/// Element types of tensors the kernels read and write.
enum class DType { F16, BF16, F32, I32 };

/// "f16", "bf16", "f32", "i32".
const char *dtypeName(DType type);
/// Bytes per element.
int64_t dtypeSize(DType type);

/// What a kernel computes (passes/KernelABI.h).
enum class KernelKind { Forward, BackwardPrep, BackwardDkDv, BackwardDq };

/// "fwd", "bwd_prep", "bwd_dkdv", "bwd_dq".
const char *kernelKindName(KernelKind kind);

/// The role of one kernel argument (one memref descriptor or one i64).
enum class ArgRole {
  Q, K, V, O, Lse, DOut, Delta, DQ, DK, DV, DQAccum,
  SeqLensQ, SeqLensK, LayoutOffsets, LayoutBlocks, Seed, Offset
};

/// The manifest's spelling: "q", "lse", "layout_offsets", ...
const char *argRoleName(ArgRole role);
/// Rank of the memref passed for \p role; 0 for the i64 scalars.
int argRoleRank(ArgRole role);

/// Which grid a kernel is launched over.
enum class GridKind {
  /// (ceil(Nq / block_q), Hq, B)
  QueryBlocks,
  /// (ceil(Nk / block_k), Hkv, B)
  KeyBlocks,
};

/// One kernel of the directory.
struct KernelSpec {
  KernelKind kind = KernelKind::Forward;
  std::string name;
  std::string ptxFile;
  /// Empty when the directory has no cubin for this kernel.
  std::string cubinFile;
  int64_t blockQ = 0, blockK = 0;
  int64_t threads = 0;
  int64_t sharedBytes = 0;
  GridKind grid = GridKind::QueryBlocks;
  std::vector<ArgRole> args;

  bool takes(ArgRole role) const;
};

/// A size that is either fixed at compile time or given at run time.
inline constexpr int64_t kDynamicSize = -1;

/// The parsed flashc.json.
struct Manifest {
  int64_t format = kManifestFormat;
  std::string spec;
  std::string target; ///< "sm_80", "sm_90" or "sm_90a"
  DType elementType = DType::F16;
  int64_t headDim = 0, headDimV = 0;
  /// kDynamicSize where the spec leaves the size to run time.
  int64_t batch = kDynamicSize, headsQ = kDynamicSize, headsKV = kDynamicSize;
  int64_t seqQ = kDynamicSize, seqK = kDynamicSize;
  double scale = 1.0;
  bool causal = false, bottomRight = false;
  std::optional<std::pair<int64_t, int64_t>> window;
  std::optional<double> softcap;
  bool alibi = false;
  double dropoutP = 0.0;
  uint64_t dropoutSeed = 0;
  bool seqLensQ = false, seqLensK = false;
  /// The layout's block size [bq, bk] when the kernels take a layout.
  std::optional<std::pair<int64_t, int64_t>> layoutBlock;
  bool customMask = false, customScore = false;
  bool deterministic = false;
  std::vector<KernelSpec> kernels;

  bool hasDropout() const { return dropoutP > 0.0; }
  bool hasLayout() const { return layoutBlock.has_value(); }
  /// The kernel of \p kind, or null.
  const KernelSpec *kernel(KernelKind kind) const;
  bool hasForward() const { return kernel(KernelKind::Forward) != nullptr; }
  bool hasBackward() const {
    return kernel(KernelKind::BackwardPrep) != nullptr;
  }
};

/// The argument roles, in order, that a kernel of \p kind takes under the
/// options of \p manifest (passes/KernelABI.h).
std::vector<ArgRole> expectedArgs(const Manifest &manifest, KernelKind kind);

/// Parses and validates manifest text. \p source names it in messages
/// (usually the file's path). Each error message names the key at fault
/// and what was expected, e.g.
///   "DIR/flashc.json: kernels[1].threads: expected an integer in
///    [1, 1024], got 2048".
Status parseManifest(const std::string &text, const std::string &source,
                     Manifest &out);

/// Reads and parses DIR/flashc.json, then checks that every file it names
/// exists in DIR.
Status loadManifest(const std::string &directory, Manifest &out);

} // namespace flashc::runtime

#endif // FLASHC_RUNTIME_MANIFEST_H
