//===- MapKernelsToGpu.cpp - tiled kernels to gpu.func --------------------===//
//
// The tiled form says what one CTA does (the body of the scf.forall grid)
// and which tiles it uses (memref.alloca). This pass gives that body its GPU
// form: the grid's induction variables become block ids, the tiles become
// views of the dynamic shared memory at the offsets attn-plan-shared-memory
// chose, and the function becomes a kernel of its own gpu.module, so that
// each kernel is one PTX module with one entry point.
//
//===----------------------------------------------------------------------===//

#include "codegen/nvidia/Passes.h"
#include "codegen/nvidia/RegisterTiles.h"
#include "codegen/nvidia/SharedMemoryPlan.h"
#include "codegen/nvidia/Wgmma.h"
#include "passes/KernelABI.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace flashc::nvidia {

#define GEN_PASS_DEF_ATTNMAPKERNELSTOGPUPASS
#include "codegen/nvidia/Passes.h.inc"

namespace {

Value indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// Replaces the grid loop by block ids and a guard that they are in range.
LogicalResult mapGridToBlockIds(scf::ForallOp grid) {
  if (grid.getRank() != 3)
    return grid.emitError("expected the kernel's grid over (batch, head, "
                          "block) to have 3 induction variables, got ")
           << grid.getRank();
  OpBuilder b(grid);
  Location loc = grid.getLoc();
  // (b, h, blk) = (blockIdx.z, blockIdx.y, blockIdx.x): the runtime launches
  // (ceil(N / tile), H, B).
  Value ids[3] = {gpu::BlockIdOp::create(b, loc, gpu::Dimension::z),
                  gpu::BlockIdOp::create(b, loc, gpu::Dimension::y),
                  gpu::BlockIdOp::create(b, loc, gpu::Dimension::x)};
  Value inRange;
  for (auto [id, bound] : llvm::zip(ids, grid.getMixedUpperBound())) {
    Value ub = getValueOrCreateConstantIndexOp(b, loc, bound);
    Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, id, ub);
    inRange = inRange ? arith::AndIOp::create(b, loc, inRange, ok) : ok;
  }
  auto guard = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
  Block &body = *grid.getBody();
  for (auto [iv, id] : llvm::zip(grid.getInductionVars(), ids))
    iv.replaceAllUsesWith(id);
  Block *then = guard.thenBlock();
  then->getOperations().splice(then->begin(), body.getOperations(),
                               body.begin(), std::prev(body.end()));
  grid.erase();
  return success();
}

/// Moves the body of every memref.alloca_scope into its parent block: on the
/// GPU a tile is not on a stack but in the planned shared memory.
void inlineAllocaScopes(Operation *root) {
  SmallVector<memref::AllocaScopeOp> scopes;
  root->walk([&](memref::AllocaScopeOp scope) { scopes.push_back(scope); });
  for (memref::AllocaScopeOp scope : scopes) {
    if (scope.getNumResults() != 0)
      continue;
    Block &body = scope.getBodyRegion().front();
    scope->getBlock()->getOperations().splice(
        scope->getIterator(), body.getOperations(), body.begin(),
        std::prev(body.end()));
    scope.erase();
  }
}

/// Replaces each planned tile by a view of the dynamic shared memory,
/// created once at the kernel's entry.
LogicalResult mapTilesToSharedMemory(gpu::GPUFuncOp kernel) {
  Block &entry = kernel.getBody().front();
  OpBuilder b = OpBuilder::atBlockBegin(&entry);
  Location loc = kernel.getLoc();
  auto workgroup = gpu::AddressSpaceAttr::get(kernel->getContext(),
                                              gpu::AddressSpace::Workgroup);
  Value buffer;
  SmallVector<memref::AllocaOp> tiles;
  // Register tiles stay allocas until attn-lower-register-tiles.
  kernel.walk([&](memref::AllocaOp alloca) {
    if (!isRegisterTile(alloca))
      tiles.push_back(alloca);
  });
  for (memref::AllocaOp alloca : tiles) {
    auto offset = alloca->getAttrOfType<IntegerAttr>(kSharedOffsetAttr);
    if (!offset)
      return alloca.emitError("tile has no shared-memory slot; run "
                              "attn-plan-shared-memory first");
    if (!buffer)
      buffer = gpu::DynamicSharedMemoryOp::create(
          b, loc,
          MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                          MemRefLayoutAttrInterface(), workgroup));
    MemRefType type = alloca.getType();
    SmallVector<int64_t> shape(type.getShape());
    auto pitch = alloca->getAttrOfType<IntegerAttr>(kSharedPitchAttr);
    if (pitch)
      shape.back() = pitch.getInt();
    Value view = memref::ViewOp::create(
        b, loc,
        MemRefType::get(shape, type.getElementType(),
                        MemRefLayoutAttrInterface(), workgroup),
        buffer, indexConstant(b, loc, offset.getInt()), ValueRange());
    if (pitch && pitch.getInt() != type.getShape().back()) {
      // Rows of the tile, strided by the padded pitch.
      SmallVector<int64_t> offsets(type.getRank(), 0),
          strides(type.getRank(), 1);
      view = memref::SubViewOp::create(b, loc, view, offsets, type.getShape(),
                                       strides);
    }
    if (alloca->hasAttr(kSwizzledTileAttr))
      view.getDefiningOp()->setAttr(kSwizzledTileAttr, b.getUnitAttr());
    alloca.getResult().replaceAllUsesWith(view);
    alloca.erase();
  }
  // A choice between two tiles (attn-pipeline-tile-loads' double buffers)
  // is a tile of their new type.
  kernel.walk([](arith::SelectOp select) {
    if (isa<MemRefType>(select.getType()) &&
        select.getTrueValue().getType() == select.getFalseValue().getType())
      select.getResult().setType(select.getTrueValue().getType());
  });
  return success();
}

/// Rebuilds kernel function \p func as the kernel of a gpu.module of the
/// same name, placed where \p func was.
LogicalResult mapKernel(func::FuncOp func, const TargetInfo &target) {
  SmallVector<scf::ForallOp> grids;
  for (Operation &op : func.getBody().front())
    if (auto grid = dyn_cast<scf::ForallOp>(op))
      grids.push_back(grid);
  if (grids.size() != 1)
    return func.emitError("expected one scf.forall grid at the top of kernel '")
           << func.getName() << "', found " << grids.size();
  if (!func->hasAttr(kSharedBytesAttr))
    return func.emitError("kernel '")
           << func.getName()
           << "' has no shared-memory plan; run attn-plan-shared-memory first";

  OpBuilder b(func);
  Location loc = func.getLoc();
  auto module = gpu::GPUModuleOp::create(b, loc, func.getName());
  b.setInsertionPointToStart(module.getBody());
  auto kernel =
      gpu::GPUFuncOp::create(b, loc, func.getName(), func.getFunctionType());
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  for (StringRef name :
       {abi::kKernelKindAttr, abi::kKernelInfoAttr, kSharedBytesAttr,
        kKernelRegisterTileRegistersAttr, kSwizzledTileAttr})
    if (Attribute attr = func->getAttr(name))
      kernel->setAttr(name, attr);
  // A kernel with register tiles has the warps they were split among.
  // Its fragments need registers: up to 255 a thread (every register an
  // SM has for one CTA of 8 warps, for two of 4).
  int64_t threads = target.threadsPerBlock(), minRegisters = 128;
  if (auto warps = func->getAttrOfType<IntegerAttr>(kKernelWarpsAttr)) {
    threads = warps.getInt() * target.warpSize();
    minRegisters = 255;
  }
  kernel.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({static_cast<int32_t>(threads), 1, 1}));
  // Without it ptxas plans for as many CTAs per SM as .maxntid allows and
  // caps registers accordingly (128 a thread at 128 threads), spilling
  // where shared memory allows fewer CTAs anyway.
  int64_t sharedBytes =
      func->getAttrOfType<IntegerAttr>(kSharedBytesAttr).getInt();
  kernel->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                  b.getI32IntegerAttr(static_cast<int32_t>(
                      target.ctasPerSM(sharedBytes, threads, minRegisters))));
  if (ArrayAttr argAttrs = func.getAllArgAttrs())
    kernel.setAllArgAttrs(argAttrs);

  kernel.getBody().takeBody(func.getBody());
  kernel.walk([&](func::ReturnOp ret) {
    OpBuilder rb(ret);
    gpu::ReturnOp::create(rb, ret.getLoc());
    ret.erase();
  });
  if (failed(mapGridToBlockIds(grids.front())))
    return failure();
  inlineAllocaScopes(kernel);
  if (failed(mapTilesToSharedMemory(kernel)))
    return failure();
  func.erase();
  return success();
}

struct AttnMapKernelsToGpuPass
    : impl::AttnMapKernelsToGpuPassBase<AttnMapKernelsToGpuPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<TargetInfo> target =
        getTargetOrEmitError(getOperation(), chip);
    if (!target)
      return signalPassFailure();
    SmallVector<func::FuncOp> kernels;
    for (auto func : module.getOps<func::FuncOp>())
      if (func->hasAttr(abi::kKernelKindAttr))
        kernels.push_back(func);
    if (kernels.empty())
      return;
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(&getContext()));
    if (threads % target->warpSize() != 0 || threads < 0) {
      module.emitError("threads = ")
          << threads << " is not a multiple of " << target->warpSize();
      return signalPassFailure();
    }
    TargetInfo chosen =
        threads ? target->withThreadsPerBlock(threads) : *target;
    for (func::FuncOp func : kernels)
      if (failed(mapKernel(func, chosen)))
        return signalPassFailure();
  }
};

} // namespace
} // namespace flashc::nvidia
