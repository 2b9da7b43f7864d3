//===- SpecBuilder.cpp - fuzz bytes to an attention spec ------------------===//
//
// Conventions: every choice reads from a FuzzedDataProvider, and a provider
// that has run dry answers 0, which picks the first (ordinary) entry of
// every menu and says "no" to every coin. So short inputs give ordinary
// specs and the fuzzer adds bytes to reach unusual ones.
//
//===----------------------------------------------------------------------===//

#include "fuzz/SpecBuilder.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

namespace flashc::fuzz {
namespace {

constexpr int64_t kDyn = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

std::string dim(int64_t d) { return d == kDyn ? "?" : std::to_string(d); }

std::string tensorType(std::initializer_list<int64_t> shape,
                       const std::string &elt) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += dim(d) + "x";
  return s + elt + ">";
}

/// ceil(n / d) for the layout's shape, "?" when unknown or meaningless.
int64_t ceilDivDim(int64_t n, int64_t d) {
  if (n == kDyn || d <= 0)
    return kDyn;
  return static_cast<int64_t>((static_cast<__int128>(n) + d - 1) / d);
}

class Builder {
public:
  Builder(const uint8_t *data, size_t size) : in(data, size) {}

  GeneratedSpec build();

private:
  /// True with probability about percent / 100; false once the input is
  /// exhausted.
  bool coin(int percent) {
    return in.ConsumeIntegralInRange<int>(0, 99) >= 100 - percent;
  }
  template <typename T> T pick(std::initializer_list<T> menu) {
    size_t i = in.ConsumeIntegralInRange<size_t>(0, menu.size() - 1);
    return menu.begin()[i];
  }
  std::string pickStr(std::initializer_list<const char *> menu) {
    return pick<const char *>(menu);
  }

  /// B, H, N: small as a rule; 0, dynamic or huge now and then.
  int64_t size() {
    if (!coin(12))
      return pick<int64_t>({2, 1, 3, 4, 8, 16, 17, 33, 64, 100, 128, 129});
    return pick<int64_t>({kDyn, 0, 1000, 65537, 2147483647, 2147483648,
                          4294967297, int64_t(1) << 40, kMax / 2, kMax});
  }
  int64_t headDim() {
    if (!coin(10))
      return pick<int64_t>({16, 8, 1, 2, 32, 48, 64, 80, 96, 100, 128, 256});
    return pick<int64_t>({0, kDyn, 255, 257, 512, int64_t(1) << 20, kMax});
  }
  std::string elementType() {
    if (!coin(6))
      return pickStr({"f16", "bf16", "f32"});
    return pickStr({"f64", "i8", "i32", "f8E4M3FN", "i1", "index",
                    "complex<f32>", "tf32"});
  }
  /// Mostly \p usual; now and then another value (a mismatch).
  int64_t perturbDim(int64_t usual) { return coin(3) ? size() : usual; }

  std::string f64Literal(std::initializer_list<const char *> usual) {
    if (!coin(15))
      return pick<const char *>(usual);
    return pickStr({"0.0", "-1.0", "1.0e-30", "1.0e+300",
                    "0x7FF0000000000000", "0xFFF0000000000000",
                    "0x7FF8000000000000", "4.9406564584124654e-324",
                    "1.7976931348623157e+308", "-0.0"});
  }
  int64_t i64Value(std::initializer_list<int64_t> usual) {
    if (!coin(15))
      return pick<int64_t>(usual);
    return pick<int64_t>({-1, kMax, kMin, 2147483647, 2147483648,
                          int64_t(1) << 40, int64_t(1) << 62, -16});
  }

  std::string region(bool isScore, bool differentiableOnly);
  void specOp(std::string &args, std::string &results,
              std::string &resultTypes, std::string &body);
  TilingOptions options();

  FuzzedDataProvider in;
  int nextId = 0;
};

/// A straight-line program over the region's arguments, from a menu of ops
/// with edge constants; yields an i1 (mask) or f32 (score).
std::string Builder::region(bool isScore, bool differentiableOnly) {
  std::vector<std::string> idx{"%b", "%h", "%i", "%j"}, i1, i32, f32;
  if (isScore)
    f32.push_back("%s");
  std::string body;
  auto fresh = [&] { return "%r" + std::to_string(nextId++); };
  auto any = [&](const std::vector<std::string> &pool) {
    return pool[in.ConsumeIntegralInRange<size_t>(0, pool.size() - 1)];
  };

  int numOps = in.ConsumeIntegralInRange<int>(0, 10);
  for (int n = 0; n < numOps; ++n) {
    std::string v = fresh();
    switch (in.ConsumeIntegralInRange<int>(0, 17)) {
    case 0: // index constant
      body += v + " = arith.constant " +
              std::to_string(i64Value({0, 1, 2, 16, 64, 128, 256, 1024})) +
              " : index\n";
      idx.push_back(v);
      break;
    case 1: { // index arithmetic
      std::string op = pickStr(
          {"addi", "subi", "muli", "maxsi", "minsi", "divsi", "divui",
           "remsi", "remui", "floordivsi", "ceildivsi", "ceildivui", "maxui",
           "minui", "shli", "shrsi", "shrui", "andi", "ori", "xori"});
      body += v + " = arith." + op + " " + any(idx) + ", " + any(idx) +
              " : index\n";
      idx.push_back(v);
      break;
    }
    case 2: { // comparison of indices
      std::string pred = pickStr({"sle", "slt", "sge", "sgt", "eq", "ne",
                                  "ult", "ule", "ugt", "uge"});
      body += v + " = arith.cmpi " + pred + ", " + any(idx) + ", " +
              any(idx) + " : index\n";
      i1.push_back(v);
      break;
    }
    case 3: // boolean logic
      if (i1.empty() || coin(20)) {
        body += v + " = arith.constant " + pickStr({"true", "false"}) + "\n";
      } else {
        body += v + " = arith." + pickStr({"andi", "ori", "xori"}) + " " +
                any(i1) + ", " + any(i1) + " : i1\n";
      }
      i1.push_back(v);
      break;
    case 4: // select
      if (i1.empty())
        break;
      if (!f32.empty() && coin(50)) {
        body += v + " = arith.select " + any(i1) + ", " + any(f32) + ", " +
                any(f32) + " : f32\n";
        f32.push_back(v);
      } else {
        body += v + " = arith.select " + any(i1) + ", " + any(idx) + ", " +
                any(idx) + " : index\n";
        idx.push_back(v);
      }
      break;
    case 5: // index to i32
      body += v + " = arith.index_cast " + any(idx) + " : index to i32\n";
      i32.push_back(v);
      break;
    case 6: // integer to float
      if (i32.empty())
        break;
      body += v + " = arith." + pickStr({"sitofp", "uitofp"}) + " " +
              any(i32) + " : i32 to f32\n";
      f32.push_back(v);
      break;
    case 7: // f32 constant
      body += v + " = arith.constant " +
              (coin(25) ? pickStr({"0x7F800000", "0xFF800000", "0x7FC00000",
                                   "1.0e+38", "1.0e-45", "-0.0"})
                        : pickStr({"1.0", "0.0", "-1.0", "0.5", "30.0"})) +
              " : f32\n";
      f32.push_back(v);
      break;
    case 8: { // f32 arithmetic
      if (f32.empty())
        break;
      std::string op =
          pickStr({"arith.addf", "arith.subf", "arith.mulf", "arith.divf",
                   "arith.maximumf", "arith.minimumf", "arith.maxnumf",
                   "arith.minnumf", "math.powf", "arith.remf",
                   "math.atan2", "math.copysign"});
      body += v + " = " + op + " " + any(f32) + ", " + any(f32) + " : f32\n";
      f32.push_back(v);
      break;
    }
    case 9: { // f32 functions
      if (f32.empty())
        break;
      std::string op = pickStr(
          {"math.tanh", "math.exp", "arith.negf", "math.log", "math.sqrt",
           "math.absf", "math.exp2", "math.rsqrt", "math.sin", "math.cos",
           "math.log2", "math.log1p", "math.expm1", "math.floor",
           "math.ceil", "math.erf", "math.atan", "math.round", "math.trunc",
           "math.cbrt", "math.tan", "math.sinh", "math.acos"});
      body += v + " = " + op + " " + any(f32) + " : f32\n";
      f32.push_back(v);
      break;
    }
    case 10: { // float comparison
      if (f32.empty())
        break;
      std::string pred = pickStr({"olt", "oeq", "ole", "ogt", "oge", "one",
                                  "ord", "ueq", "ult", "uno", "false",
                                  "true"});
      body += v + " = arith.cmpf " + pred + ", " + any(f32) + ", " +
              any(f32) + " : f32\n";
      i1.push_back(v);
      break;
    }
    case 11: // float to integer (poison when out of range)
      if (f32.empty())
        break;
      body += v + " = arith." + pickStr({"fptosi", "fptoui"}) + " " +
              any(f32) + " : f32 to i32\n";
      i32.push_back(v);
      break;
    case 12: { // i32 arithmetic
      if (i32.empty())
        break;
      std::string op = pickStr({"addi", "muli", "subi", "divsi", "remsi",
                                "shli", "shrui", "maxsi", "divui"});
      body += v + " = arith." + op + " " + any(i32) + ", " + any(i32) +
              " : i32\n";
      i32.push_back(v);
      break;
    }
    case 13: // i32 back to index, or an i1 widened
      if (!i32.empty() && coin(60)) {
        body += v + " = arith.index_cast " + any(i32) + " : i32 to index\n";
        idx.push_back(v);
      } else if (!i1.empty()) {
        body += v + " = arith." + pickStr({"extui", "extsi"}) + " " +
                any(i1) + " : i1 to i32\n";
        i32.push_back(v);
      }
      break;
    case 14: // through a narrower float and back
      if (f32.empty())
        break;
      {
        std::string narrow = pickStr({"bf16", "f16"});
        std::string t = fresh();
        body += t + " = arith.truncf " + any(f32) + " : f32 to " + narrow +
                "\n";
        body += v + " = arith.extf " + t + " : " + narrow + " to f32\n";
      }
      f32.push_back(v);
      break;
    case 15: // bit casts and math on integers
      if (!f32.empty() && coin(50)) {
        std::string t = fresh();
        body += t + " = arith.bitcast " + any(f32) + " : f32 to i32\n";
        body += v + " = arith.bitcast " + t + " : i32 to f32\n";
        f32.push_back(v);
      } else if (!i32.empty()) {
        body += v + " = math." + pickStr({"absi", "ctpop", "ctlz", "cttz"}) +
                " " + any(i32) + " : i32\n";
        i32.push_back(v);
      }
      break;
    case 16: { // ops of other dialects that are side-effect free
      if (differentiableOnly && coin(50))
        break;
      std::string t = fresh();
      body += t + " = tensor.from_elements " + any(idx) + ", " + any(idx) +
              " : tensor<2xindex>\n";
      body += v + " = tensor.extract " + t + "[" + any(idx) +
              "] : tensor<2xindex>\n";
      idx.push_back(v);
      break;
    }
    case 17: { // a spec op nested in the region (it is Pure)
      std::string t = fresh(), o = fresh();
      std::string ty = "tensor<1x1x16x16xf32>";
      body += t + " = tensor.empty() : " + ty + "\n";
      body += o + ":2 = attn.attention " + t + ", " + t + ", " + t + " : " +
              ty + ", " + ty + ", " + ty + " -> " + ty +
              ", tensor<1x1x16xf32>\n";
      break;
    }
    }
  }

  std::string yield;
  if (isScore) {
    if (f32.empty())
      f32.push_back("%s");
    yield = any(f32) + " : f32";
  } else {
    if (i1.empty()) {
      std::string v = fresh();
      body += v + " = arith.cmpi sle, %j, %i : index\n";
      i1.push_back(v);
    }
    yield = any(i1) + " : i1";
  }
  // Now and then a malformed region, for the verifier.
  std::string args = isScore ? "%s: f32, %b: index, %h: index, %i: index, "
                               "%j: index"
                             : "%b: index, %h: index, %i: index, %j: index";
  if (coin(3)) {
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      args = "%b: index, %h: index, %i: index";
      break;
    case 1:
      yield = "%b : index";
      break;
    case 2:
      yield = "";
      break;
    case 3:
      body += "%outer = arith.addi %i, %j : index\n";
      break;
    }
  }
  return "{\n^bb0(" + args + "):\n" + body + "attn.yield " + yield + "\n}";
}

/// One spec op: its function arguments, the op itself and its results.
void Builder::specOp(std::string &args, std::string &results,
                     std::string &resultTypes, std::string &body) {
  std::string p = "%a" + std::to_string(nextId++) + "_";
  bool grad = coin(30);

  std::string elt = elementType();
  int64_t b = size(), hq = size(), nq = size(), nk = size();
  int64_t d = headDim(), dv = coin(70) ? d : headDim();
  int64_t hkv = hq;
  if (coin(40))
    hkv = hq == kDyn ? pick<int64_t>({kDyn, 1, 2})
                     : pick<int64_t>({1, hq, 2, 3, 4, kDyn});
  bool rank3 = coin(2);
  auto qkv = [&](int64_t heads, int64_t n, int64_t last) {
    std::string e = coin(3) ? elementType() : elt;
    if (rank3)
      return tensorType({perturbDim(b), n, last}, e);
    return tensorType({perturbDim(b), heads, n, last}, e);
  };
  std::string qT = qkv(hq, nq, d), kT = qkv(hkv, nk, perturbDim(d));
  std::string vT = qkv(perturbDim(hkv), perturbDim(nk), dv);
  std::string oT = tensorType({b, hq, nq, dv}, coin(3) ? elementType() : elt);
  std::string lseT = tensorType({b, hq, perturbDim(nq)}, coin(3) ? "f16" : "f32");

  std::vector<std::pair<std::string, std::string>> operands{
      {p + "q", qT}, {p + "k", kT}, {p + "v", vT}};
  if (grad) {
    operands.push_back({p + "o", oT});
    operands.push_back({p + "lse", lseT});
    operands.push_back({p + "do", coin(3) ? qT : oT});
  }
  std::string op = grad ? "attn.attention_grad " : "attn.attention ";
  for (size_t i = 0; i < operands.size(); ++i)
    op += (i ? ", " : "") + operands[i].first;
  if (grad && coin(30))
    op += " deterministic";

  std::string extraArgs;
  auto addArg = [&](const std::string &name, const std::string &type) {
    extraArgs += ", " + name + ": " + type;
  };
  std::string seqlensT = tensorType({b}, "i32");
  auto seqlensType = [&] {
    if (!coin(5))
      return seqlensT;
    return pick<std::string>({tensorType({kDyn}, "i32"),
                              tensorType({b}, "i64"), tensorType({b}, "ui32"),
                              tensorType({1, b}, "i32"),
                              tensorType({b == kDyn || b == kMax ? 3 : b + 1}, "i32")});
  };
  if (coin(25)) {
    std::string t = seqlensType();
    op += " seqlens_q(" + p + "sq : " + t + ")";
    addArg(p + "sq", t);
  }
  if (coin(25)) {
    std::string t = seqlensType();
    op += " seqlens_k(" + p + "sk : " + t + ")";
    addArg(p + "sk", t);
  }
  if (coin(20)) {
    auto block = [&] {
      if (!coin(10))
        return pick<int64_t>({64, 16, 32, 48, 128, 256, 1024});
      return pick<int64_t>({0, 8, 17, 15, -16, int64_t(1) << 40,
                            kMax - 15, 2147483648});
    };
    int64_t bq = block(), bk = block();
    std::string blocks = std::to_string(bq) + ", " + std::to_string(bk);
    if (coin(3))
      blocks = pickStr({"", "16", "16, 16, 16"});
    int64_t lb = coin(50) ? 1 : b, lh = coin(50) ? 1 : hq;
    std::string lt = tensorType(
        {perturbDim(lb), lh, perturbDim(ceilDivDim(nq, bq)),
         perturbDim(ceilDivDim(nk, bk))},
        coin(8) ? pickStr({"i32", "i1", "ui8", "f32", "i64"}) : "i8");
    op += " layout(" + p + "l : " + lt + ", block [" + blocks + "])";
    addArg(p + "l", lt);
  }
  if (coin(20))
    op += " scale(" + f64Literal({"0.125", "1.0", "0.5", "2.0"}) + ")";
  if (coin(35))
    op += " causal";
  if (coin(20))
    op += std::string(" align(") + pickStr({"bottom_right", "top_left"}) + ")";
  if (coin(20))
    op += " window(" + std::to_string(i64Value({16, 0, 1, 64, 128, 256})) +
          ", " + std::to_string(i64Value({0, 16, 1, 64, 128, 256})) + ")";
  if (coin(15))
    op += " softcap(" + f64Literal({"30.0", "50.0", "1.0"}) + ")";
  if (coin(15))
    op += " alibi";
  if (coin(15))
    op += " dropout(" + f64Literal({"0.1", "0.5", "0.0", "0.999999"}) +
          ", seed " + std::to_string(i64Value({42, 0, 1})) + ")";
  if (coin(30))
    op += " mask " + region(/*isScore=*/false, grad);
  if (coin(25))
    op += " score " + region(/*isScore=*/true, grad);

  std::string types;
  for (size_t i = 0; i < operands.size(); ++i)
    types += (i ? ", " : "") + operands[i].second;
  std::vector<std::string> resTypes;
  if (grad)
    resTypes = {coin(3) ? oT : qT, kT, vT};
  else
    resTypes = {oT, lseT};
  std::string res = "%r" + std::to_string(nextId++);
  body += res + ":" + std::to_string(resTypes.size()) + " = " + op + " : " +
          types + " -> ";
  for (size_t i = 0; i < resTypes.size(); ++i) {
    body += (i ? ", " : "") + resTypes[i];
    results += (results.empty() ? "" : ", ") + res + "#" + std::to_string(i);
    resultTypes += (resultTypes.empty() ? "" : ", ") + resTypes[i];
  }
  body += "\n";
  for (size_t i = 0; i < operands.size(); ++i)
    args += (args.empty() ? "" : ", ") + operands[i].first + ": " +
            operands[i].second;
  args += extraArgs;
}

TilingOptions Builder::options() {
  TilingOptions o;
  if (coin(10))
    o.target = pickStr({"sm_80", "sm_90", "sm_90a", "bogus", ""});
  if (coin(10))
    o.sramBytes = pick<int64_t>({1, 4096, 49152, int64_t(1) << 30, -1, kMax});
  if (coin(20))
    o.blockQ = pick<int64_t>({16, 32, 64, 128, 8, 48, 256, -16});
  if (coin(20))
    o.blockK = pick<int64_t>({16, 32, 64, 128, 8, 48, 256, -16});
  return o;
}

GeneratedSpec Builder::build() {
  GeneratedSpec spec;
  // Kernel names are <func>_<kind> or <func>_<n>_<kind>: some of these
  // names collide with them.
  const std::initializer_list<const char *> names = {
      "f", "g", "f_fwd", "f_0", "f_0_fwd", "f_1_bwd_dq", "f_bwd_prep"};
  int numFuncs = coin(15) ? in.ConsumeIntegralInRange<int>(2, 3) : 1;
  for (int f = 0; f < numFuncs; ++f) {
    std::string name = f == 0 ? "f" : pick<const char *>(names);
    if (f > 0 && coin(30)) {
      spec.text += "func.func @" + name + "() {\n  return\n}\n";
      continue;
    }
    std::string args, results, resultTypes, body;
    int numOps = coin(10) ? 2 : 1;
    for (int n = 0; n < numOps; ++n)
      specOp(args, results, resultTypes, body);
    spec.text += "func.func @" + name + "(" + args + ") -> (" + resultTypes +
                 ") {\n" + body + "return " + results + " : " + resultTypes +
                 "\n}\n";
  }
  spec.options = options();
  return spec;
}

} // namespace

GeneratedSpec buildSpec(const uint8_t *data, size_t size) {
  return Builder(data, size).build();
}

} // namespace flashc::fuzz
