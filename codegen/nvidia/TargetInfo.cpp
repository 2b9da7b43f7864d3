//===- TargetInfo.cpp - hardware facts of the NVIDIA targets --------------===//

#include "codegen/nvidia/TargetInfo.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

namespace flashc::nvidia {

llvm::Expected<TargetInfo> TargetInfo::get(llvm::StringRef chip) {
  TargetInfo info;
  info.chipName = chip.str();
  // 256 threads, eight warps: two per 16-row slab of a 64-row tile in the
  // matmuls. On an H200 this ran causal bf16 attention (d = 64 and 128,
  // N = 4096) 25-30% faster than 128 threads, forward and backward, with
  // the default tiles (2026-11-28).
  info.threads = 256;
  info.ldmatrix = true;
  info.cpAsync = true;
  info.mma = {MmaShape{16, 8, 16}};
  if (chip == "sm_80") {
    // A100: 164 KiB per SM, of which a CTA may opt into 163 KiB.
    info.tileTarget = "sm_80";
    info.maxShared = 163 * 1024;
    info.sharedPerSM = 164 * 1024;
    // PTX 7.0 (CUDA 11.0) has every instruction used for sm_80.
    info.features = "+ptx70";
    info.ptxIsa = 70;
  } else if (chip == "sm_90" || chip == "sm_90a") {
    // H100/H200: 228 KiB per SM, of which a CTA may opt into 227 KiB.
    info.tileTarget = "sm_90";
    info.maxShared = 227 * 1024;
    info.sharedPerSM = 228 * 1024;
    // PTX 8.0 (CUDA 12.0): the first with sm_90a; LLVM's default (6.0)
    // cannot target sm_90 at all.
    info.features = "+ptx80";
    info.ptxIsa = 80;
    info.wgmma = chip == "sm_90a";
    info.bulkReduce = true;
  } else {
    return llvm::createStringError(
        llvm::formatv("unknown NVIDIA target '{0}'; expected one of {1}", chip,
                      knownChips())
            .str());
  }
  return info;
}

int64_t TargetInfo::ctasPerSM(int64_t sharedBytes, int64_t threads,
                              int64_t minRegistersPerThread) const {
  // The driver reserves 1 KiB of shared memory per CTA (sm_80 and later).
  constexpr int64_t kReservedPerCta = 1024;
  int64_t byShared = sharedPerSM / (sharedBytes + kReservedPerCta);
  int64_t byRegisters = registersPerSM() / (threads * minRegistersPerThread);
  return std::max<int64_t>(1, std::min(byShared, byRegisters));
}

bool TargetInfo::hasTensorCoresFor(mlir::Type elementType) const {
  return !mma.empty() && (elementType.isF16() || elementType.isBF16());
}

std::optional<TargetInfo> getTargetOrEmitError(mlir::Operation *op,
                                                llvm::StringRef chip) {
  llvm::Expected<TargetInfo> target = TargetInfo::get(chip);
  if (!target) {
    op->emitError(llvm::toString(target.takeError()));
    return std::nullopt;
  }
  return *target;
}

} // namespace flashc::nvidia
