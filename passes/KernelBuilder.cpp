//===- KernelBuilder.cpp - pieces shared by the tiled kernels -------------===//

#include "passes/KernelBuilder.h"
#include "passes/KernelABI.h"

#include "dialect/AttnOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;

namespace flashc {

KernelBuilder::KernelBuilder(ImplicitLocOpBuilder &b,
                             const attn::AttentionConfig &config,
                             TileSizes tiles, MaskAnalysis masks)
    : b(b), cfg(config), tileSizes(tiles), masks(std::move(masks)) {}

/// memref<?x?x?x[D]xT, strided<[?, ?, ?, 1], offset: ?>> (rank 4, lastDim
/// given) or memref<?x?x?xf32, strided<[?, ?, 1], offset: ?>> (rank 3).
static MemRefType globalType(MLIRContext *ctx, Type elt,
                             std::optional<int64_t> lastDim) {
  int64_t dyn = ShapedType::kDynamic;
  SmallVector<int64_t> shape{dyn, dyn, dyn};
  SmallVector<int64_t> strides{dyn, dyn};
  if (lastDim) {
    shape.push_back(*lastDim);
    strides.push_back(dyn);
  }
  strides.push_back(1);
  return MemRefType::get(shape, elt,
                         StridedLayoutAttr::get(ctx, dyn, strides));
}

Kernel KernelBuilder::createKernel(ModuleOp module, StringRef baseName,
                                   StringRef kind, ArrayRef<ArgRole> roles) {
  MLIRContext *ctx = b.getContext();
  Type elt = cfg.elementType;
  Type f32 = b.getF32Type();
  Type i32 = b.getI32Type();
  int64_t d = cfg.shape.headDim, dv = cfg.shape.headDimV;
  int64_t dyn = ShapedType::kDynamic;

  auto typeOf = [&](ArgRole role) -> Type {
    switch (role) {
    case ArgRole::Q:
    case ArgRole::K:
      return globalType(ctx, elt, d);
    case ArgRole::V:
    case ArgRole::O:
    case ArgRole::DOut:
      return globalType(ctx, elt, dv);
    case ArgRole::DQ:
    case ArgRole::DK:
      return globalType(ctx, elt, d);
    case ArgRole::DV:
      return globalType(ctx, elt, dv);
    case ArgRole::DQAccum:
      return globalType(ctx, f32, d);
    case ArgRole::Lse:
    case ArgRole::Delta:
      return globalType(ctx, f32, std::nullopt);
    case ArgRole::SeqLensQ:
    case ArgRole::SeqLensK:
    case ArgRole::LayoutBlocks:
      return MemRefType::get({dyn}, i32);
    case ArgRole::LayoutOffsets:
      return MemRefType::get({dyn, dyn, dyn}, i32);
    case ArgRole::Seed:
    case ArgRole::Offset:
      return b.getI64Type();
    }
    llvm_unreachable("unknown argument role");
  };

  SmallVector<ArgRole> all(roles);
  bool readsScores = llvm::is_contained(roles, ArgRole::K);
  if (readsScores) {
    if (cfg.hasSeqLensQ)
      all.push_back(ArgRole::SeqLensQ);
    if (cfg.hasSeqLensK)
      all.push_back(ArgRole::SeqLensK);
    if (cfg.hasLayout) {
      all.push_back(ArgRole::LayoutOffsets);
      all.push_back(ArgRole::LayoutBlocks);
    }
    if (cfg.hasDropout()) {
      all.push_back(ArgRole::Seed);
      all.push_back(ArgRole::Offset);
    }
  }
  SmallVector<Type> types;
  for (ArgRole role : all)
    types.push_back(typeOf(role));

  // At the end of the module, but before a terminator op that a spec
  // module may end with (it verifies there, and only there).
  Block *body = module.getBody();
  if (!body->empty() && body->back().hasTrait<OpTrait::IsTerminator>())
    b.setInsertionPoint(&body->back());
  else
    b.setInsertionPointToEnd(body);
  auto func = func::FuncOp::create(b, (baseName + "_" + kind).str(),
                                   b.getFunctionType(types, {}));
  func->setAttr(abi::kKernelKindAttr, b.getStringAttr(kind));
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  SmallVector<NamedAttribute> info{
      b.getNamedAttr(abi::kTileRows, b.getI64IntegerAttr(tileSizes.blockQ)),
      b.getNamedAttr(abi::kTileCols, b.getI64IntegerAttr(tileSizes.blockK))};
  if (readsScores) {
    if (cfg.hasSeqLensQ)
      info.push_back(b.getNamedAttr(abi::kHasSeqLensQ, b.getUnitAttr()));
    if (cfg.hasSeqLensK)
      info.push_back(b.getNamedAttr(abi::kHasSeqLensK, b.getUnitAttr()));
    if (cfg.hasLayout) {
      info.push_back(b.getNamedAttr(abi::kHasLayout, b.getUnitAttr()));
      info.push_back(b.getNamedAttr(abi::kLayoutBlockQ,
                                    b.getI64IntegerAttr(cfg.layoutBlockQ)));
      info.push_back(b.getNamedAttr(abi::kLayoutBlockK,
                                    b.getI64IntegerAttr(cfg.layoutBlockK)));
    }
    if (cfg.hasDropout())
      info.push_back(b.getNamedAttr(abi::kHasDropout, b.getUnitAttr()));
  }
  if (llvm::is_contained(roles, ArgRole::DQAccum))
    info.push_back(b.getNamedAttr(abi::kSumsDqInScratch, b.getUnitAttr()));
  func->setAttr(abi::kKernelInfoAttr, b.getDictionaryAttr(info));

  Block *entry = func.addEntryBlock();
  Kernel kernel;
  kernel.func = func;
  for (auto [role, value] : llvm::zip(all, entry->getArguments()))
    kernel.args[static_cast<unsigned>(role)] = value;
  b.setInsertionPointToEnd(entry);
  auto ret = func::ReturnOp::create(b);
  b.setInsertionPoint(ret);
  return kernel;
}

Value KernelBuilder::cst(int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}

Value KernelBuilder::tile(ArrayRef<int64_t> shape, Type elementType) {
  return memref::AllocaOp::create(b, MemRefType::get(shape, elementType));
}

Value KernelBuilder::f32Tile(ArrayRef<int64_t> shape) {
  return tile(shape, b.getF32Type());
}

Value KernelBuilder::seqLen(Value seqlens, Value batch, Value full) {
  if (!seqlens)
    return full;
  Value raw = memref::LoadOp::create(b, seqlens, ValueRange{batch});
  Value len = arith::IndexCastOp::create(b, b.getIndexType(), raw);
  // Validation rejects out-of-range lengths before launch; clamping keeps
  // every access in bounds even if a caller skips it.
  return arith::MinSIOp::create(b, arith::MaxSIOp::create(b, len, cst(0)),
                                full);
}

Value KernelBuilder::shift(Value nq, Value nk) {
  if (!cfg.bottomRight)
    return cst(0);
  return arith::SubIOp::create(b, nk, nq);
}

bool KernelBuilder::hasScoreModifiers() const {
  return cfg.softcap || cfg.alibi || cfg.score;
}

/// Copies a custom region (mask or score) into an op's empty region.
static void cloneRegionInto(Region *from, Region &to) {
  if (!from)
    return;
  IRMapping mapping;
  from->cloneInto(&to, mapping);
}

UnitAttr KernelBuilder::transposedAttr(const ScoreTile &at) {
  return at.transposed ? b.getUnitAttr() : UnitAttr();
}

void KernelBuilder::emitScores(const ScoreTile &at, Value qTile, Value kTile,
                               Value scores, Value raw) {
  attn::TileMatmulOp::create(b, at.transposed ? kTile : qTile,
                             at.transposed ? qTile : kTile, scores,
                             /*transpose_a=*/nullptr,
                             /*transpose_b=*/b.getUnitAttr(),
                             /*accumulate=*/nullptr,
                             b.getF64FloatAttr(cfg.scale));
  if (raw)
    attn::TileCopyOp::create(b, scores, raw);
  if (!hasScoreModifiers())
    return;
  auto mod = attn::TileScoreModOp::create(
      b, scores, at.batch, at.head, at.row0, at.col0, at.shift, at.heads,
      cfg.softcap ? b.getF64FloatAttr(*cfg.softcap) : FloatAttr(),
      cfg.alibi ? b.getUnitAttr() : UnitAttr(), transposedAttr(at));
  cloneRegionInto(cfg.score, mod.getScore());
}

void KernelBuilder::emitMaskIfPartial(const ScoreTile &at, Value scores,
                                      Value isFull) {
  auto emitMask = [&](ImplicitLocOpBuilder &nb) {
    auto mask = attn::TileMaskOp::create(
        nb, scores, at.batch, at.head, at.row0, at.col0, at.shift, at.nq,
        at.nk, cfg.causal ? nb.getUnitAttr() : UnitAttr(),
        cfg.windowLeft ? nb.getI64IntegerAttr(*cfg.windowLeft)
                       : IntegerAttr(),
        cfg.windowRight ? nb.getI64IntegerAttr(*cfg.windowRight)
                        : IntegerAttr(),
        transposedAttr(at));
    cloneRegionInto(cfg.mask, mask.getMask());
  };
  Value isPartial = arith::XOrIOp::create(
      b, isFull, arith::ConstantIntOp::create(b, b.getI1Type(), 1));
  auto ifOp = scf::IfOp::create(b, isPartial, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  emitMask(b);
}

void KernelBuilder::emitDropout(const ScoreTile &at, Value probs,
                                Kernel &kernel) {
  if (!cfg.hasDropout())
    return;
  attn::TileDropoutOp::create(b, probs, at.batch, at.head, at.row0, at.col0,
                              at.heads, kernel.arg(ArgRole::Seed),
                              kernel.arg(ArgRole::Offset),
                              b.getF64FloatAttr(cfg.dropoutP),
                              transposedAttr(at));
}

void KernelBuilder::emitScoreGrad(const ScoreTile &at, Value grads,
                                  Value raw) {
  if (!hasScoreModifiers())
    return;
  auto grad = attn::TileScoreGradOp::create(
      b, grads, raw, at.batch, at.head, at.row0, at.col0, at.shift, at.heads,
      cfg.softcap ? b.getF64FloatAttr(*cfg.softcap) : FloatAttr(),
      cfg.alibi ? b.getUnitAttr() : UnitAttr(), transposedAttr(at));
  cloneRegionInto(cfg.score, grad.getScore());
}

Value KernelBuilder::layoutSlab(Value offsets, unsigned dim, Value idx) {
  Value size = memref::DimOp::create(b, offsets, dim);
  Value broadcast =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, size, cst(1));
  return arith::SelectOp::create(b, broadcast, cst(0), idx);
}

void KernelBuilder::forEachBlock(
    const BlockBoundsInputs<Value> &in, bool queryIsFixed,
    Value layoutOffsets, Value layoutBlocks, Value layoutBatch,
    Value layoutHead, function_ref<void(Value, Value)> body) {
  ValueDomain domain{b, b.getLoc()};
  SmallVector<AxisConstraint> axes = toAxes(masks.constraints, queryIsFixed);
  BlockBounds<Value> bounds = computeBlockBounds(domain, axes, in);

  auto visit = [&](ImplicitLocOpBuilder &nb, Value block) {
    Value isFull;
    if (masks.exact) {
      Value geLo = arith::CmpIOp::create(nb, arith::CmpIPredicate::sge,
                                         block, bounds.fullLo);
      Value ltHi = arith::CmpIOp::create(nb, arith::CmpIPredicate::slt,
                                         block, bounds.fullHi);
      isFull = arith::AndIOp::create(nb, geLo, ltHi);
    } else {
      // Part of a custom mask is not provably linear: mask every block.
      isFull = arith::ConstantIntOp::create(nb, nb.getI1Type(), 0);
    }
    body(block, isFull);
  };
  auto loopOver = [&](Value lo, Value hi) {
    auto loop = scf::ForOp::create(b, lo, hi, cst(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(loop.getBody()->getTerminator());
    visit(b, loop.getInductionVar());
  };

  if (!layoutOffsets) {
    loopOver(bounds.lo, bounds.hi);
    return;
  }
  // Walk the layout row's list of kept layout blocks; each covers `ratio`
  // tiles along the free axis, clipped to what the masks allow.
  int64_t layoutFixed = queryIsFixed ? cfg.layoutBlockQ : cfg.layoutBlockK;
  int64_t layoutFree = queryIsFixed ? cfg.layoutBlockK : cfg.layoutBlockQ;
  int64_t ratio = layoutFree / in.freeTile;
  Value lb = layoutSlab(layoutOffsets, 0, layoutBatch);
  Value lh = layoutSlab(layoutOffsets, 1, layoutHead);
  Value row = arith::DivUIOp::create(b, in.fixed0, cst(layoutFixed));
  auto loadIndex = [&](Value memref, ValueRange idx) -> Value {
    Value v = memref::LoadOp::create(b, memref, idx);
    return arith::IndexCastOp::create(b, b.getIndexType(), v);
  };
  Value start = loadIndex(layoutOffsets, {lb, lh, row});
  Value end = loadIndex(layoutOffsets,
                        {lb, lh, arith::AddIOp::create(b, row, cst(1))});
  auto entries = scf::ForOp::create(b, start, end, cst(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(entries.getBody()->getTerminator());
  Value col = loadIndex(layoutBlocks, {entries.getInductionVar()});
  Value first = arith::MulIOp::create(b, col, cst(ratio));
  Value last = arith::AddIOp::create(b, first, cst(ratio));
  loopOver(arith::MaxSIOp::create(b, first, bounds.lo),
           arith::MinSIOp::create(b, last, bounds.hi));
}

void emitGrid(ImplicitLocOpBuilder &b, ValueRange upperBounds,
              function_ref<void(ValueRange)> body) {
  SmallVector<OpFoldResult> ubs(upperBounds.begin(), upperBounds.end());
  scf::ForallOp::create(
      b, ubs, ValueRange{}, std::nullopt,
      [&](OpBuilder &nb, Location loc, ValueRange ivs) {
        auto scope = memref::AllocaScopeOp::create(nb, loc, TypeRange{});
        scf::InParallelOp::create(nb, loc);
        Block *block = new Block();
        scope.getBodyRegion().push_back(block);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(block);
        memref::AllocaScopeReturnOp::create(b, ValueRange{});
        b.setInsertionPointToStart(block);
        body(ivs);
      });
}

} // namespace flashc
