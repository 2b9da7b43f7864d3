//===- LowerTileOpsToGpu.cpp - attn.tile ops to CTA code ------------------===//
//
// The driver of attn-lower-tile-ops-to-gpu: a dialect conversion in which
// every attn.tile op inside a gpu.func is illegal and the per-family
// patterns rewrite it.
//
//===----------------------------------------------------------------------===//

#include "codegen/nvidia/LowerTileOpsToGpu.h"
#include "codegen/nvidia/Wgmma.h"
#include "codegen/RegionDerivative.h"
#include "codegen/nvidia/CtaBuilders.h"
#include "codegen/nvidia/Passes.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace flashc::attn;

namespace flashc::nvidia {

#define GEN_PASS_DEF_ATTNLOWERTILEOPSTOGPUPASS
#include "codegen/nvidia/Passes.h.inc"

void populateLowerTileOpsToGpuPatterns(RewritePatternSet &patterns,
                                       const TargetInfo &target) {
  populateGpuMemoryTileOpsPatterns(patterns, target);
  populateGpuElementwiseTileOpsPatterns(patterns, target);
  populateGpuSoftmaxTileOpsPatterns(patterns, target);
  populateGpuScalarMatmulPatterns(patterns, target);
}

void waitForAsyncCopiesAtBarriers(Operation *root) {
  root->walk([](gpu::GPUFuncOp kernel) {
    bool copies = false;
    kernel.walk([&](nvgpu::DeviceAsyncCopyOp) { copies = true; });
    if (!copies)
      return;
    // wgmma reads shared memory through the async proxy: the copies' bytes
    // (generic proxy) are fenced for it before the barrier.
    bool wgmma = kernel->hasAttr(kSwizzledTileAttr);
    kernel.walk([&](gpu::BarrierOp barrier) {
      OpBuilder b(barrier);
      NVVM::CpAsyncWaitGroupOp::create(b, barrier.getLoc(), 0);
      if (wgmma)
        emitAsyncProxyFence(b, barrier.getLoc());
    });
  });
}

namespace {

struct AttnLowerTileOpsToGpuPass
    : impl::AttnLowerTileOpsToGpuPassBase<AttnLowerTileOpsToGpuPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<TargetInfo> target =
        getTargetOrEmitError(getOperation(), chip);
    if (!target)
      return signalPassFailure();
    // A region without a derivative is the user's error, reported on the
    // op that has none, before anything is rewritten.
    bool differentiable = true;
    module.walk([&](TileScoreGradOp op) {
      if (!op.getScore().empty() &&
          failed(codegen::verifyDifferentiable(op.getScore(), /*wrtArg=*/0,
                                               "custom score region")))
        differentiable = false;
    });
    if (!differentiable)
      return signalPassFailure();

    ConversionTarget conversion(getContext());
    conversion
        .addIllegalOp<TileFillOp, TileCopyOp, TileLoadOp, TileStoreOp,
                      TileMatmulOp, TileScoreModOp, TileScoreGradOp, TileMaskOp,
                      TileSoftmaxUpdateOp, TileDropoutOp, TileFinalizeOp,
                      TileRowDotOp, TileExpLseOp, TileSoftmaxGradOp>();
    conversion.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    populateLowerTileOpsToGpuPatterns(patterns, *target);
    if (failed(applyPartialConversion(module, conversion, std::move(patterns))))
      return signalPassFailure();
    waitForAsyncCopiesAtBarriers(module);
  }
};

} // namespace
} // namespace flashc::nvidia
