//===- ReferenceProblem.h - a spec as a reference::Problem ------*- C++ -*-===//

#ifndef FLASHC_TOOLS_FLASHC_REFERENCEPROBLEM_H
#define FLASHC_TOOLS_FLASHC_REFERENCEPROBLEM_H

#include "tools/flashc/KernelBackend.h"
#include "tools/flashc/RegionInterpreter.h"

#include "dialect/AttentionConfig.h"
#include "reference/Reference.h"

namespace flashc::tool {

/// The reference problem of \p config at \p shape: sizes, scale, causal,
/// window, softcap, ALiBi, dropout probability and seed, layout block sizes
/// and the custom-region callbacks. What varies per run is left for the
/// caller: sequence lengths, the layout itself and the dropout offset.
reference::Problem makeReferenceProblem(const attn::AttentionConfig &config,
                                        const ConcreteShape &shape,
                                        const RegionCallbacks &regions);

} // namespace flashc::tool

#endif // FLASHC_TOOLS_FLASHC_REFERENCEPROBLEM_H
