//===- LaunchPlanTest.cpp - parameter packing and uploads -----------------===//

#include "runtime/LaunchPlan.h"
#include "runtime/TestManifest.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace flashc::runtime;
using namespace flashc::runtime::testing;

namespace {

Manifest manifestWith(const TestOptions &o) {
  Manifest m;
  Status s = parseManifest(testManifest(o).str(), "t.json", m);
  EXPECT_TRUE(s.ok()) << s.message();
  return m;
}

/// The words of one expanded memref descriptor.
std::vector<uint64_t> descriptorWords(uint64_t ptr,
                                      std::vector<int64_t> sizes,
                                      std::vector<int64_t> strides) {
  std::vector<uint64_t> w = {ptr, ptr, 0};
  for (int64_t s : sizes)
    w.push_back(static_cast<uint64_t>(s));
  for (int64_t s : strides)
    w.push_back(static_cast<uint64_t>(s));
  return w;
}

void append(std::vector<uint64_t> &to, const std::vector<uint64_t> &w) {
  to.insert(to.end(), w.begin(), w.end());
}

TEST(LaunchPlan, PacksExpandedDescriptorsInABIOrder) {
  Manifest m = manifestWith(TestOptions());
  ForwardArgs a;
  a.q = TensorRef::contiguous(0x1000, DType::BF16, {2, 4, 100, 64});
  a.k = TensorRef::contiguous(0x2000, DType::BF16, {2, 2, 37, 64});
  a.v = TensorRef::contiguous(0x3000, DType::BF16, {2, 2, 37, 64});
  a.o = TensorRef::contiguous(0x4000, DType::BF16, {2, 4, 100, 64});
  a.o.strides[1] = 64; // BSHD output
  a.o.strides[2] = 4 * 64;
  a.lse = TensorRef::contiguous(0x5000, DType::F32, {2, 4, 100});
  ProblemSizes sizes{2, 4, 2, 100, 37, 64, 64};
  BoundArgs bound = bindForward(m, a, sizes, Uploads(), 0);
  ParamBuffer params;
  ASSERT_TRUE(packParams(*m.kernel(KernelKind::Forward), bound, params).ok());

  std::vector<uint64_t> expected;
  append(expected, descriptorWords(0x1000, {2, 4, 100, 64},
                                   {4 * 100 * 64, 100 * 64, 64, 1}));
  append(expected, descriptorWords(0x2000, {2, 2, 37, 64},
                                   {2 * 37 * 64, 37 * 64, 64, 1}));
  append(expected, descriptorWords(0x3000, {2, 2, 37, 64},
                                   {2 * 37 * 64, 37 * 64, 64, 1}));
  append(expected, descriptorWords(0x4000, {2, 4, 100, 64},
                                   {4 * 100 * 64, 64, 4 * 64, 1}));
  append(expected,
         descriptorWords(0x5000, {2, 4, 100}, {4 * 100, 100, 1}));
  EXPECT_EQ(params.words(), expected);
  EXPECT_EQ(params.words().size(), 4u * 11 + 9);

  // kernelParams: one pointer per word, each to its word.
  void **ptrs = params.pointers();
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(*static_cast<uint64_t *>(ptrs[i]), expected[i]) << i;
}

TEST(LaunchPlan, OptionalGroupsFollowTheTensors) {
  TestOptions o;
  o.seqLensQ = o.seqLensK = o.layout = o.dropout = true;
  Manifest m = manifestWith(o);
  std::vector<int32_t> seqQ = {5, 0}, seqK = {37, 1};
  // [1, 4, 1, 1]: heads 0 and 2 keep their one block.
  std::vector<uint8_t> dense = {1, 0, 1, 0};
  DenseLayoutView layout;
  layout.data = dense.data();
  layout.numElements = 4;
  layout.batch = 1;
  layout.heads = 4;
  layout.rows = 1;
  layout.cols = 1;
  Uploads u;
  ASSERT_TRUE(buildUploads(m, {seqQ.data(), 2}, {seqK.data(), 2}, layout,
                           /*transposed=*/true, u)
                  .ok());
  // Every piece 16-byte aligned, in order.
  EXPECT_EQ(u.seqLensQ, 0);
  EXPECT_EQ(u.seqLensK, 16);
  EXPECT_EQ(u.rowOffsets, 32);
  EXPECT_EQ(u.rowBlocks, 64); // 4 slabs x 2 offsets x 4 B after 32
  EXPECT_EQ(u.colOffsets, 80);
  EXPECT_EQ(u.colBlocks, 112);
  auto i32At = [&](int64_t offset, int index) {
    int32_t v;
    std::memcpy(&v, u.bytes.data() + offset + 4 * index, 4);
    return v;
  };
  EXPECT_EQ(i32At(u.seqLensQ, 0), 5);
  EXPECT_EQ(i32At(u.seqLensK, 0), 37);
  EXPECT_EQ(i32At(u.seqLensK, 1), 1);
  // Row offsets [1, 4, 2]: 0 1 | 1 1 | 1 2 | 2 2; blocks [0, 0].
  int expectedOffsets[] = {0, 1, 1, 1, 1, 2, 2, 2};
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(i32At(u.rowOffsets, i), expectedOffsets[i]) << i;
  EXPECT_EQ(u.rows.numKept(), 2);

  ForwardArgs a;
  a.q = TensorRef::contiguous(0x1000, DType::BF16, {2, 4, 100, 64});
  a.k = TensorRef::contiguous(0x2000, DType::BF16, {2, 2, 37, 64});
  a.v = TensorRef::contiguous(0x3000, DType::BF16, {2, 2, 37, 64});
  a.o = TensorRef::contiguous(0x4000, DType::BF16, {2, 4, 100, 64});
  a.lse = TensorRef::contiguous(0x5000, DType::F32, {2, 4, 100});
  a.offset = 99; // seed from the manifest
  ProblemSizes sizes{2, 4, 2, 100, 37, 64, 64};
  uint64_t base = 0x90000;
  BoundArgs bound = bindForward(m, a, sizes, u, base);
  ParamBuffer params;
  ASSERT_TRUE(packParams(*m.kernel(KernelKind::Forward), bound, params).ok());
  const std::vector<uint64_t> &w = params.words();
  ASSERT_EQ(w.size(), 4u * 11 + 9 + 5 + 5 + 9 + 5 + 2);
  size_t at = 4 * 11 + 9;
  std::vector<uint64_t> tail(w.begin() + static_cast<long>(at), w.end());
  std::vector<uint64_t> expected;
  append(expected, descriptorWords(base + 0, {2}, {1}));
  append(expected, descriptorWords(base + 16, {2}, {1}));
  append(expected, descriptorWords(base + 32, {1, 4, 2}, {8, 2, 1}));
  append(expected, descriptorWords(base + 64, {2}, {1}));
  expected.push_back(1234); // dropout_seed of the manifest
  expected.push_back(99);
  EXPECT_EQ(tail, expected);

  // bwd_dkdv reads the transposed lists: [1, 4, MK + 1].
  BackwardArgs b;
  b.q = a.q;
  b.k = a.k;
  b.v = a.v;
  b.o = a.o;
  b.lse = a.lse;
  b.dout = b.dq = b.dk = b.dv = a.q;
  TensorRef delta = TensorRef::contiguous(0x6000, DType::F32, {2, 4, 100});
  TensorRef dqAccum =
      TensorRef::contiguous(0x7000, DType::F32, {2, 4, 100, 64});
  BoundArgs bwd = bindBackward(m, b, delta, dqAccum, sizes, u, base);
  EXPECT_EQ(bwd.memrefs[static_cast<int>(ArgRole::DQAccum)].aligned, 0x7000u);
  bindColumnLayout(bwd, u, base);
  const MemRefDescriptor &offsets =
      bwd.memrefs[static_cast<int>(ArgRole::LayoutOffsets)];
  EXPECT_EQ(offsets.aligned, base + 80);
  EXPECT_EQ(offsets.sizes[2], 2);
  EXPECT_EQ(bwd.memrefs[static_cast<int>(ArgRole::LayoutBlocks)].aligned,
            base + 112);
}

TEST(LaunchPlan, UnboundRoleIsAnError) {
  Manifest m = manifestWith(TestOptions());
  BoundArgs bound;
  ParamBuffer params;
  Status s = packParams(*m.kernel(KernelKind::BackwardPrep), bound, params);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "bwd_prep: argument o is not bound (internal error)");
}

TEST(LaunchPlan, LaunchDims) {
  Manifest m = manifestWith(TestOptions());
  ProblemSizes sizes{3, 8, 2, 100, 1000, 64, 64};
  LaunchDims fwd = launchDims(*m.kernel(KernelKind::Forward), sizes);
  EXPECT_EQ(fwd.grid[0], 2u); // ceil(100 / 64)
  EXPECT_EQ(fwd.grid[1], 8u);
  EXPECT_EQ(fwd.grid[2], 3u);
  EXPECT_EQ(fwd.block[0], 128u);
  EXPECT_EQ(fwd.block[1], 1u);
  EXPECT_EQ(fwd.sharedBytes, 32768u);
  LaunchDims dkdv = launchDims(*m.kernel(KernelKind::BackwardDkDv), sizes);
  EXPECT_EQ(dkdv.grid[0], 16u); // ceil(1000 / 64)
  EXPECT_EQ(dkdv.grid[1], 2u);  // Hkv
  EXPECT_EQ(dkdv.grid[2], 3u);
}

} // namespace
