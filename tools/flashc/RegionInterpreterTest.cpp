//===- RegionInterpreterTest.cpp - custom regions, interpreted ------------===//

#include "tools/flashc/RegionInterpreter.h"
#include "tools/flashc/SpecFile.h"

#include "dialect/AttnOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir;
using namespace flashc;
using namespace flashc::tool;

namespace {

class RegionInterpreterTest : public ::testing::Test {
protected:
  RegionInterpreterTest() : context(registry()) {}

  static DialectRegistry registry() {
    DialectRegistry r;
    registerSpecDialects(r);
    return r;
  }

  /// Parses a spec whose mask and/or score region bodies are given (without
  /// the block header) and returns its op.
  attn::AttentionOp parse(const std::string &maskBody,
                          const std::string &scoreBody) {
    std::string t = "tensor<1x2x8x8xf32>";
    std::string src = "func.func @f(%Q: " + t + ", %K: " + t + ", %V: " + t +
                      ") -> " + t +
                      " {\n  %O, %LSE = attn.attention %Q, %K, %V";
    if (!maskBody.empty())
      src += " mask {\n^bb0(%b: index, %h: index, %i: index, %j: index):\n" +
             maskBody + "\n}";
    if (!scoreBody.empty())
      src += " score {\n^bb0(%s: f32, %b: index, %h: index, %i: index, "
             "%j: index):\n" +
             scoreBody + "\n}";
    src += " : " + t + ", " + t + ", " + t + " -> " + t +
           ", tensor<1x2x8xf32>\n  return %O : " + t + "\n}\n";
    module = parseSourceString<ModuleOp>(src, &context);
    if (!module)
      return nullptr;
    attn::AttentionOp op;
    module->walk([&](attn::AttentionOp a) { op = a; });
    return op;
  }

  RegionInterpreter mask(const std::string &body) {
    attn::AttentionOp op = parse(body, "");
    EXPECT_TRUE(op) << "spec does not parse";
    auto interp = RegionInterpreter::forMask(op.getMask());
    if (!interp) {
      ADD_FAILURE() << llvm::toString(interp.takeError());
      std::abort();
    }
    return *interp;
  }

  RegionInterpreter score(const std::string &body) {
    attn::AttentionOp op = parse("", body);
    EXPECT_TRUE(op) << "spec does not parse";
    auto interp = RegionInterpreter::forScore(op.getScore());
    if (!interp) {
      ADD_FAILURE() << llvm::toString(interp.takeError());
      std::abort();
    }
    return *interp;
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
};

TEST_F(RegionInterpreterTest, CausalMask) {
  RegionInterpreter m = mask(R"(
    %keep = arith.cmpi sge, %i, %j : index
    attn.yield %keep : i1)");
  for (int64_t i = -3; i < 5; ++i)
    for (int64_t j = -3; j < 5; ++j)
      EXPECT_EQ(m.mask(0, 0, i, j), i >= j) << i << " " << j;
  EXPECT_EQ(m.runtimeError(), "");
}

TEST_F(RegionInterpreterTest, SignedDivisionsRoundAsArithSays) {
  // keep iff floordiv(i - j, 3) == c0 and ceildiv(...) == c1 and ... with the
  // constants given by h, so each op can be checked on its own below.
  auto check = [&](const std::string &op, auto expected) {
    RegionInterpreter m = mask(R"(
      %d = arith.subi %i, %j : index
      %q = )" + op + R"( %d, %b : index
      %keep = arith.cmpi eq, %q, %h : index
      attn.yield %keep : i1)");
    for (int64_t d = -7; d <= 7; ++d)
      for (int64_t div : {-3, -2, 2, 3}) {
        int64_t want = expected(d, div);
        EXPECT_TRUE(m.mask(div, want, d, 0)) << op << " " << d << " " << div;
        EXPECT_FALSE(m.mask(div, want + 1, d, 0)) << op;
      }
  };
  check("arith.divsi", [](int64_t a, int64_t b) { return a / b; });
  check("arith.remsi", [](int64_t a, int64_t b) { return a % b; });
  check("arith.floordivsi", [](int64_t a, int64_t b) {
    return static_cast<int64_t>(std::floor(double(a) / double(b)));
  });
  check("arith.ceildivsi", [](int64_t a, int64_t b) {
    return static_cast<int64_t>(std::ceil(double(a) / double(b)));
  });
  check("arith.maxsi", [](int64_t a, int64_t b) { return std::max(a, b); });
  check("arith.minsi", [](int64_t a, int64_t b) { return std::min(a, b); });
  check("arith.muli", [](int64_t a, int64_t b) { return a * b; });
  check("arith.addi", [](int64_t a, int64_t b) { return a + b; });
}

TEST_F(RegionInterpreterTest, NarrowIntegersWrapAndCast) {
  // (i as i8) * 2 wraps at 8 bits; back to index sign-extends.
  RegionInterpreter m = mask(R"(
    %x = arith.index_cast %i : index to i8
    %c2 = arith.constant 2 : i8
    %y = arith.muli %x, %c2 : i8
    %z = arith.index_cast %y : i8 to index
    %keep = arith.cmpi eq, %z, %j : index
    attn.yield %keep : i1)");
  EXPECT_TRUE(m.mask(0, 0, 3, 6));
  EXPECT_TRUE(m.mask(0, 0, 64, -128)); // 128 wraps to -128
  EXPECT_TRUE(m.mask(0, 0, 100, -56)); // 200 wraps to -56
  EXPECT_FALSE(m.mask(0, 0, 100, 200));

  // index_castui zero-extends: (i as i8) read unsigned.
  RegionInterpreter u = mask(R"(
    %x = arith.index_cast %i : index to i8
    %z = arith.index_castui %x : i8 to index
    %keep = arith.cmpi eq, %z, %j : index
    attn.yield %keep : i1)");
  EXPECT_TRUE(u.mask(0, 0, -1, 255));
  EXPECT_TRUE(u.mask(0, 0, 300, 44));
}

TEST_F(RegionInterpreterTest, SelectBitsAndShifts) {
  // keep iff ((i & 3) << 1 | (j >> 1)) == b, with select choosing via h.
  RegionInterpreter m = mask(R"(
    %c1 = arith.constant 1 : index
    %c3 = arith.constant 3 : index
    %a = arith.andi %i, %c3 : index
    %s = arith.shli %a, %c1 : index
    %r = arith.shrsi %j, %c1 : index
    %o = arith.ori %s, %r : index
    %x = arith.xori %o, %h : index
    %zero = arith.constant 0 : index
    %hz = arith.cmpi eq, %h, %zero : index
    %v = arith.select %hz, %o, %x : index
    %keep = arith.cmpi eq, %v, %b : index
    attn.yield %keep : i1)");
  for (int64_t i = 0; i < 8; ++i)
    for (int64_t j = -4; j < 8; ++j) {
      int64_t o = ((i & 3) << 1) | (j >> 1);
      EXPECT_TRUE(m.mask(o, 0, i, j));
      EXPECT_TRUE(m.mask(o ^ 5, 5, i, j));
      EXPECT_FALSE(m.mask(o + 1, 0, i, j));
    }
}

TEST_F(RegionInterpreterTest, DivisionByZeroIsReportedNotUndefined) {
  RegionInterpreter m = mask(R"(
    %q = arith.divsi %i, %j : index
    %keep = arith.cmpi sgt, %q, %b : index
    attn.yield %keep : i1)");
  EXPECT_TRUE(m.mask(0, 0, 4, 2));
  EXPECT_EQ(m.runtimeError(), "");
  EXPECT_FALSE(m.mask(0, 1, 4, 0));
  EXPECT_NE(m.runtimeError().find("arith.divsi by zero"), std::string::npos)
      << m.runtimeError();
  EXPECT_NE(m.runtimeError().find("i = 4, j = 0"), std::string::npos);
}

TEST_F(RegionInterpreterTest, ScoreValueAndDerivative) {
  // f(s) = tanh(s / 2) * 3 + exp(-s * s) - 0.25 * (i - j), and checks
  // f and df/ds against the formula and finite differences.
  RegionInterpreter f = score(R"(
    %c2 = arith.constant 2.0 : f32
    %c3 = arith.constant 3.0 : f32
    %q = arith.constant 0.25 : f32
    %a = arith.divf %s, %c2 : f32
    %t = math.tanh %a : f32
    %t3 = arith.mulf %t, %c3 : f32
    %ss = arith.mulf %s, %s : f32
    %n = arith.negf %ss : f32
    %e = math.exp %n : f32
    %sum = arith.addf %t3, %e : f32
    %d = arith.subi %i, %j : index
    %di = arith.index_cast %d : index to i32
    %df = arith.sitofp %di : i32 to f32
    %bias = arith.mulf %q, %df : f32
    %r = arith.subf %sum, %bias : f32
    attn.yield %r : f32)");
  for (double s : {-2.5, -0.3, 0.0, 0.7, 3.0}) {
    double want = std::tanh(s / 2) * 3 + std::exp(-s * s) - 0.25 * (5 - 2);
    DualValue got = f.scoreWithDerivative(s, 0, 1, 5, 2);
    EXPECT_NEAR(got.value, want, 1e-14);
    EXPECT_DOUBLE_EQ(f.score(s, 0, 1, 5, 2), got.value);
    double h = 1e-6;
    double numeric =
        (f.score(s + h, 0, 1, 5, 2) - f.score(s - h, 0, 1, 5, 2)) / (2 * h);
    EXPECT_NEAR(got.derivative, numeric, 1e-7) << s;
  }
}

TEST_F(RegionInterpreterTest, DerivativesOfEveryMathOp) {
  // One op at a time on u = 0.3 * s + 1.2 (so log, sqrt, ... stay defined);
  // each derivative is compared with central differences.
  for (const char *op :
       {"math.tanh", "math.exp", "math.exp2", "math.log", "math.sqrt",
        "math.rsqrt", "math.absf", "math.sin", "math.cos", "math.log2",
        "math.log1p", "math.expm1", "math.atan", "math.erf", "math.tan"}) {
    RegionInterpreter f = score(std::string(R"(
      %a = arith.constant 0.3 : f32
      %c = arith.constant 1.2 : f32
      %m = arith.mulf %s, %a : f32
      %u = arith.addf %m, %c : f32
      %r = )") + op + R"( %u : f32
      attn.yield %r : f32)");
    for (double s : {-1.0, 0.5, 2.0}) {
      double h = 1e-6;
      double numeric =
          (f.score(s + h, 0, 0, 0, 0) - f.score(s - h, 0, 0, 0, 0)) / (2 * h);
      EXPECT_NEAR(f.scoreWithDerivative(s, 0, 0, 0, 0).derivative, numeric,
                  1e-6 * std::max(1.0, std::fabs(numeric)))
          << op << " at " << s;
    }
  }
  RegionInterpreter pow = score(R"(
    %c = arith.constant 1.5 : f32
    %e = arith.constant 2.0 : f32
    %u = arith.addf %s, %e : f32
    %p = math.powf %u, %c : f32
    %mx = arith.maximumf %p, %s : f32
    %mn = arith.minimumf %mx, %e : f32
    %mn2 = arith.minnumf %p, %e : f32
    %r = arith.addf %mx, %mn2 : f32
    attn.yield %r : f32)");
  for (double s : {0.1, 1.0, 3.0}) {
    double u = s + 2.0, p = std::pow(u, 1.5);
    double want = std::max(p, s) + std::min(p, 2.0);
    double dwant = 1.5 * std::sqrt(u) * (1 + (p < 2.0 ? 1 : 0));
    DualValue got = pow.scoreWithDerivative(s, 0, 0, 0, 0);
    EXPECT_NEAR(got.value, want, 1e-12);
    EXPECT_NEAR(got.derivative, dwant, 1e-12) << s;
  }
}

TEST_F(RegionInterpreterTest, FloatComparisonsAndSelect) {
  // Softcapped ReLU-ish: s > 1 ? 1 : (s < 0 ? 0.1 * s : s).
  RegionInterpreter f = score(R"(
    %one = arith.constant 1.0 : f32
    %zero = arith.constant 0.0 : f32
    %tenth = arith.constant 0.1 : f32
    %big = arith.cmpf ogt, %s, %one : f32
    %neg = arith.cmpf olt, %s, %zero : f32
    %leak = arith.mulf %s, %tenth : f32
    %low = arith.select %neg, %leak, %s : f32
    %r = arith.select %big, %one, %low : f32
    attn.yield %r : f32)");
  EXPECT_DOUBLE_EQ(f.score(2.0, 0, 0, 0, 0), 1.0);
  EXPECT_DOUBLE_EQ(f.scoreWithDerivative(2.0, 0, 0, 0, 0).derivative, 0.0);
  EXPECT_DOUBLE_EQ(f.score(0.5, 0, 0, 0, 0), 0.5);
  EXPECT_DOUBLE_EQ(f.scoreWithDerivative(0.5, 0, 0, 0, 0).derivative, 1.0);
  // The constant is the f32 nearest 0.1, not 0.1 itself.
  double tenth = static_cast<double>(0.1f);
  EXPECT_DOUBLE_EQ(f.score(-2.0, 0, 0, 0, 0), -2.0 * tenth);
  EXPECT_DOUBLE_EQ(f.scoreWithDerivative(-2.0, 0, 0, 0, 0).derivative, tenth);
}

TEST_F(RegionInterpreterTest, UnsupportedOpIsNamed) {
  attn::AttentionOp op = parse("", R"(
    %r = math.atan2 %s, %s : f32
    attn.yield %r : f32)");
  ASSERT_TRUE(op);
  auto interp = RegionInterpreter::forScore(op.getScore());
  ASSERT_FALSE(static_cast<bool>(interp));
  std::string message = llvm::toString(interp.takeError());
  EXPECT_NE(message.find("unsupported op 'math.atan2'"), std::string::npos)
      << message;
  EXPECT_NE(message.find("custom score region"), std::string::npos);
}

TEST_F(RegionInterpreterTest, CallbacksForReference) {
  attn::AttentionOp op = parse(R"(
    %keep = arith.cmpi ne, %i, %j : index
    attn.yield %keep : i1)",
                               R"(
    %two = arith.constant 2.0 : f32
    %r = arith.mulf %s, %two : f32
    attn.yield %r : f32)");
  ASSERT_TRUE(op);
  auto callbacks = makeRegionCallbacks(&op.getMask(), &op.getScore());
  ASSERT_TRUE(static_cast<bool>(callbacks))
      << llvm::toString(callbacks.takeError());
  EXPECT_FALSE(callbacks->mask(0, 0, 3, 3));
  EXPECT_TRUE(callbacks->mask(0, 0, 3, 2));
  EXPECT_DOUBLE_EQ(callbacks->score(1.5, 0, 0, 0, 0), 3.0);
  EXPECT_DOUBLE_EQ(callbacks->scoreGrad(1.5, 0, 0, 0, 0), 2.0);
  EXPECT_EQ(callbacks->runtimeError(), "");

  auto none = makeRegionCallbacks(nullptr, nullptr);
  ASSERT_TRUE(static_cast<bool>(none));
  EXPECT_FALSE(static_cast<bool>(none->mask));
  EXPECT_FALSE(static_cast<bool>(none->score));
  EXPECT_FALSE(static_cast<bool>(none->scoreGrad));
  EXPECT_EQ(none->runtimeError(), "");
}

} // namespace
