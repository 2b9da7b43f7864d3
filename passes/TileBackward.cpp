//===- TileBackward.cpp - attn.attention_grad to tiled backward kernels ---===//

#include "passes/KernelABI.h"
#include "passes/KernelBuilder.h"
#include "passes/Passes.h"
#include "passes/TilingUtils.h"

#include "dialect/AttnOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace flashc {

#define GEN_PASS_DEF_ATTNTILEBACKWARDPASS
#include "passes/Passes.h.inc"

namespace {
/// Sizes every backward kernel reads off its arguments.
struct Sizes {
  Value batch, headsQ, seqQ, headsKV, seqK, group;
};

/// Builds the three backward kernels of one attn.attention_grad. \p fused:
/// D (and zeros in dq_accum), then one pass over the score blocks that
/// forms dK and dV on chip and adds each pair's dQ into dq_accum, then
/// dQ = dq_accum: 5 block matmuls a pair. Else (no atomics): D, dK and dV,
/// then a second pass over the pairs for dQ, owned by one CTA a query
/// block, that recomputes S and dP: 7 block matmuls a pair.
class BackwardBuilder {
public:
  BackwardBuilder(ImplicitLocOpBuilder &b, KernelBuilder &kb, bool fused)
      : b(b), kb(kb), cfg(kb.config()), fused(fused),
        br(kb.tiles().blockQ),
        bc(kb.tiles().blockK), d(cfg.shape.headDim),
        dv(cfg.shape.headDimV) {}

  void buildPrep(ModuleOp module, StringRef base);
  void buildDkDv(ModuleOp module, StringRef base);
  void buildDq(ModuleOp module, StringRef base);

private:
  void buildDqByRecomputation(ModuleOp module, StringRef base);

  Sizes readSizes(Value q, Value k) {
    Sizes s;
    s.batch = memref::DimOp::create(b, q, 0);
    s.headsQ = memref::DimOp::create(b, q, 1);
    s.seqQ = memref::DimOp::create(b, q, 2);
    s.headsKV = memref::DimOp::create(b, k, 1);
    s.seqK = memref::DimOp::create(b, k, 2);
    s.group = arith::DivUIOp::create(b, s.headsQ, s.headsKV);
    return s;
  }

  /// A grid over (batch, head, query block) of \p rowsOf ([B, H, Nq, ...]):
  /// \p body gets the grid's indices, the block's first row and the rows
  /// from there to Nq.
  void forEachQueryBlock(
      Value rowsOf,
      llvm::function_ref<void(ValueRange, Value, Value)> body) {
    Value batch = memref::DimOp::create(b, rowsOf, 0);
    Value heads = memref::DimOp::create(b, rowsOf, 1);
    Value seqQ = memref::DimOp::create(b, rowsOf, 2);
    Value qBlocks = arith::CeilDivUIOp::create(b, seqQ, kb.cst(br));
    emitGrid(b, {batch, heads, qBlocks}, [&](ValueRange ivs) {
      Value q0 = arith::MulIOp::create(b, ivs[2], kb.cst(br));
      body(ivs, q0, arith::SubIOp::create(b, seqQ, q0));
    });
  }

  /// Tiles of one query block: Q, dO, LSE and D.
  struct QueryTiles {
    Value q, dout, lse, delta;
  };
  QueryTiles queryTiles() {
    return {kb.tile({br, d}, cfg.elementType),
            kb.tile({br, dv}, cfg.elementType), kb.f32Tile({br}),
            kb.f32Tile({br})};
  }
  void loadQueryTiles(Kernel &kernel, const QueryTiles &t, Value bi, Value h,
                      Value q0, Value nq) {
    Value rows = arith::SubIOp::create(b, nq, q0);
    attn::TileLoadOp::create(b, kernel.arg(ArgRole::Q), bi, h, q0, rows, t.q);
    attn::TileLoadOp::create(b, kernel.arg(ArgRole::DOut), bi, h, q0, rows,
                             t.dout);
    attn::TileLoadOp::create(b, kernel.arg(ArgRole::Lse), bi, h, q0, rows,
                             t.lse);
    attn::TileLoadOp::create(b, kernel.arg(ArgRole::Delta), bi, h, q0, rows,
                             t.delta);
  }

  /// Scratch tiles of the recomputation, all Br x Bc (Bc x Br transposed).
  struct Scratch {
    Value raw, probs, grads, dropped;
  };
  Scratch scratch(bool forDvNeeded, bool transposed) {
    SmallVector<int64_t> shape =
        transposed ? SmallVector<int64_t>{bc, br} : SmallVector<int64_t>{br, bc};
    Scratch s{kb.f32Tile(shape), kb.f32Tile(shape), kb.f32Tile(shape),
              nullptr};
    if (cfg.hasDropout() && forDvNeeded)
      s.dropped = kb.f32Tile(shape);
    return s;
  }

  /// Recomputes P and dS for one (query tile, key tile) pair:
  ///   S = modifiers(scale Q K^T), masked if partial; P = exp(S - LSE);
  ///   dP = (dO V^T) * Z; dS = P * (dP - D) * d(modifiers).
  /// A transposed `at` computes P^T and dS^T instead (S^T = K Q^T,
  /// dP^T = V dO^T, LSE and D read per column).
  /// Returns the tile to multiply into dV (P * Z, or P without dropout);
  /// `forDvNeeded` is false in the dQ kernel, which has no dV.
  Value recompute(Kernel &kernel, const KernelBuilder::ScoreTile &at,
                  const QueryTiles &qt, Value kTile, Value vTile, Value full,
                  const Scratch &s, bool forDvNeeded) {
    kb.emitScores(at, qt.q, kTile, s.probs, s.raw);
    kb.emitMaskIfPartial(at, s.probs, full);
    UnitAttr transposed = kb.transposedAttr(at);
    attn::TileExpLseOp::create(b, s.probs, qt.lse, transposed);
    Value forDv = s.probs;
    if (cfg.hasDropout() && forDvNeeded) {
      attn::TileCopyOp::create(b, s.probs, s.dropped);
      kb.emitDropout(at, s.dropped, kernel);
      forDv = s.dropped;
    }
    attn::TileMatmulOp::create(b, at.transposed ? vTile : qt.dout,
                               at.transposed ? qt.dout : vTile, s.grads,
                               nullptr, b.getUnitAttr(), nullptr,
                               b.getF64FloatAttr(1.0));
    kb.emitDropout(at, s.grads, kernel);
    attn::TileSoftmaxGradOp::create(b, s.probs, s.grads, qt.delta,
                                    transposed);
    kb.emitScoreGrad(at, s.grads, s.raw);
    return forDv;
  }

  ImplicitLocOpBuilder &b;
  KernelBuilder &kb;
  const attn::AttentionConfig &cfg;
  /// dQ summed into dq_accum by the dK/dV kernel (atomics on a GPU).
  bool fused;
  int64_t br, bc, d, dv;
};
} // namespace

void BackwardBuilder::buildPrep(ModuleOp module, StringRef base) {
  SmallVector<ArgRole> roles{ArgRole::O, ArgRole::DOut, ArgRole::Delta};
  if (fused)
    roles.push_back(ArgRole::DQAccum);
  Kernel kernel = kb.createKernel(module, base, abi::kBackwardPrep, roles);
  Value o = kernel.arg(ArgRole::O), dout = kernel.arg(ArgRole::DOut);
  forEachQueryBlock(o, [&](ValueRange ivs, Value q0, Value rows) {
    Value oTile = kb.tile({br, dv}, cfg.elementType);
    Value doTile = kb.tile({br, dv}, cfg.elementType);
    Value delta = kb.f32Tile({br});
    attn::TileLoadOp::create(b, o, ivs[0], ivs[1], q0, rows, oTile);
    attn::TileLoadOp::create(b, dout, ivs[0], ivs[1], q0, rows, doTile);
    // D = rowsum(dO * O)
    attn::TileRowDotOp::create(b, doTile, oTile, delta);
    attn::TileStoreOp::create(b, delta, kernel.arg(ArgRole::Delta), ivs[0],
                              ivs[1], q0, rows, nullptr);
    if (!fused)
      return;
    // The dK/dV kernel adds every pair's dQ into dq_accum.
    Value zeros = kb.f32Tile({br, d});
    attn::TileFillOp::create(b, zeros, b.getF32FloatAttr(0.0f));
    attn::TileStoreOp::create(b, zeros, kernel.arg(ArgRole::DQAccum), ivs[0],
                              ivs[1], q0, rows, nullptr);
  });
}

void BackwardBuilder::buildDkDv(ModuleOp module, StringRef base) {
  SmallVector<ArgRole> roles{ArgRole::Q,     ArgRole::K,  ArgRole::V,
                            ArgRole::DOut,  ArgRole::Lse, ArgRole::Delta,
                            ArgRole::DK,    ArgRole::DV};
  if (fused)
    roles.push_back(ArgRole::DQAccum);
  Kernel kernel = kb.createKernel(module, base, abi::kBackwardDkDv, roles);
  Value k = kernel.arg(ArgRole::K), v = kernel.arg(ArgRole::V);
  Sizes sz = readSizes(kernel.arg(ArgRole::Q), k);
  Value kBlocks = arith::CeilDivUIOp::create(b, sz.seqK, kb.cst(bc));

  // One CTA per (batch, KV head, KV block): dK and dV of the block collect
  // every query head of the group on chip, then are written once.
  emitGrid(b, {sz.batch, sz.headsKV, kBlocks}, [&](ValueRange ivs) {
    Value bi = ivs[0], hk = ivs[1];
    Value k0 = arith::MulIOp::create(b, ivs[2], kb.cst(bc));
    Value nq = kb.seqLen(kernel.arg(ArgRole::SeqLensQ), bi, sz.seqQ);
    Value nk = kb.seqLen(kernel.arg(ArgRole::SeqLensK), bi, sz.seqK);
    Value shift = kb.shift(nq, nk);
    Value kvRows = arith::SubIOp::create(b, nk, k0);
    Value kTile = kb.tile({bc, d}, cfg.elementType);
    Value vTile = kb.tile({bc, dv}, cfg.elementType);
    attn::TileLoadOp::create(b, k, bi, hk, k0, kvRows, kTile);
    attn::TileLoadOp::create(b, v, bi, hk, k0, kvRows, vTile);
    Value dk = kb.f32Tile({bc, d}), dvAcc = kb.f32Tile({bc, dv});
    attn::TileFillOp::create(b, dk, b.getF32FloatAttr(0.0f));
    attn::TileFillOp::create(b, dvAcc, b.getF32FloatAttr(0.0f));
    QueryTiles qt = queryTiles();
    // Transposed scores: the key rows this CTA owns are the rows of P^T
    // and dS^T, so they stay in the threads that accumulate dK and dV.
    Scratch s = scratch(/*forDvNeeded=*/true, /*transposed=*/true);
    // dS^T in the element type, read transposed as the A of dQ = dS K.
    Value dsT = fused ? kb.tile({bc, br}, cfg.elementType) : Value();
    Value dq = fused ? kb.f32Tile({br, d}) : Value();
    // The pair's dQ is added from a tile of its own: a GPU keeps the
    // product in registers and adds the staged copy to dq_accum in one bulk
    // reduction (or in coalesced atomics), not element by element from the
    // registers' scattered fragments.
    Value dqStaged = fused ? kb.f32Tile({br, d}) : Value();

    auto heads = scf::ForOp::create(b, kb.cst(0), sz.group, kb.cst(1));
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(heads.getBody()->getTerminator());
      Value h = arith::AddIOp::create(
          b, arith::MulIOp::create(b, hk, sz.group), heads.getInductionVar());
      BlockBoundsInputs<Value> bounds{k0, bc, nk, br, nq, shift};
      kb.forEachBlock(
          bounds, /*queryIsFixed=*/false,
          kernel.arg(ArgRole::LayoutOffsets),
          kernel.arg(ArgRole::LayoutBlocks), bi, h,
          [&](Value i, Value full) {
            Value q0 = arith::MulIOp::create(b, i, kb.cst(br));
            loadQueryTiles(kernel, qt, bi, h, q0, nq);
            KernelBuilder::ScoreTile at{bi, h, q0, k0, shift, sz.headsQ,
                                        nq, nk, /*transposed=*/true};
            Value forDv =
                recompute(kernel, at, qt, kTile, vTile, full, s, true);
            // dV += (P * Z)^T dO
            attn::TileMatmulOp::create(b, forDv, qt.dout, dvAcc, nullptr,
                                       nullptr, b.getUnitAttr(),
                                       b.getF64FloatAttr(1.0));
            // dK += scale dS^T Q
            if (fused)
              attn::TileCopyOp::create(b, s.grads, dsT);
            attn::TileMatmulOp::create(b, s.grads, qt.q, dk, nullptr, nullptr,
                                       b.getUnitAttr(),
                                       b.getF64FloatAttr(cfg.scale));
            if (!fused)
              return;
            // dq_accum += scale dS K: this pair's share of dQ (dS^T in the
            // element type, read transposed), added where the CTAs of every
            // key block of the query block meet.
            attn::TileMatmulOp::create(b, dsT, kTile, dq,
                                       b.getUnitAttr(), nullptr, nullptr,
                                       b.getF64FloatAttr(cfg.scale));
            attn::TileCopyOp::create(b, dq, dqStaged);
            attn::TileStoreOp::create(b, dqStaged,
                                      kernel.arg(ArgRole::DQAccum), bi, h, q0,
                                      arith::SubIOp::create(b, nq, q0),
                                      b.getUnitAttr());
          });
    }
    Value outRows = arith::SubIOp::create(b, sz.seqK, k0);
    attn::TileStoreOp::create(b, dk, kernel.arg(ArgRole::DK), bi, hk, k0,
                              outRows, nullptr);
    attn::TileStoreOp::create(b, dvAcc, kernel.arg(ArgRole::DV), bi, hk, k0,
                              outRows, nullptr);
  });
}

void BackwardBuilder::buildDq(ModuleOp module, StringRef base) {
  if (!fused)
    return buildDqByRecomputation(module, base);
  Kernel kernel = kb.createKernel(module, base, abi::kBackwardDq,
                                  {ArgRole::DQAccum, ArgRole::DQ});
  Value accum = kernel.arg(ArgRole::DQAccum), dq = kernel.arg(ArgRole::DQ);
  // dQ = dq_accum, converted to the element type.
  forEachQueryBlock(dq, [&](ValueRange ivs, Value q0, Value rows) {
    Value tile = kb.f32Tile({br, d});
    attn::TileLoadOp::create(b, accum, ivs[0], ivs[1], q0, rows, tile);
    attn::TileStoreOp::create(b, tile, dq, ivs[0], ivs[1], q0, rows, nullptr);
  });
}

void BackwardBuilder::buildDqByRecomputation(ModuleOp module,
                                             StringRef base) {
  Kernel kernel = kb.createKernel(
      module, base, abi::kBackwardDq,
      {ArgRole::Q, ArgRole::K, ArgRole::V, ArgRole::DOut, ArgRole::Lse,
       ArgRole::Delta, ArgRole::DQ});
  Value k = kernel.arg(ArgRole::K), v = kernel.arg(ArgRole::V);
  Sizes sz = readSizes(kernel.arg(ArgRole::Q), k);
  Value qBlocks = arith::CeilDivUIOp::create(b, sz.seqQ, kb.cst(br));

  // One CTA per (batch, query head, query block), walking key blocks as the
  // forward pass does: dQ is owned by one CTA, so no atomics are needed.
  emitGrid(b, {sz.batch, sz.headsQ, qBlocks}, [&](ValueRange ivs) {
    Value bi = ivs[0], h = ivs[1];
    Value hk = arith::DivUIOp::create(b, h, sz.group);
    Value q0 = arith::MulIOp::create(b, ivs[2], kb.cst(br));
    Value nq = kb.seqLen(kernel.arg(ArgRole::SeqLensQ), bi, sz.seqQ);
    Value nk = kb.seqLen(kernel.arg(ArgRole::SeqLensK), bi, sz.seqK);
    Value shift = kb.shift(nq, nk);
    QueryTiles qt = queryTiles();
    loadQueryTiles(kernel, qt, bi, h, q0, nq);
    Value dq = kb.f32Tile({br, d});
    attn::TileFillOp::create(b, dq, b.getF32FloatAttr(0.0f));
    Value kTile = kb.tile({bc, d}, cfg.elementType);
    Value vTile = kb.tile({bc, dv}, cfg.elementType);
    Scratch s = scratch(/*forDvNeeded=*/false, /*transposed=*/false);

    BlockBoundsInputs<Value> bounds{q0, br, nq, bc, nk, shift};
    kb.forEachBlock(
        bounds, /*queryIsFixed=*/true, kernel.arg(ArgRole::LayoutOffsets),
        kernel.arg(ArgRole::LayoutBlocks), bi, h, [&](Value j, Value full) {
          Value k0 = arith::MulIOp::create(b, j, kb.cst(bc));
          Value rows = arith::SubIOp::create(b, nk, k0);
          attn::TileLoadOp::create(b, k, bi, hk, k0, rows, kTile);
          attn::TileLoadOp::create(b, v, bi, hk, k0, rows, vTile);
          KernelBuilder::ScoreTile at{bi, h, q0, k0, shift, sz.headsQ, nq,
                                      nk};
          recompute(kernel, at, qt, kTile, vTile, full, s, false);
          // dQ += scale dS K
          attn::TileMatmulOp::create(b, s.grads, kTile, dq, nullptr, nullptr,
                                     b.getUnitAttr(),
                                     b.getF64FloatAttr(cfg.scale));
        });
    Value outRows = arith::SubIOp::create(b, sz.seqQ, q0);
    attn::TileStoreOp::create(b, dq, kernel.arg(ArgRole::DQ), bi, h, q0,
                              outRows, nullptr);
  });
}

static LogicalResult buildBackwardKernels(attn::AttentionGradOp op,
                                          ModuleOp module, StringRef baseName,
                                          bool sumDq) {
  FailureOr<TileSizes> tiles = getTileSizes(op);
  if (failed(tiles))
    return failure();
  attn::AttentionConfig config = attn::getAttentionConfig(op);
  ImplicitLocOpBuilder b(op.getLoc(), op.getContext());
  MaskAnalysis masks = analyzeMasks(config);
  bool fused = sumDq && !op.getDeterministic();
  KernelBuilder kb(b, config, *tiles, masks);
  BackwardBuilder bb(b, kb, fused);
  bb.buildPrep(module, baseName);
  bb.buildDkDv(module, baseName);
  // bwd_dq has a query tile fixed where bwd_dkdv has a key tile: its own
  // tiles (TileSizes::forDq).
  KernelBuilder dqKb(b, config, tiles->forDq(), masks);
  BackwardBuilder(b, dqKb, fused).buildDq(module, baseName);
  return success();
}

namespace {
struct AttnTileBackwardPass
    : impl::AttnTileBackwardPassBase<AttnTileBackwardPass> {
  using Base::Base;
  void runOnOperation() override {
    auto build = [&](attn::AttentionGradOp op, ModuleOp module,
                     StringRef baseName) {
      return buildBackwardKernels(op, module, baseName, sumDq);
    };
    if (failed(replaceSpecFunctions<attn::AttentionGradOp>(getOperation(),
                                                            build)))
      signalPassFailure();
  }
};
} // namespace

} // namespace flashc
