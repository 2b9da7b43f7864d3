//===- LowerTileMatmulToMma.cpp - tile.matmul on tensor cores -------------===//
//
// C[M x N] = alpha * op(A) op(B) (+ C) with warp-level mma.sync m16n8k16 and
// f32 accumulation. The accumulator tile is split into 16 x 8 blocks; warp w
// owns slabs of 16 rows and a run of 8-column blocks, keeps their fragments
// in registers across the K loop and writes them back at the end. Operands
// come from shared memory:
//
//   16-bit, stored as the fragment wants (A row-major, B as [N][K]):
//     ldmatrix;
//   16-bit, stored the other way round: ldmatrix.trans;
//   f32 (the P or dS tiles of attention): element loads, converted to the
//     other operand's type on the way into the fragment, as FlashAttention-2
//     does with P.
//
// Fragment layouts (PTX ISA, mma.m16n8k16 with .f16/.bf16): lane = 4g + t;
//   A: a0 = A[g][2t..2t+1], a1 = A[g+8][..], a2 = A[g][2t+8..], a3 =
//   A[g+8][2t+8..] B: b0 = B[2t..2t+1][g], b1 = B[2t+8..2t+9][g] C: c0,c1 =
//   C[g][2t..2t+1], c2,c3 = C[g+8][2t..2t+1]
//
//===----------------------------------------------------------------------===//

#include "codegen/nvidia/CtaBuilders.h"
#include "codegen/nvidia/LowerTileOpsToGpu.h"
#include "codegen/nvidia/Passes.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLExtras.h"

#include <numeric>

using namespace mlir;
using namespace flashc::attn;

namespace flashc::nvidia {

#define GEN_PASS_DEF_ATTNLOWERTILEMATMULTOMMAPASS
#include "codegen/nvidia/Passes.h.inc"

namespace {

constexpr int64_t kMmaM = 16, kMmaN = 8, kMmaK = 16;
/// Column blocks whose fragments a warp keeps at once: 16 x 4 f32 registers.
constexpr int64_t kMaxBlocksInFlight = 16;

Type elementTypeOf(Value memref) {
  return cast<MemRefType>(memref.getType()).getElementType();
}

bool inSharedMemory(Value memref) {
  auto space = dyn_cast_or_null<gpu::AddressSpaceAttr>(
      cast<MemRefType>(memref.getType()).getMemorySpace());
  return space && space.getValue() == gpu::AddressSpace::Workgroup;
}

/// The 16-bit type the tensor cores multiply in for operands of types \p a
/// and \p b, or null.
Type multiplicandType(Type a, Type b) {
  if (a.isF32() && b.isF32())
    return nullptr;
  if (a.isF32())
    return b;
  if (b.isF32())
    return a;
  return a == b ? a : nullptr;
}

/// The lane's coordinates within mma fragments.
struct LaneCoords {
  Value g;      ///< lane / 4: fragment row (A, C) or column (B)
  Value t2;     ///< 2 * (lane % 4): first fragment column (A, C) or row (B)
  Value row16;  ///< lane % 16: ldmatrix row address of an A fragment
  Value half8;  ///< 8 * (lane / 16)
  Value row8;   ///< lane % 8: row within an 8x8 matrix of ldmatrix
  Value mat;    ///< lane / 8: which 8x8 matrix the lane addresses
  Value matLo8; ///< 8 * (mat % 2)
  Value matHi8; ///< 8 * (mat / 2)
};

LaneCoords laneCoords(OpBuilder &b, Location loc, Value lane) {
  auto c = [&](int64_t v) { return indexConstant(b, loc, v); };
  auto div = [&](Value x, int64_t y) {
    return arith::DivUIOp::create(b, loc, x, c(y)).getResult();
  };
  auto rem = [&](Value x, int64_t y) {
    return arith::RemUIOp::create(b, loc, x, c(y)).getResult();
  };
  auto mul = [&](Value x, int64_t y) {
    return arith::MulIOp::create(b, loc, x, c(y)).getResult();
  };
  LaneCoords l;
  l.g = div(lane, 4);
  l.t2 = mul(rem(lane, 4), 2);
  l.row16 = rem(lane, 16);
  l.half8 = mul(div(lane, 16), 8);
  l.row8 = rem(lane, 8);
  l.mat = div(lane, 8);
  l.matLo8 = mul(rem(l.mat, 2), 8);
  l.matHi8 = mul(div(l.mat, 2), 8);
  return l;
}

Value add(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::AddIOp::create(b, loc, x, y);
}
Value add(OpBuilder &b, Location loc, Value x, int64_t y) {
  return y == 0 ? x : add(b, loc, x, indexConstant(b, loc, y));
}

/// Reads mma fragments of one operand from its shared-memory tile.
/// `transposed`: the tile holds op(X)^T, i.e. A as [K][M], B as [N][K].
class FragmentLoader {
public:
  FragmentLoader(Value tile, bool transposed, Type mmaType,
                 const LaneCoords &lane)
      : tile(tile), transposed(transposed), mmaType(mmaType), lane(lane) {}

  /// The four registers of the A fragment at (m0, k0) of op(A).
  SmallVector<Value> loadA(OpBuilder &b, Location loc, Value m0, Value k0) {
    if (is16Bit()) {
      // Not transposed: lanes 0-15 address rows m0.., lanes 16-31 the same
      // rows 8 columns on. Transposed ([K][M] in memory): matrix j of the
      // lane is (k + 8 (j / 2), m + 8 (j % 2)), read transposed.
      SmallVector<Value> at =
          transposed
              ? SmallVector<Value>{add(b, loc, add(b, loc, k0, lane.matHi8),
                                       lane.row8),
                                   add(b, loc, m0, lane.matLo8)}
              : SmallVector<Value>{add(b, loc, m0, lane.row16),
                                   add(b, loc, k0, lane.half8)};
      return ldmatrix(b, loc, at, 4, transposed);
    }
    // f32: (row, col) of op(A) for a0..a3.
    Value r = add(b, loc, m0, lane.g), c = add(b, loc, k0, lane.t2);
    SmallVector<Value> regs;
    for (auto [dr, dc] : {std::pair{0, 0}, {8, 0}, {0, 8}, {8, 8}})
      regs.push_back(loadPair(b, loc, add(b, loc, r, dr), add(b, loc, c, dc),
                              /*alongRow=*/!transposed));
    return regs;
  }

  /// The two registers of each of the \p count (1 or 2) B fragments at
  /// columns n0, n0 + 8 of op(B), rows k0...
  SmallVector<Value> loadB(OpBuilder &b, Location loc, Value n0, Value k0,
                           int64_t count) {
    if (is16Bit()) {
      // Transposed ([N][K] in memory, as the fragment wants): matrix j is
      // (n + 8 (j / 2), k + 8 (j % 2)). Not transposed ([K][N]): matrix j is
      // (k + 8 (j % 2), n + 8 (j / 2)), read transposed.
      SmallVector<Value> at =
          transposed
              ? SmallVector<Value>{add(b, loc, add(b, loc, n0, lane.matHi8),
                                       lane.row8),
                                   add(b, loc, k0, lane.matLo8)}
              : SmallVector<Value>{
                    add(b, loc, add(b, loc, k0, lane.matLo8), lane.row8),
                    add(b, loc, n0, lane.matHi8)};
      return ldmatrix(b, loc, at, 2 * count, !transposed);
    }
    SmallVector<Value> regs;
    for (int64_t i = 0; i < count; ++i) {
      Value n = add(b, loc, add(b, loc, n0, 8 * i), lane.g);
      Value k = add(b, loc, k0, lane.t2);
      for (int64_t dk : {0, 8})
        regs.push_back(loadPair(b, loc, add(b, loc, k, dk), n,
                                /*alongRow=*/transposed, /*isB=*/true));
    }
    return regs;
  }

private:
  bool is16Bit() const { return elementTypeOf(tile) == mmaType; }

  SmallVector<Value> ldmatrix(OpBuilder &b, Location loc, ValueRange at,
                              int64_t numTiles, bool transpose) {
    auto type = VectorType::get({numTiles, 2}, mmaType);
    Value all = nvgpu::LdMatrixOp::create(b, loc, type, tile, at, transpose,
                                          static_cast<uint32_t>(numTiles));
    SmallVector<Value> regs;
    for (int64_t i = 0; i < numTiles; ++i)
      regs.push_back(vector::ExtractOp::create(b, loc, all, i));
    return regs;
  }

  /// Elements (r, c) and (r, c + 1) of op(X) as a vector<2 x mmaType>; for
  /// B, (k, n) and (k + 1, n). \p alongRow: the pair is contiguous in
  /// memory (one 8-byte load).
  Value loadPair(OpBuilder &b, Location loc, Value r, Value c, bool alongRow,
                 bool isB = false) {
    auto pairF32 = VectorType::get({2}, b.getF32Type());
    Value pair;
    if (alongRow) {
      // A: memory [r][c]; B transposed: memory [n][k] = [c][r].
      SmallVector<Value> at =
          isB ? SmallVector<Value>{c, r} : SmallVector<Value>{r, c};
      pair = vector::LoadOp::create(b, loc, pairF32, tile, at,
                                    /*nontemporal=*/false, llvm::MaybeAlign(8));
    } else {
      // A transposed: memory [k][m] = [c][r], pair along c; B: memory
      // [k][n] = [r][c], pair along r.
      SmallVector<Value> first =
          isB ? SmallVector<Value>{r, c} : SmallVector<Value>{c, r};
      SmallVector<Value> second = first;
      second[0] = add(b, loc, first[0], 1);
      Value x = memref::LoadOp::create(b, loc, tile, first);
      Value y = memref::LoadOp::create(b, loc, tile, second);
      pair = vector::FromElementsOp::create(b, loc, pairF32, ValueRange{x, y});
    }
    return convertFloat(b, loc, pair, mmaType);
  }

  Value tile;
  bool transposed;
  Type mmaType;
  const LaneCoords &lane;
};

/// One m16n8k16 mma: returns the four f32 results.
SmallVector<Value> emitMma(OpBuilder &b, Location loc, Type mmaType,
                           ArrayRef<Value> a, ArrayRef<Value> bRegs,
                           ArrayRef<Value> c) {
  // bf16 fragments travel as i32 (nvvm.mma.sync's bf16 form), f16 ones as
  // vector<2xf16>.
  auto operands = [&](ArrayRef<Value> regs) {
    SmallVector<Value> out;
    for (Value reg : regs) {
      if (!mmaType.isBF16()) {
        out.push_back(reg);
        continue;
      }
      Value asInt = vector::BitCastOp::create(
          b, loc, VectorType::get({1}, b.getI32Type()), reg);
      out.push_back(vector::ExtractOp::create(b, loc, asInt, 0));
    }
    return out;
  };
  NVVM::MMATypes ptxType =
      mmaType.isBF16() ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
  Type f32 = b.getF32Type();
  auto resultType =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
  Value d =
      NVVM::MmaOp::create(b, loc, resultType, operands(a), operands(bRegs), c,
                          {kMmaM, kMmaN, kMmaK}, std::nullopt, std::nullopt,
                          std::array<NVVM::MMATypes, 2>{ptxType, ptxType},
                          std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                                         NVVM::MMALayout::col});
  SmallVector<Value> results;
  for (int64_t i = 0; i < 4; ++i)
    results.push_back(LLVM::ExtractValueOp::create(b, loc, d, i));
  return results;
}

struct LowerTileMatmulToMma : CtaPattern<TileMatmulOp> {
  using CtaPattern::CtaPattern;

  LogicalResult
  matchAndRewrite(TileMatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!isMmaCompatible(op, target))
      return failure();
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    CtaThread cta = CtaThread::build(b, loc, target);
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs(),
          acc = adaptor.getAcc();
    Type mmaType = multiplicandType(elementTypeOf(lhs), elementTypeOf(rhs));
    int64_t m = tileShape(acc)[0], n = tileShape(acc)[1];
    int64_t k = op.getTransposeA() ? tileShape(lhs)[0] : tileShape(lhs)[1];
    double alpha = op.getAlpha().convertToDouble();
    bool accumulate = op.getAccumulate();

    // Split the 16x8 blocks among the warps: as many warps along M as there
    // are 16-row slabs (up to all of them), the rest along N.
    int64_t mBlocks = m / kMmaM, nBlocks = n / kMmaN;
    int64_t warpsM = std::gcd(mBlocks, cta.warps);
    int64_t warpsN = std::gcd(nBlocks, cta.warps / warpsM);
    int64_t active = warpsM * warpsN;
    int64_t slabsPerWarp = mBlocks / warpsM;
    int64_t blocksPerWarp = nBlocks / warpsN;
    int64_t inFlight = std::gcd(blocksPerWarp, kMaxBlocksInFlight);

    auto body = [&](OpBuilder &b, Location loc) {
      LaneCoords lane = laneCoords(b, loc, cta.lane);
      FragmentLoader loadA(lhs, op.getTransposeA(), mmaType, lane);
      FragmentLoader loadB(rhs, op.getTransposeB(), mmaType, lane);
      Value wm = arith::DivUIOp::create(b, loc, cta.warp,
                                        indexConstant(b, loc, warpsN));
      Value wn = arith::RemUIOp::create(b, loc, cta.warp,
                                        indexConstant(b, loc, warpsN));
      // Slab s of the warp: rows 16 (wm + s warpsM); its column blocks
      // start at wn * blocksPerWarp.
      Value firstBlock = arith::MulIOp::create(
          b, loc, wn, indexConstant(b, loc, blocksPerWarp));
      auto slabs = scf::ForOp::create(b, loc, indexConstant(b, loc, 0),
                                      indexConstant(b, loc, slabsPerWarp),
                                      indexConstant(b, loc, 1));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(slabs.getBody());
      Value slab = add(b, loc, wm,
                       arith::MulIOp::create(b, loc, slabs.getInductionVar(),
                                             indexConstant(b, loc, warpsM)));
      Value m0 =
          arith::MulIOp::create(b, loc, slab, indexConstant(b, loc, kMmaM));
      for (int64_t chunk = 0; chunk < blocksPerWarp; chunk += inFlight) {
        Value n0 = arith::MulIOp::create(b, loc, add(b, loc, firstBlock, chunk),
                                         indexConstant(b, loc, kMmaN));
        emitChunk(b, loc, loadA, loadB, lane, acc, m0, n0, inFlight, k, mmaType,
                  alpha, accumulate);
      }
    };
    if (active == cta.warps) {
      body(b, loc);
    } else {
      Value isActive =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, cta.warp,
                                indexConstant(b, loc, active));
      auto ifOp = scf::IfOp::create(b, loc, isActive, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      body(b, loc);
    }
    rewriter.eraseOp(op);
    return success();
  }

  /// The 16 x (8 blocks) accumulator fragments of one warp at (m0, n0):
  /// the K loop, then the write-back.
  void emitChunk(OpBuilder &b, Location loc, FragmentLoader &loadA,
                 FragmentLoader &loadB, const LaneCoords &lane, Value acc,
                 Value m0, Value n0, int64_t blocks, int64_t k, Type mmaType,
                 double alpha, bool accumulate) const {
    Value zero = f32Constant(b, loc, 0.0);
    SmallVector<Value> init(4 * blocks, zero);
    auto kLoop = scf::ForOp::create(b, loc, indexConstant(b, loc, 0),
                                    indexConstant(b, loc, k),
                                    indexConstant(b, loc, kMmaK), init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(kLoop.getBody());
      Value k0 = kLoop.getInductionVar();
      ValueRange frags = kLoop.getRegionIterArgs();
      SmallVector<Value> a = loadA.loadA(b, loc, m0, k0);
      SmallVector<Value> next;
      for (int64_t j = 0; j < blocks;) {
        // Two column blocks per ldmatrix.x4 where possible.
        int64_t count = j + 1 < blocks ? 2 : 1;
        SmallVector<Value> bRegs =
            loadB.loadB(b, loc, add(b, loc, n0, kMmaN * j), k0, count);
        for (int64_t i = 0; i < count; ++i, ++j) {
          SmallVector<Value> c(frags.begin() + 4 * j,
                               frags.begin() + 4 * j + 4);
          llvm::append_range(
              next, emitMma(b, loc, mmaType, a,
                            ArrayRef<Value>(bRegs).slice(2 * i, 2), c));
        }
      }
      scf::YieldOp::create(b, loc, next);
    }
    // C[g (+8)][2t..2t+1] of each block = alpha * D (+ C)
    auto pair = VectorType::get({2}, b.getF32Type());
    Value alphaV = f32Constant(b, loc, alpha);
    for (int64_t j = 0; j < blocks; ++j) {
      Value col = add(b, loc, add(b, loc, n0, kMmaN * j), lane.t2);
      for (int64_t half = 0; half < 2; ++half) {
        Value row = add(b, loc, add(b, loc, m0, lane.g), 8 * half);
        Value d = vector::FromElementsOp::create(
            b, loc, pair,
            ValueRange{kLoop.getResult(4 * j + 2 * half),
                       kLoop.getResult(4 * j + 2 * half + 1)});
        if (alpha != 1.0)
          d = arith::MulFOp::create(
              b, loc, d, vector::BroadcastOp::create(b, loc, pair, alphaV));
        if (accumulate)
          d = arith::AddFOp::create(
              b, loc,
              vector::LoadOp::create(b, loc, pair, acc, ValueRange{row, col},
                                     /*nontemporal=*/false,
                                     llvm::MaybeAlign(8)),
              d);
        vector::StoreOp::create(b, loc, d, acc, ValueRange{row, col},
                                /*nontemporal=*/false, llvm::MaybeAlign(8));
      }
    }
  }
};

} // namespace

bool isMmaCompatible(Operation *op, const TargetInfo &target) {
  auto matmul = dyn_cast<TileMatmulOp>(op);
  if (!matmul)
    return false;
  Value lhs = matmul.getLhs(), rhs = matmul.getRhs(), acc = matmul.getAcc();
  Type mmaType = multiplicandType(elementTypeOf(lhs), elementTypeOf(rhs));
  if (!mmaType || !target.hasTensorCoresFor(mmaType) || !target.hasLdMatrix())
    return false;
  if (!inSharedMemory(lhs) || !inSharedMemory(rhs) || !inSharedMemory(acc))
    return false;
  int64_t m = tileShape(acc)[0], n = tileShape(acc)[1];
  int64_t k = matmul.getTransposeA() ? tileShape(lhs)[0] : tileShape(lhs)[1];
  return llvm::any_of(target.mmaShapes(),
                      [](const MmaShape &s) {
                        return s.m == kMmaM && s.n == kMmaN && s.k == kMmaK;
                      }) &&
         m % kMmaM == 0 && n % kMmaN == 0 && k % kMmaK == 0;
}

void populateTileMatmulToMmaPatterns(RewritePatternSet &patterns,
                                     const TargetInfo &target) {
  patterns.add<LowerTileMatmulToMma>(patterns.getContext(), target);
}

namespace {
struct AttnLowerTileMatmulToMmaPass
    : impl::AttnLowerTileMatmulToMmaPassBase<AttnLowerTileMatmulToMmaPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::Expected<TargetInfo> target = TargetInfo::get(chip);
    if (!target) {
      module.emitError(llvm::toString(target.takeError()));
      return signalPassFailure();
    }
    ConversionTarget conversion(getContext());
    conversion.addDynamicallyLegalOp<TileMatmulOp>(
        [&](TileMatmulOp op) { return !isMmaCompatible(op, *target); });
    conversion.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    populateTileMatmulToMmaPatterns(patterns, *target);
    if (failed(applyPartialConversion(module, conversion, std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
} // namespace flashc::nvidia
