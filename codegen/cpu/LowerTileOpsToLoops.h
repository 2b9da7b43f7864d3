//===- LowerTileOpsToLoops.h - attn.tile ops to scf loops -------*- C++ -*-===//

#ifndef FLASHC_CODEGEN_CPU_LOWERTILEOPSTOLOOPS_H
#define FLASHC_CODEGEN_CPU_LOWERTILEOPSTOLOOPS_H

#include "mlir/IR/PatternMatch.h"

namespace flashc::codegen::cpu {

/// Patterns rewriting every attn.tile op into scalar scf.for loops over its
/// memrefs (one pattern per op). tile.score_grad's custom region must have
/// passed verifyDifferentiable (RegionDerivative.h); the pass checks it first.
void populateLowerTileOpsToLoopsPatterns(mlir::RewritePatternSet &patterns);

// The families that make up the set, one file each.
/// fill, copy, load, store.
void populateLowerMemoryTileOpsPatterns(mlir::RewritePatternSet &patterns);
/// matmul, row_dot.
void populateLowerMatmulTileOpsPatterns(mlir::RewritePatternSet &patterns);
/// softmax_update, finalize, exp_lse, softmax_grad.
void populateLowerSoftmaxTileOpsPatterns(mlir::RewritePatternSet &patterns);
/// score_mod, score_grad, mask, dropout.
void populateLowerScoreTileOpsPatterns(mlir::RewritePatternSet &patterns);

} // namespace flashc::codegen::cpu

#endif // FLASHC_CODEGEN_CPU_LOWERTILEOPSTOLOOPS_H
