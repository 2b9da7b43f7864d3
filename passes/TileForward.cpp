//===- TileForward.cpp - attn.attention to the tiled forward kernel -------===//

#include "passes/KernelBuilder.h"
#include "passes/KernelABI.h"
#include "passes/Passes.h"
#include "passes/TilingUtils.h"

#include "dialect/AttnOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace flashc {

#define GEN_PASS_DEF_ATTNTILEFORWARDPASS
#include "passes/Passes.h.inc"

LogicalResult buildForwardKernel(attn::AttentionOp op, ModuleOp module,
                                 StringRef baseName) {
  FailureOr<TileSizes> tiles = getTileSizes(op);
  if (failed(tiles))
    return failure();
  attn::AttentionConfig config = attn::getAttentionConfig(op);
  ImplicitLocOpBuilder b(op.getLoc(), op.getContext());
  KernelBuilder kb(b, config, *tiles, analyzeMasks(config));
  const int64_t br = tiles->blockQ, bc = tiles->blockK;
  const int64_t d = config.shape.headDim, dv = config.shape.headDimV;
  Type elt = config.elementType;

  Kernel kernel = kb.createKernel(
      module, baseName, abi::kForward,
      {ArgRole::Q, ArgRole::K, ArgRole::V, ArgRole::O, ArgRole::Lse});
  Value q = kernel.arg(ArgRole::Q), k = kernel.arg(ArgRole::K);
  Value v = kernel.arg(ArgRole::V), o = kernel.arg(ArgRole::O);
  Value lse = kernel.arg(ArgRole::Lse);

  Value batch = memref::DimOp::create(b, q, 0);
  Value headsQ = memref::DimOp::create(b, q, 1);
  Value seqQ = memref::DimOp::create(b, q, 2);
  Value headsKV = memref::DimOp::create(b, k, 1);
  Value seqK = memref::DimOp::create(b, k, 2);
  Value group = arith::DivUIOp::create(b, headsQ, headsKV);
  Value qBlocks = arith::CeilDivUIOp::create(b, seqQ, kb.cst(br));

  // One CTA per (batch, query head, query block).
  emitGrid(b, {batch, headsQ, qBlocks}, [&](ValueRange ivs) {
    Value bi = ivs[0], h = ivs[1], qb = ivs[2];
    Value hk = arith::DivUIOp::create(b, h, group);
    Value nq = kb.seqLen(kernel.arg(ArgRole::SeqLensQ), bi, seqQ);
    Value nk = kb.seqLen(kernel.arg(ArgRole::SeqLensK), bi, seqK);
    Value shift = kb.shift(nq, nk);
    Value q0 = arith::MulIOp::create(b, qb, kb.cst(br));

    // Q's tile stays on chip for the whole loop; rows past nq are zeros.
    Value qTile = kb.tile({br, d}, elt);
    attn::TileLoadOp::create(b, q, bi, h, q0,
                             arith::SubIOp::create(b, nq, q0), qTile);
    // Running state: m = -inf, l = 0, acc = 0.
    Value m = kb.f32Tile({br}), l = kb.f32Tile({br});
    Value acc = kb.f32Tile({br, dv});
    attn::TileFillOp::create(b, m, b.getF32FloatAttr(-INFINITY));
    attn::TileFillOp::create(b, l, b.getF32FloatAttr(0.0f));
    attn::TileFillOp::create(b, acc, b.getF32FloatAttr(0.0f));
    Value kTile = kb.tile({bc, d}, elt), vTile = kb.tile({bc, dv}, elt);
    Value s = kb.f32Tile({br, bc});

    BlockBoundsInputs<Value> bounds{q0, br, nq, bc, nk, shift};
    kb.forEachBlock(
        bounds, /*queryIsFixed=*/true, kernel.arg(ArgRole::LayoutOffsets),
        kernel.arg(ArgRole::LayoutBlocks), bi, h, [&](Value j, Value full) {
          Value k0 = arith::MulIOp::create(b, j, kb.cst(bc));
          Value rows = arith::SubIOp::create(b, nk, k0);
          attn::TileLoadOp::create(b, k, bi, hk, k0, rows, kTile);
          attn::TileLoadOp::create(b, v, bi, hk, k0, rows, vTile);
          KernelBuilder::ScoreTile at{bi, h, q0, k0, shift, headsQ, nq, nk};
          // S = scale * Q K^T, modified, masked where the block is partial.
          kb.emitScores(at, qTile, kTile, s);
          kb.emitMaskIfPartial(at, s, full);
          // m_new = max(m, rowmax(S)); P = exp(S - m_new);
          // l = exp(m - m_new) l + rowsum(P); acc = exp(m - m_new) acc.
          attn::TileSoftmaxUpdateOp::create(b, s, m, l, acc);
          kb.emitDropout(at, s, kernel);
          // acc += P V
          attn::TileMatmulOp::create(b, s, vTile, acc, nullptr, nullptr,
                                     b.getUnitAttr(), b.getF64FloatAttr(1.0));
        });

    // O = acc / l, LSE = m + log l (0 and -inf for rows with nothing kept).
    Value lseTile = kb.f32Tile({br});
    attn::TileFinalizeOp::create(b, acc, m, l, lseTile);
    Value outRows = arith::SubIOp::create(b, seqQ, q0);
    attn::TileStoreOp::create(b, acc, o, bi, h, q0, outRows, nullptr);
    attn::TileStoreOp::create(b, lseTile, lse, bi, h, q0, outRows, nullptr);
  });
  return success();
}

namespace {
struct AttnTileForwardPass
    : impl::AttnTileForwardPassBase<AttnTileForwardPass> {
  void runOnOperation() override {
    if (failed(replaceSpecFunctions<attn::AttentionOp>(
            getOperation(), buildForwardKernel)))
      signalPassFailure();
  }
};
} // namespace

} // namespace flashc
