//===- gpu_tests.cpp - compiled kernels on the GPU vs the float64 reference ===//
//
// flashc-gpu-tests [options] PATH...
//
// Each PATH is a kernel directory written by `flashc compile` (it holds
// flashc.json) or a directory of such directories (gpu-kernels/X/flashc.json,
// where X is the spec's name in test/GPU/specs/). For every kernel directory
// and several problem sizes (odd lengths, Nq != Nk, batch > 1, BSHD strides,
// within what the manifest's static sizes allow) it draws fresh random
// inputs, random sequence lengths (with a zero-length batch entry) and random
// block layouts when the spec takes them, poisons every output with NaN,
// runs the forward kernel and, when the directory has them, the backward
// kernels, and compares EVERY element against flashc::reference on the same
// rounded inputs:
//
//   error = max |x - ref| / max |ref|   (LSE: / max(1, max |ref|))
//   tolerance: f32 1e-5 (gradients 2e-5), f16 and bf16 1e-2: f32 paths
//   differ from float64 only by accumulation order, 16-bit ones by the
//   rounding of P (and dS) to 8 or 11 bits before the second matmul.
//   Any NaN fails; LSE = -inf must match exactly, and rows whose reference
//   LSE is -inf must have O exactly 0; the 256 bytes before and after every
//   output must be untouched; `deterministic` backward runs twice and must
//   be bitwise identical.
//
// One line per case (PASS/FAIL, errors, tolerance, GPU time), then
// "N passed, M failed"; the exit status is non-zero on any failure.
// Options:
//   --seed S      reproduce a run (the seed is printed at the start)
//   --filter STR  only directories whose name contains STR
//   --max-seq N   skip cases with Nq or Nk above N (compute-sanitizer runs)
//   --list        print the cases without running them
//
// Custom mask/score regions come from test/GPU/CustomRegions.cpp, keyed by
// the kernel directory's name.
//
//===----------------------------------------------------------------------===//

#include "CustomRegions.h"
#include "HostFloat.h"

#include "reference/Reference.h"
#include "runtime/Runtime.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <future>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace flashc;
using namespace flashc::runtime;
using flashc::gputest::CustomRegions;

namespace {

//===----------------------------------------------------------------------===//
// Options and kernel directories
//===----------------------------------------------------------------------===//

struct Options {
  uint64_t seed = 0;
  std::string filter;
  int64_t maxSeq = std::numeric_limits<int64_t>::max();
  bool list = false;
  std::vector<std::string> paths;
};

bool isFile(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string baseName(std::string path) {
  while (path.size() > 1 && path.back() == '/')
    path.pop_back();
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// Kernel directories named by \p paths, sorted by name within each path.
std::vector<std::string> kernelDirectories(const Options &o) {
  std::vector<std::string> dirs;
  for (const std::string &path : o.paths) {
    if (isFile(path + "/" + kManifestFileName)) {
      dirs.push_back(path);
      continue;
    }
    std::vector<std::string> found;
    if (DIR *d = opendir(path.c_str())) {
      while (dirent *e = readdir(d)) {
        std::string sub = path + "/" + e->d_name;
        if (e->d_name[0] != '.' && isFile(sub + "/" + kManifestFileName))
          found.push_back(sub);
      }
      closedir(d);
    }
    std::sort(found.begin(), found.end());
    dirs.insert(dirs.end(), found.begin(), found.end());
  }
  std::vector<std::string> kept;
  for (const std::string &d : dirs)
    if (baseName(d).find(o.filter) != std::string::npos)
      kept.push_back(d);
  return kept;
}

/// A seed for (run seed, directory, case), stable across runs.
uint64_t mixSeed(uint64_t seed, const std::string &name, uint64_t index) {
  uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;
  for (char c : name)
    h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  h ^= index + 0x632be59bd9b4e019ull + (h << 6) + (h >> 2);
  return h;
}

//===----------------------------------------------------------------------===//
// Cases
//===----------------------------------------------------------------------===//

struct Case {
  int index = 0;
  int64_t batch = 1, headsQ = 1, headsKV = 1, seqQ = 1, seqK = 1;
  /// Q, K, V, O, dO, dQ, dK, dV in [B, N, H, D] memory (BSHD strides).
  bool bshd = false;
  /// Backward: pass our own delta buffer instead of the runtime's.
  bool passDelta = false;
  uint64_t seed = 0;

  std::string describe() const {
    char buf[160];
    std::snprintf(buf, sizeof(buf),
                  "B=%" PRId64 " Hq=%" PRId64 " Hkv=%" PRId64 " Nq=%" PRId64
                  " Nk=%" PRId64 " %s",
                  batch, headsQ, headsKV, seqQ, seqK, bshd ? "bshd" : "bhsd");
    return buf;
  }
};

std::vector<Case> casesFor(const Manifest &m, const std::string &name,
                           const Options &o) {
  struct Size {
    int64_t b, nq, nk;
    bool bshd;
  };
  // Odd lengths, Nq != Nk both ways, several tiles, batch > 1.
  const Size sizes[] = {{1, 1, 1, false},     {2, 17, 17, true},
                        {3, 100, 37, false},  {2, 37, 100, true},
                        {1, 300, 700, false}, {2, 1000, 1000, false}};
  std::vector<Case> cases;
  int index = 0;
  for (const Size &s : sizes) {
    Case c;
    c.batch = m.batch != kDynamicSize ? m.batch : s.b;
    c.seqQ = m.seqQ != kDynamicSize ? m.seqQ : s.nq;
    c.seqK = m.seqK != kDynamicSize ? m.seqK : s.nk;
    c.bshd = s.bshd;
    if (m.headsQ != kDynamicSize && m.headsKV != kDynamicSize) {
      c.headsQ = m.headsQ;
      c.headsKV = m.headsKV;
    } else if (m.headsQ != kDynamicSize) {
      c.headsQ = m.headsQ;
      c.headsKV = m.headsQ % 2 == 0 ? m.headsQ / 2 : m.headsQ;
    } else if (m.headsKV != kDynamicSize) {
      c.headsKV = m.headsKV;
      c.headsQ = 2 * m.headsKV;
    } else {
      // Both dynamic: MHA, GQA and MQA in turn.
      const int64_t heads[][2] = {{4, 4}, {6, 3}, {4, 1}};
      c.headsQ = heads[index % 3][0];
      c.headsKV = heads[index % 3][1];
    }
    if (c.seqQ > o.maxSeq || c.seqK > o.maxSeq)
      continue;
    bool duplicate = false;
    for (const Case &p : cases)
      duplicate |= p.batch == c.batch && p.headsQ == c.headsQ &&
                   p.headsKV == c.headsKV && p.seqQ == c.seqQ &&
                   p.seqK == c.seqK && p.bshd == c.bshd;
    if (duplicate)
      continue;
    c.index = index++;
    c.passDelta = c.index % 2 == 1;
    c.seed = mixSeed(o.seed, name, static_cast<uint64_t>(c.index));
    cases.push_back(c);
  }
  return cases;
}

//===----------------------------------------------------------------------===//
// Host data of one case
//===----------------------------------------------------------------------===//

/// Rounds \p x to what \p type stores.
float roundTo(DType type, float x) {
  switch (type) {
  case DType::BF16:
    return gputest::bf16ToFloat(gputest::floatToBF16(x));
  case DType::F16:
    return gputest::f16ToFloat(gputest::floatToF16(x));
  default:
    return x;
  }
}

std::vector<float> randomTensor(std::mt19937_64 &rng, DType type, size_t n) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> t(n);
  for (float &x : t)
    x = roundTo(type, normal(rng));
  return t;
}

std::vector<double> toDouble(const std::vector<float> &v) {
  return std::vector<double>(v.begin(), v.end());
}

struct CaseData {
  std::vector<float> q, k, v, dout;
  std::vector<int32_t> seqLensQ, seqLensK;
  std::vector<uint8_t> layout; // dense 0/1
  int64_t layoutB = 1, layoutH = 1, layoutRows = 0, layoutCols = 0;
  std::optional<uint64_t> seed, offset;
  reference::Problem problem;
};

std::vector<int32_t> randomSeqLens(std::mt19937_64 &rng, int64_t batch,
                                   int64_t n) {
  std::uniform_int_distribution<int32_t> len(0, static_cast<int32_t>(n));
  std::vector<int32_t> lens(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b)
    lens[b] = len(rng);
  // An empty sequence and a full one whenever there is room for both.
  if (batch >= 2) {
    lens[0] = 0;
    lens[1] = static_cast<int32_t>(n);
  }
  return lens;
}

CaseData makeCaseData(const Manifest &m, const Case &c,
                      const CustomRegions *regions) {
  CaseData d;
  std::mt19937_64 rng(c.seed);
  DType t = m.elementType;
  d.q = randomTensor(rng, t, c.batch * c.headsQ * c.seqQ * m.headDim);
  d.k = randomTensor(rng, t, c.batch * c.headsKV * c.seqK * m.headDim);
  d.v = randomTensor(rng, t, c.batch * c.headsKV * c.seqK * m.headDimV);
  d.dout = randomTensor(rng, t, c.batch * c.headsQ * c.seqQ * m.headDimV);
  if (m.seqLensQ)
    d.seqLensQ = randomSeqLens(rng, c.batch, c.seqQ);
  if (m.seqLensK)
    d.seqLensK = randomSeqLens(rng, c.batch, c.seqK);
  if (m.layoutBlock) {
    int64_t bq = m.layoutBlock->first, bk = m.layoutBlock->second;
    d.layoutRows = (c.seqQ + bq - 1) / bq;
    d.layoutCols = (c.seqK + bk - 1) / bk;
    d.layoutB = c.index % 2 == 1 ? c.batch : 1;
    d.layoutH = c.index % 3 == 0 ? 1 : c.headsQ;
    std::bernoulli_distribution keep(0.6);
    d.layout.resize(static_cast<size_t>(d.layoutB * d.layoutH * d.layoutRows *
                                        d.layoutCols));
    for (uint8_t &x : d.layout)
      x = keep(rng) ? 1 : 0;
    // A query block row with no key block at all: O = 0, LSE = -inf.
    if (d.layoutRows > 1)
      for (int64_t j = 0; j < d.layoutCols; ++j)
        d.layout[static_cast<size_t>(d.layoutCols + j)] = 0;
  }
  if (m.hasDropout()) {
    if (c.index % 2 == 1)
      d.seed = std::uniform_int_distribution<uint64_t>(0, 1ull << 40)(rng);
    if (c.index % 3 != 0)
      d.offset = std::uniform_int_distribution<uint64_t>(0, 0xffffffffu)(rng);
  }

  reference::Problem &p = d.problem;
  p.batch = c.batch;
  p.headsQ = c.headsQ;
  p.headsKV = c.headsKV;
  p.seqQ = c.seqQ;
  p.seqK = c.seqK;
  p.headDim = m.headDim;
  p.headDimV = m.headDimV;
  p.scale = m.scale;
  p.causal = m.causal;
  p.bottomRight = m.bottomRight;
  p.window = m.window;
  p.softcap = m.softcap;
  p.alibi = m.alibi;
  p.seqLensQ = d.seqLensQ;
  p.seqLensK = d.seqLensK;
  p.dropoutP = m.dropoutP;
  p.seed = d.seed.value_or(m.dropoutSeed);
  p.offset = d.offset.value_or(0);
  if (m.layoutBlock) {
    p.layout = d.layout;
    p.layoutB = d.layoutB;
    p.layoutH = d.layoutH;
    p.blockQ = m.layoutBlock->first;
    p.blockK = m.layoutBlock->second;
  }
  if (regions) {
    p.customMask = regions->mask;
    p.customScore = regions->score;
    p.customScoreGrad = regions->scoreGrad;
  }
  return d;
}

/// The forward reference (the backward one needs the O the kernels are
/// handed, so it runs after the forward kernel).
struct ReferenceResult {
  std::string error; // from the reference's own validation
  reference::ForwardResult fwd;
};

ReferenceResult runReference(const CaseData &d) {
  ReferenceResult r;
  try {
    r.fwd = reference::forward(d.problem, toDouble(d.q), toDouble(d.k),
                               toDouble(d.v));
  } catch (const std::exception &e) {
    r.error = e.what();
  }
  return r;
}

//===----------------------------------------------------------------------===//
// Device tensors with guard bytes
//===----------------------------------------------------------------------===//

constexpr size_t kGuardBytes = 256;
constexpr uint8_t kGuardByte = 0xa5;

struct DeviceTensor {
  DeviceBuffer buffer; ///< guard, payload, guard
  TensorRef ref;
  size_t payloadBytes = 0;
  std::vector<int64_t> sizes;
};

Status makeTensor(const std::shared_ptr<Device> &device, DType type,
                  std::vector<int64_t> sizes, bool bshd, DeviceTensor &out) {
  out.sizes = sizes;
  int64_t n = 1;
  for (int64_t s : sizes)
    n *= s;
  out.payloadBytes = static_cast<size_t>(n * dtypeSize(type));
  FLASHC_TRY(DeviceBuffer::allocate(device, out.payloadBytes + 2 * kGuardBytes,
                                    out.buffer));
  TensorRef t;
  t.data = out.buffer.get() + kGuardBytes;
  t.dtype = type;
  t.rank = static_cast<int>(sizes.size());
  for (int i = 0; i < t.rank; ++i)
    t.sizes[i] = sizes[static_cast<size_t>(i)];
  if (t.rank == 4 && bshd) {
    // [B, N, H, D] memory seen as [B, H, N, D].
    int64_t h = sizes[1], len = sizes[2], dim = sizes[3];
    t.strides[0] = len * h * dim;
    t.strides[1] = dim;
    t.strides[2] = h * dim;
    t.strides[3] = 1;
  } else {
    int64_t stride = 1;
    for (int i = t.rank - 1; i >= 0; --i) {
      t.strides[i] = stride;
      stride *= t.sizes[i];
    }
  }
  out.ref = t;
  return Status::success();
}

/// Byte offset of logical element \p index (row-major over sizes).
size_t storageOffset(const DeviceTensor &t, int64_t index) {
  int64_t offset = 0;
  for (int d = t.ref.rank - 1; d >= 0; --d) {
    offset += (index % t.ref.sizes[d]) * t.ref.strides[d];
    index /= t.ref.sizes[d];
  }
  return static_cast<size_t>(offset * dtypeSize(t.ref.dtype));
}

void storeElement(DType type, uint8_t *dst, float x) {
  if (type == DType::F32) {
    std::memcpy(dst, &x, 4);
    return;
  }
  uint16_t h = type == DType::BF16 ? gputest::floatToBF16(x)
                                   : gputest::floatToF16(x);
  std::memcpy(dst, &h, 2);
}

float loadElement(DType type, const uint8_t *src) {
  if (type == DType::F32) {
    float x;
    std::memcpy(&x, src, 4);
    return x;
  }
  uint16_t h;
  std::memcpy(&h, src, 2);
  return type == DType::BF16 ? gputest::bf16ToFloat(h)
                             : gputest::f16ToFloat(h);
}

/// Writes \p values (logical order) with guards around them.
Status upload(Device &device, const DeviceTensor &t,
              const std::vector<float> &values) {
  std::vector<uint8_t> bytes(t.payloadBytes + 2 * kGuardBytes, kGuardByte);
  for (size_t i = 0; i < values.size(); ++i)
    storeElement(t.ref.dtype,
                 bytes.data() + kGuardBytes +
                     storageOffset(t, static_cast<int64_t>(i)),
                 values[i]);
  return device.copyToDevice(t.buffer.get(), bytes.data(), bytes.size());
}

/// Fills the payload with 0xFF (NaN in f16, bf16 and f32) and the guards.
Status poison(Device &device, const DeviceTensor &t) {
  FLASHC_TRY(device.fill(t.buffer.get(), kGuardByte, t.buffer.size()));
  return device.fill(t.ref.data, 0xff, t.payloadBytes);
}

/// Reads the tensor back; \p guardsIntact says whether the guards are.
Status download(Device &device, const DeviceTensor &t,
                std::vector<float> &values, bool &guardsIntact) {
  std::vector<uint8_t> bytes(t.payloadBytes + 2 * kGuardBytes);
  FLASHC_TRY(device.copyToHost(bytes.data(), t.buffer.get(), bytes.size()));
  guardsIntact = true;
  for (size_t i = 0; i < kGuardBytes; ++i)
    guardsIntact &= bytes[i] == kGuardByte &&
                    bytes[kGuardBytes + t.payloadBytes + i] == kGuardByte;
  int64_t n = static_cast<int64_t>(t.payloadBytes) / dtypeSize(t.ref.dtype);
  values.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    values[static_cast<size_t>(i)] = loadElement(
        t.ref.dtype, bytes.data() + kGuardBytes + storageOffset(t, i));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Comparison
//===----------------------------------------------------------------------===//

struct Comparison {
  std::string name;
  double maxErr = 0, maxRef = 0;
  int64_t nans = 0, infMismatch = 0, nonzeroMasked = 0;
  int64_t firstBad = -1;
  float firstBadValue = 0;
  double firstBadRef = 0;
  bool guardsIntact = true;
  double tolerance = 0;
  bool lse = false;

  double error() const {
    double denom = lse ? std::max(1.0, maxRef) : (maxRef > 0 ? maxRef : 1.0);
    return maxErr / denom;
  }
  bool ok() const {
    return nans == 0 && infMismatch == 0 && nonzeroMasked == 0 &&
           guardsIntact && error() <= tolerance;
  }
  std::string problems(const std::vector<int64_t> &sizes) const {
    std::string s;
    auto add = [&](const std::string &what) {
      s += (s.empty() ? "" : "; ") + name + ": " + what;
    };
    if (nans)
      add(std::to_string(nans) + " NaN");
    if (infMismatch)
      add(std::to_string(infMismatch) + " with -inf on one side only");
    if (nonzeroMasked)
      add(std::to_string(nonzeroMasked) +
          " nonzero in fully masked rows (must be exactly 0)");
    if (!guardsIntact)
      add("wrote outside the tensor (guard bytes changed)");
    if (error() > tolerance)
      add("error " + std::to_string(error()) + " > " +
          std::to_string(tolerance));
    if (firstBad >= 0) {
      std::string idx;
      int64_t rest = firstBad;
      std::vector<int64_t> coords(sizes.size());
      for (size_t d = sizes.size(); d-- > 0;) {
        coords[d] = rest % sizes[d];
        rest /= sizes[d];
      }
      for (size_t d = 0; d < coords.size(); ++d)
        idx += (d ? "," : "") + std::to_string(coords[d]);
      char buf[128];
      std::snprintf(buf, sizeof(buf), " (worst at [%s]: %g, reference %g)",
                    idx.c_str(), static_cast<double>(firstBadValue),
                    firstBadRef);
      s += buf;
    }
    return s;
  }
};

/// Compares \p got with \p want element by element. With \p rowLse (the
/// reference LSE of each row of `rowLength` elements), rows whose LSE is
/// -inf must be exactly zero.
Comparison compare(const std::string &name, const std::vector<float> &got,
                   const std::vector<double> &want, double tolerance,
                   bool isLse, const std::vector<double> *rowLse = nullptr,
                   int64_t rowLength = 1) {
  Comparison c;
  c.name = name;
  c.tolerance = tolerance;
  c.lse = isLse;
  // Reported: the first element that is wrong outright (NaN, -inf on one
  // side, nonzero in a masked row), else the largest difference.
  int64_t hard = -1, worst = -1;
  auto note = [&](int64_t &at, size_t i) {
    at = static_cast<int64_t>(i);
  };
  for (size_t i = 0; i < got.size() && i < want.size(); ++i) {
    float x = got[i];
    double r = want[i];
    if (std::isnan(x)) {
      ++c.nans;
      if (hard < 0)
        note(hard, i);
      continue;
    }
    if (std::isinf(r) || std::isinf(x)) {
      if (!(std::isinf(r) && std::isinf(x) && (r < 0) == (x < 0))) {
        ++c.infMismatch;
        if (hard < 0)
          note(hard, i);
      }
      continue;
    }
    if (rowLse && std::isinf((*rowLse)[i / static_cast<size_t>(rowLength)]) &&
        x != 0.0f) {
      ++c.nonzeroMasked;
      if (hard < 0)
        note(hard, i);
    }
    double err = std::fabs(static_cast<double>(x) - r);
    c.maxRef = std::max(c.maxRef, std::fabs(r));
    if (err > c.maxErr || worst < 0) {
      c.maxErr = std::max(c.maxErr, err);
      note(worst, i);
    }
  }
  if (got.size() != want.size())
    ++c.infMismatch;
  c.firstBad = hard >= 0 ? hard : worst;
  if (c.firstBad >= 0) {
    c.firstBadValue = got[static_cast<size_t>(c.firstBad)];
    c.firstBadRef = want[static_cast<size_t>(c.firstBad)];
  }
  return c;
}

//===----------------------------------------------------------------------===//
// Running one case
//===----------------------------------------------------------------------===//

struct Tally {
  int passed = 0, failed = 0;
};

double elapsedMs(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

void report(Tally &tally, bool ok, const std::string &dir,
            const std::string &pass, const Case &c, const std::string &errors,
            double tolerance, double ms, const std::string &problems) {
  (ok ? tally.passed : tally.failed)++;
  std::printf("%s %s %s #%d %s | %s | tol %.0e | %.3f ms%s%s\n",
              ok ? "PASS" : "FAIL", dir.c_str(), pass.c_str(), c.index,
              c.describe().c_str(), errors.c_str(), tolerance, ms,
              problems.empty() ? "" : " | ", problems.c_str());
  if (!ok)
    std::printf("     reproduce: --seed %" PRIu64 " --filter %s (case seed "
                "0x%016" PRIx64 ")\n",
                c.seed, dir.c_str(), c.seed);
  std::fflush(stdout);
}

std::string errorText(const std::vector<Comparison> &cs) {
  std::string s;
  for (const Comparison &c : cs) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%s%s %.2e", s.empty() ? "" : " ",
                  c.name.c_str(), c.error());
    s += buf;
  }
  return s;
}

/// Whether a failure left the context unusable (every later call fails).
bool isStickyError(const Status &s) {
  const std::string &m = s.message();
  return m.find("CUDA_ERROR_ILLEGAL_ADDRESS") != std::string::npos ||
         m.find("CUDA_ERROR_LAUNCH_FAILED") != std::string::npos ||
         m.find("CUDA_ERROR_MISALIGNED_ADDRESS") != std::string::npos ||
         m.find("CUDA_ERROR_ILLEGAL_INSTRUCTION") != std::string::npos ||
         m.find("CUDA_ERROR_HARDWARE_STACK_ERROR") != std::string::npos ||
         m.find("CUDA_ERROR_LAUNCH_TIMEOUT") != std::string::npos;
}

struct CaseRunner {
  std::shared_ptr<Device> device;
  KernelDirectory &kernels;
  const Manifest &m;
  std::string dir;
  Tally &tally;
  bool broken = false; ///< a sticky CUDA error: stop

  double tolerance(bool gradient) const {
    if (m.elementType == DType::F32)
      return gradient ? 2e-5 : 1e-5;
    return 1e-2;
  }

  void fail(const char *pass, const Case &c, const Status &s) {
    report(tally, false, dir, pass, c, "-", tolerance(false), 0,
           s.message());
    if (isStickyError(s))
      broken = true;
  }

  void run(const Case &c, const CaseData &d,
           std::future<ReferenceResult> &refFuture) {
    DType t = m.elementType;
    int64_t D = m.headDim, Dv = m.headDimV;
    DeviceTensor q, k, v, o, lse;
    Status s;
    auto check = [&](Status st) {
      if (!st && s)
        s = st;
    };
    check(makeTensor(device, t, {c.batch, c.headsQ, c.seqQ, D}, c.bshd, q));
    check(makeTensor(device, t, {c.batch, c.headsKV, c.seqK, D}, c.bshd, k));
    check(makeTensor(device, t, {c.batch, c.headsKV, c.seqK, Dv}, c.bshd, v));
    check(makeTensor(device, t, {c.batch, c.headsQ, c.seqQ, Dv}, c.bshd, o));
    check(makeTensor(device, DType::F32, {c.batch, c.headsQ, c.seqQ}, false,
                     lse));
    if (s) {
      check(upload(*device, q, d.q));
      check(upload(*device, k, d.k));
      check(upload(*device, v, d.v));
      check(poison(*device, o));
      check(poison(*device, lse));
    }
    if (!s)
      return fail("setup", c, s);

    DenseLayoutView layout;
    if (!d.layout.empty()) {
      layout.data = d.layout.data();
      layout.elementType = LayoutElementType::UInt8;
      layout.numElements = static_cast<int64_t>(d.layout.size());
      layout.batch = d.layoutB;
      layout.heads = d.layoutH;
      layout.rows = d.layoutRows;
      layout.cols = d.layoutCols;
    }
    HostArray<int32_t> seqQ, seqK;
    if (m.seqLensQ)
      seqQ = {d.seqLensQ.data(), static_cast<int64_t>(d.seqLensQ.size())};
    if (m.seqLensK)
      seqK = {d.seqLensK.data(), static_cast<int64_t>(d.seqLensK.size())};

    ReferenceResult ref = refFuture.get();
    if (!ref.error.empty())
      return fail("reference", c, Status::error(ref.error));

    if (m.hasForward()) {
      ForwardArgs a;
      a.q = q.ref;
      a.k = k.ref;
      a.v = v.ref;
      a.o = o.ref;
      a.lse = lse.ref;
      a.seqLensQ = seqQ;
      a.seqLensK = seqK;
      a.layout = layout;
      a.seed = d.seed;
      a.offset = d.offset;
      auto start = std::chrono::steady_clock::now();
      Status run = kernels.forward(a, nullptr);
      if (run)
        run = device->synchronize(nullptr);
      double ms = elapsedMs(start);
      if (!run)
        return fail("fwd", c, run);
      std::vector<float> gotO, gotLse;
      bool guardsO = true, guardsLse = true;
      Status st = download(*device, o, gotO, guardsO);
      if (st)
        st = download(*device, lse, gotLse, guardsLse);
      if (!st)
        return fail("fwd", c, st);
      std::vector<Comparison> cs = {
          compare("o", gotO, ref.fwd.out, tolerance(false), false,
                  &ref.fwd.lse, Dv),
          compare("lse", gotLse, ref.fwd.lse, tolerance(false), true)};
      cs[0].guardsIntact = guardsO;
      cs[1].guardsIntact = guardsLse;
      bool ok = cs[0].ok() && cs[1].ok();
      std::string problems = cs[0].problems(o.sizes);
      std::string lseProblems = cs[1].problems(lse.sizes);
      if (!cs[0].ok() && !cs[1].ok())
        problems += "; " + lseProblems;
      else if (!cs[1].ok())
        problems = lseProblems;
      report(tally, ok, dir, "fwd", c, errorText(cs), tolerance(false), ms,
             ok ? "" : problems);
    }

    if (!m.hasBackward())
      return;
    if (!m.hasForward()) {
      // A gradient-only directory: O and LSE from the reference, rounded as
      // a forward kernel would have stored them.
      std::vector<float> refO(ref.fwd.out.begin(), ref.fwd.out.end());
      for (float &x : refO)
        x = roundTo(t, x);
      std::vector<float> refLse(ref.fwd.lse.begin(), ref.fwd.lse.end());
      Status st = upload(*device, o, refO);
      if (st)
        st = upload(*device, lse, refLse);
      if (!st)
        return fail("bwd", c, st);
    }
    DeviceTensor dout, dq, dk, dv, delta;
    check(makeTensor(device, t, {c.batch, c.headsQ, c.seqQ, Dv}, c.bshd,
                     dout));
    check(makeTensor(device, t, {c.batch, c.headsQ, c.seqQ, D}, c.bshd, dq));
    check(makeTensor(device, t, {c.batch, c.headsKV, c.seqK, D}, c.bshd, dk));
    check(makeTensor(device, t, {c.batch, c.headsKV, c.seqK, Dv}, c.bshd,
                     dv));
    if (c.passDelta)
      check(makeTensor(device, DType::F32, {c.batch, c.headsQ, c.seqQ}, false,
                       delta));
    if (s)
      check(upload(*device, dout, d.dout));
    if (!s)
      return fail("bwd", c, s);

    BackwardArgs a;
    a.q = q.ref;
    a.k = k.ref;
    a.v = v.ref;
    a.o = o.ref;
    a.lse = lse.ref;
    a.dout = dout.ref;
    a.dq = dq.ref;
    a.dk = dk.ref;
    a.dv = dv.ref;
    if (c.passDelta)
      a.delta = delta.ref;
    a.seqLensQ = seqQ;
    a.seqLensK = seqK;
    a.layout = layout;
    a.seed = d.seed;
    a.offset = d.offset;

    // Deterministic kernels run twice and must agree bit for bit.
    int runs = m.deterministic ? 2 : 1;
    std::vector<float> got[2][3];
    bool guards[3] = {true, true, true};
    double ms = 0;
    for (int r = 0; r < runs; ++r) {
      Status st = poison(*device, dq);
      if (st)
        st = poison(*device, dk);
      if (st)
        st = poison(*device, dv);
      if (st && c.passDelta)
        st = poison(*device, delta);
      if (!st)
        return fail("bwd", c, st);
      auto start = std::chrono::steady_clock::now();
      Status run = kernels.backward(a, nullptr);
      if (run)
        run = device->synchronize(nullptr);
      ms = elapsedMs(start);
      if (!run)
        return fail("bwd", c, run);
      const DeviceTensor *outs[3] = {&dq, &dk, &dv};
      for (int i = 0; i < 3; ++i) {
        bool intact = true;
        Status dl = download(*device, *outs[i], got[r][i], intact);
        if (!dl)
          return fail("bwd", c, dl);
        guards[i] &= intact;
      }
    }
    // The kernels compute D = rowsum(dO * O) from the O they are handed
    // (rounded to the element type), and so does the reference here: where
    // the exact dS cancels to zero (one key per row) only that comparison
    // means anything.
    std::vector<float> handedO;
    bool oIntact = true;
    if (Status dl = download(*device, o, handedO, oIntact); !dl)
      return fail("bwd", c, dl);
    std::vector<double> rowDot(
        static_cast<size_t>(c.batch * c.headsQ * c.seqQ), 0.0);
    for (size_t row = 0; row < rowDot.size(); ++row)
      for (int64_t j = 0; j < Dv; ++j) {
        size_t at = row * static_cast<size_t>(Dv) + static_cast<size_t>(j);
        rowDot[row] += static_cast<double>(d.dout[at]) * handedO[at];
      }
    reference::BackwardResult refBwd;
    try {
      refBwd = reference::backward(d.problem, toDouble(d.q), toDouble(d.k),
                                   toDouble(d.v), toDouble(d.dout), &rowDot);
    } catch (const std::exception &e) {
      return fail("bwd", c, Status::error(e.what()));
    }
    std::vector<Comparison> cs = {
        compare("dq", got[0][0], refBwd.dq, tolerance(true), false),
        compare("dk", got[0][1], refBwd.dk, tolerance(true), false),
        compare("dv", got[0][2], refBwd.dv, tolerance(true), false)};
    const std::vector<int64_t> *shapes[3] = {&dq.sizes, &dk.sizes, &dv.sizes};
    std::string problems;
    bool ok = true;
    for (int i = 0; i < 3; ++i) {
      cs[static_cast<size_t>(i)].guardsIntact = guards[i];
      if (!cs[static_cast<size_t>(i)].ok()) {
        ok = false;
        problems += (problems.empty() ? "" : "; ") +
                    cs[static_cast<size_t>(i)].problems(*shapes[i]);
      }
    }
    if (runs == 2)
      for (int i = 0; i < 3; ++i)
        if (std::memcmp(got[0][i].data(), got[1][i].data(),
                        got[0][i].size() * sizeof(float)) != 0) {
          ok = false;
          problems += std::string(problems.empty() ? "" : "; ") +
                      cs[static_cast<size_t>(i)].name +
                      ": two runs of deterministic kernels differ";
        }
    report(tally, ok, dir, m.deterministic ? "bwd(det)" : "bwd", c,
           errorText(cs), tolerance(true), ms, problems);
  }
};

//===----------------------------------------------------------------------===//
// main
//===----------------------------------------------------------------------===//

void usage() {
  std::fprintf(stderr,
               "usage: flashc-gpu-tests [--seed S] [--filter STR] "
               "[--max-seq N] [--list] PATH...\n"
               "  PATH: a kernel directory (with flashc.json) or a directory "
               "of them\n");
}

bool parseArgs(int argc, char **argv, Options &o) {
  bool seedGiven = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char *name) -> const char * {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "flashc-gpu-tests: %s needs a value\n", name);
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "--seed") {
      const char *v = value("--seed");
      if (!v)
        return false;
      o.seed = std::strtoull(v, nullptr, 0);
      seedGiven = true;
    } else if (a == "--filter") {
      const char *v = value("--filter");
      if (!v)
        return false;
      o.filter = v;
    } else if (a == "--max-seq") {
      const char *v = value("--max-seq");
      if (!v)
        return false;
      o.maxSeq = std::strtoll(v, nullptr, 0);
    } else if (a == "--list") {
      o.list = true;
    } else if (a == "-h" || a == "--help") {
      return false;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "flashc-gpu-tests: unknown option %s\n", a.c_str());
      return false;
    } else {
      o.paths.push_back(a);
    }
  }
  if (!seedGiven)
    o.seed = (static_cast<uint64_t>(std::random_device{}()) << 32) ^
             std::random_device{}();
  return !o.paths.empty();
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  if (!parseArgs(argc, argv, o)) {
    usage();
    return 2;
  }
  std::printf("flashc-gpu-tests: seed %" PRIu64 " (reproduce with --seed %" PRIu64
              ")\n",
              o.seed, o.seed);
  std::vector<std::string> dirs = kernelDirectories(o);
  if (dirs.empty()) {
    std::printf("flashc-gpu-tests: no kernel directories (with %s) under the "
                "given paths\n0 passed, 0 failed\n",
                kManifestFileName);
    return 1;
  }

  Tally tally;
  std::shared_ptr<Device> device;
  if (!o.list) {
    Status s = Device::open(-1, device);
    if (!s) {
      std::printf("FAIL device: %s\n0 passed, 1 failed\n", s.message().c_str());
      return 1;
    }
    std::printf("device %d: %s, compute capability %d.%d, driver %d\n",
                device->ordinal(), device->name().c_str(),
                device->computeCapability() / 10,
                device->computeCapability() % 10, device->api().version);
  }

  for (const std::string &path : dirs) {
    std::string name = baseName(path);
    Manifest m;
    if (Status s = loadManifest(path, m); !s) {
      std::printf("FAIL %s load | %s\n", name.c_str(), s.message().c_str());
      ++tally.failed;
      continue;
    }
    const CustomRegions *regions = gputest::customRegionsFor(name);
    if ((m.customMask && (!regions || !regions->mask)) ||
        (m.customScore && (!regions || !regions->score))) {
      std::printf("FAIL %s load | the spec has a custom %s region but "
                  "test/GPU/CustomRegions.cpp has no callback for \"%s\"\n",
                  name.c_str(), m.customMask ? "mask" : "score", name.c_str());
      ++tally.failed;
      continue;
    }
    std::vector<Case> cases = casesFor(m, name, o);
    if (o.list) {
      for (const Case &c : cases)
        std::printf("%s #%d %s%s%s\n", name.c_str(), c.index,
                    c.describe().c_str(), m.hasForward() ? " fwd" : "",
                    m.hasBackward() ? " bwd" : "");
      continue;
    }
    std::unique_ptr<KernelDirectory> kernels;
    if (Status s = KernelDirectory::load(path, device, kernels); !s) {
      std::printf("FAIL %s load | %s\n", name.c_str(), s.message().c_str());
      ++tally.failed;
      continue;
    }
    std::string stats;
    for (const KernelSpec &k : m.kernels) {
      const KernelStats *st = kernels->stats(k.kind);
      char buf[160];
      std::snprintf(buf, sizeof(buf),
                    "%s%s: %d regs, %d B spill, %" PRId64 "+%d B smem, %s",
                    stats.empty() ? "" : "; ", kernelKindName(k.kind),
                    st->registers, st->localBytes, k.sharedBytes,
                    st->staticSharedBytes, st->loadedFrom.c_str());
      stats += buf;
    }
    std::printf("LOAD %s (%s) | %s\n", name.c_str(), m.target.c_str(),
                stats.c_str());

    // The float64 reference is the slow part: compute every case's on its
    // own thread while the GPU works through them in order.
    std::vector<CaseData> data;
    for (const Case &c : cases)
      data.push_back(makeCaseData(m, c, regions));
    std::vector<std::future<ReferenceResult>> refs;
    for (const CaseData &d : data)
      refs.push_back(
          std::async(std::launch::async, runReference, std::cref(d)));
    CaseRunner runner{device, *kernels, m, name, tally};
    for (size_t i = 0; i < cases.size() && !runner.broken; ++i)
      runner.run(cases[i], data[i], refs[i]);
    for (auto &f : refs)
      if (f.valid())
        f.wait();
    if (runner.broken) {
      std::printf("ABORT after a CUDA error that leaves the context unusable; "
                  "run the remaining directories in a fresh process\n");
      break;
    }
  }
  std::printf("%d passed, %d failed\n", tally.passed, tally.failed);
  return tally.failed == 0 && (tally.passed > 0 || o.list) ? 0 : 1;
}
