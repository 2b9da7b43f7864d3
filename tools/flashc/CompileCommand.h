//===- CompileCommand.h - flashc compile: ahead-of-time kernels -*- C++ -*-===//

#ifndef FLASHC_TOOLS_FLASHC_COMPILECOMMAND_H
#define FLASHC_TOOLS_FLASHC_COMPILECOMMAND_H

#include "tools/flashc/SpecFile.h"

#include "llvm/Support/raw_ostream.h"

#include <string>

namespace flashc::tool {

struct CompileCommandOptions {
  std::string target = "sm_90a";
  std::string outputDir;
  /// Tile size overrides (0: tile selection chooses).
  int64_t blockQ = 0, blockK = 0;
  /// The backward's dQ kernel's tile overrides (0: as the dK/dV kernel's).
  int64_t dqBlockQ = 0, dqBlockK = 0;
  /// Tuning switches (nvidia::TileToGpuOptions).
  bool prefetchAlways = false;
  bool pinThreadIndex = false;
  /// Run ptxas for a cubin and the register/spill report, when it exists.
  bool ptxas = true;
  /// Compile every gradient as `deterministic` (no atomics).
  bool deterministic = false;
  /// Sum dQ in the dK/dV kernel (tileForNvidia's sumDq).
  bool sumDq = false;
};

/// Compiles \p spec's kernels for an NVIDIA target into a kernel directory
/// (PTX, cubin where ptxas exists, flashc.json for the runtime); prints what
/// it wrote. Returns an exit code.
int compileSpec(SpecFile &spec, const CompileCommandOptions &opts,
                llvm::raw_ostream &out, llvm::raw_ostream &err);

} // namespace flashc::tool

#endif // FLASHC_TOOLS_FLASHC_COMPILECOMMAND_H
