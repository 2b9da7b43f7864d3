//===- CtaBuilders.h - code the threads of a CTA run together ---*- C++ -*-===//
//
// What every GPU lowering of an attn.tile op needs: the thread's place in
// the CTA, loops that split a tile's elements or rows among the threads or
// warps, warp reductions, and f32 conversions of tile elements. The CTA has
// TargetInfo::threadsPerBlock() threads in x.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_NVIDIA_CTABUILDERS_H
#define FLASHC_CODEGEN_NVIDIA_CTABUILDERS_H

#include "codegen/nvidia/TargetInfo.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/DialectConversion.h"

namespace flashc::nvidia {

/// The thread's coordinates, built at the insertion point.
struct CtaThread {
  mlir::Value tid;  ///< thread index in the CTA
  mlir::Value lane; ///< tid % 32
  mlir::Value warp; ///< tid / 32
  int64_t threads = 0, warps = 0;

  static CtaThread build(mlir::OpBuilder &b, mlir::Location loc,
                         const TargetInfo &target);
};

mlir::Value indexConstant(mlir::OpBuilder &b, mlir::Location loc,
                          int64_t value);
mlir::Value f32Constant(mlir::OpBuilder &b, mlir::Location loc, double value);
/// The f32 -inf (a masked score, an empty row's max and LSE).
mlir::Value f32NegInf(mlir::OpBuilder &b, mlir::Location loc);
/// Whether f32 \p x is -inf.
mlir::Value isNegInf(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x);
/// A constant of float type \p type.
mlir::Value floatConstant(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Type type, double value);

/// Converts a float scalar or vector to element type \p to (f16 <-> bf16
/// through f32). Returns \p value when the types agree.
mlir::Value convertFloat(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value value, mlir::Type to);
/// Loads element \p indices of \p memref, widened to f32.
mlir::Value loadAsF32(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::Value memref, mlir::ValueRange indices);
/// Stores f32 \p value into \p memref, narrowed to its element type.
void storeFromF32(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value,
                  mlir::Value memref, mlir::ValueRange indices);

/// The static shape of a tile.
llvm::ArrayRef<int64_t> tileShape(mlir::Value tile);

using ElementBody = llvm::function_ref<void(mlir::OpBuilder &, mlir::Location,
                                            mlir::ValueRange indices)>;

/// Splits the elements of a tile of \p shape among the CTA's threads:
/// thread t visits flat elements t, t + T, t + 2T, ... (consecutive threads
/// on consecutive columns), handing \p body the element's indices.
void forEachElement(mlir::OpBuilder &b, mlir::Location loc,
                    const CtaThread &cta, llvm::ArrayRef<int64_t> shape,
                    ElementBody body);

/// Like forEachElement, in groups of \p width consecutive columns (the last
/// dimension must be a multiple of it): \p body gets the first element's
/// indices.
void forEachElementGroup(mlir::OpBuilder &b, mlir::Location loc,
                         const CtaThread &cta, llvm::ArrayRef<int64_t> shape,
                         int64_t width, ElementBody body);

using ElementMap = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange indices,
    mlir::ValueRange sources)>;

/// dest[i] = body(i, sources[0][i], ...) for every element i of tile \p dest
/// (sources have its shape; their elements come widened to f32, the result
/// is narrowed to dest's type). Rows go in groups of 4 consecutive columns
/// (16-byte shared-memory accesses for f32) when the row length allows.
void mapTileElements(mlir::OpBuilder &b, mlir::Location loc,
                     const CtaThread &cta, mlir::Value dest,
                     mlir::ValueRange sources, ElementMap body);

/// Gives each warp rows warp, warp + W, ... of \p rows; \p body runs with
/// the row index, executed by all 32 lanes of the warp.
void forEachRowPerWarp(
    mlir::OpBuilder &b, mlir::Location loc, const CtaThread &cta, int64_t rows,
    llvm::function_ref<void(mlir::OpBuilder &, mlir::Location, mlir::Value row)>
        body);

using ColumnReduction = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::Value col, mlir::Value partial)>;

/// The lanes of a warp split columns [0, cols): lane l visits l, l + 32,
/// ...; returns the lane's partial reduction from \p init.
mlir::Value reduceColumnsPerLane(mlir::OpBuilder &b, mlir::Location loc,
                                 const CtaThread &cta, int64_t cols,
                                 mlir::Value init, ColumnReduction body);
/// Lane loop without a reduction.
void forEachColumnPerLane(
    mlir::OpBuilder &b, mlir::Location loc, const CtaThread &cta, int64_t cols,
    llvm::function_ref<void(mlir::OpBuilder &, mlir::Location, mlir::Value)>
        body);

/// Combines f32 \p value across the 32 lanes of the warp (butterfly
/// shuffles): every lane gets the result.
mlir::Value warpAllReduce(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Value value, mlir::gpu::AllReduceOperation op);

/// Runs \p body on lane 0 of the warp only, after a warp barrier (so that
/// it may overwrite what the other lanes read before).
void onLaneZero(
    mlir::OpBuilder &b, mlir::Location loc, const CtaThread &cta,
    llvm::function_ref<void(mlir::OpBuilder &, mlir::Location)> body);

/// e^x for f32 \p x as 2^(x log2 e), which the NVVM lowering turns into one
/// ex2.approx (relative error about 2^-22, below the f32 tolerance).
mlir::Value emitExp(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x);

/// fence.proxy.async.shared::cta: this thread's shared-memory writes
/// (generic proxy) made visible to the async proxy (wgmma, bulk copies)
/// once a barrier follows.
void emitAsyncProxyFence(mlir::OpBuilder &b, mlir::Location loc);

/// Base of the patterns that lower one attn.tile op to CTA code.
template <typename OpT> struct CtaPattern : mlir::OpConversionPattern<OpT> {
  CtaPattern(mlir::MLIRContext *context, const TargetInfo &target)
      : mlir::OpConversionPattern<OpT>(context), target(target) {}
  TargetInfo target;
};

} // namespace flashc::nvidia

#endif // FLASHC_CODEGEN_NVIDIA_CTABUILDERS_H
