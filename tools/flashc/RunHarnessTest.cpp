//===- RunHarnessTest.cpp - sizes and comparisons of `flashc run` ---------===//

#include "tools/flashc/RunHarness.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace flashc;
using namespace flashc::tool;
using mlir::ShapedType;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kDyn = ShapedType::kDynamic;

TEST(CompareOutputs, RelativeToLargestReference) {
  Comparison c = compareOutputs({1.0, 2.01, -4.0}, {1.0, 2.0, -4.0});
  EXPECT_NEAR(c.maxAbsError, 0.01, 1e-12);
  EXPECT_EQ(c.maxAbsReference, 4.0);
  EXPECT_NEAR(c.relativeError, 0.0025, 1e-12);
  EXPECT_EQ(c.worst, 1);
  EXPECT_TRUE(c.passed(0.003));
  EXPECT_FALSE(c.passed(0.002));
}

TEST(CompareOutputs, AnyNaNFails) {
  Comparison c = compareOutputs({1.0, kNaN, kNaN}, {1.0, 2.0, 3.0});
  EXPECT_EQ(c.nanCount, 2);
  EXPECT_EQ(c.firstNan, 1);
  EXPECT_FALSE(c.passed(1e9));
}

TEST(CompareOutputs, MinusInfinityMustMatchExactly) {
  // Fully masked rows: LSE -inf on both sides passes.
  Comparison ok = compareOutputs({-kInf, 0.5}, {-kInf, 0.5});
  EXPECT_TRUE(ok.passed(0.0));
  // A finite LSE for a fully masked row, or -inf for a live one, fails.
  Comparison finite = compareOutputs({-1e30, 0.5}, {-kInf, 0.5});
  EXPECT_EQ(finite.infMismatches, 1);
  EXPECT_EQ(finite.firstInfMismatch, 0);
  EXPECT_FALSE(finite.passed(1e9));
  Comparison spurious = compareOutputs({0.5, -kInf}, {0.5, 0.25});
  EXPECT_FALSE(spurious.passed(1e9));
  EXPECT_FALSE(compareOutputs({kInf}, {-kInf}).passed(1e9));
}

TEST(CompareOutputs, DifferentSizesFail) {
  Comparison c = compareOutputs({1.0}, {1.0, 2.0});
  EXPECT_TRUE(c.sizeMismatch);
  EXPECT_FALSE(c.passed(1e9));
}

TEST(CompareOutputs, AllZeroReference) {
  EXPECT_TRUE(compareOutputs({0.0, 0.0}, {0.0, 0.0}).passed(0.0));
  // An all-zero reference is judged by absolute error.
  Comparison c = compareOutputs({1e-3, 0.0}, {0.0, 0.0});
  EXPECT_TRUE(c.zeroReference);
  EXPECT_EQ(c.relativeError, 1e-3);
  EXPECT_FALSE(c.passed(1e-5));
  EXPECT_TRUE(c.passed(1e-2));
  // A nonzero one, however small, by relative error.
  c = compareOutputs({2e-6, 0.0}, {1e-6, 0.0});
  EXPECT_FALSE(c.zeroReference);
  EXPECT_NEAR(c.relativeError, 1.0, 1e-12);
}

attn::AttentionConfig configOf(int64_t b, int64_t hq, int64_t hkv, int64_t nq,
                               int64_t nk) {
  attn::AttentionConfig c;
  c.shape = {b, hq, hkv, nq, nk, 64, 64};
  return c;
}

TEST(ResolveShape, DefaultsFillDynamicSizes) {
  RunOptions opts;
  auto s = resolveShape(configOf(kDyn, kDyn, kDyn, kDyn, kDyn), {}, opts);
  ASSERT_TRUE(static_cast<bool>(s)) << llvm::toString(s.takeError());
  EXPECT_EQ(s->batch, kDefaultBatch);
  EXPECT_EQ(s->headsQ, kDefaultHeads);
  EXPECT_EQ(s->headsKV, kDefaultHeads);
  EXPECT_EQ(s->seqQ, kDefaultSeqLen);
  EXPECT_EQ(s->seqK, kDefaultSeqLen);
  EXPECT_EQ(s->headDim, 64);

  // A static Hkv that does not divide the default picks Hq = Hkv.
  s = resolveShape(configOf(kDyn, kDyn, 3, kDyn, kDyn), {}, opts);
  ASSERT_TRUE(static_cast<bool>(s));
  EXPECT_EQ(s->headsQ, 3);
  s = resolveShape(configOf(kDyn, kDyn, 2, kDyn, kDyn), {}, opts);
  ASSERT_TRUE(static_cast<bool>(s));
  EXPECT_EQ(s->headsQ, 4);
}

TEST(ResolveShape, OverridesFillAndMustAgree) {
  RunOptions opts;
  opts.batch = 3;
  opts.seqQ = 100;
  opts.headsQ = 8;
  opts.headsKV = 2;
  auto s = resolveShape(configOf(kDyn, kDyn, kDyn, kDyn, 77), {}, opts);
  ASSERT_TRUE(static_cast<bool>(s)) << llvm::toString(s.takeError());
  EXPECT_EQ(s->batch, 3);
  EXPECT_EQ(s->seqQ, 100);
  EXPECT_EQ(s->seqK, 77);
  EXPECT_EQ(s->headsQ, 8);
  EXPECT_EQ(s->headsKV, 2);

  opts.seqK = 78;
  s = resolveShape(configOf(kDyn, kDyn, kDyn, kDyn, 77), {}, opts);
  ASSERT_FALSE(static_cast<bool>(s));
  EXPECT_EQ(llvm::toString(s.takeError()),
            "--seqlen-k 78 contradicts the spec's static Nk = 77");

  RunOptions gqa;
  gqa.headsQ = 6;
  gqa.headsKV = 4;
  s = resolveShape(configOf(1, kDyn, kDyn, 8, 8), {}, gqa);
  ASSERT_FALSE(static_cast<bool>(s));
  EXPECT_NE(llvm::toString(s.takeError()).find("multiple of"),
            std::string::npos);
}

TEST(ResolveShape, LayoutSizesFollowTheProblem) {
  mlir::MLIRContext context;
  auto i8 = mlir::IntegerType::get(&context, 8);
  attn::AttentionConfig c = configOf(kDyn, 4, 4, kDyn, kDyn);
  c.hasLayout = true;
  c.layoutBlockQ = c.layoutBlockK = 64;
  RunOptions opts;
  opts.seqQ = 200; // ceil(200 / 64) = 4
  auto type = mlir::RankedTensorType::get({1, kDyn, 4, kDyn}, i8);
  auto s = resolveShape(c, type, opts);
  ASSERT_TRUE(static_cast<bool>(s)) << llvm::toString(s.takeError());
  EXPECT_EQ(s->layoutBatch, 1);
  EXPECT_EQ(s->layoutHeads, 4);

  opts.seqQ = 300; // ceil(300 / 64) = 5, the type says 4
  s = resolveShape(c, type, opts);
  ASSERT_FALSE(static_cast<bool>(s));
  EXPECT_NE(llvm::toString(s.takeError()).find("MQ = 4 does not match"),
            std::string::npos);

  opts.seqQ = 256;
  opts.batch = 2;
  auto three = mlir::RankedTensorType::get({3, 4, 4, kDyn}, i8);
  s = resolveShape(c, three, opts);
  ASSERT_FALSE(static_cast<bool>(s));
  EXPECT_NE(llvm::toString(s.takeError()).find("LB = 3 must be 1 or B = 2"),
            std::string::npos);
}

TEST(Tolerance, ByElementType) {
  mlir::MLIRContext context;
  EXPECT_EQ(defaultTolerance(mlir::Float32Type::get(&context)), 1e-5);
  EXPECT_EQ(defaultTolerance(mlir::BFloat16Type::get(&context)), 1e-2);
  EXPECT_EQ(defaultTolerance(mlir::Float16Type::get(&context)), 1e-2);
}

} // namespace
