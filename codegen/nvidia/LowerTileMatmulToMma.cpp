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
// (Fragment layouts: MmaFragments.h. Register tiles are lowered before, by
// attn-lower-register-tiles.)
//
//===----------------------------------------------------------------------===//

#include "codegen/nvidia/CtaBuilders.h"
#include "codegen/nvidia/LowerTileOpsToGpu.h"
#include "codegen/nvidia/MmaFragments.h"
#include "codegen/nvidia/Passes.h"
#include "codegen/nvidia/RegisterTiles.h"
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

/// Column blocks whose fragments a warp keeps at once: 16 x 4 f32 registers,
/// or half that in a kernel whose register tiles (RegisterTiles.h, already
/// thread-private arrays here) hold registers of their own.
constexpr int64_t kMaxBlocksInFlight = 16;
constexpr int64_t kMaxBlocksInFlightBesideRegisterTiles = 8;

/// Whether the kernel of \p op keeps register tiles (the plan's attribute,
/// which attn-map-kernels-to-gpu carries over to the gpu.func).
bool hasRegisterTiles(Operation *op) {
  return op->getParentOfType<gpu::GPUFuncOp>()->hasAttr(
      kKernelRegisterTileRegistersAttr);
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
    int64_t inFlight = std::gcd(
        blocksPerWarp, hasRegisterTiles(op) ? kMaxBlocksInFlightBesideRegisterTiles
                                            : kMaxBlocksInFlight);

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
      Value slab = addIndex(b, loc, wm,
                       arith::MulIOp::create(b, loc, slabs.getInductionVar(),
                                             indexConstant(b, loc, warpsM)));
      Value m0 =
          arith::MulIOp::create(b, loc, slab, indexConstant(b, loc, kMmaM));
      for (int64_t chunk = 0; chunk < blocksPerWarp; chunk += inFlight) {
        Value n0 = arith::MulIOp::create(b, loc, addIndex(b, loc, firstBlock, chunk),
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
            loadB.loadB(b, loc, addIndex(b, loc, n0, kMmaN * j), k0, count);
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
      Value col = addIndex(b, loc, addIndex(b, loc, n0, kMmaN * j), lane.t2);
      for (int64_t half = 0; half < 2; ++half) {
        Value row = addIndex(b, loc, addIndex(b, loc, m0, lane.g), 8 * half);
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
    std::optional<TargetInfo> target =
        getTargetOrEmitError(getOperation(), chip);
    if (!target)
      return signalPassFailure();
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
