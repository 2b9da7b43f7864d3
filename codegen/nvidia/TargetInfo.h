//===- TargetInfo.h - hardware facts of the NVIDIA targets ------*- C++ -*-===//
//
// Every fact about an NVIDIA chip that code generation depends on lives in
// one TargetInfo object: shared-memory limits, the PTX version and features
// handed to the NVPTX backend, the tensor-core instructions that exist, and
// how many threads a CTA of a flashc kernel has. Passes ask this object;
// nothing else compares compute capabilities.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_NVIDIA_TARGETINFO_H
#define FLASHC_CODEGEN_NVIDIA_TARGETINFO_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Types.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace flashc::nvidia {

/// One warp-level mma.sync shape: D[m x n] (f32) += A[m x k] * B[k x n].
struct MmaShape {
  int64_t m, n, k;
};

class TargetInfo {
public:
  /// The facts of \p chip ("sm_80", "sm_90", "sm_90a"), or an error naming
  /// the chips that exist.
  static llvm::Expected<TargetInfo> get(llvm::StringRef chip);
  /// The chips get() knows, for messages and option help.
  static llvm::StringRef knownChips() { return "sm_80, sm_90, sm_90a"; }

  /// "sm_80", "sm_90", "sm_90a": the NVVM target's chip and the manifest's
  /// "target".
  llvm::StringRef chip() const { return chipName; }
  /// The name attn-select-tiles sizes tiles for ("sm_80", "sm_90").
  llvm::StringRef tilingTarget() const { return tileTarget; }
  /// LLVM NVPTX features, e.g. "+ptx80": the PTX ISA version emitted.
  llvm::StringRef ptxFeatures() const { return features; }
  /// The PTX ISA version as an integer (80 for PTX 8.0).
  int ptxVersion() const { return ptxIsa; }

  /// Dynamic shared memory one CTA may opt into, in bytes.
  int64_t maxSharedBytesPerBlock() const { return maxShared; }
  /// Shared memory of one SM, in bytes.
  int64_t sharedBytesPerSM() const { return sharedPerSM; }
  /// Registers of one SM.
  int64_t registersPerSM() const { return 64 * 1024; }
  /// The CTAs per SM that ptxas is told to plan registers for
  /// (.minnctapersm) for a kernel of \p threads threads and \p sharedBytes
  /// of dynamic shared memory: as many as its shared memory lets run at
  /// once, but never so many that a thread gets fewer than 128 registers
  /// (the unrolled mma and element loops need about that much; kernels with
  /// register tiles ask for more with \p minRegistersPerThread); at least 1.
  int64_t ctasPerSM(int64_t sharedBytes, int64_t threads,
                    int64_t minRegistersPerThread = 128) const;
  /// Alignment of every tile in shared memory (16: one vector access).
  int64_t sharedAlignment() const { return 16; }

  /// This target with \p threads (a multiple of 32) per CTA instead.
  TargetInfo withThreadsPerBlock(int64_t threads) const {
    TargetInfo copy = *this;
    copy.threads = threads;
    return copy;
  }

  /// Threads of one CTA of flashc's kernels (256 unless changed with
  /// withThreadsPerBlock); block = (threads, 1, 1). The lowering passes read
  /// a kernel's own count off its known_block_size.
  int64_t threadsPerBlock() const { return threads; }
  int64_t warpSize() const { return 32; }
  int64_t warpsPerBlock() const { return threads / warpSize(); }

  /// Warp-level mma.sync shapes with f32 accumulation for 16-bit float
  /// operands (f16, bf16). Empty where the chip has none.
  llvm::ArrayRef<MmaShape> mmaShapes() const { return mma; }
  /// Whether tile.matmul on operands of \p elementType can run on tensor
  /// cores within the accuracy flashc promises: f16 and bf16 (f32 stays on
  /// the FMA units; tf32 would break the f32 tolerance).
  bool hasTensorCoresFor(mlir::Type elementType) const;
  /// cp.async global-to-shared copies (sm_80 and later).
  bool hasCpAsync() const { return cpAsync; }
  /// ldmatrix (sm_75 and later).
  bool hasLdMatrix() const { return ldmatrix; }
  /// Hopper's wgmma, TMA and setmaxnreg (sm_90a only; wgmma is used:
  /// Wgmma.h).
  bool hasWgmma() const { return wgmma; }
  /// cp.reduce.async.bulk: a bulk add of shared memory into global memory
  /// (sm_90 and sm_90a).
  bool hasBulkReduce() const { return bulkReduce; }

private:
  std::string chipName, tileTarget, features;
  int ptxIsa = 0;
  int64_t maxShared = 0, sharedPerSM = 0;
  int64_t threads = 256;
  llvm::SmallVector<MmaShape, 2> mma;
  bool ldmatrix = false, cpAsync = false, wgmma = false, bulkReduce = false;
};

/// TargetInfo::get(\p chip) for a pass's `chip` option; when \p chip is
/// unknown, the error goes to \p op as a diagnostic and the result is empty.
std::optional<TargetInfo> getTargetOrEmitError(mlir::Operation *op,
                                                llvm::StringRef chip);

} // namespace flashc::nvidia

#endif // FLASHC_CODEGEN_NVIDIA_TARGETINFO_H
