//===- ExplainCommand.cpp - flashc explain: the IO report -----------------===//
//
// The figures come from passes/IOReport, which walks the same block bounds
// the generated kernels compute; this file only chooses sizes and prints.
//
//===----------------------------------------------------------------------===//

#include "tools/flashc/ExplainCommand.h"
#include "tools/flashc/GradientSpec.h"

#include "codegen/nvidia/NvidiaCompiler.h"
#include "passes/IOReport.h"
#include "passes/TileSelection.h"

#include "dialect/AttnOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

namespace flashc::tool {

namespace {
std::string bytesStr(double b) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024.0 && u < 4) {
    b /= 1024.0;
    ++u;
  }
  return llvm::formatv("{0:F2} {1}", b, units[u]).str();
}

std::string flopsStr(double f) {
  return llvm::formatv("{0:F3} GFLOP", f / 1e9).str();
}

void printPass(llvm::raw_ostream &out, llvm::StringRef name,
               const PassFigures &p, double conventionFlops,
               double standardBytes) {
  const BlockCounts &b = p.blocks;
  double skippedPct = b.total ? 100.0 * b.skipped() / b.total : 0.0;
  double total = p.hbmReadBytes + p.hbmWriteBytes;
  out << name << ":\n";
  out << llvm::formatv("  on-chip    {0} per CTA\n", bytesStr(p.onChipBytes));
  out << llvm::formatv("  blocks     {0} tile pairs: {1} visited ({2} full, "
                       "{3} partial: masked), {4} skipped ({5:F1}%)\n",
                       b.total, b.visited, b.full, b.partial(), b.skipped(),
                       skippedPct);
  out << llvm::formatv("  HBM        read {0}, write {1}, total {2}\n",
                       bytesStr(p.hbmReadBytes), bytesStr(p.hbmWriteBytes),
                       bytesStr(total));
  out << llvm::formatv("  FLOPs      {0} executed (whole tiles); {1} by the "
                       "FlashAttention convention\n",
                       flopsStr(p.flops), flopsStr(conventionFlops));
  out << llvm::formatv("  standard   {0} of HBM traffic (S and P in HBM: "
                       "Theta(N d + N^2)); flashc moves {1:F1}x less\n",
                       bytesStr(standardBytes),
                       total > 0 ? standardBytes / total : 0.0);
}

/// The module the backward figures describe: a gradient spec itself, a
/// forward spec's gradient (withGradientFunction, as `flashc run --grad`);
/// or, as an error, why a forward spec has none (its diagnostics captured,
/// not printed: the forward figures still stand).
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
gradientModule(SpecFile &spec) {
  if (llvm::isa<attn::AttentionGradOp>(spec.attentionOp()))
    return mlir::OwningOpRef<mlir::ModuleOp>(spec.module().clone());
  std::string firstDiagnostic;
  mlir::ScopedDiagnosticHandler capture(spec.module().getContext(),
                                        [&](mlir::Diagnostic &diagnostic) {
                                          if (firstDiagnostic.empty())
                                            firstDiagnostic = diagnostic.str();
                                          return mlir::success();
                                        });
  auto gradient = withGradientFunction(spec.module());
  if (!gradient && !firstDiagnostic.empty()) {
    llvm::consumeError(gradient.takeError());
    return llvm::createStringError(firstDiagnostic);
  }
  return gradient;
}

/// The tiles flashc compiles for a GPU target, as `flashc compile` and
/// `flashc run` do: the forward's as \p spec compiles, the backward's
/// (bwd_dq's apart) as \p gradient does (null: no backward).
struct CompiledTiles {
  TileSizes forward, backward;
};

llvm::Expected<CompiledTiles> gpuTiles(SpecFile &spec, mlir::ModuleOp gradient,
                                       llvm::StringRef chip,
                                       TileSizes overrides) {
  llvm::Expected<nvidia::TargetInfo> target = nvidia::TargetInfo::get(chip);
  if (!target)
    return target.takeError();
  auto tilesOf = [&](mlir::ModuleOp module) -> llvm::Expected<TileSizes> {
    auto tiled = nvidia::tileForNvidia(module, *target, overrides);
    if (!tiled)
      return tiled.takeError();
    return nvidia::kernelTiles(**tiled);
  };
  llvm::Expected<TileSizes> forward = tilesOf(spec.module());
  if (!forward)
    return forward.takeError();
  // A gradient spec's kernels, the forward among them, are one compilation.
  if (!gradient || llvm::isa<attn::AttentionGradOp>(spec.attentionOp()))
    return CompiledTiles{*forward, *forward};
  llvm::Expected<TileSizes> backward = tilesOf(gradient);
  if (!backward)
    return backward.takeError();
  return CompiledTiles{*forward, *backward};
}
} // namespace

int explainSpec(SpecFile &spec, const ExplainOptions &opts,
                llvm::raw_ostream &out, llvm::raw_ostream &err) {
  attn::AttentionConfig config = spec.config();
  mlir::Type layoutType;
  if (auto fwd = llvm::dyn_cast<attn::AttentionOp>(spec.attentionOp()))
    layoutType = fwd.getLayout() ? fwd.getLayout().getType() : nullptr;
  else if (auto bwd = llvm::dyn_cast<attn::AttentionGradOp>(spec.attentionOp()))
    layoutType = bwd.getLayout() ? bwd.getLayout().getType() : nullptr;
  llvm::Expected<ConcreteShape> shape =
      resolveShape(config, layoutType, opts.sizes);
  if (!shape) {
    err << "flashc explain: error: " << llvm::toString(shape.takeError())
        << "\n";
    return kExitFailure;
  }
  llvm::Expected<int64_t> sram = onChipBytes(opts.target);
  if (!sram) {
    err << "flashc explain: error: " << llvm::toString(sram.takeError())
        << "\n";
    return kExitFailure;
  }
  // The paper's tiles (and the overrides' checks); on a GPU, the tiles the
  // kernels are compiled at replace them: the forward's as the spec
  // compiles, the backward's as its gradient does.
  llvm::Expected<TileSizes> tiles =
      selectTileSizes(config, *sram, opts.blockQ, opts.blockK);
  if (!tiles) {
    err << "flashc explain: error: " << llvm::toString(tiles.takeError())
        << "\n";
    return kExitFailure;
  }
  auto gradient = gradientModule(spec);
  std::string noBackward;
  if (!gradient)
    noBackward = llvm::toString(gradient.takeError());
  bool gpu = opts.target != "cpu";
  CompiledTiles compiled{*tiles, *tiles};
  if (gpu) {
    llvm::Expected<CompiledTiles> chosen =
        gpuTiles(spec, gradient ? **gradient : mlir::ModuleOp(), opts.target,
                 {opts.blockQ, opts.blockK});
    if (!chosen) {
      err << "flashc explain: error: " << llvm::toString(chosen.takeError())
          << "\n";
      return kExitFailure;
    }
    compiled = *chosen;
  }

  ReportProblem problem;
  problem.batch = shape->batch;
  problem.headsQ = shape->headsQ;
  problem.headsKV = shape->headsKV;
  problem.seqQ = shape->seqQ;
  problem.seqK = shape->seqK;
  config.shape.batch = shape->batch;
  config.shape.headsQ = shape->headsQ;
  config.shape.headsKV = shape->headsKV;
  config.shape.seqQ = shape->seqQ;
  config.shape.seqK = shape->seqK;
  // The backward as each target compiles it: the CPU sums dQ in dq_accum,
  // a GPU recomputes it (tileForNvidia).
  bool sumDq = !gpu;
  IOReport r = computeIOReport(config, problem, compiled.forward,
                               compiled.backward, *sram, sumDq);

  int64_t d = std::max(config.shape.headDim, config.shape.headDimV);
  int64_t words = *sram / 4;
  int64_t paperBc = (words + 4 * d - 1) / (4 * d);
  out << "flashc explain: " << spec.path() << "\n";
  out << llvm::formatv("  shape      B={0} Hq={1} Hkv={2} Nq={3} Nk={4} D={5} "
                       "Dv={6} {7}\n",
                       shape->batch, shape->headsQ, shape->headsKV, shape->seqQ,
                       shape->seqK, config.shape.headDim, config.shape.headDimV,
                       config.elementType);
  out << llvm::formatv("  target     {0}: on-chip memory M = {1} ({2} fp32 "
                       "words)\n",
                       opts.target, bytesStr(*sram), words);
  std::string compiledFor =
      gpu ? llvm::formatv("as compiled for {0}: a table measured faster "
                          "or the paper's rule, halved while a kernel does "
                          "not fit shared memory; ",
                          opts.target)
                .str()
          : "";
  out << llvm::formatv("  tiles      Br = {0}, Bc = {1} ({2}paper: Bc = "
                       "ceil(M/4d) = {3}, Br = min(Bc, d) = {4}; powers of "
                       "two in [16, 128]{5})\n",
                       compiled.forward.blockQ, compiled.forward.blockK,
                       compiledFor, paperBc, std::min(paperBc, d),
                       opts.blockQ || opts.blockK ? "; overridden" : "");
  if (gpu && gradient) {
    TileSizes dq = compiled.backward.forDq();
    out << llvm::formatv("  bwd tiles  dK/dV Br = {0}, Bc = {1}; bwd_dq Br "
                         "= {2}, Bc = {3}\n",
                         compiled.backward.blockQ, compiled.backward.blockK,
                         dq.blockQ, dq.blockK);
  }
  if (config.hasSeqLensQ || config.hasSeqLensK)
    out << "  note       sequence lengths are run-time data: figures assume "
           "every sequence is full\n";
  if (config.hasLayout)
    out << "  note       the layout is run-time data: figures assume every "
           "layout block is kept (an upper bound; a layout of density p "
           "visits about p times the blocks)\n";
  if (config.mask)
    out << llvm::formatv("  note       custom mask: {0}\n",
                         analyzeMasks(config).exact
                             ? "linear in (i, j): blocks classified exactly"
                             : "not provably linear: every visited block is "
                               "masked");
  printPass(out, "forward", r.forward, r.conventionForwardFlops,
            r.standardForwardBytes);
  if (gradient)
    printPass(out,
              sumDq ? "backward (dQ summed in dq_accum by bwd_dkdv)"
                    : "backward (dQ recomputed by bwd_dq)",
              r.backward, r.conventionBackwardFlops, r.standardBackwardBytes);
  else
    out << "backward: none: " << noBackward << "\n";
  out << llvm::formatv("theorem 2    N^2 d^2 / M = {0} (the order of "
                       "FlashAttention's HBM accesses)\n",
                       bytesStr(r.theorem2Bytes));
  return kExitSuccess;
}

} // namespace flashc::tool
