//===- Philox.cpp - Philox4x32-10 counter-based RNG -----------------------===//
//
// Written from the paper and Random123's philox.h, not from any backend, so
// that the compiler's generator is checked against an independent one.
//
//===----------------------------------------------------------------------===//

#include "reference/Philox.h"

namespace flashc::reference {
namespace {

constexpr uint32_t kMultiplier0 = 0xD2511F53u;
constexpr uint32_t kMultiplier1 = 0xCD9E8D57u;
/// Weyl increments: the golden ratio and sqrt(3) - 1, as 32-bit fractions.
constexpr uint32_t kKeyIncrement0 = 0x9E3779B9u;
constexpr uint32_t kKeyIncrement1 = 0xBB67AE85u;
constexpr int kRounds = 10;

/// The full 64-bit product of two 32-bit words, split into (hi, lo).
std::array<uint32_t, 2> mulHiLo(uint32_t a, uint32_t b) {
  uint64_t product = static_cast<uint64_t>(a) * b;
  return {static_cast<uint32_t>(product >> 32), static_cast<uint32_t>(product)};
}

/// One Philox S-box round (Random123's _philox4x32round).
std::array<uint32_t, 4> round(const std::array<uint32_t, 4> &ctr,
                              const std::array<uint32_t, 2> &key) {
  auto [hi0, lo0] = mulHiLo(kMultiplier0, ctr[0]);
  auto [hi1, lo1] = mulHiLo(kMultiplier1, ctr[2]);
  return {hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0};
}

} // namespace

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> ctr,
                                      std::array<uint32_t, 2> key) {
  // The key is bumped between rounds, not before the first: ten rounds use
  // nine bumps.
  for (int r = 0; r < kRounds; ++r) {
    if (r > 0) {
      key[0] += kKeyIncrement0;
      key[1] += kKeyIncrement1;
    }
    ctr = round(ctr, key);
  }
  return ctr;
}

} // namespace flashc::reference
