//===- MmaFragments.cpp - operands and results of mma.sync m16n8k16 -------===//

#include "codegen/nvidia/MmaFragments.h"
#include "codegen/nvidia/CtaBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace flashc::nvidia {

Type elementTypeOf(Value memref) {
  return cast<MemRefType>(memref.getType()).getElementType();
}

bool inSharedMemory(Value memref) {
  auto space = dyn_cast_or_null<gpu::AddressSpaceAttr>(
      cast<MemRefType>(memref.getType()).getMemorySpace());
  return space && space.getValue() == gpu::AddressSpace::Workgroup;
}

Type multiplicandType(Type a, Type b) {
  if (a.isF32() && b.isF32())
    return nullptr;
  if (a.isF32())
    return b;
  if (b.isF32())
    return a;
  return a == b ? a : nullptr;
}

LaneCoords laneCoords(OpBuilder &b, Location loc, Value lane) {
  auto div = [&](Value x, int64_t y) { return divIndex(b, loc, x, y); };
  auto rem = [&](Value x, int64_t y) { return remIndex(b, loc, x, y); };
  auto mul = [&](Value x, int64_t y) { return mulIndex(b, loc, x, y); };
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

Value divIndex(OpBuilder &b, Location loc, Value x, int64_t y) {
  return arith::DivUIOp::create(b, loc, x, indexConstant(b, loc, y));
}
Value remIndex(OpBuilder &b, Location loc, Value x, int64_t y) {
  return arith::RemUIOp::create(b, loc, x, indexConstant(b, loc, y));
}
Value mulIndex(OpBuilder &b, Location loc, Value x, int64_t y) {
  return arith::MulIOp::create(b, loc, x, indexConstant(b, loc, y));
}

Value addIndex(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::AddIOp::create(b, loc, x, y);
}
Value addIndex(OpBuilder &b, Location loc, Value x, int64_t y) {
  return y == 0 ? x : addIndex(b, loc, x, indexConstant(b, loc, y));
}


  /// The four registers of the A fragment at (m0, k0) of op(A).
SmallVector<Value> FragmentLoader::loadA(OpBuilder &b, Location loc, Value m0, Value k0) {
    if (is16Bit()) {
      // Not transposed: lanes 0-15 address rows m0.., lanes 16-31 the same
      // rows 8 columns on. Transposed ([K][M] in memory): matrix j of the
      // lane is (k + 8 (j / 2), m + 8 (j % 2)), read transposed.
      SmallVector<Value> at =
          transposed
              ? SmallVector<Value>{addIndex(b, loc, addIndex(b, loc, k0, lane.matHi8),
                                       lane.row8),
                                   addIndex(b, loc, m0, lane.matLo8)}
              : SmallVector<Value>{addIndex(b, loc, m0, lane.row16),
                                   addIndex(b, loc, k0, lane.half8)};
      return ldmatrix(b, loc, at, 4, transposed);
    }
    // f32: (row, col) of op(A) for a0..a3.
    Value r = addIndex(b, loc, m0, lane.g), c = addIndex(b, loc, k0, lane.t2);
    SmallVector<Value> regs;
    for (auto [dr, dc] : {std::pair{0, 0}, {8, 0}, {0, 8}, {8, 8}})
      regs.push_back(loadPair(b, loc, addIndex(b, loc, r, dr), addIndex(b, loc, c, dc),
                              /*alongRow=*/!transposed));
    return regs;
  }

  /// The two registers of each of the \p count (1 or 2) B fragments at
  /// columns n0, n0 + 8 of op(B), rows k0...
SmallVector<Value> FragmentLoader::loadB(OpBuilder &b, Location loc, Value n0, Value k0,
                           int64_t count) {
    if (is16Bit()) {
      // Transposed ([N][K] in memory, as the fragment wants): matrix j is
      // (n + 8 (j / 2), k + 8 (j % 2)). Not transposed ([K][N]): matrix j is
      // (k + 8 (j % 2), n + 8 (j / 2)), read transposed.
      SmallVector<Value> at =
          transposed
              ? SmallVector<Value>{addIndex(b, loc, addIndex(b, loc, n0, lane.matHi8),
                                       lane.row8),
                                   addIndex(b, loc, k0, lane.matLo8)}
              : SmallVector<Value>{
                    addIndex(b, loc, addIndex(b, loc, k0, lane.matLo8), lane.row8),
                    addIndex(b, loc, n0, lane.matHi8)};
      return ldmatrix(b, loc, at, 2 * count, !transposed);
    }
    SmallVector<Value> regs;
    for (int64_t i = 0; i < count; ++i) {
      Value n = addIndex(b, loc, addIndex(b, loc, n0, 8 * i), lane.g);
      Value k = addIndex(b, loc, k0, lane.t2);
      for (int64_t dk : {0, 8})
        regs.push_back(loadPair(b, loc, addIndex(b, loc, k, dk), n,
                                /*alongRow=*/transposed, /*isB=*/true));
    }
    return regs;
  }

bool FragmentLoader::is16Bit() const { return elementTypeOf(tile) == mmaType; }

SmallVector<Value> FragmentLoader::ldmatrix(OpBuilder &b, Location loc, ValueRange at,
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
Value FragmentLoader::loadPair(OpBuilder &b, Location loc, Value r, Value c,
                               bool alongRow, bool isB) {
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
      second[0] = addIndex(b, loc, first[0], 1);
      Value x = memref::LoadOp::create(b, loc, tile, first);
      Value y = memref::LoadOp::create(b, loc, tile, second);
      pair = vector::FromElementsOp::create(b, loc, pairF32, ValueRange{x, y});
    }
    return convertFloat(b, loc, pair, mmaType);
  }


Value pairAsI32(OpBuilder &b, Location loc, Value pair) {
  Value asInt = vector::BitCastOp::create(
      b, loc, VectorType::get({1}, b.getI32Type()), pair);
  return vector::ExtractOp::create(b, loc, asInt, 0);
}

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
      out.push_back(pairAsI32(b, loc, reg));
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


} // namespace flashc::nvidia
