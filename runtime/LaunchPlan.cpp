//===- LaunchPlan.cpp - validated arguments to kernel launches ------------===//

#include "runtime/LaunchPlan.h"

#include "runtime/Status.h"

#include <cstring>

namespace flashc::runtime {

MemRefDescriptor MemRefDescriptor::of(const TensorRef &t) {
  MemRefDescriptor d;
  d.allocated = d.aligned = t.data;
  d.offset = 0;
  d.rank = t.rank;
  for (int i = 0; i < t.rank; ++i) {
    d.sizes[i] = t.sizes[i];
    d.strides[i] = t.strides[i];
  }
  return d;
}

MemRefDescriptor MemRefDescriptor::i32Array(
    uint64_t data, std::initializer_list<int64_t> sizes) {
  return of(TensorRef::contiguous(data, DType::I32, sizes));
}

void BoundArgs::bindScalar(ArgRole role, int64_t value) {
  (role == ArgRole::Seed ? seed : offset) = value;
  bound[static_cast<int>(role)] = true;
}

void **ParamBuffer::pointers() {
  ptrs.clear();
  for (uint64_t &v : values)
    ptrs.push_back(&v);
  return ptrs.data();
}

Status packParams(const KernelSpec &kernel, const BoundArgs &args,
                  ParamBuffer &out) {
  out = ParamBuffer();
  for (ArgRole role : kernel.args) {
    if (!args.isBound(role))
      return Status::error(std::string(kernelKindName(kernel.kind)) +
                           ": argument " + argRoleName(role) +
                           " is not bound (internal error)");
    if (role == ArgRole::Seed || role == ArgRole::Offset) {
      out.push(static_cast<uint64_t>(role == ArgRole::Seed ? args.seed
                                                           : args.offset));
      continue;
    }
    const MemRefDescriptor &d = args.memrefs[static_cast<int>(role)];
    if (d.rank != argRoleRank(role))
      return Status::error(std::string(kernelKindName(kernel.kind)) +
                           ": argument " + argRoleName(role) + " has rank " +
                           std::to_string(d.rank) + ", the ABI says " +
                           std::to_string(argRoleRank(role)) +
                           " (internal error)");
    out.push(d.allocated);
    out.push(d.aligned);
    out.push(static_cast<uint64_t>(d.offset));
    for (int i = 0; i < d.rank; ++i)
      out.push(static_cast<uint64_t>(d.sizes[i]));
    for (int i = 0; i < d.rank; ++i)
      out.push(static_cast<uint64_t>(d.strides[i]));
  }
  return Status::success();
}

LaunchDims launchDims(const KernelSpec &kernel, const ProblemSizes &s) {
  LaunchDims l;
  bool byQuery = kernel.grid == GridKind::QueryBlocks;
  int64_t n = byQuery ? s.seqQ : s.seqK;
  int64_t tile = byQuery ? kernel.blockQ : kernel.blockK;
  l.grid[0] = static_cast<unsigned>((n + tile - 1) / tile);
  l.grid[1] = static_cast<unsigned>(byQuery ? s.headsQ : s.headsKV);
  l.grid[2] = static_cast<unsigned>(s.batch);
  l.block[0] = static_cast<unsigned>(kernel.threads);
  l.sharedBytes = static_cast<unsigned>(kernel.sharedBytes);
  return l;
}

namespace {
/// Appends \p count int32 values at a 16-byte aligned offset; returns it.
int64_t append(std::vector<uint8_t> &bytes, const int32_t *data,
               size_t count) {
  size_t offset = (bytes.size() + 15) / 16 * 16;
  bytes.resize(offset + count * sizeof(int32_t));
  if (count)
    std::memcpy(bytes.data() + offset, data, count * sizeof(int32_t));
  return static_cast<int64_t>(offset);
}
} // namespace

Status buildUploads(const Manifest &m, const HostArray<int32_t> &seqQ,
                    const HostArray<int32_t> &seqK,
                    const DenseLayoutView &layout, bool transposed,
                    Uploads &out) {
  out = Uploads();
  Uploads u;
  if (m.seqLensQ)
    u.seqLensQ = append(u.bytes, seqQ.data, static_cast<size_t>(seqQ.size));
  if (m.seqLensK)
    u.seqLensK = append(u.bytes, seqK.data, static_cast<size_t>(seqK.size));
  if (m.hasLayout()) {
    FLASHC_TRY(buildRowLists(layout, u.rows));
    u.rowOffsets = append(u.bytes, u.rows.offsets.data(), u.rows.offsets.size());
    u.rowBlocks = append(u.bytes, u.rows.blocks.data(), u.rows.blocks.size());
    if (transposed) {
      FLASHC_TRY(buildColumnLists(layout, u.cols));
      u.colOffsets =
          append(u.bytes, u.cols.offsets.data(), u.cols.offsets.size());
      u.colBlocks = append(u.bytes, u.cols.blocks.data(), u.cols.blocks.size());
    }
  }
  out = std::move(u);
  return Status::success();
}

namespace {
/// Binds what forward and backward share: sequence lengths, the row lists
/// and the dropout key.
void bindCommon(const Manifest &m, BoundArgs &b, const ProblemSizes &s,
                const Uploads &u, uint64_t base,
                const std::optional<uint64_t> &seed,
                const std::optional<uint64_t> &offset) {
  if (m.seqLensQ)
    b.bind(ArgRole::SeqLensQ,
           MemRefDescriptor::i32Array(base + u.seqLensQ, {s.batch}));
  if (m.seqLensK)
    b.bind(ArgRole::SeqLensK,
           MemRefDescriptor::i32Array(base + u.seqLensK, {s.batch}));
  if (m.hasLayout()) {
    b.bind(ArgRole::LayoutOffsets,
           MemRefDescriptor::i32Array(base + u.rowOffsets,
                                      {u.rows.batch, u.rows.heads,
                                       u.rows.numLists() + 1}));
    b.bind(ArgRole::LayoutBlocks,
           MemRefDescriptor::i32Array(base + u.rowBlocks,
                                      {u.rows.numKept()}));
  }
  if (m.hasDropout()) {
    b.bindScalar(ArgRole::Seed, static_cast<int64_t>(seed.value_or(m.dropoutSeed)));
    b.bindScalar(ArgRole::Offset, static_cast<int64_t>(offset.value_or(0)));
  }
}
} // namespace

BoundArgs bindForward(const Manifest &m, const ForwardArgs &a,
                      const ProblemSizes &s, const Uploads &u,
                      uint64_t base) {
  BoundArgs b;
  b.bind(ArgRole::Q, MemRefDescriptor::of(a.q));
  b.bind(ArgRole::K, MemRefDescriptor::of(a.k));
  b.bind(ArgRole::V, MemRefDescriptor::of(a.v));
  b.bind(ArgRole::O, MemRefDescriptor::of(a.o));
  b.bind(ArgRole::Lse, MemRefDescriptor::of(a.lse));
  bindCommon(m, b, s, u, base, a.seed, a.offset);
  return b;
}

BoundArgs bindBackward(const Manifest &m, const BackwardArgs &a,
                       const TensorRef &delta, const TensorRef &dqAccum,
                       const ProblemSizes &s, const Uploads &u,
                       uint64_t base) {
  BoundArgs b;
  b.bind(ArgRole::Q, MemRefDescriptor::of(a.q));
  b.bind(ArgRole::K, MemRefDescriptor::of(a.k));
  b.bind(ArgRole::V, MemRefDescriptor::of(a.v));
  b.bind(ArgRole::O, MemRefDescriptor::of(a.o));
  b.bind(ArgRole::Lse, MemRefDescriptor::of(a.lse));
  b.bind(ArgRole::DOut, MemRefDescriptor::of(a.dout));
  b.bind(ArgRole::Delta, MemRefDescriptor::of(delta));
  b.bind(ArgRole::DQ, MemRefDescriptor::of(a.dq));
  b.bind(ArgRole::DK, MemRefDescriptor::of(a.dk));
  b.bind(ArgRole::DV, MemRefDescriptor::of(a.dv));
  if (dqAccum.present())
    b.bind(ArgRole::DQAccum, MemRefDescriptor::of(dqAccum));
  bindCommon(m, b, s, u, base, a.seed, a.offset);
  return b;
}

void bindColumnLayout(BoundArgs &b, const Uploads &u, uint64_t base) {
  if (u.colOffsets < 0)
    return;
  b.bind(ArgRole::LayoutOffsets,
         MemRefDescriptor::i32Array(base + u.colOffsets,
                                    {u.cols.batch, u.cols.heads,
                                     u.cols.numLists() + 1}));
  b.bind(ArgRole::LayoutBlocks,
         MemRefDescriptor::i32Array(base + u.colBlocks, {u.cols.numKept()}));
}

} // namespace flashc::runtime
