//===- RegisterTiles.cpp - f32 tiles kept in registers as mma fragments ---===//

#include "codegen/nvidia/RegisterTiles.h"
#include "codegen/nvidia/CtaBuilders.h"
#include "codegen/nvidia/ElementwiseTileOps.h"
#include "codegen/nvidia/MmaFragments.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace flashc::attn;

namespace flashc::nvidia {

/// f32 registers per thread the register tiles of one kernel may take: the
/// rest of the 255 hold fragments of the shared-memory operands, addresses
/// and the softmax's temporaries.
constexpr int64_t kRegisterBudget = 208;

bool isRegisterTile(Value tile) {
  auto type = dyn_cast<MemRefType>(tile.getType());
  auto space =
      type ? dyn_cast_or_null<gpu::AddressSpaceAttr>(type.getMemorySpace())
           : nullptr;
  return space && space.getValue() == gpu::AddressSpace::Private;
}

RegisterTileLayout RegisterTileLayout::of(MemRefType tile, int64_t warps) {
  RegisterTileLayout layout;
  layout.warps = warps;
  int64_t rows = tile.getShape()[0];
  layout.blocks = tile.getRank() == 2 ? tile.getShape()[1] / kMmaN : 0;
  if (rows % (kMmaM * warps) == 0) {
    layout.slabs = rows / (kMmaM * warps);
    return layout;
  }
  // Fewer rows than the warps' slabs: column groups of 2-D tiles, each a
  // whole number of warpgroups (64-row blocks, as wgmma forms them). Not
  // yet GPU-tested: narrower groups (the D = 256 dK/dV kernel's 32-row
  // tiles on mma.sync) stay in shared memory until they are.
  int64_t groups =
      rows % kWarpgroupRows == 0 && rows > 0 ? kMmaM * warps / rows : 0;
  if (tile.getRank() == 2 && groups > 0 && kMmaM * warps % rows == 0 &&
      layout.blocks % groups == 0) {
    layout.slabs = 1;
    layout.columnGroups = groups;
    layout.blocks /= groups;
  }
  return layout;
}

MemRefType RegisterTileLayout::physicalType(MLIRContext *context) const {
  Type f32 = Float32Type::get(context);
  if (isRow())
    return MemRefType::get({slabs, 2}, f32);
  return MemRefType::get({slabs, blocks, 4}, f32);
}

FragmentThread FragmentThread::build(OpBuilder &b, Location loc,
                                     int64_t threads, bool pinned) {
  FragmentThread t;
  Value tid;
  if (pinned) {
    auto read = LLVM::InlineAsmOp::create(
        b, loc, TypeRange{b.getI32Type()}, ValueRange{},
        "mov.u32 $0, %tid.x;", "=r", /*has_side_effects=*/true,
        /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
        LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
        /*operand_attrs=*/ArrayAttr());
    tid = arith::IndexCastUIOp::create(b, loc, b.getIndexType(),
                                       read.getResult(0));
  } else {
    tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  }
  t.lane = arith::RemUIOp::create(b, loc, tid, indexConstant(b, loc, 32));
  t.warp = arith::DivUIOp::create(b, loc, tid, indexConstant(b, loc, 32));
  t.g = arith::DivUIOp::create(b, loc, t.lane, indexConstant(b, loc, 4));
  t.t2 = arith::MulIOp::create(
      b, loc, arith::RemUIOp::create(b, loc, t.lane, indexConstant(b, loc, 4)),
      indexConstant(b, loc, 2));
  t.warps = threads / 32;
  return t;
}

Value FragmentThread::slabRow(OpBuilder &b, Location loc,
                              const RegisterTileLayout &layout,
                              int64_t slab) const {
  Value w16 = arith::MulIOp::create(b, loc, rowWarp(b, loc, layout),
                                   indexConstant(b, loc, kMmaM));
  return addIndex(b, loc, w16, kMmaM * slab * layout.rowWarps());
}

Value FragmentThread::rowWarp(OpBuilder &b, Location loc,
                              const RegisterTileLayout &layout) const {
  if (layout.columnGroups == 1)
    return warp;
  return remIndex(b, loc, warp, layout.rowWarps());
}

Value FragmentThread::row(OpBuilder &b, Location loc,
                          const RegisterTileLayout &layout, int64_t slab,
                          int64_t half) const {
  return addIndex(b, loc, addIndex(b, loc, slabRow(b, loc, layout, slab), g),
                  8 * half);
}

Value FragmentThread::col(OpBuilder &b, Location loc,
                          const RegisterTileLayout &layout, int64_t block,
                          int64_t e) const {
  if (layout.columnGroups == 1)
    return addIndex(b, loc, t2, kMmaN * block + e);
  return arith::AddIOp::create(b, loc, blockCol(b, loc, layout, block),
                               addIndex(b, loc, t2, e));
}

Value FragmentThread::blockCol(OpBuilder &b, Location loc,
                               const RegisterTileLayout &layout,
                               int64_t block) const {
  if (layout.columnGroups == 1)
    return indexConstant(b, loc, kMmaN * block);
  Value group = divIndex(b, loc, warp, layout.rowWarps());
  return addIndex(b, loc, mulIndex(b, loc, group, kMmaN * layout.blocks),
                  kMmaN * block);
}

SmallVector<FragmentElement>
fragmentElements(const RegisterTileLayout &layout) {
  SmallVector<FragmentElement> elements;
  for (int64_t slab = 0; slab < layout.slabs; ++slab)
    for (int64_t block = 0; block < layout.blocks; ++block)
      for (int64_t half = 0; half < 2; ++half)
        for (int64_t e = 0; e < 2; ++e)
          elements.push_back({slab, block, half, e});
  return elements;
}

//===----------------------------------------------------------------------===//
// Which tiles can live in registers
//===----------------------------------------------------------------------===//

namespace {

/// Static f32 tiles of 16-row slabs (and 8-column blocks) not yet placed.
bool isCandidate(memref::AllocaOp alloca) {
  MemRefType type = alloca.getType();
  if (!type.hasStaticShape() || !type.getElementType().isF32() ||
      type.getMemorySpace() || (type.getRank() != 1 && type.getRank() != 2))
    return false;
  if (type.getShape()[0] % kMmaM != 0)
    return false;
  return type.getRank() == 1 || type.getShape()[1] % kMmaN == 0;
}

int64_t rankOf(Value tile) {
  return cast<MemRefType>(tile.getType()).getRank();
}

/// Prunes candidates until every op on them can run on registers. Each
/// rule removes tiles; the loop stops when a pass removes none.
class Pruner {
public:
  explicit Pruner(SetVector<Value> &candidates) : cands(candidates) {}

  void run(func::FuncOp kernel) {
    bool changed = true;
    while (changed) {
      changed = false;
      kernel.walk([&](Operation *op) {
        if (llvm::none_of(op->getOperands(),
                          [&](Value v) { return cands.contains(v); }))
          return;
        changed |= prune(op);
      });
    }
  }

private:
  bool drop(Value tile) { return cands.remove(tile); }
  bool dropAll(ValueRange tiles) {
    bool changed = false;
    for (Value tile : tiles)
      changed |= drop(tile);
    return changed;
  }
  /// All of \p tiles in registers, or none.
  bool together(ValueRange tiles) {
    if (llvm::all_of(tiles, [&](Value v) { return cands.contains(v); }))
      return false;
    return dropAll(tiles);
  }

  bool prune(Operation *op) {
    // A register tile copied into a tile in shared memory (dS^T in 16 bits,
    // for the matmul that reads it transposed): each thread stores its
    // fragments there.
    if (auto copy = dyn_cast<TileCopyOp>(op);
        copy && rankOf(copy.getDest()) == 2 && !cands.contains(copy.getDest()))
      return false;
    if (isElementwiseTileOp(op)) {
      // 2-D operands walk the same fragments; 1-D ones are read at the row
      // and may stay in shared memory, but not the other way round.
      SmallVector<Value> full, rows;
      for (Value v : op->getOperands())
        if (isa<MemRefType>(v.getType()))
          (rankOf(v) == 2 ? full : rows).push_back(v);
      if (full.empty())
        return together(rows); // a 1-D fill or copy: one walk for all
      bool changed = together(full);
      // Read at the column, a 1-D tile is not in the rows' fragments.
      if (!cands.contains(full.front()) || readsRowSourcesByColumn(op))
        changed |= dropAll(rows);
      return changed;
    }
    return llvm::TypeSwitch<Operation *, bool>(op)
        .Case([&](TileLoadOp load) {
          return rankOf(load.getTile()) == 2 && drop(load.getTile());
        })
        // A 2-D tile added into global memory is staged in shared memory,
        // where the CTA adds it in bulk (or in coalesced atomics).
        .Case([&](TileStoreOp st) {
          return st.getAccumulate() && rankOf(st.getTile()) == 2 &&
                 drop(st.getTile());
        })
        .Case([&](TileMatmulOp mm) { return pruneMatmul(mm); })
        .Case([&](TileSoftmaxUpdateOp su) {
          return together(
              {su.getScores(), su.getMax(), su.getSum(), su.getAcc()});
        })
        .Case([&](TileFinalizeOp fin) {
          bool changed = together({fin.getAcc(), fin.getMax(), fin.getSum()});
          if (!cands.contains(fin.getAcc()))
            changed |= drop(fin.getLse());
          return changed;
        })
        .Default([&](Operation *other) { return dropAll(other->getOperands()); });
  }

  bool pruneMatmul(TileMatmulOp mm) {
    Value lhs = mm.getLhs(), rhs = mm.getRhs(), acc = mm.getAcc();
    auto lhsType = cast<MemRefType>(lhs.getType());
    auto rhsType = cast<MemRefType>(rhs.getType());
    // B fragments always come from shared memory (ldmatrix).
    bool changed = drop(rhs);
    Type mmaType =
        multiplicandType(lhsType.getElementType(), rhsType.getElementType());
    int64_t k = mm.getTransposeA() ? lhsType.getShape()[0]
                                   : lhsType.getShape()[1];
    if (!mmaType || k % kMmaK != 0)
      return changed | dropAll({lhs, acc});
    // An A operand in registers is the accumulator layout of a previous
    // mma: only for the rows the accumulator has in the same fragments.
    if (cands.contains(lhs) &&
        (mm.getTransposeA() || !cands.contains(acc) ||
         lhsType.getShape()[0] != cast<MemRefType>(acc.getType()).getShape()[0]))
      changed |= drop(lhs);
    return changed;
  }

  SetVector<Value> &cands;
};

} // namespace

namespace {
/// Where in a kernel each tile holds values: from its first op to its last
/// in program order, widened to a whole loop where the tile carries values
/// from one iteration to the next. Scratch tiles rebuilt in every iteration
/// (S, P, dS, a pair's dQ) then overlap only the tiles live at the same
/// time, so the registers a thread needs are the peak of the overlaps, not
/// the sum.
class LiveRanges {
public:
  explicit LiveRanges(func::FuncOp kernel) {
    int64_t next = 0;
    kernel.walk<WalkOrder::PreOrder>(
        [&](Operation *op) { position[op] = next++; });
    // Post-order: inner loops first, so rangeOf widens from the inside out.
    kernel.walk([&](Operation *op) {
      if (!isa<scf::ForOp, scf::WhileOp>(op))
        return;
      int64_t last = position[op];
      op->walk([&](Operation *inner) {
        last = std::max(last, position[inner]);
      });
      loops.push_back({op, position[op], last});
    });
  }

  /// [first, last] positions where \p tile is live.
  std::pair<int64_t, int64_t> rangeOf(Value tile) const {
    int64_t first = std::numeric_limits<int64_t>::max(), last = -1;
    Operation *firstOp = nullptr;
    for (Operation *user : tile.getUsers()) {
      int64_t pos = position.lookup(user);
      if (pos < first) {
        first = pos;
        firstOp = user;
      }
      last = std::max(last, pos);
    }
    if (!firstOp)
      return {0, -1};
    // The innermost loop that holds every use: the tile carries nothing from
    // one of its iterations to the next (nor out of it) if its first use
    // overwrites all of it in every iteration (an op of the loop's body
    // itself, not of a branch in it). Else it is live through that loop
    // and every loop around it.
    bool carried = false;
    for (auto [loop, start, end] : loops) {
      if (!(first > start && last <= end))
        continue;
      if (!carried && firstOp->getParentOp() == loop &&
          overwrites(firstOp, tile))
        break;
      carried = true;
      first = start;
      last = end;
    }
    return {first, last};
  }

private:
  static bool overwrites(Operation *op, Value tile) {
    return llvm::TypeSwitch<Operation *, bool>(op)
        .Case([&](TileFillOp o) { return o.getTile() == tile; })
        .Case([&](TileLoadOp o) { return o.getTile() == tile; })
        .Case([&](TileCopyOp o) { return o.getDest() == tile; })
        .Case([&](TileMatmulOp o) {
          return o.getAcc() == tile && !o.getAccumulate() &&
                 o.getLhs() != tile && o.getRhs() != tile;
        })
        .Default([](Operation *) { return false; });
  }

  llvm::DenseMap<Operation *, int64_t> position;
  /// Loops (scf.for, scf.while), inner ones first: the loop, its position
  /// and that of the last op inside it.
  SmallVector<std::tuple<Operation *, int64_t, int64_t>> loops;
};
} // namespace

/// The point where \p tiles split among \p warps take the most f32
/// registers a thread: how many, and which tiles are live there.
struct RegisterPeak {
  int64_t registers = 0;
  SmallVector<Value> live;
};
static RegisterPeak peakOf(const SetVector<Value> &tiles, int64_t warps,
                           const LiveRanges &ranges) {
  SmallVector<std::pair<int64_t, int64_t>> spans;
  for (Value tile : tiles)
    spans.push_back(ranges.rangeOf(tile));
  auto registersOf = [&](Value tile) {
    return RegisterTileLayout::of(cast<MemRefType>(tile.getType()), warps)
        .registers();
  };
  RegisterPeak peak;
  for (auto [at, unusedLast] : spans) {
    (void)unusedLast;
    RegisterPeak here;
    for (auto [tile, span] : llvm::zip(tiles, spans))
      if (span.first <= at && at <= span.second) {
        here.registers += registersOf(tile);
        here.live.push_back(tile);
      }
    if (here.registers > peak.registers)
      peak = std::move(here);
  }
  return peak;
}

/// Whether \p tile may be split by columns among warps (RegisterTiles.h):
/// every op on it forms, fills, copies out or stores it, column by column,
/// and none reduces its rows or reads it as an mma's A.
static bool splitsByColumns(Value tile, const SetVector<Value> &cands) {
  return llvm::all_of(tile.getUsers(), [&](Operation *user) {
    return llvm::TypeSwitch<Operation *, bool>(user)
        .Case([&](TileFillOp) { return true; })
        .Case([&](TileMatmulOp mm) {
          return mm.getAcc() == tile && mm.getRhs() != tile &&
                 !cands.contains(mm.getLhs());
        })
        .Case([&](TileCopyOp copy) {
          return copy.getSource() == tile && !cands.contains(copy.getDest());
        })
        .Case([&](TileStoreOp st) { return !st.getAccumulate(); })
        .Default([](Operation *) { return false; });
  });
}

/// The warps that can split every tile of \p cands within the register
/// budget, or 0. The warps split every tile's slabs, or a tile's columns
/// too where it allows (splitsByColumns). Fewer warps give
/// each more slabs, and every B fragment a warp loads serves all of them
/// (half the shared-memory reads at two slabs), so 4 warps come first, while
/// the registers allow; fewer than 4 would leave the CTA's loads and stores
/// to too few threads.
static int64_t pickWarps(const SetVector<Value> &cands, int64_t maxWarps,
                         const LiveRanges &ranges) {
  if (cands.empty())
    return 0;
  auto fits = [&](int64_t warps) {
    for (Value tile : cands) {
      RegisterTileLayout layout =
          RegisterTileLayout::of(cast<MemRefType>(tile.getType()), warps);
      if (layout.slabs == 0 ||
          (layout.columnGroups > 1 && !splitsByColumns(tile, cands)))
        return false;
    }
    return peakOf(cands, warps, ranges).registers <= kRegisterBudget;
  };
  for (int64_t w = 4; w <= maxWarps; w *= 2)
    if (fits(w))
      return w;
  return 0;
}

/// The tile to give back to shared memory when \p cands do not fit. Not one
/// of \p accumulators where there is another choice (a score tile, rebuilt
/// every iteration, rather than O, dK or dV, which live across the whole
/// loop). First, a tile of fewer rows than the others whose absence lets
/// the rest fit (a pair's dQ, Br rows, beside the dK/dV kernel's Bc-row
/// tiles: alone it can keep them from more warps); else the largest of
/// those live where the registers peak at 4 warps.
static Value pickTileToSpill(const SetVector<Value> &cands,
                             const llvm::SmallPtrSetImpl<Value> &accumulators,
                             int64_t maxWarps, const LiveRanges &ranges) {
  auto rowsOf = [](Value tile) {
    return cast<MemRefType>(tile.getType()).getShape()[0];
  };
  auto sizeOf = [](Value tile) {
    return cast<MemRefType>(tile.getType()).getNumElements();
  };
  SmallVector<Value> choices;
  for (Value tile : cands)
    if (!accumulators.contains(tile))
      choices.push_back(tile);
  if (choices.empty())
    choices.assign(cands.begin(), cands.end());
  int64_t maxRows = 0;
  for (Value tile : cands)
    maxRows = std::max(maxRows, rowsOf(tile));
  for (Value tile : choices) {
    if (rowsOf(tile) == maxRows)
      continue;
    SetVector<Value> rest = cands;
    rest.remove(tile);
    if (pickWarps(rest, maxWarps, ranges))
      return tile;
  }
  RegisterPeak peak = peakOf(cands, 4, ranges);
  SmallVector<Value> atPeak;
  for (Value tile : choices)
    if (llvm::is_contained(peak.live, tile))
      atPeak.push_back(tile);
  ArrayRef<Value> from = atPeak.empty() ? ArrayRef<Value>(choices) : atPeak;
  return *llvm::max_element(
      from, [&](Value a, Value b) { return sizeOf(a) < sizeOf(b); });
}

RegisterTilePlan planRegisterTiles(func::FuncOp kernel, int64_t maxWarps) {
  SetVector<Value> cands;
  kernel.walk([&](memref::AllocaOp alloca) {
    if (isCandidate(alloca))
      cands.insert(alloca.getResult());
  });
  Pruner(cands).run(kernel);
  RegisterTilePlan plan;
  // Over the budget: give tiles back to shared memory, scores before
  // accumulators, until the rest fit (the pruner then drops whatever must
  // follow them). All or nothing would leave even dK and dV in shared memory
  // (the D = 128 dK/dV kernel with dropout or a score modifier: 3-4 score
  // tiles and the accumulators, over the budget at 4 warps; or at 128 x 64
  // tiles).
  llvm::SmallPtrSet<Value, 8> accumulators;
  kernel.walk([&](TileMatmulOp mm) {
    if (mm.getAccumulate())
      accumulators.insert(mm.getAcc());
  });
  LiveRanges ranges(kernel);
  int64_t warps = 0;
  bool partial = false;
  while (!cands.empty() &&
         (warps = pickWarps(cands, maxWarps, ranges)) == 0) {
    cands.remove(pickTileToSpill(cands, accumulators, maxWarps, ranges));
    Pruner(cands).run(kernel);
    partial = true;
  }
  if (warps == 0)
    return plan;
  // A partial plan runs the CTA-wide loops over the tiles left in shared
  // memory on these warps instead of 8: worth it only for large register
  // tiles. Measured (H200, bench/results/2026-11-28-h200-session3/README.md):
  // dK and dV at D = 128 (128 f32 a thread) 3.3x faster than all in shared
  // memory; a D = 64 dQ alone (32 f32) 11 % slower.
  int64_t registers = peakOf(cands, warps, ranges).registers;
  if (partial && 2 * registers < kRegisterBudget)
    return plan;
  plan.tiles = std::move(cands);
  plan.warps = warps;
  plan.registers = registers;
  return plan;
}

} // namespace flashc::nvidia
