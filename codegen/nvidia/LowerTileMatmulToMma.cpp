//===- LowerTileMatmulToMma.cpp - tile.matmul on tensor cores -------------===//

#include "codegen/nvidia/CtaBuilders.h"
#include "codegen/nvidia/LowerTileOpsToGpu.h"
#include "codegen/nvidia/Passes.h"
#include "dialect/AttnOps.h"

using namespace mlir;
using namespace flashc::attn;

namespace flashc::nvidia {

#define GEN_PASS_DEF_ATTNLOWERTILEMATMULTOMMAPASS
#include "codegen/nvidia/Passes.h.inc"

bool isMmaCompatible(Operation *, const TargetInfo &) { return false; }

void populateTileMatmulToMmaPatterns(RewritePatternSet &, const TargetInfo &) {}

namespace {
struct AttnLowerTileMatmulToMmaPass
    : impl::AttnLowerTileMatmulToMmaPassBase<AttnLowerTileMatmulToMmaPass> {
  using Base::Base;
  void runOnOperation() override {}
};
} // namespace
} // namespace flashc::nvidia
