//===- RegisterTileLayoutTest.cpp - how threads split a register tile -----===//
//
// RegisterTileLayout::of: rows split among the warps in 16-row slabs, and,
// for a tile of fewer rows than 16 x the warps, columns split among whole
// warpgroups (column groups).
//
//===----------------------------------------------------------------------===//

#include "codegen/nvidia/RegisterTiles.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using flashc::nvidia::RegisterTileLayout;

namespace {

class RegisterTileLayoutTest : public ::testing::Test {
protected:
  MemRefType tile(ArrayRef<int64_t> shape) {
    return MemRefType::get(shape, Float32Type::get(&context));
  }
  MLIRContext context;
};

TEST_F(RegisterTileLayoutTest, RowsSplitInSlabs) {
  // 128 rows over 4 warps: two 16-row slabs a warp, 8 column blocks.
  RegisterTileLayout l = RegisterTileLayout::of(tile({128, 64}), 4);
  EXPECT_EQ(l.slabs, 2);
  EXPECT_EQ(l.blocks, 8);
  EXPECT_EQ(l.columnGroups, 1);
  EXPECT_EQ(l.rowWarps(), 4);
  EXPECT_EQ(l.registers(), 64);
}

TEST_F(RegisterTileLayoutTest, RowTile) {
  RegisterTileLayout l = RegisterTileLayout::of(tile({128}), 8);
  EXPECT_TRUE(l.isRow());
  EXPECT_EQ(l.slabs, 1);
  EXPECT_EQ(l.registers(), 2);
}

TEST_F(RegisterTileLayoutTest, FewerRowsSplitColumnsByWarpgroup) {
  // A pair's dQ (64 query rows, D = 128) in a dK/dV kernel of 8 warps:
  // each warpgroup holds 64 of the 128 columns, one slab a warp.
  RegisterTileLayout l = RegisterTileLayout::of(tile({64, 128}), 8);
  EXPECT_EQ(l.slabs, 1);
  EXPECT_EQ(l.columnGroups, 2);
  EXPECT_EQ(l.rowWarps(), 4);
  EXPECT_EQ(l.blocks, 8);
  EXPECT_EQ(l.registers(), 32);
  // D = 64 over 16 warps: four groups of 16 columns.
  RegisterTileLayout wide = RegisterTileLayout::of(tile({64, 64}), 16);
  EXPECT_EQ(wide.columnGroups, 4);
  EXPECT_EQ(wide.blocks, 2);
}

TEST_F(RegisterTileLayoutTest, NotSplittable) {
  // Groups must be whole warpgroups (rows a multiple of 64).
  EXPECT_EQ(RegisterTileLayout::of(tile({32, 64}), 4).slabs, 0);
  // The column blocks must divide among the groups.
  EXPECT_EQ(RegisterTileLayout::of(tile({64, 24}), 8).slabs, 0);
  // A 1-D tile is not split by columns.
  EXPECT_EQ(RegisterTileLayout::of(tile({64}), 8).slabs, 0);
  // Rows that are no multiple of 16 x the warps nor fewer.
  EXPECT_EQ(RegisterTileLayout::of(tile({192, 64}), 8).slabs, 0);
}

} // namespace
