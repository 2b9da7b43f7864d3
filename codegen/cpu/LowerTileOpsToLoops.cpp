//===- LowerTileOpsToLoops.cpp - attn.tile ops to scf loops ---------------===//
//
// The driver of attn-lower-tiles-to-loops: a dialect conversion in which
// every attn.tile op is illegal and the per-family patterns rewrite it.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/LowerTileOpsToLoops.h"
#include "codegen/Passes.h"
#include "codegen/RegionDerivative.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/DialectConversion.h"

namespace flashc::codegen {
#define GEN_PASS_DEF_ATTNLOWERTILESTOLOOPSPASS
#include "codegen/Passes.h.inc"
} // namespace flashc::codegen

using namespace mlir;
using namespace flashc::attn;

namespace flashc::codegen::cpu {

void populateLowerTileOpsToLoopsPatterns(RewritePatternSet &patterns) {
  populateLowerMemoryTileOpsPatterns(patterns);
  populateLowerMatmulTileOpsPatterns(patterns);
  populateLowerSoftmaxTileOpsPatterns(patterns);
  populateLowerScoreTileOpsPatterns(patterns);
}

} // namespace flashc::codegen::cpu

namespace flashc::codegen {
namespace {

struct AttnLowerTilesToLoopsPass
    : impl::AttnLowerTilesToLoopsPassBase<AttnLowerTilesToLoopsPass> {
  void runOnOperation() override {
    // A region without a derivative is the user's error, reported on the op
    // that has none, before anything is rewritten.
    bool differentiable = true;
    getOperation().walk([&](TileScoreGradOp op) {
      if (!op.getScore().empty() &&
          failed(verifyDifferentiable(op.getScore(), /*wrtArg=*/0,
                                      "custom score region")))
        differentiable = false;
    });
    if (!differentiable)
      return signalPassFailure();

    MLIRContext *context = &getContext();
    ConversionTarget target(*context);
    target
        .addIllegalOp<TileFillOp, TileCopyOp, TileLoadOp, TileStoreOp,
                      TileMatmulOp, TileScoreModOp, TileScoreGradOp, TileMaskOp,
                      TileSoftmaxUpdateOp, TileDropoutOp, TileFinalizeOp,
                      TileRowDotOp, TileExpLseOp, TileSoftmaxGradOp>();
    target.addLegalDialect<arith::ArithDialect, math::MathDialect,
                           memref::MemRefDialect, scf::SCFDialect>();
    RewritePatternSet patterns(context);
    cpu::populateLowerTileOpsToLoopsPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace flashc::codegen
