//===- HostFloat.h - f16 and bf16 on the host -------------------*- C++ -*-===//
//
// Round-to-nearest-even conversions between float and the 16-bit formats
// the kernels read and write, so that the test can build inputs, round them
// exactly as the device sees them, and read outputs back.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_TEST_GPU_HOSTFLOAT_H
#define FLASHC_TEST_GPU_HOSTFLOAT_H

#include <cmath>
#include <cstdint>
#include <cstring>

namespace flashc::gputest {

inline uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline float bitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t floatToBF16(float f) {
  uint32_t u = floatBits(f);
  if (std::isnan(f))
    return static_cast<uint16_t>((u >> 16) | 0x40); // keep it a NaN
  u += 0x7fff + ((u >> 16) & 1);
  return static_cast<uint16_t>(u >> 16);
}

inline float bf16ToFloat(uint16_t h) {
  return bitsFloat(static_cast<uint32_t>(h) << 16);
}

inline uint16_t floatToF16(float f) {
  uint32_t u = floatBits(f);
  uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000);
  uint32_t absU = u & 0x7fffffff;
  if (absU > 0x7f800000) // NaN
    return static_cast<uint16_t>(sign | 0x7e00);
  if (absU >= 0x477ff000) // rounds to >= 65520: infinity
    return static_cast<uint16_t>(sign | 0x7c00);
  if (absU < 0x38800000) { // below the smallest normal 2^-14: subnormal
    // value / 2^-24, rounded to nearest even.
    float scaled = bitsFloat(absU) * 16777216.0f; // exact: a power of 2
    float r = std::nearbyint(scaled);             // default mode: RNE
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(r));
  }
  // Normal: rebias the exponent (127 -> 15), round the mantissa 23 -> 10.
  uint32_t mant = absU & 0x7fffff;
  uint32_t exp = (absU >> 23) - 127 + 15;
  uint32_t h = (exp << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
    ++h; // may carry into the exponent, which is right
  return static_cast<uint16_t>(sign | h);
}

inline float f16ToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0) // zero or subnormal: mant * 2^-24
    return bitsFloat(sign) + (sign ? -1.0f : 1.0f) *
                                 static_cast<float>(mant) / 16777216.0f;
  if (exp == 31)
    return bitsFloat(sign | 0x7f800000 | (mant << 13));
  return bitsFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

} // namespace flashc::gputest

#endif // FLASHC_TEST_GPU_HOSTFLOAT_H
