//===- TileSelection.cpp - FlashAttention tile sizes ----------------------===//

#include "passes/TileSelection.h"
#include "passes/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;

namespace flashc {

#define GEN_PASS_DEF_ATTNSELECTTILESPASS
#include "passes/Passes.h.inc"

static constexpr int64_t kMinTile = 16, kMaxTile = 128;

llvm::Expected<int64_t> onChipBytes(StringRef target) {
  // Shared memory a CTA may opt into (sm_80: 163 KiB, sm_90: 227 KiB); for
  // the CPU, a typical per-core L2 (the level a tile should stay in).
  int64_t bytes = llvm::StringSwitch<int64_t>(target)
                      .Case("cpu", 256 * 1024)
                      .Case("sm_80", 163 * 1024)
                      .Cases("sm_90", "sm_90a", 227 * 1024)
                      .Default(0);
  if (bytes == 0)
    return llvm::createStringError(
        llvm::formatv("unknown target '{0}'; expected cpu, sm_80 or sm_90",
                      target)
            .str());
  return bytes;
}

static int64_t roundTile(int64_t x) {
  x = std::clamp<int64_t>(x, kMinTile, kMaxTile);
  return int64_t(1) << llvm::Log2_64(static_cast<uint64_t>(x));
}

/// Halves `tile` until it divides `block` (both multiples of 16, so this
/// ends at 16 at the latest).
static int64_t fitToBlock(int64_t tile, int64_t block) {
  while (block % tile != 0)
    tile /= 2;
  return tile;
}

static llvm::Error checkOverride(StringRef name, int64_t tile,
                                 int64_t layoutBlock) {
  if (tile < kMinTile || tile > kMaxTile || !llvm::isPowerOf2_64(tile))
    return llvm::createStringError(
        llvm::formatv("{0} = {1}: tile sizes must be powers of two in [{2}, "
                      "{3}]",
                      name, tile, kMinTile, kMaxTile)
            .str());
  if (layoutBlock && layoutBlock % tile != 0)
    return llvm::createStringError(
        llvm::formatv("{0} = {1} does not divide the layout block size {2}",
                      name, tile, layoutBlock)
            .str());
  return llvm::Error::success();
}

llvm::Expected<TileSizes> selectTileSizes(const attn::AttentionConfig &config,
                                          int64_t sramBytes,
                                          int64_t overrideQ,
                                          int64_t overrideK,
                                          int64_t overrideDqQ,
                                          int64_t overrideDqK) {
  int64_t d = std::max(config.shape.headDim, config.shape.headDimV);
  int64_t words = sramBytes / 4;
  int64_t bc = llvm::divideCeil(words, 4 * d);
  int64_t br = std::min(bc, d);
  TileSizes tiles{roundTile(br), roundTile(bc)};
  if (config.hasLayout) {
    tiles.blockQ = fitToBlock(tiles.blockQ, config.layoutBlockQ);
    tiles.blockK = fitToBlock(tiles.blockK, config.layoutBlockK);
  }
  if (overrideQ) {
    if (auto err = checkOverride("block-q", overrideQ, config.layoutBlockQ))
      return std::move(err);
    tiles.blockQ = overrideQ;
  }
  if (overrideK) {
    if (auto err = checkOverride("block-k", overrideK, config.layoutBlockK))
      return std::move(err);
    tiles.blockK = overrideK;
  }
  if (overrideDqQ) {
    if (auto err =
            checkOverride("dq-block-q", overrideDqQ, config.layoutBlockQ))
      return std::move(err);
    tiles.dqBlockQ = overrideDqQ;
  }
  if (overrideDqK) {
    if (auto err =
            checkOverride("dq-block-k", overrideDqK, config.layoutBlockK))
      return std::move(err);
    tiles.dqBlockK = overrideDqK;
  }
  return tiles;
}

namespace {
struct AttnSelectTilesPass
    : impl::AttnSelectTilesPassBase<AttnSelectTilesPass> {
  using Base::Base;

  void runOnOperation() override {
    int64_t bytes = sramBytes;
    if (bytes == 0) {
      llvm::Expected<int64_t> targetBytes = onChipBytes(target);
      if (!targetBytes) {
        getOperation().emitError(llvm::toString(targetBytes.takeError()));
        return signalPassFailure();
      }
      bytes = *targetBytes;
    }
    auto annotate = [&](Operation *op, const attn::AttentionConfig &config,
                        bool backward) {
      llvm::Expected<TileSizes> tiles = selectTileSizes(
          config, bytes, blockQ, blockK, backward ? dqBlockQ : 0,
          backward ? dqBlockK : 0);
      if (!tiles) {
        op->emitError(llvm::toString(tiles.takeError()));
        return WalkResult::interrupt();
      }
      SmallVector<int64_t, 4> sizes = {tiles->blockQ, tiles->blockK};
      TileSizes dq = tiles->forDq();
      if (dq.blockQ != tiles->blockQ || dq.blockK != tiles->blockK)
        sizes.append({dq.blockQ, dq.blockK});
      op->setAttr(kTileSizesAttr, DenseI64ArrayAttr::get(op->getContext(),
                                                         sizes));
      return WalkResult::advance();
    };
    WalkResult result = getOperation().walk([&](Operation *op) {
      if (auto fwd = dyn_cast<attn::AttentionOp>(op))
        return annotate(op, attn::getAttentionConfig(fwd), false);
      if (auto bwd = dyn_cast<attn::AttentionGradOp>(op))
        return annotate(op, attn::getAttentionConfig(bwd), true);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace

} // namespace flashc
