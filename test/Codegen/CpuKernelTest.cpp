//===- CpuKernelTest.cpp - CPU JIT of tiled kernels vs. the reference -----===//
//
// Hand-written tiled kernels (KernelText.h) are lowered and JIT-compiled by
// flashc::cpu::CpuKernelModule and run on fresh random inputs; the results
// are compared with the float64 reference (reference/Reference.h).
//
// Tolerances, as max|x - ref| / max|ref| over each output:
//  - f32 inputs: 1e-5. Every sum is accumulated in f32 over at most a few
//    hundred terms of magnitude ~1, so rounding stays near 1e-6.
//  - bf16/f16 inputs: 1e-2. The inputs are rounded before both sides see
//    them, but O, dO and the outputs are rounded to 8 mantissa bits
//    (2^-9 ~ 2e-3 relative) and the backward pass reuses the rounded O.
//  - LSE is f32 in every case: 1e-5.
//
// FLASHC_TEST_VERBOSE=1 prints every measured error. A failure prints the
// random seed of its inputs.
//
//===----------------------------------------------------------------------===//

#include "KernelText.h"
#include "codegen/cpu/CpuJit.h"
#include "dialect/AttnDialect.h"
#include "reference/Philox.h"
#include "reference/Reference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>

using flashc::cpu::CpuKernelModule;
using flashc::cpu::KernelArg;
using flashc::cpu::MemRefArg;
using flashc::test::KernelConfig;
namespace reference = flashc::reference;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

//===----------------------------------------------------------------------===//
// Host tensors of f32, bf16 or f16 with arbitrary strides
//===----------------------------------------------------------------------===//

uint16_t floatToBf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if (std::isnan(value))
    return 0x7FC0;
  bits += 0x7FFF + ((bits >> 16) & 1); // round to nearest even
  return static_cast<uint16_t>(bits >> 16);
}

float bf16ToFloat(uint16_t value) {
  uint32_t bits = static_cast<uint32_t>(value) << 16;
  float result;
  std::memcpy(&result, &bits, 4);
  return result;
}

/// A tensor as a kernel sees it: elements of one type at logical index
/// [i0, i1, ...] stored at offset + sum(i_d * strides[d]).
class HostTensor {
public:
  HostTensor(std::string type, std::vector<int64_t> shape,
             bool seqMajor = false, int64_t offset = 0)
      : type(std::move(type)), shape(std::move(shape)), offset(offset) {
    size_t rank = this->shape.size();
    strides.assign(rank, 1);
    if (seqMajor && rank == 4) {
      // BSHD: physically [B, N, H, D].
      int64_t h = this->shape[1], n = this->shape[2], d = this->shape[3];
      strides = {n * h * d, d, h * d, 1};
    } else {
      for (size_t i = rank - 1; i > 0; --i)
        strides[i - 1] = strides[i] * this->shape[i];
    }
    int64_t span = 1;
    for (size_t i = 0; i < rank; ++i)
      span += (this->shape[i] - 1) * strides[i];
    // All ones: NaN in every float type, so unwritten outputs show up.
    bytes.assign((offset + span) * elementSize(), 0xFF);
  }

  int64_t size() const {
    int64_t n = 1;
    for (int64_t s : shape)
      n *= s;
    return n;
  }

  double get(int64_t linear) const {
    const unsigned char *at = &bytes[physical(linear) * elementSize()];
    if (type == "f32") {
      float v;
      std::memcpy(&v, at, 4);
      return v;
    }
    uint16_t bits;
    std::memcpy(&bits, at, 2);
    if (type == "bf16")
      return bf16ToFloat(bits);
    _Float16 half;
    std::memcpy(&half, &bits, 2);
    return static_cast<float>(half);
  }

  /// Stores \p value rounded to the element type.
  void set(int64_t linear, double value) {
    unsigned char *at = &bytes[physical(linear) * elementSize()];
    float f = static_cast<float>(value);
    if (type == "f32") {
      std::memcpy(at, &f, 4);
    } else if (type == "bf16") {
      uint16_t bits = floatToBf16(f);
      std::memcpy(at, &bits, 2);
    } else {
      _Float16 half = static_cast<_Float16>(f);
      std::memcpy(at, &half, 2);
    }
  }

  /// Dense row-major values, as the reference takes them.
  std::vector<double> values() const {
    std::vector<double> result(size());
    for (int64_t i = 0; i < size(); ++i)
      result[i] = get(i);
    return result;
  }

  void fillRandom(std::mt19937_64 &rng, double amplitude) {
    std::uniform_real_distribution<double> dist(-amplitude, amplitude);
    for (int64_t i = 0; i < size(); ++i)
      set(i, dist(rng));
  }

  KernelArg arg() {
    return MemRefArg{
        bytes.data(), offset,
        llvm::SmallVector<int64_t, 4>(shape.begin(), shape.end()),
        llvm::SmallVector<int64_t, 4>(strides.begin(), strides.end())};
  }

private:
  size_t elementSize() const { return type == "f32" ? 4 : 2; }

  int64_t physical(int64_t linear) const {
    int64_t index = offset;
    for (size_t d = shape.size(); d-- > 0;) {
      index += (linear % shape[d]) * strides[d];
      linear /= shape[d];
    }
    return index;
  }

  std::string type;
  std::vector<int64_t> shape, strides;
  int64_t offset;
  std::vector<unsigned char> bytes;
};

//===----------------------------------------------------------------------===//
// Comparison
//===----------------------------------------------------------------------===//

/// Expects max|x - ref| / max|ref| <= tolerance over the finite entries, the
/// same infinities in the same places, and no NaN anywhere.
void expectClose(const std::string &what, const std::vector<double> &got,
                 const std::vector<double> &want, double tolerance) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double maxError = 0.0, maxRef = 0.0;
  int64_t worst = -1;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_FALSE(std::isnan(got[i])) << what << "[" << i << "] is NaN";
    if (std::isinf(want[i]) || std::isinf(got[i])) {
      ASSERT_EQ(got[i], want[i]) << what << "[" << i << "]";
      continue;
    }
    maxRef = std::max(maxRef, std::abs(want[i]));
    double error = std::abs(got[i] - want[i]);
    if (error > maxError) {
      maxError = error;
      worst = static_cast<int64_t>(i);
    }
  }
  double relative = maxRef > 0.0 ? maxError / maxRef : maxError;
  if (std::getenv("FLASHC_TEST_VERBOSE"))
    std::printf("[ error    ] %-4s max|x - ref| / max|ref| = %.3e (tolerance "
                "%.0e)\n",
                what.c_str(), relative, tolerance);
  EXPECT_LE(relative, tolerance)
      << what << ": max|x - ref| = " << maxError << " at " << worst << " (got "
      << (worst >= 0 ? got[worst] : 0.0) << ", want "
      << (worst >= 0 ? want[worst] : 0.0) << "), max|ref| = " << maxRef;
}

double toleranceFor(const std::string &type) {
  return type == "f32" ? 1e-5 : 1e-2;
}

//===----------------------------------------------------------------------===//
// Custom regions, with the reference's view of them
//===----------------------------------------------------------------------===//

/// A custom mask or score: its region body and the same function in double.
struct CustomMask {
  std::string body;
  std::function<bool(int64_t, int64_t, int64_t, int64_t)> fn;
};
struct CustomScore {
  std::string body;
  std::function<double(double, int64_t, int64_t, int64_t, int64_t)> fn;
  /// Scores where fn is not differentiable (a backward test keeps its
  /// inputs clear of them).
  std::vector<double> kinks;
};

/// Keeps (i + 2j) % 5 != 0: scattered holes, no empty row.
CustomMask scatteredMask() {
  return {R"(
  %m2j = arith.addi %rj, %rj : index
  %msum = arith.addi %ri, %m2j : index
  %m5 = arith.constant 5 : index
  %mmod = arith.remui %msum, %m5 : index
  %m0 = arith.constant 0 : index
  %keep = arith.cmpi ne, %mmod, %m0 : index)",
          [](int64_t, int64_t, int64_t i, int64_t j) {
            return (i + 2 * j) % 5 != 0;
          }};
}

/// Drops whole rows: keeps (h + i) % 7 != 0 and (b + j) % 3 != 1.
CustomMask rowDroppingMask() {
  return {R"(
  %msum = arith.addi %rh, %ri : index
  %m7 = arith.constant 7 : index
  %mmod = arith.remui %msum, %m7 : index
  %m0 = arith.constant 0 : index
  %rowok = arith.cmpi ne, %mmod, %m0 : index
  %mbj = arith.addi %rb, %rj : index
  %m3 = arith.constant 3 : index
  %mmod3 = arith.remui %mbj, %m3 : index
  %m1 = arith.constant 1 : index
  %colok = arith.cmpi ne, %mmod3, %m1 : index
  %keep = arith.andi %rowok, %colok : i1)",
          [](int64_t b, int64_t h, int64_t i, int64_t j) {
            return (h + i) % 7 != 0 && (b + j) % 3 != 1;
          }};
}

/// s + 0.5 tanh(s) - 0.01 j: tanh, mulf, addf, subf, sitofp of an index.
CustomScore tanhScore() {
  return {R"(
  %sa = arith.constant 0.5 : f32
  %st0 = math.tanh %rs : f32
  %st1 = arith.mulf %st0, %sa : f32
  %su = arith.addf %rs, %st1 : f32
  %sji = arith.index_cast %rj : index to i64
  %sjf = arith.sitofp %sji : i64 to f32
  %sb = arith.constant 0.01 : f32
  %sbias = arith.mulf %sjf, %sb : f32
  %score = arith.subf %su, %sbias : f32)",
          [](double s, int64_t, int64_t, int64_t, int64_t j) {
            return s + 0.5 * std::tanh(s) - static_cast<double>(0.01f) * j;
          },
          /*kinks=*/{}};
}

/// sqrt, sin, cos, divf, exp2, maximumf, absf, powf, rsqrt, log.
CustomScore transcendentalScore() {
  return {R"(
  %one = arith.constant 1.0 : f32
  %two = arith.constant 2.0 : f32
  %half = arith.constant 0.5 : f32
  %zero = arith.constant 0.0 : f32
  %sq = arith.mulf %rs, %rs : f32
  %sq1 = arith.addf %sq, %one : f32
  %root = math.sqrt %sq1 : f32
  %sn = math.sin %rs : f32
  %cs = math.cos %rs : f32
  %den = arith.addf %cs, %two : f32
  %ratio = arith.divf %sn, %den : f32
  %e2 = math.exp2 %ratio : f32
  %mx = arith.maximumf %rs, %zero : f32
  %ab = math.absf %rs : f32
  %ab1 = arith.addf %ab, %one : f32
  %pw = math.powf %ab1, %half : f32
  %rq = math.rsqrt %sq1 : f32
  %lg = math.log %sq1 : f32
  %t1 = arith.addf %root, %e2 : f32
  %t2 = arith.subf %t1, %mx : f32
  %t3 = arith.addf %t2, %pw : f32
  %t4 = arith.mulf %t3, %rq : f32
  %t5 = arith.mulf %lg, %half : f32
  %score = arith.addf %t4, %t5 : f32)",
          [](double s, int64_t, int64_t, int64_t, int64_t) {
            double sq1 = s * s + 1.0;
            double t1 =
                std::sqrt(sq1) + std::exp2(std::sin(s) / (std::cos(s) + 2.0));
            double t3 =
                t1 - std::max(s, 0.0) + std::pow(std::abs(s) + 1.0, 0.5);
            return t3 / std::sqrt(sq1) + 0.5 * std::log(sq1);
          },
          /*kinks=*/{0.0}}; // max(s, 0) and |s|
}

/// negf, minimumf, maxnumf, minnumf, cmpf + select, exp, uitofp, and a
/// power with the score in the exponent.
CustomScore piecewiseScore() {
  return {R"(
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %pk = arith.constant 0.3 : f32
  %neg = arith.negf %rs : f32
  %lo = arith.minimumf %neg, %one : f32
  %hi = arith.maxnumf %rs, %lo : f32
  %clip = arith.minnumf %hi, %one : f32
  %isneg = arith.cmpf olt, %rs, %zero : f32
  %sel = arith.select %isneg, %clip, %rs : f32
  %ex = math.exp %sel : f32
  %hu = arith.index_castui %rh : index to i32
  %hf = arith.uitofp %hu : i32 to f32
  %phk = arith.mulf %hf, %pk : f32
  %base = arith.constant 1.5 : f32
  %pw = math.powf %base, %rs : f32
  %t1 = arith.addf %ex, %phk : f32
  %t2 = arith.mulf %pw, %pk : f32
  %score = arith.subf %t1, %t2 : f32)",
          [](double s, int64_t, int64_t h, int64_t, int64_t) {
            double lo = std::min(-s, 1.0);
            double clip = std::min(std::max(s, lo), 1.0);
            double sel = s < 0 ? clip : s;
            return std::exp(sel) + 0.3f * static_cast<double>(h) -
                   std::pow(1.5, s) * static_cast<double>(0.3f);
          },
          /*kinks=*/{-1.0, 0.0}};
}

/// d/ds of a custom score by central differences in double: an independent
/// check of the compiler's forward-mode derivative.
std::function<double(double, int64_t, int64_t, int64_t, int64_t)>
numericDerivative(
    std::function<double(double, int64_t, int64_t, int64_t, int64_t)> fn) {
  return [fn](double s, int64_t b, int64_t h, int64_t i, int64_t j) {
    double step = 1e-6 * std::max(1.0, std::abs(s));
    return (fn(s + step, b, h, i, j) - fn(s - step, b, h, i, j)) / (2 * step);
  };
}

//===----------------------------------------------------------------------===//
// One test case: a configuration, its sizes, and the run
//===----------------------------------------------------------------------===//

struct Case {
  KernelConfig config;
  int64_t batch = 2, headsQ = 4, headsKV = 2, seqQ = 17, seqK = 17;
  /// BSHD layout and a nonzero element offset for the big tensors.
  bool seqMajor = false;
  int64_t offset = 0;
  CustomMask mask;
  CustomScore score;
  double amplitude = 1.5;
};

/// FLASHC_TEST_SEED if set (to rerun a failure), else a fresh one.
uint64_t initialSeed() {
  if (const char *text = std::getenv("FLASHC_TEST_SEED"))
    return std::strtoull(text, nullptr, 10);
  return (static_cast<uint64_t>(std::random_device{}()) << 32) |
         std::random_device{}();
}

class Harness {
public:
  Harness() : seed(initialSeed()), rng(seed) {
    context.loadDialect<flashc::attn::AttnDialect, mlir::arith::ArithDialect,
                        mlir::func::FuncDialect, mlir::math::MathDialect,
                        mlir::memref::MemRefDialect, mlir::scf::SCFDialect>();
  }

  /// Parses and compiles \p text; fails the test on error.
  std::unique_ptr<CpuKernelModule> compile(const std::string &text) {
    mlir::OwningOpRef<mlir::ModuleOp> module =
        mlir::parseSourceString<mlir::ModuleOp>(text, &context);
    if (!module) {
      ADD_FAILURE() << "kernel text does not parse:\n" << text;
      return nullptr;
    }
    auto compiled = CpuKernelModule::compile(*module);
    if (!compiled) {
      ADD_FAILURE() << llvm::toString(compiled.takeError());
      return nullptr;
    }
    return std::move(*compiled);
  }

  static void run(CpuKernelModule &module, llvm::StringRef name,
                  llvm::ArrayRef<KernelArg> args) {
    llvm::Error error = module.invoke(name, args);
    ASSERT_FALSE(error) << llvm::toString(std::move(error));
  }

  std::string seedText() const {
    return "random seed " + std::to_string(seed) +
           " (rerun with FLASHC_TEST_SEED=" + std::to_string(seed) +
           " and --gtest_filter)";
  }

  mlir::MLIRContext context;
  uint64_t seed;
  std::mt19937_64 rng;
};

reference::Problem problemOf(const Case &c, uint64_t dropoutSeed,
                             uint64_t dropoutOffset) {
  reference::Problem p;
  p.batch = c.batch;
  p.headsQ = c.headsQ;
  p.headsKV = c.headsKV;
  p.seqQ = c.seqQ;
  p.seqK = c.seqK;
  p.headDim = c.config.headDim;
  p.headDimV = c.config.headDimV;
  p.scale = c.config.scale;
  p.causal = c.config.causal;
  p.bottomRight = c.config.bottomRight;
  p.window = c.config.window;
  p.softcap = c.config.softcap;
  p.alibi = c.config.alibi;
  p.dropoutP = c.config.dropoutP;
  p.seed = dropoutSeed;
  p.offset = dropoutOffset;
  p.customMask = c.mask.fn;
  p.customScore = c.score.fn;
  if (c.score.fn)
    p.customScoreGrad = numericDerivative(c.score.fn);
  return p;
}

Case withCustom(Case c) {
  c.config.customMask = c.mask.body;
  c.config.customScore = c.score.body;
  return c;
}

/// Runs the forward kernel of \p c and compares O and LSE with the
/// reference. Returns (O, LSE) for further checks.
std::pair<std::vector<double>, std::vector<double>> checkForward(Case c) {
  c = withCustom(c);
  Harness h;
  SCOPED_TRACE(h.seedText());
  const KernelConfig &k = c.config;
  const std::string &t = k.elementType;
  HostTensor q(t, {c.batch, c.headsQ, c.seqQ, k.headDim}, c.seqMajor, c.offset);
  HostTensor kk(t, {c.batch, c.headsKV, c.seqK, k.headDim}, c.seqMajor,
                c.offset);
  HostTensor v(t, {c.batch, c.headsKV, c.seqK, k.headDimV}, c.seqMajor,
               c.offset);
  HostTensor o(t, {c.batch, c.headsQ, c.seqQ, k.headDimV}, c.seqMajor,
               c.offset);
  HostTensor lse("f32", {c.batch, c.headsQ, c.seqQ});
  q.fillRandom(h.rng, c.amplitude);
  kk.fillRandom(h.rng, c.amplitude);
  v.fillRandom(h.rng, 1.0);
  uint64_t dropoutSeed = h.rng(), dropoutOffset = h.rng() % 1000;

  auto module = h.compile(flashc::test::forwardKernel(k));
  if (!module)
    return {};
  std::vector<KernelArg> args = {q.arg(), kk.arg(), v.arg(), o.arg(),
                                 lse.arg()};
  if (k.dropoutP > 0) {
    args.push_back(static_cast<int64_t>(dropoutSeed));
    args.push_back(static_cast<int64_t>(dropoutOffset));
  }
  Harness::run(*module, "attn_fwd", args);

  reference::Problem problem = problemOf(c, dropoutSeed, dropoutOffset);
  reference::ForwardResult want =
      reference::forward(problem, q.values(), kk.values(), v.values());
  std::vector<double> gotO = o.values(), gotLse = lse.values();
  expectClose("O", gotO, want.out, toleranceFor(t));
  expectClose("LSE", gotLse, want.lse, 1e-5);
  return {gotO, gotLse};
}

/// Runs the forward kernel, then the three backward kernels on its O and
/// LSE, and compares dQ, dK, dV with the reference.
/// How far every kept score of \p c stays from its custom score's kinks.
double kinkClearance(const Case &c, const HostTensor &q, const HostTensor &k) {
  double clearance = std::numeric_limits<double>::infinity();
  for (double s : reference::customScoreInputs(problemOf(c, 0, 0), q.values(),
                                               k.values()))
    for (double kink : c.score.kinks)
      clearance = std::min(clearance, std::abs(s - kink));
  return clearance;
}

/// Kept scores at least this far from a kink: f32 scores of the test sizes
/// err by under 1e-6, and the reference's central differences step by
/// 1e-6 * max(1, |s|).
constexpr double kKinkMargin = 1e-5;

void checkBackward(Case c) {
  c = withCustom(c);
  Harness h;
  SCOPED_TRACE(h.seedText());
  const KernelConfig &k = c.config;
  const std::string &t = k.elementType;
  auto shapeQ = std::vector<int64_t>{c.batch, c.headsQ, c.seqQ, k.headDim};
  auto shapeK = std::vector<int64_t>{c.batch, c.headsKV, c.seqK, k.headDim};
  auto shapeV = std::vector<int64_t>{c.batch, c.headsKV, c.seqK, k.headDimV};
  auto shapeO = std::vector<int64_t>{c.batch, c.headsQ, c.seqQ, k.headDimV};
  auto shapeRow = std::vector<int64_t>{c.batch, c.headsQ, c.seqQ};
  HostTensor q(t, shapeQ, c.seqMajor, c.offset), kk(t, shapeK, c.seqMajor),
      v(t, shapeV, c.seqMajor), o(t, shapeO, c.seqMajor),
      dout(t, shapeO, c.seqMajor, c.offset), dq(t, shapeQ, c.seqMajor),
      dk(t, shapeK, c.seqMajor, c.offset), dv(t, shapeV, c.seqMajor);
  HostTensor lse("f32", shapeRow), delta("f32", shapeRow);
  q.fillRandom(h.rng, c.amplitude);
  kk.fillRandom(h.rng, c.amplitude);
  // At a kink the derivative is undefined, and the kernel's f32 score may
  // fall on the other side of it than the reference's float64 one (dS of
  // one pair off by P * dP * the jump): draw Q and K again until every kept
  // score is clear of the kinks.
  for (int draws = 1; kinkClearance(c, q, kk) < kKinkMargin; ++draws) {
    ASSERT_LT(draws, 100) << "no draw of Q and K kept every score "
                          << kKinkMargin << " from the custom score's kinks";
    q.fillRandom(h.rng, c.amplitude);
    kk.fillRandom(h.rng, c.amplitude);
  }
  v.fillRandom(h.rng, 1.0);
  dout.fillRandom(h.rng, 1.0);
  uint64_t dropoutSeed = h.rng(), dropoutOffset = h.rng() % 1000;
  std::vector<KernelArg> dropoutArgs;
  if (k.dropoutP > 0)
    dropoutArgs = {static_cast<int64_t>(dropoutSeed),
                   static_cast<int64_t>(dropoutOffset)};
  auto withDropout = [&](std::vector<KernelArg> args) {
    args.insert(args.end(), dropoutArgs.begin(), dropoutArgs.end());
    return args;
  };

  auto module = h.compile(flashc::test::forwardKernel(k) +
                          flashc::test::backwardKernels(k));
  if (!module)
    return;
  Harness::run(*module, "attn_fwd",
               withDropout({q.arg(), kk.arg(), v.arg(), o.arg(), lse.arg()}));
  Harness::run(*module, "attn_bwd_prep", {o.arg(), dout.arg(), delta.arg()});
  Harness::run(*module, "attn_bwd_dkdv",
               withDropout({q.arg(), kk.arg(), v.arg(), dout.arg(), lse.arg(),
                            delta.arg(), dk.arg(), dv.arg()}));
  Harness::run(*module, "attn_bwd_dq",
               withDropout({q.arg(), kk.arg(), v.arg(), dout.arg(), lse.arg(),
                            delta.arg(), dq.arg()}));

  reference::Problem problem = problemOf(c, dropoutSeed, dropoutOffset);
  reference::BackwardResult want = reference::backward(
      problem, q.values(), kk.values(), v.values(), dout.values());
  double tolerance = toleranceFor(t);
  expectClose("dQ", dq.values(), want.dq, tolerance);
  expectClose("dK", dk.values(), want.dk, tolerance);
  expectClose("dV", dv.values(), want.dv, tolerance);
}

Case sized(int64_t seqQ, int64_t seqK, int64_t blockQ, int64_t blockK,
           const std::string &type = "f32") {
  Case c;
  c.seqQ = seqQ;
  c.seqK = seqK;
  c.config.blockQ = blockQ;
  c.config.blockK = blockK;
  c.config.elementType = type;
  c.config.headDim = 32;
  c.config.headDimV = 16;
  c.config.scale = 1.0 / std::sqrt(32.0);
  return c;
}

//===----------------------------------------------------------------------===//
// Forward
//===----------------------------------------------------------------------===//

TEST(CpuForward, F32Plain) { checkForward(sized(100, 100, 16, 32)); }

TEST(CpuForward, F32SingleRowAndKey) { checkForward(sized(1, 1, 16, 16)); }

TEST(CpuForward, F32SeqQDiffersFromSeqK) {
  checkForward(sized(17, 100, 32, 16));
  checkForward(sized(100, 17, 16, 16));
}

TEST(CpuForward, F32CausalTopLeft) {
  Case c = sized(100, 77, 32, 16);
  c.config.causal = true;
  checkForward(c);
}

TEST(CpuForward, F32CausalBottomRightEmptyRows) {
  // shift = 17 - 100: rows 0..82 keep no key at all.
  Case c = sized(100, 17, 16, 16);
  c.config.causal = true;
  c.config.bottomRight = true;
  auto [o, lse] = checkForward(c);
  ASSERT_FALSE(lse.empty());
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t h = 0; h < c.headsQ; ++h)
      for (int64_t i = 0; i < 83; ++i) {
        int64_t row = (b * c.headsQ + h) * c.seqQ + i;
        EXPECT_EQ(lse[row], -kInf) << "row " << row;
        for (int64_t d = 0; d < c.config.headDimV; ++d)
          EXPECT_EQ(o[row * c.config.headDimV + d], 0.0) << "row " << row;
      }
}

TEST(CpuForward, F32WindowSoftcapAlibi) {
  Case c = sized(100, 77, 16, 32);
  c.config.bottomRight = true;
  c.config.window = std::make_pair<int64_t, int64_t>(9, 3);
  c.config.softcap = 2.5;
  c.config.alibi = true;
  checkForward(c);
}

TEST(CpuForward, F32CustomMaskAndTanhScore) {
  Case c = sized(100, 100, 32, 32);
  c.mask = scatteredMask();
  c.score = tanhScore();
  checkForward(c);
}

TEST(CpuForward, F32CustomMaskEmptyRows) {
  Case c = sized(17, 100, 16, 16);
  c.mask = rowDroppingMask();
  auto [o, lse] = checkForward(c);
  ASSERT_FALSE(lse.empty());
  int64_t empty = 0;
  for (double value : lse)
    empty += value == -kInf;
  // (h + i) % 7 == 0 empties rows in every (b, h).
  EXPECT_GT(empty, 0);
}

TEST(CpuForward, F32TranscendentalAndPiecewiseScores) {
  Case c = sized(100, 37, 16, 16);
  c.score = transcendentalScore();
  checkForward(c);
  c.score = piecewiseScore();
  c.config.softcap = 4.0;
  checkForward(c);
}

TEST(CpuForward, F32Dropout) {
  Case c = sized(100, 100, 16, 32);
  c.config.dropoutP = 0.17;
  c.config.causal = true;
  checkForward(c);
}

TEST(CpuForward, F32SeqMajorWithOffset) {
  Case c = sized(100, 37, 32, 16);
  c.seqMajor = true;
  c.offset = 5;
  c.config.causal = true;
  checkForward(c);
}

TEST(CpuForward, Bf16Plain) { checkForward(sized(100, 77, 16, 32, "bf16")); }

TEST(CpuForward, Bf16EverythingAtOnce) {
  Case c = sized(100, 100, 32, 16, "bf16");
  c.seqMajor = true;
  c.config.causal = true;
  c.config.softcap = 3.0;
  c.config.alibi = true;
  c.config.dropoutP = 0.1;
  c.mask = scatteredMask();
  c.score = tanhScore();
  checkForward(c);
}

TEST(CpuForward, F16Plain) { checkForward(sized(100, 77, 16, 16, "f16")); }

TEST(CpuForward, DropoutKeepMaskIsBitExact) {
  Harness h;
  SCOPED_TRACE(h.seedText());
  KernelConfig k;
  k.blockQ = 16;
  k.blockK = 32;
  k.dropoutP = 0.3;
  const int64_t batch = 2, heads = 3, seqQ = 37, seqK = 100;
  const int64_t slabs = (seqK + k.blockK - 1) / k.blockK;
  HostTensor dummy("f32", {batch, heads, seqK, 1});
  HostTensor out("f32", {batch, heads * slabs, seqQ, k.blockK});
  // The whole 64-bit seed and offset reach the counter and the key.
  uint64_t seed = h.rng(), offset = h.rng();
  auto module = h.compile(flashc::test::dropoutMaskKernel(k));
  ASSERT_TRUE(module);
  Harness::run(*module, "attn_dropout_mask",
               {dummy.arg(), out.arg(), static_cast<int64_t>(seed),
                static_cast<int64_t>(offset)});
  std::vector<double> got = out.values();
  int64_t mismatches = 0, kept = 0;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t hh = 0; hh < heads; ++hh)
      for (int64_t i = 0; i < seqQ; ++i)
        for (int64_t j = 0; j < seqK; ++j) {
          double u =
              reference::philoxUniform(seed, offset, b * heads + hh, i, j);
          bool want = u >= k.dropoutP;
          int64_t slab = hh * slabs + j / k.blockK;
          double value =
              got[((b * heads * slabs + slab) * seqQ + i) * k.blockK +
                  j % k.blockK];
          EXPECT_EQ(value, want ? static_cast<double>(
                                      static_cast<float>(1.0 / (1.0 - 0.3)))
                                : 0.0);
          mismatches += (value != 0.0) != want;
          kept += want;
        }
  EXPECT_EQ(mismatches, 0);
  // 0.7 of 22200 elements, give or take a few standard deviations.
  EXPECT_NEAR(static_cast<double>(kept) / (batch * heads * seqQ * seqK), 0.7,
              0.03);
}

/// Bits straight from the reference's Philox for a known counter: the
/// kernel and the reference agree above, so this pins both to Random123's
/// published known-answer vector.
TEST(CpuForward, PhiloxKnownAnswer) {
  // Random123 kat_vectors: philox4x32_10 with ctr = key = all ones.
  auto words = reference::philox4x32_10(
      {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
      {0xffffffffu, 0xffffffffu});
  EXPECT_EQ(words[0], 0x408f276du);
  EXPECT_EQ(words[1], 0x41c83b0eu);
  EXPECT_EQ(words[2], 0xa20bc7c6u);
  EXPECT_EQ(words[3], 0x6d5451fdu);
}

TEST(CpuForward, TimingBH8N1024D64) {
  Case c;
  c.batch = 2;
  c.headsQ = c.headsKV = 4;
  c.seqQ = c.seqK = 1024;
  c.config.headDim = c.config.headDimV = 64;
  c.config.blockQ = c.config.blockK = 64;
  c.config.scale = 0.125;
  c.config.causal = false;
  Harness h;
  const KernelConfig &k = c.config;
  HostTensor q("f32", {2, 4, 1024, 64}), kk("f32", {2, 4, 1024, 64}),
      v("f32", {2, 4, 1024, 64}), o("f32", {2, 4, 1024, 64}),
      lse("f32", {2, 4, 1024});
  q.fillRandom(h.rng, 1.0);
  kk.fillRandom(h.rng, 1.0);
  v.fillRandom(h.rng, 1.0);
  auto start = std::chrono::steady_clock::now();
  auto module = h.compile(flashc::test::forwardKernel(k));
  ASSERT_TRUE(module);
  auto compiled = std::chrono::steady_clock::now();
  Harness::run(*module, "attn_fwd",
               {q.arg(), kk.arg(), v.arg(), o.arg(), lse.arg()});
  auto ran = std::chrono::steady_clock::now();
  double compileSeconds =
      std::chrono::duration<double>(compiled - start).count();
  double runSeconds = std::chrono::duration<double>(ran - compiled).count();
  double flops = 4.0 * 8 * 1024 * 1024 * 64;
  std::printf("[ timing   ] fwd B*H=8 N=1024 D=64 f32: compile %.3f s, run "
              "%.3f s (%.2f GFLOP/s)\n",
              compileSeconds, runSeconds, flops / runSeconds * 1e-9);
  EXPECT_LT(runSeconds, 3.0);
  // Spot-check one (b, h) slab against the reference.
  reference::Problem p = problemOf(c, 0, 0);
  p.batch = 1;
  p.headsQ = p.headsKV = 1;
  auto slab = [](const std::vector<double> &all, int64_t size) {
    return std::vector<double>(all.begin(), all.begin() + size);
  };
  reference::ForwardResult want = reference::forward(
      p, slab(q.values(), 1024 * 64), slab(kk.values(), 1024 * 64),
      slab(v.values(), 1024 * 64));
  expectClose("O", slab(o.values(), 1024 * 64), want.out, 1e-5);
  expectClose("LSE", slab(lse.values(), 1024), want.lse, 1e-5);
}

//===----------------------------------------------------------------------===//
// Backward
//===----------------------------------------------------------------------===//

TEST(CpuBackward, F32Plain) { checkBackward(sized(100, 77, 16, 32)); }

TEST(CpuBackward, F32SingleRowAndKey) { checkBackward(sized(1, 1, 16, 16)); }

TEST(CpuBackward, F32CausalSoftcapAlibi) {
  Case c = sized(17, 100, 16, 16);
  c.config.causal = true;
  c.config.bottomRight = true;
  c.config.softcap = 2.0;
  c.config.alibi = true;
  checkBackward(c);
}

TEST(CpuBackward, F32EmptyRowsAndWindow) {
  Case c = sized(100, 17, 32, 16);
  c.config.causal = true;
  c.config.bottomRight = true;
  c.config.window = std::make_pair<int64_t, int64_t>(5, 0);
  c.mask = rowDroppingMask();
  checkBackward(c);
}

TEST(CpuBackward, F32CustomScores) {
  Case c = sized(100, 37, 16, 32);
  c.mask = scatteredMask();
  c.score = tanhScore();
  checkBackward(c);
  c.score = transcendentalScore();
  c.config.softcap = 3.0;
  checkBackward(c);
  c.score = piecewiseScore();
  checkBackward(c);
}

TEST(CpuBackward, F32Dropout) {
  Case c = sized(100, 100, 32, 16);
  c.config.dropoutP = 0.2;
  c.config.causal = true;
  c.seqMajor = true;
  checkBackward(c);
}

TEST(CpuBackward, Bf16CausalSoftcap) {
  Case c = sized(100, 77, 16, 16, "bf16");
  c.config.causal = true;
  c.config.softcap = 3.0;
  checkBackward(c);
}

//===----------------------------------------------------------------------===//
// Row clamping of tile.load and tile.store
//===----------------------------------------------------------------------===//

/// tile.load of rows [3, 3 + rows) of a 6-row tensor, then tile.store of the
/// whole 8-row tile to an 8-row tensor; and tile.store of a tile of sevens
/// at row 3 with `rows` rows into a 6-row tensor. Both 6-row tensors sit in
/// 10-row buffers whose last 4 rows are guards the kernel must not touch.
TEST(CpuJit, LoadAndStoreClampRowsToTheTensor) {
  Harness h;
  const char *text = R"(
!g = memref<?x?x?x4xf32, strided<[?, ?, ?, 1], offset: ?>>
func.func @clamp(%src: !g, %copy: !g, %dst: !g, %rows: i64) attributes {attn.kernel_kind = "test"} {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %c8 = arith.constant 8 : index
  %n = arith.index_cast %rows : i64 to index
  %t = memref.alloca() : memref<8x4xf32>
  attn.tile.load %src[%c0, %c0, %c3] rows %n into %t : !g -> memref<8x4xf32>
  attn.tile.store %t into %copy[%c0, %c0, %c0] rows %c8 : memref<8x4xf32> -> !g
  %sevens = memref.alloca() : memref<8x4xf32>
  attn.tile.fill %sevens, 7.0 : memref<8x4xf32>
  attn.tile.store %sevens into %dst[%c0, %c0, %c3] rows %n accumulate : memref<8x4xf32> -> !g
  return
}
)";
  auto module = h.compile(text);
  ASSERT_TRUE(module);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int64_t rows : {100, 2, 0, -5}) {
    SCOPED_TRACE("rows = " + std::to_string(rows));
    std::vector<float> src(40), copy(32, nan), dst(40, 1.0f);
    for (int i = 0; i < 40; ++i)
      src[i] = i < 24 ? static_cast<float>(i) : nan;
    for (int i = 24; i < 40; ++i)
      dst[i] = -1.0f;
    auto arg = [](std::vector<float> &buffer, int64_t n) -> KernelArg {
      return MemRefArg{buffer.data(), 0, {1, 1, n, 4}, {4 * n, 4 * n, 4, 1}};
    };
    Harness::run(*module, "clamp",
                 {arg(src, 6), arg(copy, 8), arg(dst, 6), rows});
    int64_t moved = std::max<int64_t>(0, std::min<int64_t>(rows, 3));
    for (int r = 0; r < 8; ++r)
      for (int c = 0; c < 4; ++c)
        EXPECT_EQ(copy[r * 4 + c], r < moved ? src[(3 + r) * 4 + c] : 0.0f)
            << "copy row " << r;
    for (int r = 0; r < 10; ++r)
      for (int c = 0; c < 4; ++c) {
        float want = r >= 6 ? -1.0f : (r >= 3 && r < 3 + moved ? 8.0f : 1.0f);
        EXPECT_EQ(dst[r * 4 + c], want) << "dst row " << r;
      }
  }
}

//===----------------------------------------------------------------------===//
// Argument checking
//===----------------------------------------------------------------------===//

TEST(CpuJit, InvokeRejectsBadArguments) {
  Harness h;
  KernelConfig k;
  auto module = h.compile(flashc::test::forwardKernel(k));
  ASSERT_TRUE(module);
  HostTensor q("f32", {1, 1, 4, 16}), o("f32", {1, 1, 4, 16}),
      lse("f32", {1, 1, 4}), wrongDim("f32", {1, 1, 4, 8});

  auto message = [&](llvm::StringRef name, llvm::ArrayRef<KernelArg> args) {
    llvm::Error error = module->invoke(name, args);
    return error ? llvm::toString(std::move(error)) : std::string();
  };
  EXPECT_EQ(message("attn_fwd", {q.arg(), q.arg()}),
            "flashc cpu jit: kernel 'attn_fwd' takes 5 arguments, got 2");
  std::string rank =
      message("attn_fwd", {q.arg(), q.arg(), q.arg(), o.arg(), q.arg()});
  EXPECT_NE(rank.find("argument 4"), std::string::npos) << rank;
  EXPECT_NE(rank.find("expected a memref of rank 3, got 4 sizes"),
            std::string::npos)
      << rank;
  std::string scalar =
      message("attn_fwd", {q.arg(), int64_t{7}, q.arg(), o.arg(), lse.arg()});
  EXPECT_NE(scalar.find("argument 1"), std::string::npos) << scalar;
  EXPECT_NE(scalar.find("got an i64 scalar"), std::string::npos) << scalar;
  std::string staticSize = message(
      "attn_fwd", {q.arg(), wrongDim.arg(), q.arg(), o.arg(), lse.arg()});
  EXPECT_NE(staticSize.find("size 3 must be 16"), std::string::npos)
      << staticSize;
  std::string unknown = message("attn_bwd", {});
  EXPECT_NE(unknown.find("no kernel named 'attn_bwd'"), std::string::npos)
      << unknown;
  // After all that, a good call still works.
  llvm::Error ok = module->invoke(
      "attn_fwd", {q.arg(), q.arg(), q.arg(), o.arg(), lse.arg()});
  EXPECT_FALSE(ok) << llvm::toString(std::move(ok));
}

TEST(CpuJit, CompileReportsDiagnostics) {
  Harness h;
  // A custom score with no derivative rule (math.floor) in score_grad.
  std::string text = R"(
func.func @k(%g: memref<4x4xf32>, %c: index) attributes {attn.kernel_kind = "bwd_dq"} {
  attn.tile.score_grad %g, %g at [%c, %c, %c, %c] shift %c heads %c score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %f = math.floor %s : f32
    attn.yield %f : f32
  } : memref<4x4xf32>, memref<4x4xf32>
  return
}
)";
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(text, &h.context);
  ASSERT_TRUE(module);
  auto compiled = CpuKernelModule::compile(*module);
  ASSERT_FALSE(compiled);
  std::string error = llvm::toString(compiled.takeError());
  EXPECT_NE(error.find("cannot differentiate 'math.floor'"), std::string::npos)
      << error;
}

} // namespace
