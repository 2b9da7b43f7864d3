//===- BlockLayoutTest.cpp - dense layouts to kernel index lists ----------===//

#include "runtime/BlockLayout.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>

using namespace flashc::runtime;

namespace {

DenseLayoutView view(const std::vector<uint8_t> &data, int64_t lb, int64_t lh,
                     int64_t mq, int64_t mk) {
  DenseLayoutView v;
  v.data = data.data();
  v.elementType = LayoutElementType::UInt8;
  v.numElements = static_cast<int64_t>(data.size());
  v.batch = lb;
  v.heads = lh;
  v.rows = mq;
  v.cols = mk;
  return v;
}

/// The dense layout as 0/1, which expandBlockLists returns.
std::vector<uint8_t> normalized(const std::vector<uint8_t> &data) {
  std::vector<uint8_t> out(data.size());
  for (size_t i = 0; i < data.size(); ++i)
    out[i] = data[i] != 0;
  return out;
}

TEST(BlockLayout, RowListsOfASmallLayout) {
  // One slab, 3 x 4:
  //   1 0 1 0
  //   0 0 0 0
  //   1 1 1 1
  std::vector<uint8_t> dense = {1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1};
  BlockLists rows;
  ASSERT_TRUE(buildRowLists(view(dense, 1, 1, 3, 4), rows));
  EXPECT_EQ(rows.offsets, (std::vector<int32_t>{0, 2, 2, 6}));
  EXPECT_EQ(rows.blocks, (std::vector<int32_t>{0, 2, 0, 1, 2, 3}));

  BlockLists cols;
  ASSERT_TRUE(buildColumnLists(view(dense, 1, 1, 3, 4), cols));
  EXPECT_EQ(cols.offsets, (std::vector<int32_t>{0, 2, 3, 5, 6}));
  EXPECT_EQ(cols.blocks, (std::vector<int32_t>{0, 2, 2, 0, 2, 2}));
}

TEST(BlockLayout, OffsetsAreAbsoluteAcrossSlabs) {
  // Two slabs of 2 x 2: [[1, 1], [0, 1]] and [[0, 0], [1, 0]].
  std::vector<uint8_t> dense = {1, 1, 0, 1, 0, 0, 1, 0};
  BlockLists rows;
  ASSERT_TRUE(buildRowLists(view(dense, 2, 1, 2, 2), rows));
  EXPECT_EQ(rows.offsets, (std::vector<int32_t>{0, 2, 3, 3, 3, 4}));
  EXPECT_EQ(rows.blocks, (std::vector<int32_t>{0, 1, 1, 0}));
  EXPECT_TRUE(checkBlockLists(rows));
}

TEST(BlockLayout, RandomRoundTrips) {
  std::mt19937_64 rng(1234);
  for (int trial = 0; trial < 200; ++trial) {
    int64_t lb = 1 + rng() % 3, lh = 1 + rng() % 4;
    int64_t mq = 1 + rng() % 9, mk = 1 + rng() % 9;
    double density = (rng() % 11) / 10.0;
    std::bernoulli_distribution keep(density);
    std::vector<uint8_t> dense(static_cast<size_t>(lb * lh * mq * mk));
    for (uint8_t &x : dense)
      x = keep(rng) ? static_cast<uint8_t>(1 + rng() % 255) : 0;

    for (auto orientation : {ListOrientation::Rows, ListOrientation::Columns}) {
      BlockLists lists;
      Status s = orientation == ListOrientation::Rows
                     ? buildRowLists(view(dense, lb, lh, mq, mk), lists)
                     : buildColumnLists(view(dense, lb, lh, mq, mk), lists);
      ASSERT_TRUE(s) << s.message();
      ASSERT_TRUE(checkBlockLists(lists));
      std::vector<uint8_t> back;
      ASSERT_TRUE(expandBlockLists(lists, back));
      EXPECT_EQ(back, normalized(dense)) << "trial " << trial;
      int64_t kept = 0;
      for (uint8_t x : dense)
        kept += x != 0;
      EXPECT_EQ(lists.numKept(), kept);
      EXPECT_EQ(static_cast<int64_t>(lists.offsets.size()),
                lb * lh * (lists.numLists() + 1));
    }
  }
}

TEST(BlockLayout, EmptyRowsAndColumns) {
  // Row 0 and column 1 are empty.
  std::vector<uint8_t> dense = {0, 0, 0, 1, 0, 1, 1, 0, 0};
  BlockLists rows, cols;
  ASSERT_TRUE(buildRowLists(view(dense, 1, 1, 3, 3), rows));
  ASSERT_TRUE(buildColumnLists(view(dense, 1, 1, 3, 3), cols));
  EXPECT_EQ(rows.offsets, (std::vector<int32_t>{0, 0, 2, 3}));
  EXPECT_EQ(rows.blocks, (std::vector<int32_t>{0, 2, 0}));
  EXPECT_EQ(cols.offsets, (std::vector<int32_t>{0, 2, 2, 3}));
  EXPECT_EQ(cols.blocks, (std::vector<int32_t>{1, 2, 1}));
}

TEST(BlockLayout, AllZeroLayout) {
  std::vector<uint8_t> dense(2 * 3 * 4 * 5, 0);
  for (auto build : {buildRowLists, buildColumnLists}) {
    BlockLists lists;
    ASSERT_TRUE(build(view(dense, 2, 3, 4, 5), lists));
    EXPECT_EQ(lists.numKept(), 0);
    EXPECT_TRUE(lists.blocks.empty());
    EXPECT_EQ(static_cast<int64_t>(lists.offsets.size()),
              2 * 3 * (lists.numLists() + 1));
    for (int32_t o : lists.offsets)
      EXPECT_EQ(o, 0);
    EXPECT_TRUE(checkBlockLists(lists));
    std::vector<uint8_t> back;
    ASSERT_TRUE(expandBlockLists(lists, back));
    EXPECT_EQ(back, dense);
  }
}

TEST(BlockLayout, SignedAndWideElementTypes) {
  // Any nonzero value keeps a block, negative ones included.
  std::vector<int8_t> i8 = {-1, 0, 0, 5};
  std::vector<int32_t> i32 = {0, -7, 1 << 20, 0};
  DenseLayoutView v;
  v.batch = v.heads = 1;
  v.rows = v.cols = 2;
  v.numElements = 4;

  BlockLists lists;
  v.data = i8.data();
  v.elementType = LayoutElementType::Int8;
  ASSERT_TRUE(buildRowLists(v, lists));
  EXPECT_EQ(lists.offsets, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(lists.blocks, (std::vector<int32_t>{0, 1}));

  v.data = i32.data();
  v.elementType = LayoutElementType::Int32;
  ASSERT_TRUE(buildRowLists(v, lists));
  EXPECT_EQ(lists.offsets, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(lists.blocks, (std::vector<int32_t>{1, 0}));
}

TEST(BlockLayout, BroadcastDimensions) {
  std::vector<uint8_t> dense(1 * 1 * 4 * 3, 1);
  LayoutProblem problem{/*batch=*/2, /*headsQ=*/8,  /*seqQ=*/100,
                        /*seqK=*/65, /*blockQ=*/32, /*blockK=*/32};
  // LB = 1 and LH = 1 broadcast over B = 2 and Hq = 8.
  EXPECT_TRUE(checkLayoutShape(view(dense, 1, 1, 4, 3), problem));
  std::vector<uint8_t> full(2 * 8 * 4 * 3, 1);
  EXPECT_TRUE(checkLayoutShape(view(full, 2, 8, 4, 3), problem));
  std::vector<uint8_t> perHead(1 * 8 * 4 * 3, 1);
  EXPECT_TRUE(checkLayoutShape(view(perHead, 1, 8, 4, 3), problem));

  // LH must be 1 or Hq; LB 1 or B.
  std::vector<uint8_t> badHeads(1 * 2 * 4 * 3, 1);
  Status s = checkLayoutShape(view(badHeads, 1, 2, 4, 3), problem);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("does not match [1 or 2, 1 or 8, 4, 3]"),
            std::string::npos)
      << s.message();
  std::vector<uint8_t> badBatch(3 * 1 * 4 * 3, 1);
  EXPECT_FALSE(checkLayoutShape(view(badBatch, 3, 1, 4, 3), problem));
  // MQ and MK must be ceil(Nq / bq) and ceil(Nk / bk), exactly.
  std::vector<uint8_t> short_(1 * 1 * 4 * 2, 1);
  EXPECT_FALSE(checkLayoutShape(view(short_, 1, 1, 4, 2), problem));
  std::vector<uint8_t> long_(1 * 1 * 5 * 3, 1);
  EXPECT_FALSE(checkLayoutShape(view(long_, 1, 1, 5, 3), problem));
  // The problem itself must be sane.
  LayoutProblem zeroBlock = problem;
  zeroBlock.blockK = 0;
  s = checkLayoutShape(view(dense, 1, 1, 4, 3), zeroBlock);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("bk must be at least 1"), std::string::npos);
}

TEST(BlockLayout, InvalidSizes) {
  std::vector<uint8_t> dense(12, 1);
  BlockLists lists;

  Status s = buildRowLists(view(dense, 1, 1, 0, 12), lists);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("MQ must be at least 1, got 0"), std::string::npos)
      << s.message();
  EXPECT_TRUE(lists.offsets.empty() && lists.blocks.empty());

  s = buildColumnLists(view(dense, -1, 1, 3, 4), lists);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("LB must be at least 1"), std::string::npos);

  // Element count does not match the shape.
  s = buildRowLists(view(dense, 1, 1, 3, 5), lists);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("needs 15 elements, got 12"), std::string::npos)
      << s.message();

  // Null data.
  DenseLayoutView v = view(dense, 1, 1, 3, 4);
  v.data = nullptr;
  s = buildRowLists(v, lists);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("null"), std::string::npos);

  // Too many entries for int32 lists, without overflowing int64 on the way.
  v = view(dense, int64_t(1) << 40, int64_t(1) << 40, 1 << 20, 1 << 20);
  s = buildRowLists(v, lists);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("2^31 - 1"), std::string::npos) << s.message();

  // A product that overflows int64 (6 * (2^63 - 1)) is rejected, not
  // wrapped; found by fuzz-layout (test/fuzz-regressions/
  // layout-size-overflow.test).
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  v = view(dense, 6, kMax, 1, 1);
  s = buildRowLists(v, lists);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("the product passes it at LH = " +
                             std::to_string(kMax)),
            std::string::npos)
      << s.message();
  s = checkDenseLayout(view(dense, kMax, kMax, kMax, kMax));
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("at LB = " + std::to_string(kMax)),
            std::string::npos)
      << s.message();

  // An unknown element type value.
  v = view(dense, 1, 1, 3, 4);
  v.elementType = static_cast<LayoutElementType>(42);
  EXPECT_FALSE(buildRowLists(v, lists));
}

TEST(BlockLayout, HugeSequenceLengths) {
  // ceil(Nq / bq) for Nq near INT64_MAX, without the Nq + bq - 1 that
  // overflows; found by fuzz-layout
  // (test/fuzz-regressions/layout-ceildiv-overflow.test).
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  std::vector<uint8_t> dense(1, 1);
  LayoutProblem problem;
  problem.batch = 1;
  problem.headsQ = 1;
  problem.seqQ = kMax;
  problem.seqK = 1;
  problem.blockQ = 16;
  problem.blockK = 16;
  Status s = checkLayoutShape(view(dense, 1, 1, 1, 1), problem);
  ASSERT_FALSE(s);
  // ceil((2^63 - 1) / 16) = 2^59.
  EXPECT_NE(s.message().find("does not match [1 or 1, 1 or 1, " +
                             std::to_string(int64_t(1) << 59) + ", 1]"),
            std::string::npos)
      << s.message();
  problem.seqQ = 1;
  problem.seqK = kMax;
  problem.blockK = kMax;
  EXPECT_TRUE(checkLayoutShape(view(dense, 1, 1, 1, 1), problem));
  problem.blockK = kMax - 1;
  s = checkLayoutShape(view(dense, 1, 1, 1, 1), problem);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("does not match [1 or 1, 1 or 1, 1, 2]"),
            std::string::npos)
      << s.message();
}

TEST(BlockLayout, MalformedListsAreRejected) {
  std::vector<uint8_t> dense = {1, 0, 1, 1, 1, 0};
  BlockLists good;
  ASSERT_TRUE(buildRowLists(view(dense, 1, 1, 2, 3), good));
  ASSERT_TRUE(checkBlockLists(good));

  BlockLists bad = good;
  bad.offsets.pop_back();
  EXPECT_FALSE(checkBlockLists(bad));

  bad = good;
  bad.offsets[0] = 1;
  EXPECT_FALSE(checkBlockLists(bad));

  bad = good;
  bad.blocks[1] = 0; // Row 0 becomes {0, 0}: not strictly increasing.
  Status s = checkBlockLists(bad);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("strictly increasing"), std::string::npos);

  bad = good;
  bad.blocks[0] = 3; // Out of [0, MK).
  EXPECT_FALSE(checkBlockLists(bad));

  bad = good;
  bad.offsets[1] = 7; // Past the end.
  EXPECT_FALSE(checkBlockLists(bad));

  bad = good;
  bad.blocks.push_back(2); // Last offset does not cover every block.
  EXPECT_FALSE(checkBlockLists(bad));

  std::vector<uint8_t> back;
  EXPECT_FALSE(expandBlockLists(bad, back));
  EXPECT_TRUE(back.empty());
}

} // namespace
