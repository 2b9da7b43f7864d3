//===- Pipeline.h - tiled attn kernels to PTX -------------------*- C++ -*-===//

#ifndef FLASHC_CODEGEN_NVIDIA_PIPELINE_H
#define FLASHC_CODEGEN_NVIDIA_PIPELINE_H

#include "codegen/nvidia/TargetInfo.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

#include <optional>
#include <string>

namespace flashc::nvidia {

/// Tiled kernels (func.func with attn.kernel_kind) to gpu.module/gpu.func
/// kernels with no attn op left: drop unread tiles, plan shared memory, map
/// grid and tiles to the GPU, insert barriers, matmuls to mma.sync, the
/// other tile ops to CTA code, then canonicalize.
/// Tuning switches of the tiles-to-GPU passes (off: the measured defaults).
struct TileToGpuOptions {
  /// attn-pipeline-tile-loads' `always`.
  bool prefetchAlways = false;
  /// attn-lower-register-tiles' `pin-thread-index`.
  bool pinThreadIndex = false;
};

void buildTileToGpuPipeline(mlir::OpPassManager &pm, const TargetInfo &target,
                            const TileToGpuOptions &options = {});

/// The gpu.modules of the previous stage to the NVVM and LLVM dialects, with
/// the NVVM target (chip, PTX features) attached.
void buildGpuToNvvmPipeline(mlir::OpPassManager &pm, const TargetInfo &target);

/// NVVM gpu.modules to gpu.binary ops holding PTX (format isa), through the
/// NVPTX backend in process. The CUDA toolkit's libdevice is linked when
/// a kernel calls its math functions.
void buildNvvmToPtxPipeline(mlir::OpPassManager &pm, const TargetInfo &target);

/// The CUDA toolkit whose nvvm/libdevice/libdevice.10.bc exists: $CUDA_ROOT,
/// $CUDA_HOME, $CUDA_PATH, then /usr/local/cuda; std::nullopt if none.
std::optional<std::string> findCudaToolkit();

/// All three: a module of tiled kernels to one gpu.binary of PTX per kernel
/// (named after it).
void buildNvidiaLoweringPipeline(mlir::OpPassManager &pm,
                                 const TargetInfo &target);

/// The dialects the NVIDIA lowering introduces (gpu, nvgpu, nvvm, llvm,
/// vector, ...; not those of the tiled form), the conversion interfaces and
/// the LLVM IR translations it needs to serialize PTX.
void registerNvidiaDialects(mlir::DialectRegistry &registry);

/// Registers the passes and the `attn-lower-to-nvvm{chip=.. stage=..}`
/// pipeline (stage: gpu, nvvm or ptx) with the global registry, and adds
/// registerNvidiaDialects to \p registry: flashc-opt's one call.
void registerNvidiaBackend(mlir::DialectRegistry &registry);

} // namespace flashc::nvidia

#endif // FLASHC_CODEGEN_NVIDIA_PIPELINE_H
