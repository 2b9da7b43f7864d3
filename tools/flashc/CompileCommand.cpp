//===- CompileCommand.cpp - flashc compile: ahead-of-time kernels ---------===//

#include "tools/flashc/CompileCommand.h"
#include "tools/flashc/GradientSpec.h"
#include "tools/flashc/RunHarness.h"

#include "codegen/nvidia/NvidiaCompiler.h"
#include "dialect/AttnOps.h"

#include "llvm/Support/FormatVariadic.h"

namespace flashc::tool {

int compileSpec(SpecFile &spec, const CompileCommandOptions &opts,
                llvm::raw_ostream &out, llvm::raw_ostream &err) {
  auto fail = [&](llvm::Error e) {
    err << "flashc compile: error: " << llvm::toString(std::move(e)) << "\n";
    return kExitFailure;
  };
  if (opts.outputDir.empty())
    return fail(llvm::createStringError(
        "no output directory: pass -o DIR"));
  llvm::Expected<nvidia::TargetInfo> target =
      nvidia::TargetInfo::get(opts.target);
  if (!target)
    return fail(target.takeError());

  if (opts.deterministic)
    makeGradientsDeterministic(spec.module());
  TileSizes tiles{opts.blockQ, opts.blockK, opts.dqBlockQ, opts.dqBlockK};
  auto tiled =
      nvidia::tileForNvidia(spec.module(), *target, tiles, opts.sumDq);
  if (!tiled)
    return fail(tiled.takeError());
  nvidia::CompileOptions compileOpts;
  compileOpts.runPtxas = opts.ptxas;
  compileOpts.tuning.prefetchAlways = opts.prefetchAlways;
  compileOpts.tuning.pinThreadIndex = opts.pinThreadIndex;
  llvm::Expected<nvidia::NvidiaKernels> kernels =
      nvidia::compileForNvidia(**tiled, *target, compileOpts);
  if (!kernels)
    return fail(kernels.takeError());

  nvidia::ManifestInfo info =
      nvidia::fromConfig(spec.config(), spec.path(), opts.target);
  if (llvm::Error e =
          nvidia::writeKernelDirectory(*kernels, info, opts.outputDir))
    return fail(std::move(e));

  out << "flashc compile: " << spec.path() << " -> " << opts.outputDir
      << " (" << kernels->target << ")\n";
  for (const nvidia::NvidiaKernel &k : kernels->kernels) {
    out << llvm::formatv("  {0,-9} {1}: tiles {2}x{3}, {4} threads, {5} B "
                         "shared, ",
                         k.kind, k.name, k.blockQ, k.blockK, k.threads,
                         k.sharedBytes);
    if (k.registerTileRegisters)
      out << llvm::formatv("{0} f32 a thread in register tiles",
                           k.registerTileRegisters);
    else
      out << "no register tiles";
    if (k.ptxas)
      out << llvm::formatv(", {0} registers, {1} B spilled", k.ptxas->registers,
                           k.ptxas->spillStoreBytes + k.ptxas->spillLoadBytes);
    out << (k.cubin ? ", cubin" : ", PTX only") << "\n";
  }
  return kExitSuccess;
}

} // namespace flashc::tool
