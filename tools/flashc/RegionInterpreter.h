//===- RegionInterpreter.h - evaluate custom mask/score regions -*- C++ -*-===//
//
// `flashc run` judges the compiler against reference/, which knows nothing of
// MLIR: custom `mask` and `score` regions reach it as callbacks. This file
// produces those callbacks by interpreting the region's arith and math ops
// directly, in double precision, without any of the compiler's lowering, so
// that a bug in the lowering cannot hide behind the same bug in the check.
//
// The region is translated once into a flat list of steps over value slots;
// each call runs the steps. Floats carry a dual part, so one evaluation of a
// score region gives both f(s) and df/ds, which the backward reference needs.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_TOOLS_FLASHC_REGIONINTERPRETER_H
#define FLASHC_TOOLS_FLASHC_REGIONINTERPRETER_H

#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace mlir {
class Region;
} // namespace mlir

namespace flashc::tool {

namespace detail {
struct RegionProgram;
} // namespace detail

/// A value and its derivative with respect to the score argument.
struct DualValue {
  double value = 0.0;
  double derivative = 0.0;
};

/// A compiled custom region. Copies share the program and its error state.
class RegionInterpreter {
public:
  /// Translates a mask region (b, h, i, j : index) -> i1. Fails, naming the
  /// op, on an op or type the interpreter does not support.
  static llvm::Expected<RegionInterpreter> forMask(mlir::Region &region);
  /// Translates a score region (s : f32, b, h, i, j : index) -> f32.
  static llvm::Expected<RegionInterpreter> forScore(mlir::Region &region);

  /// Whether the mask region keeps (b, h, i, j).
  bool mask(int64_t b, int64_t h, int64_t i, int64_t j) const;
  /// The score region's value for score s at (b, h, i, j).
  double score(double s, int64_t b, int64_t h, int64_t i, int64_t j) const;
  /// The score region's value and its derivative with respect to s.
  DualValue scoreWithDerivative(double s, int64_t b, int64_t h, int64_t i,
                                int64_t j) const;

  /// The first error met while evaluating (division by zero, an oversized
  /// shift, ...), with the arguments that caused it; empty if none. Such an
  /// evaluation returns 0 (false for masks).
  std::string runtimeError() const;

  /// Wraps a translated program; used by the translator.
  static RegionInterpreter
  fromProgram(std::shared_ptr<const detail::RegionProgram> program);

private:
  explicit RegionInterpreter(std::shared_ptr<const detail::RegionProgram> p)
      : program(std::move(p)) {}
  std::shared_ptr<const detail::RegionProgram> program;
};

/// The callbacks reference::Problem takes (customMask, customScore,
/// customScoreGrad), for the regions that are present; absent regions give
/// empty functions.
struct RegionCallbacks {
  std::function<bool(int64_t, int64_t, int64_t, int64_t)> mask;
  std::function<double(double, int64_t, int64_t, int64_t, int64_t)> score;
  std::function<double(double, int64_t, int64_t, int64_t, int64_t)> scoreGrad;
  /// First evaluation error of either region; empty if none.
  std::function<std::string()> runtimeError;
};

/// Builds the callbacks for \p mask and \p score (either may be null).
llvm::Expected<RegionCallbacks> makeRegionCallbacks(mlir::Region *mask,
                                                    mlir::Region *score);

} // namespace flashc::tool

#endif // FLASHC_TOOLS_FLASHC_REGIONINTERPRETER_H
