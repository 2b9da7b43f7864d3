//===- LowerRegisterTiles.cpp - tile ops on register tiles ----------------===//
//
// Every op on a register tile (RegisterTiles.h), unrolled over the fragments
// the thread holds, with constant indices into its private array only. The
// passes before have put barriers only where shared-memory tiles need them.
//
//===----------------------------------------------------------------------===//

#include "codegen/nvidia/CtaBuilders.h"
#include "codegen/nvidia/ElementwiseTileOps.h"
#include "codegen/nvidia/MmaFragments.h"
#include "codegen/nvidia/OnlineSoftmax.h"
#include "codegen/nvidia/Passes.h"
#include "codegen/nvidia/RegisterTiles.h"
#include "codegen/nvidia/Wgmma.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace flashc::attn;

namespace flashc::nvidia {

#define GEN_PASS_DEF_ATTNLOWERREGISTERTILESPASS
#include "codegen/nvidia/Passes.h.inc"

namespace {

/// Column blocks one K loop over shared-memory A operands computes: more
/// would keep more B fragments in flight than the registers hold.
constexpr int64_t kBlocksPerKLoop = 8;

/// Builds the fragment code of one kernel's ops on register tiles.
class RegisterTileLowering {
public:
  RegisterTileLowering(gpu::GPUFuncOp kernel, bool pinThreadIndex)
      : kernel(kernel), pinThreadIndex(pinThreadIndex) {
    threads = 32;
    if (DenseI32ArrayAttr known = kernel.getKnownBlockSizeAttr())
      threads = known[0];
  }

  LogicalResult run() {
    SmallVector<memref::AllocaOp> logical;
    kernel.walk([&](memref::AllocaOp alloca) {
      if (isRegisterTile(alloca))
        logical.push_back(alloca);
    });
    if (logical.empty())
      return success();
    OpBuilder b = OpBuilder::atBlockBegin(&kernel.getBody().front());
    for (memref::AllocaOp alloca : logical) {
      RegisterTileLayout layout =
          RegisterTileLayout::of(alloca.getType(), threads / 32);
      if (layout.slabs < 1)
        return alloca.emitError("register tile rows are not a multiple of 16 "
                                "x the kernel's warps, nor split by columns "
                                "among them");
      layouts[alloca] = layout;
      physical[alloca] = memref::AllocaOp::create(
          b, alloca.getLoc(), layout.physicalType(b.getContext()));
    }
    SmallVector<Operation *> ops;
    kernel.walk([&](Operation *op) {
      if (op->getDialect() == op->getContext()->getLoadedDialect("attn") &&
          llvm::any_of(op->getOperands(),
                       [&](Value v) { return physical.count(v); }))
        ops.push_back(op);
    });
    for (Operation *op : ops)
      if (!lowered.contains(op) && failed(lower(op)))
        return failure();
    for (memref::AllocaOp alloca : logical) {
      if (!alloca->use_empty())
        return alloca.emitError("register tile still in use after lowering");
      alloca.erase();
    }
    return success();
  }

private:
  LogicalResult lower(Operation *op) {
    OpBuilder b(op);
    ft = FragmentThread::build(b, op->getLoc(), threads, pinThreadIndex);
    auto copy = dyn_cast<TileCopyOp>(op);
    LogicalResult result =
        copy && !physical.count(copy.getDest())
            ? lowerCopyToShared(b, copy)
        : isElementwiseTileOp(op)
            ? lowerElementwise(b, op)
            : llvm::TypeSwitch<Operation *, LogicalResult>(op)
                  .Case([&](TileMatmulOp o) { return lowerMatmul(b, o); })
                  .Case([&](TileSoftmaxUpdateOp o) {
                    return lowerSoftmaxUpdate(b, o);
                  })
                  .Case([&](TileFinalizeOp o) { return lowerFinalize(b, o); })
                  .Case([&](TileLoadOp o) { return lowerLoad(b, o); })
                  .Case([&](TileStoreOp o) { return lowerStore(b, o); })
                  .Default([](Operation *o) {
                    return o->emitError("no register-tile lowering for ")
                           << o->getName();
                  });
    if (succeeded(result))
      op->erase();
    return result;
  }

  /// Whether every tile of \p tiles is a register tile; an error on \p op
  /// naming its operand if not (a pass before would have put that op's
  /// tiles in registers together).
  LogicalResult requireRegisters(Operation *op, ValueRange tiles) {
    for (Value tile : tiles)
      if (!physical.count(tile))
        return op->emitError("operand ")
               << tile.getType() << " must be a register tile as well";
    return success();
  }
  const RegisterTileLayout &layoutOf(Value tile) {
    return layouts.find(tile)->second;
  }

  // Element access ------------------------------------------------------===//

  Value load(OpBuilder &b, Location loc, Value tile, ArrayRef<int64_t> at) {
    SmallVector<Value> idx;
    for (int64_t i : at)
      idx.push_back(indexConstant(b, loc, i));
    return memref::LoadOp::create(b, loc, physical[tile], idx);
  }
  void store(OpBuilder &b, Location loc, Value value, Value tile,
             ArrayRef<int64_t> at) {
    SmallVector<Value> idx;
    for (int64_t i : at)
      idx.push_back(indexConstant(b, loc, i));
    memref::StoreOp::create(b, loc, value, physical[tile], idx);
  }
  /// Row (slab, half) of 1-D tile \p tile, in registers or shared memory,
  /// beside a tile of \p layout.
  Value loadRow(OpBuilder &b, Location loc, const RegisterTileLayout &layout,
                Value tile, int64_t slab, int64_t half) {
    if (physical.count(tile))
      return load(b, loc, tile, {slab, half});
    return loadAsF32(b, loc, tile, ft.row(b, loc, layout, slab, half));
  }
  /// Stores row (slab, half) of 1-D tile \p tile; in shared memory, lane
  /// t = 0 of the quad writes it.
  void storeRow(OpBuilder &b, Location loc, const RegisterTileLayout &layout,
                Value value, Value tile, int64_t slab, int64_t half) {
    if (physical.count(tile))
      return store(b, loc, value, tile, {slab, half});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifQuadLeader(b, loc).thenBlock());
    storeFromF32(b, loc, value, tile, ft.row(b, loc, layout, slab, half));
  }
  scf::IfOp ifQuadLeader(OpBuilder &b, Location loc) {
    Value leader = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                         ft.t2, indexConstant(b, loc, 0));
    return scf::IfOp::create(b, loc, leader, /*withElseRegion=*/false);
  }

  // Element-wise ops ----------------------------------------------------===//

  LogicalResult lowerElementwise(OpBuilder &b, Operation *op) {
    Location loc = op->getLoc();
    std::optional<ElementFormula> f = buildElementFormula(b, op);
    if (!f->compute)
      return success();
    if (!physical.count(f->dest))
      return op->emitError("element-wise op writes a shared-memory tile from "
                           "register tiles");
    const RegisterTileLayout &layout = layouts.find(f->dest)->second;
    if (f->rowSourcesByColumn &&
        (layout.isRow() || llvm::any_of(f->rowSources, [&](Value tile) {
           return physical.count(tile);
         })))
      return op->emitError("a 1-D tile read at the column must be in shared "
                           "memory, and the tile written 2-D");
    for (int64_t slab = 0; slab < layout.slabs; ++slab)
      for (int64_t half = 0; half < 2; ++half) {
        Value row = ft.row(b, loc, layout, slab, half);
        SmallVector<Value> rows;
        if (!f->rowSourcesByColumn)
          for (Value tile : f->rowSources)
            rows.push_back(loadRow(b, loc, layout, tile, slab, half));
        if (layout.isRow()) {
          SmallVector<Value> in;
          for (Value tile : f->sources)
            in.push_back(loadRow(b, loc, layout, tile, slab, half));
          storeRow(b, loc, layout, f->compute(b, loc, {row}, in, rows), f->dest,
                   slab, half);
          continue;
        }
        for (int64_t block = 0; block < layout.blocks; ++block)
          for (int64_t e = 0; e < 2; ++e) {
            FragmentElement el{slab, block, half, e};
            SmallVector<Value> in;
            for (Value tile : f->sources)
              in.push_back(load(b, loc, tile, el.at()));
            Value col = ft.col(b, loc, layout, block, e);
            if (f->rowSourcesByColumn) {
              rows.clear();
              for (Value tile : f->rowSources)
                rows.push_back(loadAsF32(b, loc, tile, col));
            }
            store(b, loc, f->compute(b, loc, {row, col}, in, rows), f->dest,
                  el.at());
          }
      }
    return success();
  }

  // Matmul --------------------------------------------------------------===//

  LogicalResult lowerMatmul(OpBuilder &b, TileMatmulOp op) {
    Location loc = op.getLoc();
    Value lhs = op.getLhs(), rhs = op.getRhs(), acc = op.getAcc();
    if (!physical.count(acc) || physical.count(rhs))
      return op.emitError("register matmul needs its accumulator in "
                          "registers and B in shared memory");
    bool wgmma = op->hasAttr(kWgmmaAttr);
    if (!wgmma && (isSwizzledTile(lhs) || isSwizzledTile(rhs)))
      return op.emitError("a swizzled tile is read only by wgmma");
    Type mmaType = multiplicandType(elementTypeOf(lhs), elementTypeOf(rhs));
    int64_t k = op.getTransposeA() ? tileShape(lhs)[0] : tileShape(lhs)[1];
    double alpha = op.getAlpha().convertToDouble();
    // Accumulating at alpha = 1 starts the K loop from the tile's values.
    bool fromAcc = op.getAccumulate() && alpha == 1.0;
    const RegisterTileLayout &layout = layoutOf(acc);
    Value zero = f32Constant(b, loc, 0.0);
    int64_t blocks = layout.blocks, slabs = layout.slabs;

    // A wgmma product that a tile.store writes out, or a copy puts in
    // shared memory, right after (a pair's dQ, added into dq_accum) is
    // formed and moved 64 columns at a time, so that only those columns
    // take registers beside dK and dV.
    Operation *consumer = consumedRightAfter(op);
    int64_t chunk = wgmma && consumer && blocks % 8 == 0 ? 8 : blocks;
    for (int64_t j0 = 0; j0 < blocks; j0 += chunk) {
      // frags[(slab * chunk + j - j0) * 4 + c]: c of column block j.
      SmallVector<Value> frags;
      for (int64_t slab = 0; slab < slabs; ++slab)
        for (int64_t j = j0; j < j0 + chunk; ++j)
          for (int64_t c = 0; c < 4; ++c)
            frags.push_back(fromAcc ? load(b, loc, acc, {slab, j, c}) : zero);
      if (wgmma)
        frags = wgmmaFragments(b, op, mmaType, k, std::move(frags), j0, chunk);
      else
        frags = mmaFragments(b, op, mmaType, k, std::move(frags));
      storeMatmulResult(b, op, frags, fromAcc, j0, chunk);
      if (auto store = dyn_cast_or_null<TileStoreOp>(consumer))
        lowerStoreBlocks(b, store, j0, chunk);
      else if (auto copy = dyn_cast_or_null<TileCopyOp>(consumer))
        lowerCopyToSharedBlocks(b, copy, j0, chunk);
    }
    if (consumer) {
      lowered.insert(consumer);
      consumer->erase();
    }
    return success();
  }

  /// The op right after \p op that takes its accumulator out, when nothing
  /// else uses it (the product is not kept): a tile.store of it, or a copy
  /// of it into shared memory.
  Operation *consumedRightAfter(TileMatmulOp op) {
    Operation *next = op->getNextNode();
    Value acc = op.getAcc();
    auto store = dyn_cast_or_null<TileStoreOp>(next);
    auto copy = dyn_cast_or_null<TileCopyOp>(next);
    bool takesOut = (store && store.getTile() == acc) ||
                    (copy && copy.getSource() == acc &&
                     !physical.count(copy.getDest()));
    if (!takesOut || op.getAccumulate() ||
        !llvm::all_of(acc.getUsers(), [&](Operation *user) {
          return user == op.getOperation() || user == next;
        }))
      return nullptr;
    return next;
  }

  /// The A fragments (four 16-bit pairs) of k step \p kk of each slab of
  /// register tile \p lhs: its accumulator fragments of column blocks
  /// 2 kk, 2 kk + 1 (the mma.sync and wgmma A layouts).
  SmallVector<SmallVector<Value>> registerA(OpBuilder &b, Location loc,
                                            Value lhs, int64_t slabs,
                                            int64_t kk, Type mmaType) {
    SmallVector<SmallVector<Value>> a(slabs);
    for (int64_t slab = 0; slab < slabs; ++slab)
      for (auto [block, half] : {std::pair<int64_t, int64_t>{2 * kk, 0},
                                 {2 * kk, 1},
                                 {2 * kk + 1, 0},
                                 {2 * kk + 1, 1}}) {
        Value pair = vector::FromElementsOp::create(
            b, loc, VectorType::get({2}, b.getF32Type()),
            ValueRange{load(b, loc, lhs, {slab, block, 2 * half}),
                       load(b, loc, lhs, {slab, block, 2 * half + 1})});
        a[slab].push_back(convertFloat(b, loc, pair, mmaType));
      }
    return a;
  }

  /// \p frags after D = A B + D on wgmma: slab s of warp w is the 64-row
  /// block s W/4 + w/4 of the accumulator (Wgmma.h), for W row warps; its
  /// columns those of the warp's column group.
  /// Only column blocks [j0, j0 + count) of the accumulator: \p frags
  /// holds those.
  SmallVector<Value> wgmmaFragments(OpBuilder &b, TileMatmulOp op,
                                    Type mmaType, int64_t k,
                                    SmallVector<Value> frags, int64_t j0,
                                    int64_t count) {
    Location loc = op.getLoc();
    Value lhs = op.getLhs(), rhs = op.getRhs();
    const RegisterTileLayout &layout = layoutOf(op.getAcc());
    int64_t perSlab = 4 * count;
    Value n0 = ft.blockCol(b, loc, layout, j0);
    bool lhsInRegisters = physical.count(lhs);
    std::optional<WgmmaDescriptors> descA;
    if (!lhsInRegisters)
      descA.emplace(b, loc, lhs);
    WgmmaDescriptors descB(b, loc, rhs);
    // The first row of the warp's warpgroup in a 64-row block.
    Value groupRow = mulIndex(
        b, loc, divIndex(b, loc, ft.rowWarp(b, loc, layout), 4), 64);
    NVVM::WgmmaFenceAlignedOp::create(b, loc);
    for (int64_t kk = 0; kk < k / kMmaK; ++kk) {
      SmallVector<SmallVector<Value>> aRegs;
      if (lhsInRegisters)
        aRegs = registerA(b, loc, lhs, layout.slabs, kk, mmaType);
      Value bDesc = op.getTransposeB()
                        ? descB.kMajor(b, loc, n0, kMmaK * kk)
                        : descB.mnMajor(b, loc, kMmaK * kk, n0);
      for (int64_t slab = 0; slab < layout.slabs; ++slab) {
        WgmmaA a;
        if (lhsInRegisters) {
          a.registers.assign(aRegs[slab].begin(), aRegs[slab].end());
        } else {
          Value row0 = addIndex(b, loc, groupRow,
                                64 * slab * (layout.rowWarps() / 4));
          a.mnMajor = op.getTransposeA();
          a.descriptor = a.mnMajor ? descA->mnMajor(b, loc, kMmaK * kk, row0)
                                   : descA->kMajor(b, loc, row0, kMmaK * kk);
        }
        ArrayRef<Value> d =
            ArrayRef<Value>(frags).slice(slab * perSlab, perSlab);
        SmallVector<Value> out = emitWgmma(b, loc, mmaType, a, bDesc,
                                           !op.getTransposeB(), d);
        std::copy(out.begin(), out.end(), frags.begin() + slab * perSlab);
      }
    }
    return emitWgmmaWait(b, loc, frags);
  }

  /// \p frags after D = A B + D on mma.sync m16n8k16.
  SmallVector<Value> mmaFragments(OpBuilder &b, TileMatmulOp op, Type mmaType,
                                  int64_t k, SmallVector<Value> frags) {
    Location loc = op.getLoc();
    Value lhs = op.getLhs(), rhs = op.getRhs();
    bool lhsInRegisters = physical.count(lhs);
    const RegisterTileLayout &layout = layoutOf(op.getAcc());
    int64_t blocks = layout.blocks, slabs = layout.slabs;
    LaneCoords lane = laneCoords(b, loc, ft.lane);
    FragmentLoader loadB(rhs, op.getTransposeB(), mmaType, lane);
    // One K step over column blocks [j0, j1): each B fragment pair is
    // loaded once and used by every slab of the warp.
    auto step = [&](OpBuilder &b, Location loc, ArrayRef<SmallVector<Value>> a,
                    Value k0, int64_t j0, int64_t j1, ValueRange in) {
      SmallVector<Value> out(in.begin(), in.end());
      for (int64_t j = j0; j < j1;) {
        int64_t count = j + 1 < j1 ? 2 : 1;
        SmallVector<Value> bRegs =
            loadB.loadB(b, loc, ft.blockCol(b, loc, layout, j), k0, count);
        for (int64_t i = 0; i < count; ++i, ++j)
          for (int64_t slab = 0; slab < slabs; ++slab) {
            int64_t base = 4 * (slab * (j1 - j0) + (j - j0));
            SmallVector<Value> c(out.begin() + base, out.begin() + base + 4);
            SmallVector<Value> d =
                emitMma(b, loc, mmaType, a[slab],
                        ArrayRef<Value>(bRegs).slice(2 * i, 2), c);
            std::copy(d.begin(), d.end(), out.begin() + base);
          }
      }
      return out;
    };
    // The fragments of blocks [j0, j1) of every slab, in step's order.
    auto gather = [&](int64_t j0, int64_t j1) {
      SmallVector<Value> part;
      for (int64_t slab = 0; slab < slabs; ++slab)
        for (int64_t j = j0; j < j1; ++j)
          for (int64_t c = 0; c < 4; ++c)
            part.push_back(frags[(slab * blocks + j) * 4 + c]);
      return part;
    };
    auto scatter = [&](int64_t j0, int64_t j1, ValueRange part) {
      int64_t i = 0;
      for (int64_t slab = 0; slab < slabs; ++slab)
        for (int64_t j = j0; j < j1; ++j)
          for (int64_t c = 0; c < 4; ++c)
            frags[(slab * blocks + j) * 4 + c] = part[i++];
    };
    if (lhsInRegisters) {
      for (int64_t kk = 0; kk < k / kMmaK; ++kk)
        scatter(0, blocks,
                step(b, loc, registerA(b, loc, lhs, slabs, kk, mmaType),
                     indexConstant(b, loc, kMmaK * kk), 0, blocks,
                     gather(0, blocks)));
    } else {
      // A from shared memory: a K loop per chunk of column blocks (fewer
      // fragments in flight than the whole row of blocks).
      FragmentLoader loadA(lhs, op.getTransposeA(), mmaType, lane);
      int64_t chunk = std::min<int64_t>(blocks, kBlocksPerKLoop);
      for (int64_t j0 = 0; j0 < blocks; j0 += chunk) {
        int64_t j1 = std::min(blocks, j0 + chunk);
        auto kLoop = scf::ForOp::create(b, loc, indexConstant(b, loc, 0),
                                        indexConstant(b, loc, k),
                                        indexConstant(b, loc, kMmaK),
                                        gather(j0, j1));
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(kLoop.getBody());
          Value k0 = kLoop.getInductionVar();
          SmallVector<SmallVector<Value>> a;
          for (int64_t slab = 0; slab < slabs; ++slab)
            a.push_back(
                loadA.loadA(b, loc, ft.slabRow(b, loc, layout, slab), k0));
          scf::YieldOp::create(
              b, loc, step(b, loc, a, k0, j0, j1, kLoop.getRegionIterArgs()));
        }
        scatter(j0, j1, kLoop.getResults());
      }
    }
    return frags;
  }

  /// acc = alpha * D (+ acc), D = \p frags (which already include acc when
  /// \p fromAcc).
  /// \p frags: column blocks [j0, j0 + count) of the accumulator.
  void storeMatmulResult(OpBuilder &b, TileMatmulOp op, ArrayRef<Value> frags,
                         bool fromAcc, int64_t j0, int64_t count) {
    Location loc = op.getLoc();
    Value acc = op.getAcc();
    double alpha = op.getAlpha().convertToDouble();
    const RegisterTileLayout &layout = layoutOf(acc);
    int64_t slabs = layout.slabs;
    Value alphaV = f32Constant(b, loc, alpha);
    for (int64_t slab = 0; slab < slabs; ++slab)
      for (int64_t j = j0; j < j0 + count; ++j)
        for (int64_t c = 0; c < 4; ++c) {
          Value d = frags[(slab * count + j - j0) * 4 + c];
          if (!fromAcc) {
            if (alpha != 1.0)
              d = arith::MulFOp::create(b, loc, d, alphaV);
            if (op.getAccumulate())
              d = arith::AddFOp::create(b, loc, load(b, loc, acc, {slab, j, c}),
                                        d);
          }
          store(b, loc, d, acc, {slab, j, c});
        }
  }

  // Softmax -------------------------------------------------------------===//

  /// Combines \p value across the 4 lanes of a quad (the thread's row).
  Value quadReduce(OpBuilder &b, Location loc, Value value, bool isMax) {
    for (int32_t offset : {1, 2}) {
      Value other = gpu::ShuffleOp::create(b, loc, value, offset, /*width=*/32,
                                           gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      value = isMax ? arith::MaximumFOp::create(b, loc, value, other)
                          .getResult()
                    : arith::AddFOp::create(b, loc, value, other).getResult();
    }
    return value;
  }

  LogicalResult lowerSoftmaxUpdate(OpBuilder &b, TileSoftmaxUpdateOp op) {
    Location loc = op.getLoc();
    Value scores = op.getScores(), acc = op.getAcc();
    if (failed(requireRegisters(op, {scores, op.getMax(), op.getSum(), acc})))
      return failure();
    const RegisterTileLayout &s = layoutOf(scores), &a = layoutOf(acc);
    for (int64_t slab = 0; slab < s.slabs; ++slab)
      for (int64_t half = 0; half < 2; ++half) {
        auto eachScore = [&](auto body) {
          for (int64_t j = 0; j < s.blocks; ++j)
            for (int64_t e = 0; e < 2; ++e)
              body(ArrayRef<int64_t>{slab, j, 2 * half + e});
        };
        Value mOld = load(b, loc, op.getMax(), {slab, half});
        Value lOld = load(b, loc, op.getSum(), {slab, half});
        Value rowMax = f32NegInf(b, loc);
        eachScore([&](ArrayRef<int64_t> at) {
          rowMax = arith::MaximumFOp::create(b, loc, rowMax,
                                             load(b, loc, scores, at));
        });
        OnlineSoftmaxStep st =
            emitOnlineSoftmaxStep(b, loc, mOld, quadReduce(b, loc, rowMax, true));
        Value rowSum = f32Constant(b, loc, 0.0);
        eachScore([&](ArrayRef<int64_t> at) {
          Value p = emitProbability(b, loc, load(b, loc, scores, at), st);
          store(b, loc, p, scores, at);
          rowSum = arith::AddFOp::create(b, loc, rowSum, p);
        });
        rowSum = quadReduce(b, loc, rowSum, false);
        for (int64_t j = 0; j < a.blocks; ++j)
          for (int64_t e = 0; e < 2; ++e) {
            SmallVector<int64_t> at = {slab, j, 2 * half + e};
            store(b, loc,
                  arith::MulFOp::create(b, loc, st.alpha, load(b, loc, acc, at)),
                  acc, at);
          }
        store(b, loc, emitRescaledSum(b, loc, st, lOld, rowSum), op.getSum(),
              {slab, half});
        store(b, loc, st.max, op.getMax(), {slab, half});
      }
    return success();
  }

  LogicalResult lowerFinalize(OpBuilder &b, TileFinalizeOp op) {
    Location loc = op.getLoc();
    Value acc = op.getAcc();
    if (failed(requireRegisters(op, {acc, op.getMax(), op.getSum()})))
      return failure();
    const RegisterTileLayout &a = layoutOf(acc);
    for (int64_t slab = 0; slab < a.slabs; ++slab)
      for (int64_t half = 0; half < 2; ++half) {
        FinalizedRow row =
            emitFinalizedRow(b, loc, load(b, loc, op.getMax(), {slab, half}),
                             load(b, loc, op.getSum(), {slab, half}));
        for (int64_t j = 0; j < a.blocks; ++j)
          for (int64_t e = 0; e < 2; ++e) {
            SmallVector<int64_t> at = {slab, j, 2 * half + e};
            store(b, loc, emitNormalized(b, loc, row, load(b, loc, acc, at)),
                  acc, at);
          }
        storeRow(b, loc, a, row.lse, op.getLse(), slab, half);
      }
    return success();
  }

  // Global memory -------------------------------------------------------===//

  /// Whether tile row \p row may touch the tensor: row < rows and
  /// row0 + row < the tensor's rows.
  Value rowInRange(OpBuilder &b, Location loc, Value tensor, Value row0,
                   Value rows, Value row) {
    Value tensorRows =
        memref::DimOp::create(b, loc, tensor, indexConstant(b, loc, 2));
    Value global = arith::AddIOp::create(b, loc, row0, row);
    return arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, row, rows),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, global,
                              tensorRows));
  }

  /// A register tile copied into a shared tile (dS^T for the matmul that
  /// reads it transposed): each thread writes its fragments' column pairs,
  /// converted, where the tile keeps them (swizzled for wgmma).
  LogicalResult lowerCopyToShared(OpBuilder &b, TileCopyOp op) {
    if (failed(requireRegisters(op, {op.getSource()})))
      return failure();
    const RegisterTileLayout &layout = layoutOf(op.getSource());
    if (layout.isRow())
      return op.emitError("a 1-D register tile is not copied to shared memory");
    lowerCopyToSharedBlocks(b, op, 0, layout.blocks);
    return success();
  }

  /// Column blocks [j0, j0 + count) of lowerCopyToShared.
  void lowerCopyToSharedBlocks(OpBuilder &b, TileCopyOp op, int64_t j0,
                               int64_t count) {
    Location loc = op.getLoc();
    Value tile = op.getSource(), dest = op.getDest();
    const RegisterTileLayout &layout = layoutOf(tile);
    auto destType = cast<MemRefType>(dest.getType());
    Type elementType = destType.getElementType();
    bool swizzled = isSwizzledTile(dest);
    for (const FragmentElement &at : fragmentElements(layout)) {
      if (at.e != 0 || at.block < j0 || at.block >= j0 + count)
        continue;
      Value pair = vector::FromElementsOp::create(
          b, loc, VectorType::get({2}, b.getF32Type()),
          ValueRange{load(b, loc, tile, at.at()),
                     load(b, loc, tile, {at.slab, at.block, 2 * at.half + 1})});
      Value row, col = ft.col(b, loc, layout, at.block, 0);
      if (swizzled) {
        // Row g + 8 is 8 swizzled rows below row g, in the same chunk: a
        // constant apart, which the address arithmetic folds.
        Value offset = addIndex(
            b, loc,
            swizzledOffset(b, loc, destType,
                           ft.row(b, loc, layout, at.slab, /*half=*/0), col),
            kSwizzleEightRows * at.half);
        std::tie(row, col) = delinearize(b, loc, destType, offset);
      } else {
        row = ft.row(b, loc, layout, at.slab, at.half);
      }
      vector::StoreOp::create(b, loc, convertFloat(b, loc, pair, elementType),
                              dest, ValueRange{row, col});
    }
  }

  LogicalResult lowerLoad(OpBuilder &b, TileLoadOp op) {
    Location loc = op.getLoc();
    Value tile = op.getTile(), source = op.getSource();
    const RegisterTileLayout &layout = layoutOf(tile);
    if (!layout.isRow())
      return op.emitError("only 1-D register tiles are loaded");
    Type f32 = b.getF32Type();
    for (int64_t slab = 0; slab < layout.slabs; ++slab)
      for (int64_t half = 0; half < 2; ++half) {
        Value row = ft.row(b, loc, layout, slab, half);
        auto ifOp = scf::IfOp::create(
            b, loc, TypeRange{f32},
            rowInRange(b, loc, source, op.getRow0(), op.getRows(), row),
            /*withElseRegion=*/true);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifOp.thenBlock());
          Value at = arith::AddIOp::create(b, loc, op.getRow0(), row);
          scf::YieldOp::create(
              b, loc,
              loadAsF32(b, loc, source, {op.getBatch(), op.getHead(), at}));
          b.setInsertionPointToStart(ifOp.elseBlock());
          scf::YieldOp::create(b, loc, f32Constant(b, loc, 0.0));
        }
        store(b, loc, ifOp.getResult(0), tile, {slab, half});
      }
    return success();
  }

  LogicalResult lowerStore(OpBuilder &b, TileStoreOp op) {
    const RegisterTileLayout &layout = layoutOf(op.getTile());
    lowerStoreBlocks(b, op, 0, layout.blocks);
    return success();
  }

  /// Writes column blocks [j0, j0 + count) of a 2-D tile (all of a 1-D one).
  void lowerStoreBlocks(OpBuilder &b, TileStoreOp op, int64_t j0,
                        int64_t count) {
    Location loc = op.getLoc();
    Value tile = op.getTile(), dest = op.getDest();
    const RegisterTileLayout &layout = layoutOf(tile);
    Type destType = elementTypeOf(dest);
    // Rows of a 1-D tile are written by lane t = 0 of each quad.
    std::optional<scf::IfOp> leader;
    OpBuilder::InsertionGuard guard(b);
    if (layout.isRow()) {
      leader = ifQuadLeader(b, loc);
      b.setInsertionPointToStart(leader->thenBlock());
    }
    for (int64_t slab = 0; slab < layout.slabs; ++slab)
      for (int64_t half = 0; half < 2; ++half) {
        Value row = ft.row(b, loc, layout, slab, half);
        auto ifOp = scf::IfOp::create(
            b, loc, rowInRange(b, loc, dest, op.getRow0(), op.getRows(), row),
            /*withElseRegion=*/false);
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        SmallVector<Value> at = {op.getBatch(), op.getHead(),
                                 arith::AddIOp::create(b, loc, op.getRow0(),
                                                       row)};
        auto write = [&](Value value, ValueRange idx) {
          if (!op.getAccumulate())
            return storeFromF32(b, loc, value, dest, idx);
          // Where the tiles of several CTAs meet: an atomic add.
          memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::addf,
                                      convertFloat(b, loc, value, destType),
                                      dest, idx);
        };
        if (layout.isRow()) {
          write(load(b, loc, tile, {slab, half}), at);
          continue;
        }
        for (int64_t j = j0; j < j0 + count; ++j)
          for (int64_t e = 0; e < 2; ++e) {
            SmallVector<Value> idx = at;
            idx.push_back(ft.col(b, loc, layout, j, e));
            write(load(b, loc, tile, {slab, j, 2 * half + e}), idx);
          }
      }
  }

  gpu::GPUFuncOp kernel;
  bool pinThreadIndex;
  int64_t threads;
  FragmentThread ft;
  llvm::DenseMap<Value, Value> physical;
  llvm::DenseMap<Value, RegisterTileLayout> layouts;
  /// Ops lowered (and erased) along with an earlier one.
  llvm::DenseSet<Operation *> lowered;
};

struct AttnLowerRegisterTilesPass
    : impl::AttnLowerRegisterTilesPassBase<AttnLowerRegisterTilesPass> {
  using Base::Base;

  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](gpu::GPUFuncOp kernel) {
      return failed(RegisterTileLowering(kernel, pinThreadIndex).run())
                 ? WalkResult::interrupt()
                 : WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
} // namespace flashc::nvidia
