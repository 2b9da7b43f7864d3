//===- HostTensorTest.cpp - element rounding and buffers ------------------===//

#include "tools/flashc/HostTensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace flashc::tool;

namespace {

TEST(HostTensor, RoundsToNearestEven) {
  // bf16 keeps 7 fraction bits: the ulp at 1 is 2^-7.
  EXPECT_EQ(roundToElement(1.0 + std::ldexp(1, -8), ElementKind::BF16), 1.0);
  EXPECT_EQ(roundToElement(1.0 + 3 * std::ldexp(1, -8), ElementKind::BF16),
            1.0 + std::ldexp(1, -6));
  EXPECT_EQ(roundToElement(1.0 + std::ldexp(1, -8) + std::ldexp(1, -20),
                           ElementKind::BF16),
            1.0 + std::ldexp(1, -7));
  // f16 keeps 10 fraction bits and saturates to inf past 65504 + half ulp.
  EXPECT_EQ(roundToElement(1.0 + std::ldexp(1, -11), ElementKind::F16), 1.0);
  EXPECT_EQ(roundToElement(65504.0, ElementKind::F16), 65504.0);
  EXPECT_TRUE(std::isinf(roundToElement(65520.0, ElementKind::F16)));
  EXPECT_EQ(roundToElement(65519.0, ElementKind::F16), 65504.0);
  // Double rounding through f32 would get this bf16 case wrong: the value
  // is just above a tie in double, exactly a tie once rounded to f32.
  double justAbove = 1.0 + std::ldexp(1, -8) + std::ldexp(1, -40);
  EXPECT_EQ(roundToElement(justAbove, ElementKind::BF16),
            1.0 + std::ldexp(1, -7));
  EXPECT_EQ(roundToElement(0.1, ElementKind::F32), static_cast<double>(0.1f));
}

TEST(HostTensor, StoresWhatItRounds) {
  for (ElementKind kind :
       {ElementKind::F32, ElementKind::F16, ElementKind::BF16}) {
    HostTensor t(kind, {2, 3});
    std::vector<double> values = {0.1, -2.7, 1e-3, 3.14159, -0.0, 100.25};
    t.assign(values);
    std::vector<double> back = t.toDoubles();
    ASSERT_EQ(back.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i)
      EXPECT_EQ(back[i], roundToElement(values[i], kind))
          << elementKindName(kind).str() << " " << i;
  }
}

TEST(HostTensor, PoisonIsNaN) {
  for (ElementKind kind :
       {ElementKind::F32, ElementKind::F16, ElementKind::BF16}) {
    HostTensor t(kind, {5});
    t.poison();
    for (double x : t.toDoubles())
      EXPECT_TRUE(std::isnan(x)) << elementKindName(kind).str();
  }
}

TEST(HostTensor, DenseMemRef) {
  HostTensor t(ElementKind::F16, {2, 3, 4, 5});
  MemRefArg m = t.memref();
  EXPECT_EQ(m.data, t.data());
  EXPECT_EQ(m.offset, 0);
  EXPECT_EQ(m.sizes, (llvm::SmallVector<int64_t, 4>{2, 3, 4, 5}));
  EXPECT_EQ(m.strides, (llvm::SmallVector<int64_t, 4>{60, 20, 5, 1}));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 64, 0u);
  HostTensor empty(ElementKind::I32, {0});
  EXPECT_NE(empty.data(), nullptr);
  EXPECT_EQ(empty.numElements(), 0);
}

} // namespace
