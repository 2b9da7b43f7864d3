//===- TilingUtils.h - driver helpers of the tiling passes ------*- C++ -*-===//

#ifndef FLASHC_PASSES_TILINGUTILS_H
#define FLASHC_PASSES_TILINGUTILS_H

#include "passes/TileSelection.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace flashc {

/// The tile sizes `attn-select-tiles` chose for `op`, or an error on `op`.
mlir::FailureOr<TileSizes> getTileSizes(mlir::Operation *op);

/// Builds kernels for every `SpecOp` in `module` with `build(op, module,
/// baseName)` and erases the functions that held them: the result is a
/// module of kernels. A function holding several spec ops names its kernels
/// `<func>_<n>_<kind>`.
/// Marks a spec op whose kernels exist.
inline constexpr llvm::StringLiteral kTiledAttr = "attn.tiled";

/// Erases functions all of whose spec ops have kernels.
void eraseTiledSpecFunctions(mlir::ModuleOp module);

/// Fails with an error on `op` when two functions of `module` share a name:
/// a kernel `<func>_<kind>` just built for `op` may take the name of a
/// function already there (say, one the user called `f_fwd`).
mlir::LogicalResult checkUniqueFunctionNames(mlir::ModuleOp module,
                                             mlir::Operation *op);

/// Builds kernels for every `SpecOp` in `module` with `build(op, module,
/// baseName)`, then erases the functions whose spec ops all have kernels: a
/// fully tiled module holds only kernels. A function holding several spec
/// ops names its kernels `<func>_<n>_<kind>`.
template <typename SpecOp, typename BuildFn>
mlir::LogicalResult replaceSpecFunctions(mlir::ModuleOp module,
                                         BuildFn build) {
  llvm::SmallVector<mlir::func::FuncOp> funcs(
      module.getOps<mlir::func::FuncOp>());
  for (mlir::func::FuncOp func : funcs) {
    llvm::SmallVector<SpecOp> ops;
    func.walk([&](SpecOp op) { ops.push_back(op); });
    for (auto [n, op] : llvm::enumerate(ops)) {
      std::string base = func.getSymName().str();
      if (ops.size() > 1)
        base += "_" + std::to_string(n);
      if (mlir::failed(build(op, module, base)) ||
          mlir::failed(checkUniqueFunctionNames(module, op)))
        return mlir::failure();
      op->setAttr(kTiledAttr, mlir::UnitAttr::get(op->getContext()));
    }
  }
  eraseTiledSpecFunctions(module);
  return mlir::success();
}

} // namespace flashc

#endif // FLASHC_PASSES_TILINGUTILS_H
