//===- PhiloxBuilder.cpp - Philox4x32-10 in arith ops ---------------------===//
//
// Written from Random123's philox.h and the paper; tested bit for bit against
// reference/Philox.cpp, which was written separately.
//
//===----------------------------------------------------------------------===//

#include "codegen/PhiloxBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <algorithm>
#include <cmath>

using namespace mlir;

namespace flashc::codegen {
namespace {

constexpr uint32_t kMultiplier0 = 0xD2511F53u;
constexpr uint32_t kMultiplier1 = 0xCD9E8D57u;
constexpr uint32_t kKeyIncrement0 = 0x9E3779B9u;
constexpr uint32_t kKeyIncrement1 = 0xBB67AE85u;
constexpr int kRounds = 10;

Value i32Constant(OpBuilder &b, Location loc, uint32_t value) {
  return arith::ConstantOp::create(
      b, loc, b.getI32Type(), b.getI32IntegerAttr(static_cast<int32_t>(value)));
}

} // namespace

PhiloxRoundKeys emitPhiloxRoundKeys(OpBuilder &b, Location loc, Value seed) {
  Type i32 = b.getI32Type();
  Value lo = arith::TruncIOp::create(b, loc, i32, seed);
  Value shift = arith::ConstantOp::create(b, loc, seed.getType(),
                                          b.getI64IntegerAttr(32));
  Value hi = arith::TruncIOp::create(
      b, loc, i32, arith::ShRUIOp::create(b, loc, seed, shift));
  PhiloxRoundKeys keys;
  keys.push_back({lo, hi});
  // Round r's key is the seed plus r increments (mod 2^32), folded into one
  // constant per round.
  for (int r = 1; r < kRounds; ++r) {
    uint32_t bump0 = kKeyIncrement0 * static_cast<uint32_t>(r);
    uint32_t bump1 = kKeyIncrement1 * static_cast<uint32_t>(r);
    keys.push_back(
        {arith::AddIOp::create(b, loc, lo, i32Constant(b, loc, bump0)),
         arith::AddIOp::create(b, loc, hi, i32Constant(b, loc, bump1))});
  }
  return keys;
}

std::array<Value, 4> emitPhilox4x32_10(OpBuilder &b, Location loc,
                                       std::array<Value, 4> ctr,
                                       const PhiloxRoundKeys &keys) {
  Value m0 = i32Constant(b, loc, kMultiplier0);
  Value m1 = i32Constant(b, loc, kMultiplier1);
  for (const std::array<Value, 2> &key : keys) {
    // (hi0, lo0) = M0 * ctr0, (hi1, lo1) = M1 * ctr2, as full 64-bit products.
    auto p0 = arith::MulUIExtendedOp::create(b, loc, m0, ctr[0]);
    auto p1 = arith::MulUIExtendedOp::create(b, loc, m1, ctr[2]);
    auto xor3 = [&](Value x, Value y, Value z) {
      return arith::XOrIOp::create(b, loc, arith::XOrIOp::create(b, loc, x, y),
                                   z)
          .getResult();
    };
    // ctr = (hi1 ^ ctr1 ^ key0, lo1, hi0 ^ ctr3 ^ key1, lo0)
    ctr = {xor3(p1.getHigh(), ctr[1], key[0]), p1.getLow(),
           xor3(p0.getHigh(), ctr[3], key[1]), p0.getLow()};
  }
  return ctr;
}

Value emitDropoutKeeps(OpBuilder &b, Location loc, Value word0, double p) {
  // u >= p  <=>  x 2^-24 >= p  <=>  x >= p 2^24  <=>  x >= ceil(p 2^24) for
  // the integer x = word0 >> 8; p 2^24 is exact in a double.
  // Clamped so that p <= 0 keeps everything and p >= 1 nothing.
  double threshold = std::clamp(std::ceil(std::ldexp(p, 24)), 0.0, 0x1p24);
  Value bits = arith::ShRUIOp::create(b, loc, word0, i32Constant(b, loc, 8));
  return arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::uge, bits,
      i32Constant(b, loc, static_cast<uint32_t>(threshold)));
}

} // namespace flashc::codegen
