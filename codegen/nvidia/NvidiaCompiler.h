//===- NvidiaCompiler.h - tiled kernels to PTX, kernel dirs ---*- C++ -*-===//
//
// The NVIDIA backend's entry points for tools: compile a module of tiled
// kernels to PTX in process (and to cubin where ptxas exists), and write
// the kernel directory that runtime/Manifest.h describes, which the runtime
// loads and launches.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_NVIDIA_NVIDIACOMPILER_H
#define FLASHC_CODEGEN_NVIDIA_NVIDIACOMPILER_H

#include "codegen/nvidia/Pipeline.h"
#include "codegen/nvidia/TargetInfo.h"
#include "dialect/AttentionConfig.h"
#include "passes/TileSelection.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace flashc::nvidia {

/// What `ptxas -v` says about one kernel.
struct PtxasReport {
  int64_t registers = 0;
  int64_t spillStoreBytes = 0, spillLoadBytes = 0;
  int64_t stackFrameBytes = 0;
};

/// One compiled kernel and the facts its launch needs.
struct NvidiaKernel {
  std::string name; ///< the PTX entry point (the tiled function's name)
  std::string kind; ///< "fwd", "bwd_prep", "bwd_dkdv", "bwd_dq"
  std::string ptx;
  int64_t threads = 0;     ///< block = (threads, 1, 1)
  int64_t sharedBytes = 0; ///< dynamic shared memory per CTA
  /// f32 registers a thread holds register tiles in (0: every tile in
  /// shared memory).
  int64_t registerTileRegisters = 0;
  /// "query_blocks": grid (ceil(Nq / block_q), Hq, B); "key_blocks":
  /// (ceil(Nk / block_k), Hkv, B).
  std::string grid;
  int64_t blockQ = 0, blockK = 0;
  /// Argument roles in ABI order (passes/KernelABI.h): "q", "k", ...
  std::vector<std::string> args;
  /// ptxas's output and report, when ptxas was found.
  std::optional<std::string> cubin;
  std::optional<PtxasReport> ptxas;
};

struct NvidiaKernels {
  std::string target; ///< the chip: "sm_80", "sm_90", "sm_90a"
  std::vector<NvidiaKernel> kernels;
};

struct CompileOptions {
  /// Run ptxas (when found) for a cubin and the register/spill report.
  bool runPtxas = true;
  /// ptxas to use; empty: $CUDA_ROOT/bin, /usr/local/cuda/bin, then PATH.
  std::string ptxasPath;
  /// Tuning switches (Pipeline.h): prefetch past the register thresholds,
  /// fragment coordinates recomputed per op instead of hoisted.
  TileToGpuOptions tuning;
};

/// Compiles every kernel of \p tiledModule (func.func with
/// attn.kernel_kind, as the tiling passes produce; the module is cloned,
/// not changed) for \p target: buildNvidiaLoweringPipeline, then ptxas.
/// A failed pass comes back as an error carrying its diagnostics; so does a
/// kernel whose tiles do not fit the chip's shared memory. A missing ptxas
/// is not an error (no cubin, no report).
llvm::Expected<NvidiaKernels>
compileForNvidia(mlir::ModuleOp tiledModule, const TargetInfo &target,
                 const CompileOptions &options = {});

/// Tiles the spec-level ops of \p spec (cloned, not changed) for \p target:
/// attn-select-tiles sized by the chip's shared memory, or by a table of
/// sizes measured faster on the GPU (16-bit operands, head dims up to 128:
/// forward 128 x 128 on wgmma (sm_90a), else 128 x 64; backward up to 64,
/// 128 x 64), or by the non-zero overrides; then the
/// tiling passes. While a kernel's tiles do not fit the
/// chip's shared memory (the backward pass holds more tiles than tile
/// selection budgets for), its larger side is halved down to 16 (bwd_dq's
/// apart from the others').
/// \p sumDq: the backward's dK/dV kernel sums dQ in dq_accum (TilingOptions)
/// instead of bwd_dq recomputing it. Off by default: on the H100 the summing
/// kernels ran 0.55-0.65x FA2 at D = 128 and 0.79-0.89x at D = 64 against
/// 0.84-1.01x and 0.83-0.92x for the recomputation (register pressure of
/// the fused kernel; bench/results/2026-12-06-h100-session5/tune-bulk.txt).
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
tileForNvidia(mlir::ModuleOp spec, const TargetInfo &target,
              TileSizes tiles = {}, bool sumDq = false);

/// The tiles the kernels of \p tiled (tileForNvidia's result) run at: the
/// largest among the forward, bwd_prep and dK/dV kernels, and bwd_dq's
/// apart (dqBlockQ/dqBlockK; 0 where there is no bwd_dq).
TileSizes kernelTiles(mlir::ModuleOp tiled);

/// Where ptxas is, or std::nullopt.
std::optional<std::string> findPtxas();

/// Assembles \p ptx for \p chip with `ptxas -v`; returns the cubin and the
/// report of its one entry point.
llvm::Expected<std::pair<std::string, PtxasReport>>
assembleWithPtxas(llvm::StringRef ptxasPath, llvm::StringRef ptx,
                  llvm::StringRef chip);

/// The spec-level facts of flashc.json.
struct ManifestInfo {
  std::string spec;        ///< path of the spec file (informational)
  std::string target;      ///< "sm_80", "sm_90", "sm_90a"
  std::string elementType; ///< "f16", "bf16", "f32"
  int64_t headDim = 0, headDimV = 0;
  /// -1 where the spec leaves the size to run time.
  int64_t batch = -1, headsQ = -1, headsKV = -1, seqQ = -1, seqK = -1;
  double scale = 1.0;
  bool causal = false, bottomRight = false;
  std::optional<std::pair<int64_t, int64_t>> window;
  std::optional<double> softcap;
  bool alibi = false;
  double dropoutP = 0.0;
  int64_t dropoutSeed = 0;
  bool seqLensQ = false, seqLensK = false;
  std::optional<std::pair<int64_t, int64_t>> layoutBlock;
  bool customMask = false, customScore = false;
};

/// The manifest facts of a spec op's configuration.
ManifestInfo fromConfig(const attn::AttentionConfig &config,
                        llvm::StringRef specPath, llvm::StringRef target);

/// Writes DIR/<name>.ptx (and DIR/<name>.cubin) for every kernel and
/// DIR/flashc.json (runtime/Manifest.h, format 1); creates DIR.
llvm::Error writeKernelDirectory(const NvidiaKernels &kernels,
                                 const ManifestInfo &info, llvm::StringRef dir);

/// The manifest's text, as writeKernelDirectory writes it.
std::string renderManifest(const NvidiaKernels &kernels,
                           const ManifestInfo &info);

} // namespace flashc::nvidia

#endif // FLASHC_CODEGEN_NVIDIA_NVIDIACOMPILER_H
