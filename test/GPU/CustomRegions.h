//===- CustomRegions.h - reference callbacks for custom regions -*- C++ -*-===//
//
// A compiled kernel directory carries no regions: flashc.json only says that
// a spec has a custom mask or score. flashc-gpu-tests needs the same
// functions on the host for the float64 reference, so they live here, keyed
// by the kernel directory's name, which is the spec's file name in
// test/GPU/specs/ (`flashc compile specs/X.mlir -o gpu-kernels/X`).
//
// When a spec in test/GPU/specs/ gains or changes a region, change its entry
// here: generate.py names each region (prefix16, stripes, relbias, tanhmix)
// and the functions below implement exactly those.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_TEST_GPU_CUSTOMREGIONS_H
#define FLASHC_TEST_GPU_CUSTOMREGIONS_H

#include <cstdint>
#include <functional>
#include <string>

namespace flashc::gputest {

struct CustomRegions {
  /// keep(b, h, i, j); empty when the spec has no mask region.
  std::function<bool(int64_t, int64_t, int64_t, int64_t)> mask;
  /// f(s, b, h, i, j) and df/ds; empty when the spec has no score region.
  std::function<double(double, int64_t, int64_t, int64_t, int64_t)> score,
      scoreGrad;
};

/// The regions of the spec compiled into the directory named \p name, or
/// null when the table has no entry for it.
const CustomRegions *customRegionsFor(const std::string &name);

} // namespace flashc::gputest

#endif // FLASHC_TEST_GPU_CUSTOMREGIONS_H
