//===- ReferenceProblem.cpp - a spec as a reference::Problem --------------===//

#include "tools/flashc/ReferenceProblem.h"

namespace flashc::tool {

reference::Problem makeReferenceProblem(const attn::AttentionConfig &config,
                                        const ConcreteShape &shape,
                                        const RegionCallbacks &regions) {
  reference::Problem p;
  p.batch = shape.batch;
  p.headsQ = shape.headsQ;
  p.headsKV = shape.headsKV;
  p.seqQ = shape.seqQ;
  p.seqK = shape.seqK;
  p.headDim = shape.headDim;
  p.headDimV = shape.headDimV;
  p.scale = config.scale;
  p.causal = config.causal;
  p.bottomRight = config.bottomRight;
  if (config.hasWindow())
    p.window = std::make_pair(*config.windowLeft, *config.windowRight);
  p.softcap = config.softcap;
  p.alibi = config.alibi;
  p.dropoutP = config.dropoutP;
  p.seed = static_cast<uint64_t>(config.dropoutSeed);
  if (config.hasLayout) {
    p.layoutB = shape.layoutBatch;
    p.layoutH = shape.layoutHeads;
    p.blockQ = config.layoutBlockQ;
    p.blockK = config.layoutBlockK;
  }
  p.customMask = regions.mask;
  p.customScore = regions.score;
  p.customScoreGrad = regions.scoreGrad;
  return p;
}

} // namespace flashc::tool
