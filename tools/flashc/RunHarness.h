//===- RunHarness.h - `flashc run`: compile, run, check ---------*- C++ -*-===//
//
// Runs a spec's kernels on fresh random data and judges every output element
// against the independent float64 reference (reference/), the way DESIGN.md's
// first command promises: sizes resolved from the spec and the command line,
// inputs rounded to the element type (the reference sees the rounded
// values), outputs poisoned with NaN so unwritten elements fail, then
// max abs / relative error against a stated tolerance, kernel time and
// TFLOP/s.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_TOOLS_FLASHC_RUNHARNESS_H
#define FLASHC_TOOLS_FLASHC_RUNHARNESS_H

#include "tools/flashc/KernelBackend.h"

#include "dialect/AttentionConfig.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace flashc::tool {

class SpecFile;

/// Exit codes of `flashc run` (and the other subcommands).
enum ExitCode : int {
  kExitSuccess = 0,
  /// A check failed, or the input is wrong.
  kExitFailure = 1,
  /// What was asked for is not available in this build or not implemented.
  kExitUnavailable = 2,
};

struct RunOptions {
  /// Size overrides; they fill dynamic sizes and must equal static ones.
  std::optional<int64_t> batch, headsQ, headsKV, seqQ, seqK;
  /// Seeds the inputs, sequence lengths, layout and dropout offset; fresh
  /// from std::random_device when absent.
  std::optional<uint64_t> seed;
  /// "cpu", "gpu", or empty: the GPU when there is one (pickDefaultBackend).
  std::string backend;
  /// Also check the backward pass (implied for attention_grad specs).
  bool grad = false;
  /// Largest relative error accepted; by element type when absent.
  std::optional<double> tolerance;
  /// Fraction of blocks a random layout keeps.
  double density = 0.5;
  /// Compile every gradient as `deterministic` (no atomics).
  bool deterministic = false;
};

/// Sizes a dynamic dimension takes when no option gives one.
inline constexpr int64_t kDefaultBatch = 2;
inline constexpr int64_t kDefaultHeads = 4;
inline constexpr int64_t kDefaultSeqLen = 256;

/// Resolves every size of \p config from its static sizes, \p opts and the
/// defaults; \p layoutType is the layout operand's type (null when absent).
/// Fails when an option contradicts a static size or the result is invalid
/// (Hq % Hkv, layout shape).
llvm::Expected<ConcreteShape> resolveShape(const attn::AttentionConfig &config,
                                           mlir::Type layoutType,
                                           const RunOptions &opts);

/// The default tolerance for an element type: 1e-5 for f32 (fp32 paths keep
/// the reference's error near fp32 rounding of O(sqrt(N)) terms), 1e-2 for
/// f16 and bf16 (bf16 keeps 8 bits of mantissa: 2^-8 = 3.9e-3 per rounding).
double defaultTolerance(mlir::Type elementType);

/// Error statistics of one output against the reference.
struct Comparison {
  double maxAbsError = 0.0;
  double maxAbsReference = 0.0;
  double relativeError = 0.0;
  /// The reference is all zero (or empty): relativeError is then the
  /// absolute error, relative to the inputs' unit scale.
  bool zeroReference = false;
  /// Index of the largest absolute error, -1 if none.
  int64_t worst = -1;
  int64_t nanCount = 0, firstNan = -1;
  /// Infinities where the reference has none, or -inf LSE where the kernel
  /// has a finite value: counted and the first one kept.
  int64_t infMismatches = 0, firstInfMismatch = -1;
  /// The two sides have different numbers of elements.
  bool sizeMismatch = false;
  bool passed(double tolerance) const {
    return !sizeMismatch && nanCount == 0 && infMismatches == 0 &&
           relativeError <= tolerance;
  }
};

/// Compares \p got with \p expected element by element: NaN anywhere fails,
/// infinities must match exactly (-inf LSE of fully masked rows), and the
/// relative error is max|got - expected| / max|expected|, or / 1 (the unit
/// scale of the inputs) where the reference is all zero.
Comparison compareOutputs(const std::vector<double> &got,
                          const std::vector<double> &expected);

/// `flashc run`: returns an ExitCode; the report goes to \p out, errors to
/// \p err.
int runSpec(SpecFile &spec, const RunOptions &opts, llvm::raw_ostream &out,
            llvm::raw_ostream &err);

} // namespace flashc::tool

#endif // FLASHC_TOOLS_FLASHC_RUNHARNESS_H
