//===- SpecSummary.h - what `flashc verify` prints --------------*- C++ -*-===//

#ifndef FLASHC_TOOLS_FLASHC_SPECSUMMARY_H
#define FLASHC_TOOLS_FLASHC_SPECSUMMARY_H

#include "llvm/Support/raw_ostream.h"

#include <string>

namespace flashc::tool {

class SpecFile;

/// Prints the summary of a verified spec: one `key: value` line each for its
/// op, shapes ('?' where dynamic), element type, scale, every mask and score
/// modifier present, dropout, and its FLOPs ("n/a" when a size is dynamic).
void printSpecSummary(llvm::raw_ostream &os, const SpecFile &spec);

/// `value` with '?' for a dynamic size.
std::string sizeString(int64_t value);

/// FLOPs as an exact integer followed by a scaled form, "1048576 (1.05
/// MFLOP)", or in scientific notation alone from 2^53 on.
std::string flopString(double flops);

} // namespace flashc::tool

#endif // FLASHC_TOOLS_FLASHC_SPECSUMMARY_H
