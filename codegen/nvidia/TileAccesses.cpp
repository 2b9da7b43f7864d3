//===- TileAccesses.cpp - which tiles each attn.tile op reads and writes --===//

#include "codegen/nvidia/TileAccesses.h"
#include "dialect/AttnOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace flashc::attn;

namespace flashc::nvidia {

std::optional<TileAccesses> getTileAccesses(Operation *op) {
  TileAccesses a;
  auto readWrite = [&](Value tile) {
    a.reads.push_back(tile);
    a.writes.push_back(tile);
  };
  bool isTileOp = llvm::TypeSwitch<Operation *, bool>(op)
                      .Case([&](TileFillOp o) {
                        a.writes.push_back(o.getTile());
                        return true;
                      })
                      .Case([&](TileCopyOp o) {
                        a.reads.push_back(o.getSource());
                        a.writes.push_back(o.getDest());
                        return true;
                      })
                      .Case([&](TileLoadOp o) {
                        a.writes.push_back(o.getTile());
                        return true;
                      })
                      .Case([&](TileStoreOp o) {
                        a.reads.push_back(o.getTile());
                        return true;
                      })
                      .Case([&](TileMatmulOp o) {
                        a.reads.push_back(o.getLhs());
                        a.reads.push_back(o.getRhs());
                        if (o.getAccumulate())
                          a.reads.push_back(o.getAcc());
                        a.writes.push_back(o.getAcc());
                        return true;
                      })
                      .Case([&](TileScoreModOp o) {
                        readWrite(o.getScores());
                        return true;
                      })
                      .Case([&](TileScoreGradOp o) {
                        readWrite(o.getGrads());
                        a.reads.push_back(o.getRaw());
                        return true;
                      })
                      .Case([&](TileMaskOp o) {
                        readWrite(o.getScores());
                        return true;
                      })
                      .Case([&](TileSoftmaxUpdateOp o) {
                        readWrite(o.getScores());
                        readWrite(o.getMax());
                        readWrite(o.getSum());
                        readWrite(o.getAcc());
                        return true;
                      })
                      .Case([&](TileDropoutOp o) {
                        readWrite(o.getProbs());
                        return true;
                      })
                      .Case([&](TileFinalizeOp o) {
                        readWrite(o.getAcc());
                        a.reads.push_back(o.getMax());
                        a.reads.push_back(o.getSum());
                        a.writes.push_back(o.getLse());
                        return true;
                      })
                      .Case([&](TileRowDotOp o) {
                        a.reads.push_back(o.getLhs());
                        a.reads.push_back(o.getRhs());
                        a.writes.push_back(o.getResult());
                        return true;
                      })
                      .Case([&](TileExpLseOp o) {
                        readWrite(o.getScores());
                        a.reads.push_back(o.getLse());
                        return true;
                      })
                      .Case([&](TileSoftmaxGradOp o) {
                        a.reads.push_back(o.getProbs());
                        a.reads.push_back(o.getRowdot());
                        readWrite(o.getGrads());
                        return true;
                      })
                      .Default([](Operation *) { return false; });
  if (!isTileOp)
    return std::nullopt;
  return a;
}

bool writesGlobalMemory(Operation *op) { return isa<TileStoreOp>(op); }

} // namespace flashc::nvidia
