//===- Pipeline.cpp - tiled attn kernels to PTX ---------------------------===//

#include "codegen/nvidia/Pipeline.h"
#include "codegen/nvidia/Wgmma.h"
#include "codegen/nvidia/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/Transforms/OptimizeForNVVM.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"

#include <cstdlib>

using namespace mlir;

namespace flashc::nvidia {

void buildTileToGpuPipeline(OpPassManager &pm, const TargetInfo &target,
                            const TileToGpuOptions &options) {
  std::string chip = target.chip().str();
  pm.addPass(createAttnDropUnreadTilesPass());
  if (target.hasLdMatrix() && !target.mmaShapes().empty())
    pm.addPass(createAttnAssignRegisterTilesPass({chip}));
  if (target.hasCpAsync())
    pm.addPass(createAttnPipelineTileLoadsPass({chip, options.prefetchAlways}));
  if (target.hasWgmma())
    pm.addPass(createAttnSelectWgmmaPass({chip}));
  pm.addPass(createAttnPlanSharedMemoryPass({chip, /*pad=*/true}));
  pm.addPass(createAttnMapKernelsToGpuPass({chip, target.threadsPerBlock()}));
  pm.addPass(createAttnInsertTileBarriersPass());
  pm.addPass(createAttnLowerRegisterTilesPass({chip, options.pinThreadIndex}));
  pm.addPass(createAttnLowerTileMatmulToMmaPass({chip}));
  pm.addPass(createAttnLowerTileOpsToGpuPass({chip}));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

namespace {
/// Gives the shared-memory buffer of a gpu.module with 128-byte-swizzled
/// tiles (Wgmma.h) the alignment of a swizzle atom: the tile offsets in it
/// are multiples of 1024, and wgmma's descriptors assume the addresses are.
struct AlignSwizzledSharedBuffer
    : PassWrapper<AlignSwizzledSharedBuffer,
                  OperationPass<gpu::GPUModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(AlignSwizzledSharedBuffer)
  StringRef getArgument() const final {
    return "attn-align-swizzled-shared-buffer";
  }
  void runOnOperation() override {
    bool swizzled = false;
    getOperation().walk([&](LLVM::LLVMFuncOp func) {
      swizzled |= func->hasAttr(kSwizzledTileAttr);
    });
    if (!swizzled)
      return;
    getOperation().walk([](LLVM::GlobalOp global) {
      if (global.getAddrSpace() == 3 &&
          global.getAlignment().value_or(0) < uint64_t(kSwizzleAtomBytes))
        global.setAlignment(kSwizzleAtomBytes);
    });
  }
};
} // namespace

void buildGpuToNvvmPipeline(OpPassManager &pm, const TargetInfo &target) {
  pm.addPass(createConvertNVGPUToNVVMPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertNVVMToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  GpuNVVMAttachTargetOptions attach;
  attach.chip = target.chip().str();
  attach.features = target.ptxFeatures().str();
  attach.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(attach));
  pm.addPass(createLowerAffinePass());
  pm.addPass(createArithToLLVMConversionPass());
  ConvertIndexToLLVMPassOptions index;
  index.indexBitwidth = 64;
  pm.addPass(createConvertIndexToLLVMPass(index));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  OpPassManager &gpu = pm.nest<gpu::GPUModuleOp>();
  ConvertGpuOpsToNVVMOpsOptions toNvvm;
  toNvvm.indexBitwidth = 64;
  gpu.addPass(createConvertGpuOpsToNVVMOps(toNvvm));
  // What libdevice does not cover (math.absi of ALiBi's distance).
  gpu.addPass(createConvertMathToLLVMPass());
  gpu.addPass(LLVM::createNVVMOptimizeForTargetPass());
  if (target.hasWgmma())
    gpu.addPass(std::make_unique<AlignSwizzledSharedBuffer>());
  gpu.addPass(createCanonicalizerPass());
  gpu.addPass(createCSEPass());
  gpu.addPass(createReconcileUnrealizedCastsPass());
}

std::optional<std::string> findCudaToolkit() {
  auto hasLibdevice = [](llvm::StringRef root) {
    return !root.empty() &&
           llvm::sys::fs::exists(root + "/nvvm/libdevice/libdevice.10.bc");
  };
  for (const char *var : {"CUDA_ROOT", "CUDA_HOME", "CUDA_PATH"})
    if (const char *root = std::getenv(var); root && hasLibdevice(root))
      return std::string(root);
  if (hasLibdevice("/usr/local/cuda"))
    return std::string("/usr/local/cuda");
  return std::nullopt;
}

/// Shared-memory pointers of 32 bits (LLVM's -nvptx-short-ptr): a CTA's
/// shared memory is far below 4 GiB, and 64-bit addresses for every tile
/// access cost registers (spills at 256 threads) and 64-bit arithmetic. The
/// option is global to the NVPTX backend in this process, which only
/// flashc's kernels use.
static void useShortSharedPointers() {
  auto &options = llvm::cl::getRegisteredOptions();
  auto it = options.find("nvptx-short-ptr");
  if (it != options.end() && it->second->getNumOccurrences() == 0)
    it->second->addOccurrence(0, "nvptx-short-ptr", "true");
}

void buildNvvmToPtxPipeline(OpPassManager &pm, const TargetInfo &) {
  useShortSharedPointers();
  GpuModuleToBinaryPassOptions toBinary;
  toBinary.compilationTarget = "isa";
  // libdevice (math functions of the score regions, exp2, log) is linked
  // from the toolkit; MLIR looks only at CUDA_ROOT-like variables otherwise.
  if (std::optional<std::string> toolkit = findCudaToolkit())
    toBinary.toolkitPath = *toolkit;
  pm.addPass(createGpuModuleToBinaryPass(toBinary));
}

void buildNvidiaLoweringPipeline(OpPassManager &pm, const TargetInfo &target) {
  buildTileToGpuPipeline(pm, target);
  buildGpuToNvvmPipeline(pm, target);
  buildNvvmToPtxPipeline(pm, target);
}

void registerNvidiaDialects(DialectRegistry &registry) {
  // The dialects the lowering introduces (the tiled form's arith, func,
  // math, memref and scf are the caller's, and passes load what they
  // create): a spec parser that adds these still rejects scf in a spec.
  registry.insert<cf::ControlFlowDialect, gpu::GPUDialect, index::IndexDialect,
                  LLVM::LLVMDialect, NVVM::NVVMDialect, nvgpu::NVGPUDialect,
                  ub::UBDialect, vector::VectorDialect>();
  // What convert-gpu-to-nvvm asks every dialect it meets for.
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  index::registerConvertIndexToLLVMInterface(registry);
  registerConvertMathToLLVMInterface(registry);
  registerConvertMemRefToLLVMInterface(registry);
  registerConvertNVVMToLLVMInterface(registry);
  ub::registerConvertUBToLLVMInterface(registry);
  vector::registerConvertVectorToLLVMInterface(registry);
  NVVM::registerConvertGpuToNVVMInterface(registry);
  // What gpu-module-to-binary needs to turn an NVVM module into PTX.
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
}

namespace {
struct NvidiaPipelineOptions
    : public PassPipelineOptions<NvidiaPipelineOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("sm_80, sm_90 or sm_90a"),
                           llvm::cl::init("sm_90")};
  Option<int64_t> threads{*this, "threads",
                          llvm::cl::desc("threads per CTA; 0: the chip's"),
                          llvm::cl::init(0)};
  Option<std::string> stage{
      *this, "stage",
      llvm::cl::desc("stop after: gpu (tile ops lowered), nvvm (LLVM/NVVM "
                     "dialects) or ptx (gpu.binary with PTX)"),
      llvm::cl::init("ptx")};
};
} // namespace

void registerNvidiaBackend(DialectRegistry &registry) {
  registerNvidiaDialects(registry);
  registerFlashcNvidiaPasses();
  PassPipelineRegistration<NvidiaPipelineOptions>(
      "attn-lower-to-nvvm",
      "lowers tiled attn kernels to NVVM and PTX for an NVIDIA chip",
      [](OpPassManager &pm, const NvidiaPipelineOptions &options) {
        llvm::Expected<TargetInfo> target = TargetInfo::get(options.chip);
        if (!target) {
          // Pipeline builders cannot fail: report and build nothing, which
          // leaves the input unchanged and the test visibly wrong.
          llvm::errs() << llvm::toString(target.takeError()) << "\n";
          return;
        }
        buildTileToGpuPipeline(
            pm, options.threads ? target->withThreadsPerBlock(options.threads)
                                : *target);
        if (options.stage == "gpu")
          return;
        buildGpuToNvvmPipeline(pm, *target);
        if (options.stage == "nvvm")
          return;
        buildNvvmToPtxPipeline(pm, *target);
      });
}

} // namespace flashc::nvidia
