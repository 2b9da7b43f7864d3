//===- RuntimeArgsFuzzer.cpp - fuzz-runtime-args: the GPU runtime's checks ===//
//
// Everything the GPU runtime takes from outside before it launches: the
// kernel directory's manifest (runtime/Manifest.h) and the caller's tensors,
// sequence lengths and layout (runtime/Arguments.h). Both are pure functions,
// so no GPU is needed. Two modes, chosen by the input's last byte:
//
//   0  the bytes are manifest text: parseManifest must not crash, and a
//      manifest it accepts must be self-consistent (every kernel's argument
//      roles are what expectedArgs says);
//   1  the bytes choose a manifest (printed as JSON and parsed, so only what
//      parseManifest accepts is used) and forward or backward arguments:
//      shapes, strides, dtypes, device addresses (aligned or not, apart or
//      overlapping), sequence lengths and a dense layout. validateForward /
//      validateBackward must not crash, and what they accept must really be
//      launchable: tensors of the expected shapes and, checked by brute
//      force on small tensors, outputs that share no byte with any other
//      argument or with themselves.
//
// Host arrays always hold as many elements as their size says: a caller
// that lies about that is outside what a library can check.
//
//===----------------------------------------------------------------------===//

#include "runtime/Arguments.h"
#include "runtime/Manifest.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

using namespace flashc::runtime;

namespace {

[[noreturn]] void bug(const std::string &what) {
  std::fprintf(stderr, "==flashc-fuzz== BUG: %s\n", what.c_str());
  std::abort();
}

void manifestTextMode(FuzzedDataProvider &in) {
  std::string text = in.ConsumeRemainingBytesAsString();
  Manifest m;
  Status s = parseManifest(text, "fuzz.json", m);
  if (!s) {
    if (s.message().empty())
      bug("parseManifest failed without a message");
    return;
  }
  if (m.kernels.empty())
    bug("parseManifest accepted a manifest without kernels");
  for (const KernelSpec &k : m.kernels)
    if (k.args != expectedArgs(m, k.kind) || k.blockQ < 1 || k.blockK < 1)
      bug("parseManifest accepted an inconsistent kernel");
}

//===----------------------------------------------------------------------===//
// Structured mode
//===----------------------------------------------------------------------===//

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

class ArgsBuilder {
public:
  explicit ArgsBuilder(FuzzedDataProvider &in) : in(in) {}

  bool coin(int percent) {
    return in.ConsumeIntegralInRange<int>(0, 99) >= 100 - percent;
  }
  template <typename T> T pick(std::initializer_list<T> menu) {
    return menu.begin()[in.ConsumeIntegralInRange<size_t>(0, menu.size() - 1)];
  }

  /// The manifest as JSON text, from choices.
  std::string manifestText(bool backward) {
    const char *elt = pick<const char *>({"f16", "bf16", "f32"});
    int64_t d = pick<int64_t>({64, 16, 128, 8, 256, 1, 32});
    int64_t dv = coin(70) ? d : pick<int64_t>({64, 16, 128, 8, 256, 1, 32});
    auto staticSize = [&] {
      return coin(80) ? -1 : pick<int64_t>({1, 2, 4, 16, 2147483647});
    };
    int64_t blockQ = pick<int64_t>({64, 16, 32, 128, 1, 1024});
    int64_t blockK = pick<int64_t>({64, 16, 32, 128, 1, 1024});
    bool seqQ = coin(30), seqK = coin(30), dropout = coin(20);
    bool layout = coin(30);
    int64_t lbq = blockQ * pick<int64_t>({1, 2, 4}),
            lbk = blockK * pick<int64_t>({1, 2, 4});
    std::string j = "{\"format\": 1, \"spec\": \"s.mlir\", \"target\": \"sm_90a\", ";
    j += std::string("\"element_type\": \"") + elt + "\", ";
    j += "\"head_dim\": " + std::to_string(d) +
         ", \"head_dim_v\": " + std::to_string(dv) + ", ";
    j += "\"static_sizes\": {\"batch\": " + std::to_string(staticSize()) +
         ", \"heads_q\": " + std::to_string(staticSize()) +
         ", \"heads_kv\": -1, \"seq_q\": " + std::to_string(staticSize()) +
         ", \"seq_k\": " + std::to_string(staticSize()) + "}, ";
    j += "\"scale\": 0.125, \"causal\": false, \"bottom_right\": false, "
         "\"window\": null, \"softcap\": null, \"alibi\": false, ";
    j += std::string("\"dropout_p\": ") + (dropout ? "0.1" : "0.0") +
         ", \"dropout_seed\": 1, ";
    j += std::string("\"seqlens_q\": ") + (seqQ ? "true" : "false") +
         ", \"seqlens_k\": " + (seqK ? "true" : "false") + ", ";
    j += "\"layout_block\": " +
         (layout ? "[" + std::to_string(lbq) + ", " + std::to_string(lbk) + "]"
                 : std::string("null")) +
         ", ";
    j += "\"custom_mask\": false, \"custom_score\": false, "
         "\"deterministic\": false, \"kernels\": [";
    auto optional = [&](std::string roles) {
      if (seqQ)
        roles += ", \"seqlens_q\"";
      if (seqK)
        roles += ", \"seqlens_k\"";
      if (layout)
        roles += ", \"layout_offsets\", \"layout_blocks\"";
      if (dropout)
        roles += ", \"seed\", \"offset\"";
      return roles;
    };
    auto kernel = [&](const char *kind, const char *grid, std::string roles) {
      return std::string("{\"kind\": \"") + kind + "\", \"name\": \"k\", " +
             "\"ptx\": \"k.ptx\", \"block_q\": " + std::to_string(blockQ) +
             ", \"block_k\": " + std::to_string(blockK) +
             ", \"threads\": 128, \"shared_bytes\": 0, \"grid\": \"" + grid +
             "\", \"args\": [" + roles + "]}";
    };
    if (!backward) {
      j += kernel("fwd", "query_blocks",
                  optional("\"q\", \"k\", \"v\", \"o\", \"lse\""));
    } else {
      j += kernel("bwd_prep", "query_blocks", "\"o\", \"dout\", \"delta\"") +
           ", ";
      j += kernel("bwd_dkdv", "key_blocks",
                  optional("\"q\", \"k\", \"v\", \"dout\", \"lse\", "
                           "\"delta\", \"dk\", \"dv\"")) +
           ", ";
      j += kernel("bwd_dq", "query_blocks",
                  optional("\"q\", \"k\", \"v\", \"dout\", \"lse\", "
                           "\"delta\", \"dq\""));
    }
    return j + "]}";
  }

  /// A problem size: small as a rule, sometimes edge.
  int64_t size() {
    if (!coin(8))
      return pick<int64_t>({2, 1, 3, 4, 5, 8, 17});
    return pick<int64_t>({0, -1, 65536, 2147483648, int64_t(1) << 40, kMax});
  }

  /// A device address: distinct 16-byte-aligned regions as a rule, so that
  /// tensors are apart; sometimes the same or a nearby one (overlap), an
  /// unaligned one, 0, or one near the top of the address space.
  uint64_t address() {
    if (!coin(25))
      return 0x100000000ull + (nextRegion++) * 0x100000ull;
    switch (in.ConsumeIntegralInRange<int>(0, 5)) {
    case 0:
      return 0;
    case 1:
      return 0x100000000ull + in.ConsumeIntegralInRange<uint64_t>(0, 8) *
                                  0x100000ull + in.ConsumeIntegralInRange<uint64_t>(0, 64) * 16;
    case 2:
      return 0x100000000ull + 8;
    case 3:
      return std::numeric_limits<uint64_t>::max() - 15;
    case 4:
      return uint64_t(1) << 63;
    default:
      return in.ConsumeIntegral<uint64_t>() & ~uint64_t(15);
    }
  }

  TensorRef tensor(DType dtype, std::initializer_list<int64_t> dims) {
    TensorRef t = TensorRef();
    t.data = address();
    t.dtype = coin(4) ? pick<DType>({DType::F16, DType::BF16, DType::F32,
                                     DType::I32})
                      : dtype;
    t.rank = static_cast<int>(dims.size());
    if (coin(2))
      t.rank = in.ConsumeIntegralInRange<int>(0, 4);
    int i = 0;
    for (int64_t d : dims)
      t.sizes[i++] = coin(4) ? size() : d;
    // Contiguous (BHSD) as a rule; BSHD-like permuted strides, broadcast
    // (0) strides, padded rows or arbitrary ones now and then. Products are
    // computed in __int128 and clamped, so the harness itself cannot
    // overflow.
    __int128 stride = 1;
    int layout = in.ConsumeIntegralInRange<int>(0, 9);
    for (int r = t.rank - 1; r >= 0; --r) {
      int64_t s = static_cast<int64_t>(std::min<__int128>(stride, kMax));
      if (layout == 7 && r < t.rank - 1)
        s = pick<int64_t>({0, 1, 8, 16, 64, 256, -16, kMax});
      if (layout == 8 && r == 0)
        s = 0;
      t.strides[r] = s;
      int64_t pad = layout == 9 && r == t.rank - 1 ? 8 : 0;
      stride *= static_cast<__int128>(std::max<int64_t>(t.sizes[r], 1)) + pad;
      stride = std::min<__int128>(stride, kMax);
    }
    if (layout == 6 && t.rank == 4) // BSHD: heads inside the sequence
      std::swap(t.strides[1], t.strides[2]);
    return t;
  }

  HostArray<int32_t> seqLens(std::vector<int32_t> &storage, bool wanted,
                             int64_t batch, int64_t length) {
    HostArray<int32_t> a;
    if (wanted == coin(5))
      return a;
    int64_t n = batch >= 0 && batch <= 64 && !coin(5)
                    ? batch
                    : in.ConsumeIntegralInRange<int64_t>(0, 8);
    storage.resize(static_cast<size_t>(n) + 1);
    for (int64_t b = 0; b < n; ++b)
      storage[b] = coin(10) ? pick<int32_t>({-1, 2147483647,
                                             static_cast<int32_t>(std::clamp<int64_t>(
                                                 length, -1, 2147483646) + 1)})
                            : static_cast<int32_t>(in.ConsumeIntegralInRange<int64_t>(
                                  0, std::max<int64_t>(0, std::min<int64_t>(length, 1000))));
    a.data = storage.data();
    a.size = n;
    return a;
  }

  DenseLayoutView layout(std::vector<uint8_t> &storage, bool wanted,
                         int64_t batch, int64_t heads, int64_t seqQ,
                         int64_t seqK, int64_t bq, int64_t bk) {
    DenseLayoutView l;
    if (wanted == coin(5))
      return l;
    auto ceilDiv = [](int64_t n, int64_t b) {
      return b > 0 && n > 0 ? n / b + (n % b != 0) : 1;
    };
    l.batch = coin(50) ? 1 : batch;
    l.heads = coin(50) ? 1 : heads;
    l.rows = ceilDiv(seqQ, bq);
    l.cols = ceilDiv(seqK, bk);
    if (coin(5))
      l.rows = size();
    __int128 n = 1;
    for (int64_t x : {l.batch, l.heads, l.rows, l.cols})
      n = std::min<__int128>(n * std::max<int64_t>(x, 0), 1 << 20);
    int64_t count = n <= 4096 && !coin(5)
                        ? static_cast<int64_t>(n)
                        : in.ConsumeIntegralInRange<int64_t>(0, 64);
    storage.assign(static_cast<size_t>(count) + 1, 0);
    for (int64_t i = 0; i < count; ++i)
      storage[i] = in.ConsumeBool();
    l.data = storage.data();
    l.numElements = count;
    l.elementType = LayoutElementType::UInt8;
    return l;
  }

private:
  FuzzedDataProvider &in;
  uint64_t nextRegion = 0;
};

/// Byte ranges [begin, end) that the elements of \p t cover, or false when
/// \p t has too many elements to enumerate.
bool byteRanges(const TensorRef &t,
                std::vector<std::pair<__int128, __int128>> &out) {
  out.clear();
  __int128 count = 1;
  for (int d = 0; d < t.rank; ++d) {
    count *= t.sizes[d];
    if (count > 4096 || count < 0)
      return false;
  }
  int64_t esize = dtypeSize(t.dtype);
  int64_t idx[4] = {0, 0, 0, 0};
  for (__int128 e = 0; e < count; ++e) {
    __int128 offset = 0;
    for (int d = 0; d < t.rank; ++d)
      offset += static_cast<__int128>(idx[d]) * t.strides[d];
    __int128 begin = static_cast<__int128>(t.data) + offset * esize;
    out.push_back({begin, begin + esize});
    for (int d = t.rank - 1; d >= 0; --d) {
      if (++idx[d] < t.sizes[d])
        break;
      idx[d] = 0;
    }
  }
  std::sort(out.begin(), out.end());
  return true;
}

bool rangesMeet(const std::vector<std::pair<__int128, __int128>> &a,
                const std::vector<std::pair<__int128, __int128>> &b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].second <= b[j].first)
      ++i;
    else if (b[j].second <= a[i].first)
      ++j;
    else
      return true;
  }
  return false;
}

bool selfOverlaps(const std::vector<std::pair<__int128, __int128>> &r) {
  for (size_t i = 1; i < r.size(); ++i)
    if (r[i].first < r[i - 1].second)
      return true;
  return false;
}

/// What validation accepted must be launchable.
void checkAccepted(const std::vector<std::pair<const char *, const TensorRef *>>
                       &tensors,
                   const std::vector<const char *> &outputs) {
  std::vector<std::vector<std::pair<__int128, __int128>>> ranges(
      tensors.size());
  std::vector<bool> known(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i)
    known[i] = byteRanges(*tensors[i].second, ranges[i]);
  for (size_t i = 0; i < tensors.size(); ++i) {
    bool isOutput = std::any_of(outputs.begin(), outputs.end(), [&](auto o) {
      return std::strcmp(o, tensors[i].first) == 0;
    });
    if (!isOutput || !known[i])
      continue;
    if (selfOverlaps(ranges[i]))
      bug(std::string("validation accepted output '") + tensors[i].first +
          "' whose elements overlap each other");
    for (size_t j = 0; j < tensors.size(); ++j)
      if (j != i && known[j] && rangesMeet(ranges[i], ranges[j]))
        bug(std::string("validation accepted output '") + tensors[i].first +
            "' overlapping '" + tensors[j].first + "'");
  }
}

void argumentsMode(FuzzedDataProvider &in) {
  ArgsBuilder b(in);
  bool backward = b.coin(40);
  Manifest m;
  if (!parseManifest(b.manifestText(backward), "fuzz.json", m))
    return;
  int64_t batch = b.size(), hq = b.size(), hkv = b.coin(70) ? hq : b.size();
  int64_t nq = b.size(), nk = b.size();
  int64_t d = b.coin(95) ? m.headDim : b.size();
  int64_t dv = b.coin(95) ? m.headDimV : b.size();
  DType t = m.elementType;
  std::vector<int32_t> sq, sk;
  std::vector<uint8_t> layoutStorage;
  const KernelSpec &k = m.kernels.front();
  int64_t bq = m.layoutBlock ? m.layoutBlock->first : k.blockQ;
  int64_t bk = m.layoutBlock ? m.layoutBlock->second : k.blockK;
  ProblemSizes sizes;
  if (!backward) {
    ForwardArgs a;
    a.q = b.tensor(t, {batch, hq, nq, d});
    a.k = b.tensor(t, {batch, hkv, nk, d});
    a.v = b.tensor(t, {batch, hkv, nk, dv});
    a.o = b.tensor(t, {batch, hq, nq, dv});
    a.lse = b.tensor(DType::F32, {batch, hq, nq});
    a.seqLensQ = b.seqLens(sq, m.seqLensQ, batch, nq);
    a.seqLensK = b.seqLens(sk, m.seqLensK, batch, nk);
    a.layout = b.layout(layoutStorage, m.hasLayout(), batch, hq, nq, nk, bq,
                        bk);
    if (b.coin(20))
      a.seed = 7;
    Status s = validateForward(m, a, sizes);
    if (!s) {
      if (s.message().empty())
        bug("validateForward failed without a message");
      return;
    }
    if (std::getenv("FLASHC_FUZZ_VERBOSE"))
      std::fprintf(stderr, "accepted forward arguments\n");
    checkAccepted({{"q", &a.q}, {"k", &a.k}, {"v", &a.v}, {"o", &a.o},
                   {"lse", &a.lse}},
                  {"o", "lse"});
    if (sizes.batch != a.q.sizes[0] || sizes.seqK != a.k.sizes[2])
      bug("validateForward returned sizes that are not the tensors'");
    return;
  }
  BackwardArgs a;
  a.q = b.tensor(t, {batch, hq, nq, d});
  a.k = b.tensor(t, {batch, hkv, nk, d});
  a.v = b.tensor(t, {batch, hkv, nk, dv});
  a.o = b.tensor(t, {batch, hq, nq, dv});
  a.lse = b.tensor(DType::F32, {batch, hq, nq});
  a.dout = b.tensor(t, {batch, hq, nq, dv});
  a.dq = b.tensor(t, {batch, hq, nq, d});
  a.dk = b.tensor(t, {batch, hkv, nk, d});
  a.dv = b.tensor(t, {batch, hkv, nk, dv});
  if (b.coin(50))
    a.delta = b.tensor(DType::F32, {batch, hq, nq});
  a.seqLensQ = b.seqLens(sq, m.seqLensQ, batch, nq);
  a.seqLensK = b.seqLens(sk, m.seqLensK, batch, nk);
  a.layout =
      b.layout(layoutStorage, m.hasLayout(), batch, hq, nq, nk, bq, bk);
  Status s = validateBackward(m, a, sizes);
  if (!s) {
    if (s.message().empty())
      bug("validateBackward failed without a message");
    return;
  }
  if (std::getenv("FLASHC_FUZZ_VERBOSE"))
    std::fprintf(stderr, "accepted backward arguments\n");
  std::vector<std::pair<const char *, const TensorRef *>> all = {
      {"q", &a.q},     {"k", &a.k},   {"v", &a.v},   {"o", &a.o},
      {"lse", &a.lse}, {"dout", &a.dout}, {"dq", &a.dq}, {"dk", &a.dk},
      {"dv", &a.dv}};
  std::vector<const char *> outputs = {"dq", "dk", "dv"};
  if (a.delta.present()) {
    all.push_back({"delta", &a.delta});
    outputs.push_back("delta");
  }
  checkAccepted(all, outputs);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeIntegralInRange<int>(0, 1) == 0)
    manifestTextMode(in);
  else
    argumentsMode(in);
  return 0;
}
