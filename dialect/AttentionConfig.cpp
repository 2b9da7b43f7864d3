//===- AttentionConfig.cpp - what a spec-level op computes ----------------===//

#include "dialect/AttentionConfig.h"

#include <algorithm>

using namespace mlir;

namespace flashc::attn {

bool AttentionShape::isStatic() const {
  for (int64_t v : {batch, headsQ, headsKV, seqQ, seqK, headDim, headDimV})
    if (ShapedType::isDynamic(v))
      return false;
  return true;
}

template <typename OpT> static AttentionConfig readConfig(OpT op) {
  AttentionConfig c;
  auto q = cast<RankedTensorType>(op.getQuery().getType());
  auto k = cast<RankedTensorType>(op.getKey().getType());
  auto v = cast<RankedTensorType>(op.getValue().getType());
  c.shape.batch = q.getDimSize(0);
  c.shape.headsQ = q.getDimSize(1);
  c.shape.seqQ = q.getDimSize(2);
  c.shape.headDim = q.getDimSize(3);
  c.shape.headsKV = k.getDimSize(1);
  c.shape.seqK = k.getDimSize(2);
  c.shape.headDimV = v.getDimSize(3);
  c.elementType = q.getElementType();
  c.scale = op.getScaleOrDefault();
  c.causal = op.getCausal();
  c.bottomRight = op.getAlignment() == Alignment::bottom_right;
  // Read signed (the generated getters are unsigned) and clamp: see
  // kMaxWindowBound.
  if (op.getWindowLeftAttr() && op.getWindowRightAttr()) {
    c.windowLeft = std::min(op.getWindowLeftAttr().getInt(), kMaxWindowBound);
    c.windowRight =
        std::min(op.getWindowRightAttr().getInt(), kMaxWindowBound);
  }
  if (auto softcap = op.getSoftcap())
    c.softcap = softcap->convertToDouble();
  c.alibi = op.getAlibi();
  if (auto p = op.getDropoutP())
    c.dropoutP = p->convertToDouble();
  c.dropoutSeed = op.getDropoutSeed().value_or(0);
  c.hasSeqLensQ = static_cast<bool>(op.getSeqlensQ());
  c.hasSeqLensK = static_cast<bool>(op.getSeqlensK());
  c.hasLayout = static_cast<bool>(op.getLayout());
  if (auto block = op.getLayoutBlock(); block && block->size() == 2) {
    c.layoutBlockQ = (*block)[0];
    c.layoutBlockK = (*block)[1];
  }
  if (!op.getMask().empty())
    c.mask = &op.getMask();
  if (!op.getScore().empty())
    c.score = &op.getScore();
  return c;
}

AttentionConfig getAttentionConfig(AttentionOp op) { return readConfig(op); }
AttentionConfig getAttentionConfig(AttentionGradOp op) {
  return readConfig(op);
}

} // namespace flashc::attn
