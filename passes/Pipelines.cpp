//===- Pipelines.cpp - spec to tiled kernels ------------------------------===//

#include "passes/Pipelines.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace flashc {

void buildTilingPipeline(mlir::OpPassManager &pm, const TilingOptions &opts) {
  AttnSelectTilesPassOptions select;
  select.target = opts.target;
  select.sramBytes = opts.sramBytes;
  select.blockQ = opts.blockQ;
  select.blockK = opts.blockK;
  select.dqBlockQ = opts.dqBlockQ;
  select.dqBlockK = opts.dqBlockK;
  pm.addPass(createAttnSelectTilesPass(select));
  pm.addPass(createAttnTileForwardPass());
  pm.addPass(createAttnTileBackwardPass({opts.sumDq}));
  // CSE only: the canonicalizer would inline the grid's alloca_scope (the
  // scf.forall counts as an allocation scope), and once the grid becomes a
  // sequential loop on the CPU every iteration's tiles would pile up on the
  // stack.
  pm.addPass(mlir::createCSEPass());
}

namespace {
struct TilingPipelineOptions
    : mlir::PassPipelineOptions<TilingPipelineOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("cpu, sm_80 or sm_90"),
                             llvm::cl::init("cpu")};
  Option<int64_t> blockQ{*this, "block-q", llvm::cl::desc("override Br"),
                         llvm::cl::init(0)};
  Option<int64_t> blockK{*this, "block-k", llvm::cl::desc("override Bc"),
                         llvm::cl::init(0)};
  Option<int64_t> dqBlockQ{*this, "dq-block-q",
                           llvm::cl::desc("override the dQ kernel's Br"),
                           llvm::cl::init(0)};
  Option<int64_t> dqBlockK{*this, "dq-block-k",
                           llvm::cl::desc("override the dQ kernel's Bc"),
                           llvm::cl::init(0)};
  Option<bool> sumDq{*this, "sum-dq",
                     llvm::cl::desc("sum dQ in the dK/dV kernel"),
                     llvm::cl::init(true)};
};
} // namespace

void registerFlashcPassesAndPipelines() {
  registerFlashcPassesPasses();
  mlir::PassPipelineRegistration<TilingPipelineOptions>(
      "attn-tile", "spec-level attention ops to tiled kernels",
      [](mlir::OpPassManager &pm, const TilingPipelineOptions &o) {
        TilingOptions opts;
        opts.target = o.target;
        opts.blockQ = o.blockQ;
        opts.blockK = o.blockK;
        opts.dqBlockQ = o.dqBlockQ;
        opts.dqBlockK = o.dqBlockK;
        opts.sumDq = o.sumDq;
        buildTilingPipeline(pm, opts);
      });
}

} // namespace flashc
