//===- TilingUtils.cpp - driver helpers of the tiling passes --------------===//

#include "passes/TilingUtils.h"

#include "dialect/AttnOps.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;

namespace flashc {

FailureOr<TileSizes> getTileSizes(Operation *op) {
  auto sizes = op->getAttrOfType<DenseI64ArrayAttr>(kTileSizesAttr);
  if (!sizes || sizes.size() != 2)
    return op->emitError() << "has no '" << kTileSizesAttr
                           << "' attribute; run attn-select-tiles first";
  return TileSizes{sizes[0], sizes[1]};
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
