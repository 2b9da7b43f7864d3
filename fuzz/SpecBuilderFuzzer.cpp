//===- SpecBuilderFuzzer.cpp - fuzz-spec-builder: structured specs --------===//
//
// The bytes choose a spec (SpecBuilder.h) and pipeline options; a spec that
// verifies is compiled as fuzz-pipeline does. A spec with small static
// shapes also gets its IO report computed (`flashc explain`), which runs the
// kernels' block-bound arithmetic on plain integers.
//
// FLASHC_FUZZ_VERBOSE=1 prints each generated spec and its diagnostics:
//   FLASHC_FUZZ_VERBOSE=1 fuzz-spec-builder crash-<hash>
//
//===----------------------------------------------------------------------===//

#include "fuzz/FuzzSupport.h"
#include "fuzz/SpecBuilder.h"

#include "dialect/AttnOps.h"
#include "passes/IOReport.h"
#include "passes/TileSelection.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

using namespace flashc;
using namespace flashc::fuzz;

/// Computes the IO report of \p config for its own static sizes, with
/// sequence lengths (some out of range) and a full layout where the spec
/// has them.
static void checkIOReport(const attn::AttentionConfig &config,
                          const TilingOptions &options) {
  const attn::AttentionShape &s = config.shape;
  if (!s.isStatic() || s.headsKV < 1 || s.headsQ % s.headsKV != 0)
    return;
  // Keep the walk over tile pairs short (and its count from overflowing).
  int64_t pairs = 1;
  for (int64_t n : {s.batch, s.headsQ,
                    static_cast<int64_t>(llvm::divideCeil(s.seqQ, 16)),
                    static_cast<int64_t>(llvm::divideCeil(s.seqK, 16))}) {
    if (n > (1 << 16) || pairs * n > (1 << 16))
      return;
    pairs *= n;
  }
  int64_t sram = options.sramBytes;
  if (sram == 0) {
    llvm::Expected<int64_t> bytes = onChipBytes(options.target);
    if (!bytes) {
      llvm::consumeError(bytes.takeError());
      return;
    }
    sram = *bytes;
  }
  llvm::Expected<TileSizes> tiles =
      selectTileSizes(config, sram, options.blockQ, options.blockK);
  if (!tiles) {
    llvm::consumeError(tiles.takeError());
    return;
  }
  ReportProblem problem;
  problem.batch = s.batch;
  problem.headsQ = s.headsQ;
  problem.headsKV = s.headsKV;
  problem.seqQ = s.seqQ;
  problem.seqK = s.seqK;
  const int32_t lengths[] = {0, 1, -5, 2147483647};
  for (int64_t b = 0; b < s.batch; ++b) {
    if (config.hasSeqLensQ)
      problem.seqLensQ.push_back(b % 5 == 4 ? int32_t(s.seqQ)
                                            : lengths[b % 4]);
    if (config.hasSeqLensK)
      problem.seqLensK.push_back(b % 3 == 2 ? int32_t(s.seqK)
                                            : lengths[(b + 1) % 4]);
  }
  if (config.hasLayout)
    problem.layout.assign(
        static_cast<size_t>(llvm::divideCeil(s.seqQ, config.layoutBlockQ) *
                            llvm::divideCeil(s.seqK, config.layoutBlockK)),
        1);
  (void)computeIOReport(config, problem, *tiles, sram, /*sumDq=*/true);
  (void)computeIOReport(config, problem, *tiles, sram, /*sumDq=*/false);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  GeneratedSpec spec = buildSpec(data, size);
  if (verbose())
    llvm::errs() << "// target=" << spec.options.target
                 << " sram-bytes=" << spec.options.sramBytes
                 << " block-q=" << spec.options.blockQ
                 << " block-k=" << spec.options.blockK << "\n"
                 << spec.text << "\n";
  mlir::OwningOpRef<mlir::ModuleOp> module =
      parseSpec(spec.text, specContext());
  if (!module)
    return 0;
  module->walk([&](mlir::Operation *op) {
    if (auto fwd = llvm::dyn_cast<attn::AttentionOp>(op))
      checkIOReport(attn::getAttentionConfig(fwd), spec.options);
    else if (auto bwd = llvm::dyn_cast<attn::AttentionGradOp>(op))
      checkIOReport(attn::getAttentionConfig(bwd), spec.options);
  });
  checkPipelines(*module, spec.options);
  return 0;
}
