//===- Wgmma.cpp - Hopper warpgroup mma on register tiles -----------------===//

#include "codegen/nvidia/Wgmma.h"
#include "codegen/nvidia/CtaBuilders.h"
#include "codegen/nvidia/MmaFragments.h"
#include "codegen/nvidia/RegisterTiles.h"
#include "dialect/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;
using namespace flashc::attn;

namespace flashc::nvidia {

namespace {

/// Bytes of one swizzled row (an atom's width) and 16-bit elements in it.
constexpr int64_t kRowBytes = 128, kAtomCols = 64;
/// wgmma's K step for 16-bit operands, and its widest N.
constexpr int64_t kWgmmaK = 16, kMaxWgmmaN = 256;

bool is16BitFloat(Type type) { return type.isBF16() || type.isF16(); }

/// The allocas \p tile may be: itself, or either side of the arith.select
/// that picks a double buffer. False if it is something else.
bool collectAllocas(Value tile, SmallVectorImpl<memref::AllocaOp> &allocas) {
  if (auto alloca = tile.getDefiningOp<memref::AllocaOp>()) {
    allocas.push_back(alloca);
    return true;
  }
  if (auto select = tile.getDefiningOp<arith::SelectOp>())
    return collectAllocas(select.getTrueValue(), allocas) &&
           collectAllocas(select.getFalseValue(), allocas);
  return false;
}

/// Whether a shared 16-bit tile can be stored swizzled: static [R][C] with
/// whole atoms (C a multiple of 64) of whole 8-row groups.
bool isSwizzlable(memref::AllocaOp alloca) {
  MemRefType type = alloca.getType();
  return type.hasStaticShape() && type.getRank() == 2 &&
         is16BitFloat(type.getElementType()) &&
         type.getShape()[1] % kAtomCols == 0 && type.getShape()[0] % 8 == 0;
}

/// Shapes, types and places wgmma can run \p mm with, in a CTA of \p warps.
bool fitsWgmma(TileMatmulOp mm, int64_t warps) {
  Value lhs = mm.getLhs(), rhs = mm.getRhs(), acc = mm.getAcc();
  // A transposed ([K][M], MN-major) only from shared memory.
  if (warps % 4 != 0 || !isRegisterTile(acc) || isRegisterTile(rhs) ||
      (mm.getTransposeA() && isRegisterTile(lhs)))
    return false;
  auto accType = cast<MemRefType>(acc.getType());
  auto lhsType = cast<MemRefType>(lhs.getType());
  auto rhsType = cast<MemRefType>(rhs.getType());
  if (accType.getRank() != 2 || lhsType.getRank() != 2 ||
      rhsType.getRank() != 2)
    return false;
  int64_t n = accType.getShape()[1],
          k = lhsType.getShape()[mm.getTransposeA() ? 0 : 1];
  Type type = rhsType.getElementType();
  if (!is16BitFloat(type) || n % 8 != 0 || n > kMaxWgmmaN || k % kWgmmaK != 0)
    return false;
  // An accumulator split by columns: a warpgroup's 64-row blocks, and
  // where B is MN-major, a group's columns within one atom or whole atoms
  // (WgmmaDescriptors::mnMajor).
  RegisterTileLayout layout = RegisterTileLayout::of(accType, warps);
  int64_t groupCols = kMmaN * layout.blocks;
  if (layout.columnGroups > 1 &&
      (layout.rowWarps() % 4 != 0 ||
       (!mm.getTransposeB() && groupCols % kAtomCols != 0 &&
        kAtomCols % groupCols != 0)))
    return false;
  // A from registers: the f32 register tile, converted; from shared memory:
  // K-major [M][K] or MN-major [K][M] of B's type.
  if (!isRegisterTile(lhs) && lhsType.getElementType() != type)
    return false;
  SmallVector<memref::AllocaOp> allocas;
  if (!isRegisterTile(lhs) && !collectAllocas(lhs, allocas))
    return false;
  if (!collectAllocas(rhs, allocas))
    return false;
  return llvm::all_of(allocas, isSwizzlable);
}

/// Whether every use of \p tile (through the selects of double buffers) is
/// a tile.load into it, a copy of a register tile into it, or a chosen
/// matmul reading it.
bool onlyLoadsAndChosen(Value tile, const llvm::DenseSet<Operation *> &chosen) {
  for (OpOperand &use : tile.getUses()) {
    Operation *user = use.getOwner();
    if (auto select = dyn_cast<arith::SelectOp>(user)) {
      if (use.getOperandNumber() == 0 ||
          !onlyLoadsAndChosen(select.getResult(), chosen))
        return false;
      continue;
    }
    if (auto load = dyn_cast<TileLoadOp>(user); load && load.getTile() == tile)
      continue;
    if (auto copy = dyn_cast<TileCopyOp>(user);
        copy && copy.getDest() == tile && isRegisterTile(copy.getSource()))
      continue;
    if (auto mm = dyn_cast<TileMatmulOp>(user);
        mm && chosen.contains(mm) && mm.getAcc() != tile)
      continue;
    return false;
  }
  return true;
}

SmallVector<memref::AllocaOp> sharedAllocasOf(TileMatmulOp mm) {
  SmallVector<memref::AllocaOp> allocas;
  if (!isRegisterTile(mm.getLhs()))
    collectAllocas(mm.getLhs(), allocas);
  collectAllocas(mm.getRhs(), allocas);
  return allocas;
}

Value i64Constant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIntOp::create(b, loc, value, 64);
}

} // namespace

int64_t selectWgmmaMatmuls(func::FuncOp kernel, const TargetInfo &target) {
  auto warps = kernel->getAttrOfType<IntegerAttr>(kKernelWarpsAttr);
  if (!target.hasWgmma() || !warps)
    return 0;
  llvm::DenseSet<Operation *> chosen;
  kernel.walk([&](TileMatmulOp mm) {
    if (fitsWgmma(mm, warps.getInt()))
      chosen.insert(mm);
  });
  // A tile some other op reads or writes keeps the plain layout, and the
  // matmuls on it mma.sync; dropping one may strand another's tile.
  bool changed = true;
  while (changed) {
    changed = false;
    for (Operation *op : llvm::to_vector(chosen)) {
      bool ok = llvm::all_of(sharedAllocasOf(cast<TileMatmulOp>(op)),
                             [&](memref::AllocaOp a) {
                               return onlyLoadsAndChosen(a.getResult(), chosen);
                             });
      if (!ok) {
        chosen.erase(op);
        changed = true;
      }
    }
  }
  if (chosen.empty())
    return 0;
  UnitAttr unit = UnitAttr::get(kernel->getContext());
  kernel.walk([&](TileMatmulOp mm) {
    if (!chosen.contains(mm))
      return;
    mm->setAttr(kWgmmaAttr, unit);
    for (memref::AllocaOp alloca : sharedAllocasOf(mm))
      alloca->setAttr(kSwizzledTileAttr, unit);
  });
  kernel->setAttr(kSwizzledTileAttr, unit);
  return chosen.size();
}

bool isSwizzledTile(Value tile) {
  if (auto select = tile.getDefiningOp<arith::SelectOp>())
    return isSwizzledTile(select.getTrueValue()) &&
           isSwizzledTile(select.getFalseValue());
  Operation *def = tile.getDefiningOp();
  return def && def->hasAttr(kSwizzledTileAttr);
}

std::pair<Value, Value> swizzledIndex(OpBuilder &b, Location loc,
                                      MemRefType tile, Value row, Value col) {
  return delinearize(b, loc, tile, swizzledOffset(b, loc, tile, row, col));
}

std::pair<Value, Value> delinearize(OpBuilder &b, Location loc,
                                    MemRefType tile, Value offset) {
  int64_t cols = tile.getShape()[1];
  return {divIndex(b, loc, offset, cols), remIndex(b, loc, offset, cols)};
}

Value swizzledOffset(OpBuilder &b, Location loc, MemRefType tile, Value row,
                     Value col) {
  int64_t rows = tile.getShape()[0];
  auto div = [&](Value x, int64_t y) { return divIndex(b, loc, x, y); };
  auto rem = [&](Value x, int64_t y) { return remIndex(b, loc, x, y); };
  auto mul = [&](Value x, int64_t y) { return mulIndex(b, loc, x, y); };
  // Element offset: atom (col / 64) of R x 64, row r, chunk
  // ((col % 64) / 8) ^ (r % 8), element col % 8.
  Value inAtom = rem(col, kAtomCols);
  Value chunk = arith::XOrIOp::create(b, loc, div(inAtom, 8), rem(row, 8));
  Value offset = arith::AddIOp::create(
      b, loc, mul(div(col, kAtomCols), rows * kAtomCols),
      arith::AddIOp::create(
          b, loc, mul(row, kAtomCols),
          arith::AddIOp::create(b, loc, mul(chunk, 8), rem(inAtom, 8))));
  return offset;
}

WgmmaDescriptors::WgmmaDescriptors(OpBuilder &b, Location loc, Value tile) {
  rows = cast<MemRefType>(tile.getType()).getShape()[0];
  Value pointer = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, tile);
  base = arith::IndexCastUIOp::create(b, loc, b.getI64Type(), pointer);
}

Value WgmmaDescriptors::kMajor(OpBuilder &b, Location loc, Value row0,
                               int64_t k0) const {
  Value rowBytes = arith::IndexCastUIOp::create(
      b, loc, b.getI64Type(), mulIndex(b, loc, row0, kRowBytes));
  int64_t atomBytes = rows * kRowBytes;
  Value byte = arith::AddIOp::create(
      b, loc, rowBytes,
      i64Constant(b, loc, (k0 / kAtomCols) * atomBytes + (k0 % kAtomCols) * 2));
  // K-major swizzled: the leading offset is unused (1 by convention).
  return build(b, loc, byte, /*leadingBytes=*/16);
}

Value WgmmaDescriptors::mnMajor(OpBuilder &b, Location loc, int64_t k0,
                                Value mn0) const {
  // MN-major swizzled: the leading offset steps from one 64-column atom to
  // the next, the stride from 8 K rows to the next.
  // Within an atom, MN from a 16-byte chunk's start: the swizzle applies
  // to the address bits (atoms are 1024-byte aligned), as for K-major's K.
  Value byte = i64Constant(b, loc, k0 * kRowBytes);
  if (mn0) {
    Value atom = divIndex(b, loc, mn0, kAtomCols);
    Value inAtom = mulIndex(b, loc, remIndex(b, loc, mn0, kAtomCols), 2);
    byte = arith::AddIOp::create(
        b, loc, byte,
        arith::IndexCastUIOp::create(
            b, loc, b.getI64Type(),
            arith::AddIOp::create(b, loc,
                                  mulIndex(b, loc, atom, rows * kRowBytes),
                                  inAtom)));
  }
  return build(b, loc, byte, /*leadingBytes=*/rows * kRowBytes);
}

Value WgmmaDescriptors::build(OpBuilder &b, Location loc, Value byte,
                              int64_t leadingBytes) const {
  // Bits 0-13: address >> 4; 16-29: leading offset >> 4; 32-45: stride
  // offset >> 4 (8 rows of 128 bytes); 62-63: 1 = 128-byte swizzle.
  Value address =
      arith::AndIOp::create(b, loc, arith::AddIOp::create(b, loc, base, byte),
                            i64Constant(b, loc, 0x3FFFF));
  Value start = arith::ShRUIOp::create(b, loc, address, i64Constant(b, loc, 4));
  int64_t fields = ((leadingBytes >> 4) << 16) |
                   ((int64_t{kSwizzleAtomBytes} >> 4) << 32) |
                   (int64_t{1} << 62);
  return arith::OrIOp::create(b, loc, start, i64Constant(b, loc, fields));
}

SmallVector<Value> emitWgmma(OpBuilder &b, Location loc, Type mmaType,
                             const WgmmaA &a, Value descriptorB, bool mnMajorB,
                             ValueRange d) {
  int64_t half = d.size(), n = 2 * half;
  std::string type = mmaType.isBF16() ? "bf16" : "f16";
  std::string text, constraints;
  llvm::raw_string_ostream asmText(text), cons(constraints);
  SmallVector<Value> operands(d.begin(), d.end());
  asmText << "{\n.reg .pred p;\n";
  int64_t next = 2 * half;
  auto operand = [&](Value v, StringRef constraint) {
    operands.push_back(v);
    cons << "," << constraint;
    return "$" + std::to_string(next++);
  };
  for (int64_t i = 0; i < half; ++i)
    cons << (i ? "," : "") << "=f";
  for (int64_t i = 0; i < half; ++i)
    cons << "," << i;
  std::string aText;
  if (a.descriptor) {
    aText = operand(a.descriptor, "l");
  } else {
    aText = "{";
    for (auto [i, reg] : llvm::enumerate(a.registers))
      aText += (i ? ", " : "") + operand(pairAsI32(b, loc, reg), "r");
    aText += "}";
  }
  std::string bText = operand(descriptorB, "l");
  std::string scale = operand(arith::ConstantIntOp::create(b, loc, 1, 32), "r");
  asmText << "setp.ne.b32 p, " << scale << ", 0;\n"
          << "wgmma.mma_async.sync.aligned.m64n" << n << "k16.f32." << type
          << "." << type << " {";
  for (int64_t i = 0; i < half; ++i)
    asmText << (i ? ", " : "") << "$" << i;
  // scale-d, scale-a, scale-b (, trans-a for a descriptor), trans-b.
  asmText << "}, " << aText << ", " << bText << ", p, 1, 1, "
          << (a.descriptor ? (a.mnMajor ? "1, " : "0, ") : "")
          << (mnMajorB ? 1 : 0) << ";\n}";
  cons << ",~{memory}";
  Type f32 = b.getF32Type();
  auto resultType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(half, f32));
  auto asmOp = LLVM::InlineAsmOp::create(
      b, loc, resultType, operands, text, constraints,
      /*has_side_effects=*/true, /*is_align_stack=*/false,
      LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
      /*operand_attrs=*/ArrayAttr());
  SmallVector<Value> results;
  for (int64_t i = 0; i < half; ++i)
    results.push_back(
        LLVM::ExtractValueOp::create(b, loc, asmOp.getResult(0), i));
  return results;
}

SmallVector<Value> emitWgmmaWait(OpBuilder &b, Location loc,
                                 ValueRange values) {
  NVVM::WgmmaGroupSyncAlignedOp::create(b, loc);
  NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);
  // The wgmmas wrote these registers asynchronously: nothing may read them
  // before the wait, which each empty asm (ordered after it) guarantees.
  SmallVector<Value> pinned;
  for (Value v : values)
    pinned.push_back(
        LLVM::InlineAsmOp::create(
            b, loc, v.getType(), ValueRange{v}, "", "=f,0,~{memory}",
            /*has_side_effects=*/true, /*is_align_stack=*/false,
            LLVM::tailcallkind::TailCallKind::None,
            LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
            ArrayAttr())
            .getResult(0));
  return pinned;
}

} // namespace flashc::nvidia
