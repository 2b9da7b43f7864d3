//===- SpecBuilder.h - fuzz bytes to an attention spec ----------*- C++ -*-===//
//
// Mutating spec text byte by byte rarely yields a spec that still verifies,
// so the passes behind the verifier see few inputs. The builder reads the
// bytes as a sequence of choices instead and prints a spec from them: dims
// (mostly small, sometimes 0, 1, huge or dynamic), element types, each clause
// on or off with ordinary or edge values, small mask and score regions drawn
// from a menu of arith and math ops, extra spec ops and functions whose
// names collide with generated kernels, and pipeline options. Most choices
// are valid, a few are not, so the verifier's diagnostics are reached too.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_FUZZ_SPECBUILDER_H
#define FLASHC_FUZZ_SPECBUILDER_H

#include "passes/Pipelines.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace flashc::fuzz {

struct GeneratedSpec {
  /// The spec module, as text.
  std::string text;
  /// Options for the tiling pipeline.
  TilingOptions options;
};

/// Decodes \p data into a spec. Deterministic; any bytes give some spec
/// (an empty input gives a plain forward attention with small dims).
GeneratedSpec buildSpec(const uint8_t *data, size_t size);

} // namespace flashc::fuzz

#endif // FLASHC_FUZZ_SPECBUILDER_H
