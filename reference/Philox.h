//===- Philox.h - Philox4x32-10 counter-based RNG ---------------*- C++ -*-===//
//
// The counter-based generator of Salmon et al., "Parallel random numbers: as
// easy as 1, 2, 3" (SC 2011), exactly as Random123 defines philox4x32_10.
// Dropout keys it by element coordinates, so any backend (and the backward
// pass) can regenerate a mask without storing it.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_REFERENCE_PHILOX_H
#define FLASHC_REFERENCE_PHILOX_H

#include <array>
#include <cstdint>

namespace flashc::reference {

/// Philox4x32 with 10 rounds: the raw four output words for counter \p ctr
/// under key \p key. Word order matches Random123 (ctr.v[0] is ctr[0]).
std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> ctr,
                                      std::array<uint32_t, 2> key);

} // namespace flashc::reference

#endif // FLASHC_REFERENCE_PHILOX_H
