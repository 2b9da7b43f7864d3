//===- ExplainCommand.h - flashc explain: the IO report ---------*- C++ -*-===//

#ifndef FLASHC_TOOLS_FLASHC_EXPLAINCOMMAND_H
#define FLASHC_TOOLS_FLASHC_EXPLAINCOMMAND_H

#include "tools/flashc/RunHarness.h"
#include "tools/flashc/SpecFile.h"

#include "llvm/Support/raw_ostream.h"

#include <string>

namespace flashc::tool {

struct ExplainOptions {
  /// Sizes, as for `flashc run` (only the size fields are read).
  RunOptions sizes;
  /// cpu: tiles by the paper's rule from the on-chip memory; a GPU (sm_80,
  /// sm_90, sm_90a): the tiles flashc compiles at for it (tileForNvidia).
  std::string target = "cpu";
  /// Tile size overrides (0: tile selection chooses).
  int64_t blockQ = 0, blockK = 0;
};

/// Prints the IO report of \p spec for concrete sizes; returns an exit code.
int explainSpec(SpecFile &spec, const ExplainOptions &opts,
                llvm::raw_ostream &out, llvm::raw_ostream &err);

} // namespace flashc::tool

#endif // FLASHC_TOOLS_FLASHC_EXPLAINCOMMAND_H
