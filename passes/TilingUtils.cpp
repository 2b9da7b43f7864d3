//===- TilingUtils.cpp - driver helpers of the tiling passes --------------===//

#include "passes/TilingUtils.h"

#include "dialect/AttnOps.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;

namespace flashc {

FailureOr<TileSizes> getTileSizes(Operation *op) {
  auto sizes = op->getAttrOfType<DenseI64ArrayAttr>(kTileSizesAttr);
  if (!sizes)
    return op->emitError() << "has no '" << kTileSizesAttr
                           << "' attribute; run attn-select-tiles first";
  bool backward = isa<attn::AttentionGradOp>(op);
  if (sizes.size() != 2 && !(backward && sizes.size() == 4))
    return op->emitError() << "'" << kTileSizesAttr << "' holds "
                           << sizes.size() << " sizes; expected Br, Bc"
                           << (backward ? " (and the dQ kernel's Br, Bc)"
                                        : "");
  for (int64_t size : sizes.asArrayRef())
    if (size <= 0)
      return op->emitError() << "'" << kTileSizesAttr
                             << "' holds a size of " << size
                             << "; expected positive sizes";
  TileSizes tiles{sizes[0], sizes[1]};
  if (sizes.size() == 4) {
    tiles.dqBlockQ = sizes[2];
    tiles.dqBlockK = sizes[3];
  }
  return tiles;
}

LogicalResult checkUniqueFunctionNames(ModuleOp module, Operation *op) {
  llvm::StringSet<> names;
  for (auto func : module.getOps<func::FuncOp>())
    if (!names.insert(func.getSymName()).second)
      return op->emitError()
             << "kernel '@" << func.getSymName()
             << "' would share its name with another function of the "
                "module; rename that function";
  return success();
}

void eraseTiledSpecFunctions(ModuleOp module) {
  SmallVector<func::FuncOp> done;
  for (auto func : module.getOps<func::FuncOp>()) {
    bool hasSpec = false, allTiled = true;
    func.walk([&](Operation *op) {
      if (!isa<attn::AttentionOp, attn::AttentionGradOp>(op))
        return;
      hasSpec = true;
      allTiled &= op->hasAttr(kTiledAttr);
    });
    if (hasSpec && allTiled)
      done.push_back(func);
  }
  for (func::FuncOp func : done)
    func.erase();
}

} // namespace flashc
