//===- Arguments.cpp - checks of the caller's arguments before launch -----===//

#include "runtime/Arguments.h"
#include "runtime/Status.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

namespace flashc::runtime {

int64_t TensorRef::numElements() const {
  int64_t n = 1;
  for (int d = 0; d < rank; ++d)
    n *= sizes[d];
  return n;
}

TensorRef TensorRef::contiguous(uint64_t data, DType dtype,
                                std::initializer_list<int64_t> sizes) {
  TensorRef t;
  t.data = data;
  t.dtype = dtype;
  t.rank = static_cast<int>(std::min<size_t>(sizes.size(), 4));
  int d = 0;
  for (int64_t s : sizes)
    if (d < 4)
      t.sizes[d++] = s;
  int64_t stride = 1;
  for (int i = t.rank - 1; i >= 0; --i) {
    t.strides[i] = stride;
    stride *= t.sizes[i];
  }
  return t;
}

namespace {

/// A tensor may span at most this many bytes: keeps every address sum
/// below in int64 without overflow checks.
constexpr int64_t kMaxSpan = int64_t(1) << 48;

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string list(const int64_t *values, int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i)
    s += (i ? ", " : "") + std::to_string(values[i]);
  return s + "]";
}

/// Bytes from the first to one past the last addressed byte.
int64_t spanBytes(const TensorRef &t) {
  int64_t last = 0;
  for (int d = 0; d < t.rank; ++d)
    last += (t.sizes[d] - 1) * t.strides[d];
  return (last + 1) * dtypeSize(t.dtype);
}

/// One tensor argument and what the manifest expects of it.
struct Expected {
  const char *name;
  const TensorRef *ref;
  DType dtype;
  int rank;
  /// Names and values of the expected sizes, e.g. {"B", 2}.
  const char *dimNames[4];
  int64_t dims[4];
  /// Where the expected sizes come from, for messages.
  const char *from;
};

/// Checks everything about one tensor that does not depend on others.
Status checkTensorAlone(const char *name, const TensorRef &t, DType dtype,
                        int rank, const char *shapeText) {
  std::string n = name;
  if (!t.present())
    return Status::error(n + ": device pointer is null (expected a " +
                         dtypeName(dtype) + " tensor " + shapeText + ")");
  if (t.dtype != dtype)
    return Status::error(n + ": element type is " + dtypeName(t.dtype) +
                         ", expected " + dtypeName(dtype) +
                         (dtype == DType::F32 && rank == 3
                              ? ""
                              : " (the kernels' element_type)"));
  if (t.rank != rank)
    return Status::error(n + ": rank is " + std::to_string(t.rank) +
                         ", expected " + std::to_string(rank) + " " +
                         shapeText);
  for (int d = 0; d < rank; ++d)
    if (t.sizes[d] < 1)
      return Status::error(n + ": size " + std::to_string(t.sizes[d]) +
                           " of dimension " + std::to_string(d) +
                           " must be at least 1 (sizes " +
                           list(t.sizes, rank) + ")");
  for (int d = 0; d < rank; ++d)
    if (t.strides[d] < 0)
      return Status::error(n + ": stride " + std::to_string(t.strides[d]) +
                           " of dimension " + std::to_string(d) +
                           " is negative (strides " + list(t.strides, rank) +
                           ")");
  if (t.strides[rank - 1] != 1)
    return Status::error(n + ": the last dimension must be contiguous (stride "
                         "1), got stride " +
                         std::to_string(t.strides[rank - 1]) + " (strides " +
                         list(t.strides, rank) + ")");
  if (t.data % 16 != 0)
    return Status::error(n + ": base pointer " + hex(t.data) +
                         " is not 16-byte aligned");
  // Kernels move rows of the head dimension with 16-byte vector accesses,
  // so every row must start 16-byte aligned, not only the first.
  // The product in bytes is checked: the span check below, which bounds the
  // strides, has not run yet.
  if (rank == 4)
    for (int d = 0; d < 3; ++d) {
      if (t.sizes[d] == 1)
        continue;
      int64_t bytes = 0;
      if (__builtin_mul_overflow(t.strides[d], dtypeSize(dtype), &bytes))
        return Status::error(n + ": stride " + std::to_string(t.strides[d]) +
                             " of dimension " + std::to_string(d) +
                             " is too large: in bytes it overflows int64 "
                             "(strides " + list(t.strides, rank) + ")");
      if (bytes % 16 != 0)
        return Status::error(n + ": stride " + std::to_string(t.strides[d]) +
                             " of dimension " + std::to_string(d) + " is " +
                             std::to_string(bytes) +
                             " bytes, not a multiple of 16 (rows must stay "
                             "16-byte aligned)");
    }
  // Checked one product at a time so that the check cannot overflow.
  int64_t last = 0;
  for (int d = 0; d < rank; ++d) {
    if (t.strides[d] != 0 && t.sizes[d] - 1 > kMaxSpan / t.strides[d])
      return Status::error(n + ": sizes " + list(t.sizes, rank) +
                           " and strides " + list(t.strides, rank) +
                           " span more than 2^48 bytes");
    last += (t.sizes[d] - 1) * t.strides[d];
    if (last > kMaxSpan / 4)
      return Status::error(n + ": sizes " + list(t.sizes, rank) +
                           " and strides " + list(t.strides, rank) +
                           " span more than 2^48 bytes");
  }
  return Status::success();
}

Status checkShape(const Expected &e) {
  for (int d = 0; d < e.rank; ++d)
    if (e.ref->sizes[d] != e.dims[d]) {
      std::string names = "[";
      for (int i = 0; i < e.rank; ++i)
        names += std::string(i ? ", " : "") + e.dimNames[i];
      names += "]";
      return Status::error(std::string(e.name) + ": size of dimension " +
                           std::to_string(d) + " (" + e.dimNames[d] + ") is " +
                           std::to_string(e.ref->sizes[d]) + ", expected " +
                           std::to_string(e.dims[d]) + " (" + names + " = " +
                           list(e.dims, e.rank) + " from " + e.from + ")");
    }
  return Status::success();
}

Status checkStaticSize(const char *what, const char *key, int64_t compiled,
                       int64_t actual) {
  if (compiled == kDynamicSize || compiled == actual)
    return Status::success();
  return Status::error(std::string(what) + " is " + std::to_string(actual) +
                       " but the kernels were compiled for " +
                       std::to_string(compiled) + " (static_sizes." + key +
                       ")");
}

/// Checks D, Dv and the static sizes of the manifest, and Hq % Hkv.
Status checkSizes(const Manifest &m, const ProblemSizes &s) {
  if (s.headDim != m.headDim)
    return Status::error("q: head dimension (size of dimension 3) is " +
                         std::to_string(s.headDim) +
                         " but the kernels were compiled for D = " +
                         std::to_string(m.headDim));
  if (s.headDimV != m.headDimV)
    return Status::error("v: head dimension (size of dimension 3) is " +
                         std::to_string(s.headDimV) +
                         " but the kernels were compiled for Dv = " +
                         std::to_string(m.headDimV));
  if (Status st = checkStaticSize("batch B (q dimension 0)", "batch", m.batch,
                                  s.batch);
      !st)
    return st;
  if (Status st = checkStaticSize("query heads Hq (q dimension 1)", "heads_q",
                                  m.headsQ, s.headsQ);
      !st)
    return st;
  if (Status st = checkStaticSize("key/value heads Hkv (k dimension 1)",
                                  "heads_kv", m.headsKV, s.headsKV);
      !st)
    return st;
  if (Status st = checkStaticSize("query length Nq (q dimension 2)", "seq_q",
                                  m.seqQ, s.seqQ);
      !st)
    return st;
  if (Status st = checkStaticSize("key length Nk (k dimension 2)", "seq_k",
                                  m.seqK, s.seqK);
      !st)
    return st;
  if (s.headsQ % s.headsKV != 0)
    return Status::error("heads: Hq = " + std::to_string(s.headsQ) +
                         " (q dimension 1) is not a multiple of Hkv = " +
                         std::to_string(s.headsKV) + " (k dimension 1)");
  return Status::success();
}

/// The CUDA limits on grid dimensions y and z (x allows 2^31 - 1).
constexpr int64_t kMaxGridYZ = 65535;

Status checkGrid(const Manifest &m, const ProblemSizes &s) {
  if (s.batch > kMaxGridYZ)
    return Status::error("batch B = " + std::to_string(s.batch) +
                         " exceeds the CUDA grid limit of 65535 (gridDim.z)");
  if (s.headsQ > kMaxGridYZ)
    return Status::error("query heads Hq = " + std::to_string(s.headsQ) +
                         " exceed the CUDA grid limit of 65535 (gridDim.y)");
  for (const KernelSpec &k : m.kernels) {
    int64_t n = k.grid == GridKind::QueryBlocks ? s.seqQ : s.seqK;
    int64_t tile = k.grid == GridKind::QueryBlocks ? k.blockQ : k.blockK;
    // ceil(n / tile) without the n + tile - 1 that overflows for n near
    // INT64_MAX (n >= 1 and 1 <= tile <= 1024 here).
    int64_t blocks = n / tile + (n % tile != 0);
    if (blocks > std::numeric_limits<int32_t>::max())
      return Status::error(
          std::string(kernelKindName(k.kind)) + ": " +
          (k.grid == GridKind::QueryBlocks ? "query length Nq = "
                                           : "key length Nk = ") +
          std::to_string(n) + " needs " + std::to_string(blocks) + " blocks of " +
          std::to_string(tile) + ", more than the 2^31 - 1 of gridDim.x");
  }
  return Status::success();
}

/// Outputs must not share a byte with any other argument, nor with
/// themselves (a broadcast stride would make CTAs race).
Status checkNoOverlap(const std::vector<Expected> &tensors,
                      const std::vector<const char *> &outputs) {
  auto isOutput = [&](const char *name) {
    for (const char *o : outputs)
      if (std::string(o) == name)
        return true;
    return false;
  };
  for (const Expected &out : tensors) {
    if (!isOutput(out.name))
      continue;
    if (hasInternalOverlap(*out.ref))
      return Status::error(std::string(out.name) +
                           ": an output whose elements overlap each other "
                           "(sizes " +
                           list(out.ref->sizes, out.ref->rank) + ", strides " +
                           list(out.ref->strides, out.ref->rank) +
                           "): each element must have its own memory");
    for (const Expected &other : tensors) {
      if (&other == &out || (isOutput(other.name) && &other < &out))
        continue;
      if (mayOverlap(*out.ref, *other.ref))
        return Status::error(std::string(out.name) + " (an output, at " +
                             hex(out.ref->data) + ") overlaps " + other.name +
                             " (at " + hex(other.ref->data) + ")");
    }
  }
  return Status::success();
}

Status checkSeqLens(const char *name, bool taken, const HostArray<int32_t> &a,
                    int64_t batch, int64_t length, const char *lengthName) {
  std::string n = name;
  if (!taken) {
    if (a.present())
      return Status::error(n + ": the kernels were compiled without " + n +
                           "; pass none");
    return Status::success();
  }
  if (!a.present())
    return Status::error(n + ": the kernels take per-batch lengths (spec "
                         "clause " +
                         n + "); pass B = " + std::to_string(batch) +
                         " values");
  if (a.size != batch)
    return Status::error(n + ": expected B = " + std::to_string(batch) +
                         " values, got " + std::to_string(a.size));
  for (int64_t b = 0; b < a.size; ++b)
    if (a.data[b] < 0 || a.data[b] > length)
      return Status::error(n + "[" + std::to_string(b) + "] = " +
                           std::to_string(a.data[b]) + " is outside [0, " +
                           lengthName + " = " + std::to_string(length) + "]");
  return Status::success();
}

Status checkLayout(const Manifest &m, const DenseLayoutView &layout,
                   const ProblemSizes &s) {
  if (!m.hasLayout()) {
    if (layout.data)
      return Status::error("layout: the kernels were compiled without a "
                           "block-sparsity layout; pass none");
    return Status::success();
  }
  if (!layout.data)
    return Status::error(
        "layout: the kernels take a block-sparsity layout of [" +
        std::to_string(m.layoutBlock->first) + ", " +
        std::to_string(m.layoutBlock->second) +
        "] blocks; pass a dense layout [1 or B, 1 or Hq, ceil(Nq / " +
        std::to_string(m.layoutBlock->first) + "), ceil(Nk / " +
        std::to_string(m.layoutBlock->second) + ")]");
  LayoutProblem p;
  p.batch = s.batch;
  p.headsQ = s.headsQ;
  p.seqQ = s.seqQ;
  p.seqK = s.seqK;
  p.blockQ = m.layoutBlock->first;
  p.blockK = m.layoutBlock->second;
  return checkLayoutShape(layout, p);
}

Status checkDropout(const Manifest &m, const std::optional<uint64_t> &seed,
                    const std::optional<uint64_t> &offset) {
  if (!m.hasDropout() && (seed || offset))
    return Status::error(std::string(seed ? "seed" : "offset") +
                         ": the kernels have no dropout (dropout_p = 0); pass "
                         "no seed or offset");
  return Status::success();
}

/// Sizes read from q, k and v, after each passed checkTensorAlone.
ProblemSizes sizesOf(const TensorRef &q, const TensorRef &k,
                     const TensorRef &v) {
  ProblemSizes s;
  s.batch = q.sizes[0];
  s.headsQ = q.sizes[1];
  s.seqQ = q.sizes[2];
  s.headDim = q.sizes[3];
  s.headsKV = k.sizes[1];
  s.seqK = k.sizes[2];
  s.headDimV = v.sizes[3];
  return s;
}

/// Runs every check shared by both passes on \p tensors (q, k, v first).
Status checkCommon(const Manifest &m, std::vector<Expected> &tensors,
                   const std::vector<const char *> &outputs,
                   ProblemSizes &sizes) {
  for (const Expected &e : tensors) {
    std::string shape = "[";
    for (int i = 0; i < e.rank; ++i)
      shape += std::string(i ? ", " : "") + e.dimNames[i];
    shape += "]";
    if (Status s = checkTensorAlone(e.name, *e.ref, e.dtype, e.rank,
                                    shape.c_str());
        !s)
      return s;
  }
  sizes = sizesOf(*tensors[0].ref, *tensors[1].ref, *tensors[2].ref);
  if (Status s = checkSizes(m, sizes); !s)
    return s;
  const ProblemSizes &z = sizes;
  for (Expected &e : tensors) {
    for (int d = 0; d < e.rank; ++d) {
      std::string dim = e.dimNames[d];
      e.dims[d] = dim == "B"     ? z.batch
                  : dim == "Hq"  ? z.headsQ
                  : dim == "Hkv" ? z.headsKV
                  : dim == "Nq"  ? z.seqQ
                  : dim == "Nk"  ? z.seqK
                  : dim == "D"   ? z.headDim
                                 : z.headDimV;
    }
    if (Status s = checkShape(e); !s)
      return s;
  }
  if (Status s = checkGrid(m, sizes); !s)
    return s;
  return checkNoOverlap(tensors, outputs);
}

Expected rank4(const char *name, const TensorRef &t, DType dtype,
               const char *heads, const char *seq, const char *dim) {
  Expected e{name, &t, dtype, 4, {"B", heads, seq, dim}, {}, "q, k and v"};
  return e;
}

Expected rank3(const char *name, const TensorRef &t) {
  Expected e{name, &t, DType::F32, 3, {"B", "Hq", "Nq"}, {}, "q"};
  return e;
}

} // namespace

Status validateForward(const Manifest &m, const ForwardArgs &a,
                       ProblemSizes &sizes) {
  sizes = ProblemSizes();
  if (!m.hasForward())
    return Status::error("forward: this kernel directory has no fwd kernel "
                         "(it was compiled from a gradient spec)");
  DType t = m.elementType;
  std::vector<Expected> tensors = {
      rank4("q", a.q, t, "Hq", "Nq", "D"), rank4("k", a.k, t, "Hkv", "Nk", "D"),
      rank4("v", a.v, t, "Hkv", "Nk", "Dv"),
      rank4("o", a.o, t, "Hq", "Nq", "Dv"), rank3("lse", a.lse)};
  ProblemSizes s;
  FLASHC_TRY(checkCommon(m, tensors, {"o", "lse"}, s));
  FLASHC_TRY(
      checkSeqLens("seqlens_q", m.seqLensQ, a.seqLensQ, s.batch, s.seqQ, "Nq"));
  FLASHC_TRY(
      checkSeqLens("seqlens_k", m.seqLensK, a.seqLensK, s.batch, s.seqK, "Nk"));
  FLASHC_TRY(checkLayout(m, a.layout, s));
  FLASHC_TRY(checkDropout(m, a.seed, a.offset));
  sizes = s;
  return Status::success();
}

Status validateBackward(const Manifest &m, const BackwardArgs &a,
                        ProblemSizes &sizes) {
  sizes = ProblemSizes();
  if (!m.hasBackward())
    return Status::error("backward: this kernel directory has no backward "
                         "kernels (compile an attn.attention_grad spec)");
  DType t = m.elementType;
  std::vector<Expected> tensors = {
      rank4("q", a.q, t, "Hq", "Nq", "D"),
      rank4("k", a.k, t, "Hkv", "Nk", "D"),
      rank4("v", a.v, t, "Hkv", "Nk", "Dv"),
      rank4("o", a.o, t, "Hq", "Nq", "Dv"),
      rank3("lse", a.lse),
      rank4("dout", a.dout, t, "Hq", "Nq", "Dv"),
      rank4("dq", a.dq, t, "Hq", "Nq", "D"),
      rank4("dk", a.dk, t, "Hkv", "Nk", "D"),
      rank4("dv", a.dv, t, "Hkv", "Nk", "Dv")};
  std::vector<const char *> outputs = {"dq", "dk", "dv"};
  if (a.delta.present()) {
    tensors.push_back(rank3("delta", a.delta));
    outputs.push_back("delta");
  }
  ProblemSizes s;
  FLASHC_TRY(checkCommon(m, tensors, outputs, s));
  FLASHC_TRY(
      checkSeqLens("seqlens_q", m.seqLensQ, a.seqLensQ, s.batch, s.seqQ, "Nq"));
  FLASHC_TRY(
      checkSeqLens("seqlens_k", m.seqLensK, a.seqLensK, s.batch, s.seqK, "Nk"));
  FLASHC_TRY(checkLayout(m, a.layout, s));
  FLASHC_TRY(checkDropout(m, a.seed, a.offset));
  sizes = s;
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Overlap
//===----------------------------------------------------------------------===//

bool hasInternalOverlap(const TensorRef &t) {
  if (t.rank < 1)
    return false;
  // Rows of the contiguous last dimension, then every other dimension of
  // size > 1 in increasing stride: each must step past all before it.
  std::vector<std::pair<int64_t, int64_t>> dims; // (stride, size)
  for (int d = 0; d + 1 < t.rank; ++d)
    if (t.sizes[d] > 1)
      dims.push_back({t.strides[d], t.sizes[d]});
  std::sort(dims.begin(), dims.end());
  int64_t extent = t.sizes[t.rank - 1] * t.strides[t.rank - 1];
  if (t.sizes[t.rank - 1] > 1 && t.strides[t.rank - 1] == 0)
    return true;
  for (auto [stride, size] : dims) {
    if (stride < extent)
      return true;
    extent = stride * (size - 1) + extent;
  }
  return false;
}

namespace {
/// Searches for integers x_m in [0, max_m] with L < sum(c_m x_m) < U.
struct OverlapSearch {
  std::vector<int64_t> coef, max;
  std::vector<int64_t> restMin, restMax; // of terms m.. end
  int64_t lo = 0, hi = 0;
  int64_t budget = 100000;

  static int64_t floorDiv(int64_t a, int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
  }
  static int64_t ceilDiv(int64_t a, int64_t b) { return -floorDiv(-a, b); }

  bool run() {
    size_t n = coef.size();
    restMin.assign(n + 1, 0);
    restMax.assign(n + 1, 0);
    for (size_t m = n; m-- > 0;) {
      int64_t a = 0, b = coef[m] * max[m];
      restMin[m] = restMin[m + 1] + std::min(a, b);
      restMax[m] = restMax[m + 1] + std::max(a, b);
    }
    return search(0, 0);
  }

  bool search(size_t m, int64_t partial) {
    if (--budget < 0)
      return true; // too hard to decide: say it may overlap
    if (partial + restMax[m] <= lo || partial + restMin[m] >= hi)
      return false;
    if (m == coef.size())
      return true;
    // Only the x that can still land in the window given the rest.
    int64_t c = coef[m], xLow, xHigh;
    if (c > 0) {
      xLow = floorDiv(lo - partial - restMax[m + 1], c) + 1;
      xHigh = ceilDiv(hi - partial - restMin[m + 1], c) - 1;
    } else {
      xLow = floorDiv(partial + restMin[m + 1] - hi, -c) + 1;
      xHigh = ceilDiv(partial + restMax[m + 1] - lo, -c) - 1;
    }
    for (int64_t x = std::max<int64_t>(xLow, 0),
                 end = std::min(xHigh, max[m]);
         x <= end; ++x) {
      if (search(m + 1, partial + c * x))
        return true;
      if (budget < 0)
        return true;
    }
    return false;
  }
};
} // namespace

bool mayOverlap(const TensorRef &a, const TensorRef &b) {
  int64_t aBegin = static_cast<int64_t>(a.data);
  int64_t bBegin = static_cast<int64_t>(b.data);
  if (aBegin + spanBytes(a) <= bBegin || bBegin + spanBytes(b) <= aBegin)
    return false;
  // a's rows are [aBegin + X, aBegin + X + wa) with X = sum(i_d sa_d); b's
  // likewise. They meet iff bBegin - aBegin - wa < X - Y < bBegin - aBegin + wb.
  int64_t ea = dtypeSize(a.dtype), eb = dtypeSize(b.dtype);
  int64_t wa = a.sizes[a.rank - 1] * ea, wb = b.sizes[b.rank - 1] * eb;
  OverlapSearch s;
  std::vector<std::pair<int64_t, int64_t>> terms;
  for (int d = 0; d + 1 < a.rank; ++d)
    if (a.sizes[d] > 1 && a.strides[d] != 0)
      terms.push_back({a.strides[d] * ea, a.sizes[d] - 1});
  for (int d = 0; d + 1 < b.rank; ++d)
    if (b.sizes[d] > 1 && b.strides[d] != 0)
      terms.push_back({-b.strides[d] * eb, b.sizes[d] - 1});
  // Largest steps first: the pruning bounds then cut the search early.
  std::sort(terms.begin(), terms.end(), [](auto x, auto y) {
    return std::llabs(x.first) > std::llabs(y.first);
  });
  for (auto [c, m] : terms) {
    s.coef.push_back(c);
    s.max.push_back(m);
  }
  s.lo = bBegin - aBegin - wa;
  s.hi = bBegin - aBegin + wb;
  return s.run();
}

} // namespace flashc::runtime
