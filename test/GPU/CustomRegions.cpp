//===- CustomRegions.cpp - reference callbacks for custom regions ---------===//

#include "CustomRegions.h"

#include <cmath>
#include <cstdlib>
#include <map>

namespace flashc::gputest {
namespace {

/// prefix16: a bidirectional prefix of 16 keys, causal after it.
bool prefix16(int64_t, int64_t, int64_t i, int64_t j) {
  return j < 16 || j <= i;
}

/// stripes: drops keys with (j + b + h) % 3 == 0.
bool stripes(int64_t b, int64_t h, int64_t, int64_t j) {
  return (j + b + h) % 3 != 0;
}

/// relbias: s - slope_h * min(|i - j|, 32), slope_h = 0.5 / (h + 1), as the
/// region computes it in f32.
double relbias(double s, int64_t, int64_t h, int64_t i, int64_t j) {
  int64_t dist = std::min<int64_t>(std::llabs(i - j), 32);
  float slope = 0.5f / (static_cast<float>(h) + 1.0f);
  return s - static_cast<double>(slope * static_cast<float>(dist));
}

double relbiasGrad(double, int64_t, int64_t, int64_t, int64_t) { return 1.0; }

/// tanhmix: s + 0.5 tanh(s).
double tanhmix(double s, int64_t, int64_t, int64_t, int64_t) {
  return s + 0.5 * std::tanh(s);
}

double tanhmixGrad(double s, int64_t, int64_t, int64_t, int64_t) {
  double t = std::tanh(s);
  return 1.0 + 0.5 * (1.0 - t * t);
}

CustomRegions regions(const char *mask, const char *score) {
  CustomRegions r;
  std::string m = mask ? mask : "", s = score ? score : "";
  if (m == "prefix16")
    r.mask = prefix16;
  if (m == "stripes")
    r.mask = stripes;
  if (s == "relbias") {
    r.score = relbias;
    r.scoreGrad = relbiasGrad;
  }
  if (s == "tanhmix") {
    r.score = tanhmix;
    r.scoreGrad = tanhmixGrad;
  }
  return r;
}

/// Directory name -> (mask, score), as in test/GPU/specs/generate.py.
const std::map<std::string, CustomRegions> &table() {
  static const std::map<std::string, CustomRegions> t = {
      {"custom_mask_bf16_d64", regions("prefix16", nullptr)},
      {"custom_mask_stripes_f16_d64", regions("stripes", nullptr)},
      {"custom_score_bf16_d64", regions(nullptr, "relbias")},
      {"custom_score_tanh_f16_d64", regions(nullptr, "tanhmix")},
      {"combo_all_bf16_d128", regions("stripes", "relbias")},
      {"grad_custom_score_tanh_f16_d64", regions(nullptr, "tanhmix")},
      {"grad_custom_mask_bf16_d64", regions("prefix16", nullptr)},
      {"grad_combo_bf16_d128", regions(nullptr, "relbias")},
      // The mock kernels of test/GPU/mock (runtime self-test).
      {"mock_custom_mask_bf16_d64", regions("prefix16", nullptr)},
      {"mock_grad_custom_score_f16_d64", regions(nullptr, "tanhmix")},
  };
  return t;
}

} // namespace

const CustomRegions *customRegionsFor(const std::string &name) {
  auto it = table().find(name);
  return it == table().end() ? nullptr : &it->second;
}

} // namespace flashc::gputest
