//===- CApi.cpp - C interface of the flashc runtime -----------------------===//

#include "runtime/flashc_runtime.h"
#include "runtime/Runtime.h"

#include <cstring>
#include <new>

using namespace flashc::runtime;

struct flashc_kernels {
  std::unique_ptr<KernelDirectory> directory;
};

namespace {

thread_local std::string lastError;

int fail(const Status &s) {
  lastError = s.message();
  return 1;
}

Status toTensor(const char *name, const flashc_tensor &in, TensorRef &out) {
  out = TensorRef();
  if (in.data == 0)
    return Status::success();
  switch (in.dtype) {
  case FLASHC_F16:
    out.dtype = DType::F16;
    break;
  case FLASHC_BF16:
    out.dtype = DType::BF16;
    break;
  case FLASHC_F32:
    out.dtype = DType::F32;
    break;
  default:
    return Status::error(std::string(name) + ": unknown dtype code " +
                         std::to_string(in.dtype) +
                         " (0 = f16, 1 = bf16, 2 = f32)");
  }
  if (in.rank < 1 || in.rank > 4)
    return Status::error(std::string(name) + ": rank " +
                         std::to_string(in.rank) + " is not in [1, 4]");
  out.data = in.data;
  out.rank = in.rank;
  for (int d = 0; d < in.rank; ++d) {
    out.sizes[d] = in.sizes[d];
    out.strides[d] = in.strides[d];
  }
  return Status::success();
}

DenseLayoutView toLayout(const flashc_layout &in) {
  DenseLayoutView v;
  if (!in.data)
    return v;
  v.data = in.data;
  v.elementType = LayoutElementType::UInt8;
  v.batch = in.sizes[0];
  v.heads = in.sizes[1];
  v.rows = in.sizes[2];
  v.cols = in.sizes[3];
  v.numElements = v.batch * v.heads * v.rows * v.cols;
  return v;
}

template <typename Args>
void commonArgs(const Args &in, HostArray<int32_t> &seqQ,
                HostArray<int32_t> &seqK, DenseLayoutView &layout,
                std::optional<uint64_t> &seed,
                std::optional<uint64_t> &offset) {
  seqQ = {in.seqlens_q, in.num_seqlens_q};
  seqK = {in.seqlens_k, in.num_seqlens_k};
  layout = toLayout(in.layout);
  if (in.has_seed)
    seed = in.seed;
  if (in.has_offset)
    offset = in.offset;
}

} // namespace

extern "C" {

flashc_kernels *flashc_load(const char *directory) {
  if (!directory) {
    fail(Status::error("flashc_load: directory is NULL"));
    return nullptr;
  }
  std::unique_ptr<KernelDirectory> kd;
  if (Status s = KernelDirectory::load(directory, nullptr, kd); !s) {
    fail(s);
    return nullptr;
  }
  auto *h = new (std::nothrow) flashc_kernels();
  if (!h) {
    fail(Status::error("flashc_load: out of memory"));
    return nullptr;
  }
  h->directory = std::move(kd);
  return h;
}

void flashc_unload(flashc_kernels *kernels) { delete kernels; }

int flashc_forward(flashc_kernels *kernels, const flashc_forward_args *in,
                   void *stream) {
  if (!kernels || !in)
    return fail(Status::error("flashc_forward: NULL handle or arguments"));
  ForwardArgs a;
  const std::pair<const char *, std::pair<const flashc_tensor *, TensorRef *>>
      tensors[] = {{"q", {&in->q, &a.q}},
                   {"k", {&in->k, &a.k}},
                   {"v", {&in->v, &a.v}},
                   {"o", {&in->o, &a.o}},
                   {"lse", {&in->lse, &a.lse}}};
  for (const auto &[name, t] : tensors)
    if (Status s = toTensor(name, *t.first, *t.second); !s)
      return fail(s);
  commonArgs(*in, a.seqLensQ, a.seqLensK, a.layout, a.seed, a.offset);
  if (Status s = kernels->directory->forward(a, static_cast<CUstream>(stream));
      !s)
    return fail(s);
  return 0;
}

int flashc_backward(flashc_kernels *kernels, const flashc_backward_args *in,
                    void *stream) {
  if (!kernels || !in)
    return fail(Status::error("flashc_backward: NULL handle or arguments"));
  BackwardArgs a;
  const std::pair<const char *, std::pair<const flashc_tensor *, TensorRef *>>
      tensors[] = {{"q", {&in->q, &a.q}},       {"k", {&in->k, &a.k}},
                   {"v", {&in->v, &a.v}},       {"o", {&in->o, &a.o}},
                   {"lse", {&in->lse, &a.lse}}, {"dout", {&in->dout, &a.dout}},
                   {"dq", {&in->dq, &a.dq}},    {"dk", {&in->dk, &a.dk}},
                   {"dv", {&in->dv, &a.dv}},    {"delta", {&in->delta, &a.delta}}};
  for (const auto &[name, t] : tensors)
    if (Status s = toTensor(name, *t.first, *t.second); !s)
      return fail(s);
  commonArgs(*in, a.seqLensQ, a.seqLensK, a.layout, a.seed, a.offset);
  if (Status s =
          kernels->directory->backward(a, static_cast<CUstream>(stream));
      !s)
    return fail(s);
  return 0;
}

int flashc_kernel_stats_of(const flashc_kernels *kernels, const char *kind,
                           flashc_kernel_stats *out) {
  if (!kernels || !kind || !out)
    return fail(Status::error("flashc_kernel_stats_of: NULL argument"));
  for (KernelKind k : {KernelKind::Forward, KernelKind::BackwardPrep,
                       KernelKind::BackwardDkDv, KernelKind::BackwardDq}) {
    if (std::strcmp(kind, kernelKindName(k)) != 0)
      continue;
    const KernelStats *s = kernels->directory->stats(k);
    if (!s)
      return fail(Status::error(std::string("flashc_kernel_stats_of: the "
                                            "directory has no ") +
                                kind + " kernel"));
    out->registers = s->registers;
    out->local_bytes = s->localBytes;
    out->static_shared_bytes = s->staticSharedBytes;
    out->max_threads = s->maxThreads;
    out->from_cubin = s->loadedFrom == "cubin";
    return 0;
  }
  return fail(Status::error(std::string("flashc_kernel_stats_of: unknown "
                                        "kind \"") +
                            kind + "\" (fwd, bwd_prep, bwd_dkdv, bwd_dq)"));
}

int flashc_describe(const flashc_kernels *kernels, int32_t *dtype,
                    int64_t *headDim, int64_t *headDimV, int32_t *hasFwd,
                    int32_t *hasBwd) {
  if (!kernels)
    return fail(Status::error("flashc_describe: NULL handle"));
  const Manifest &m = kernels->directory->manifest();
  if (dtype)
    *dtype = m.elementType == DType::F16    ? FLASHC_F16
             : m.elementType == DType::BF16 ? FLASHC_BF16
                                            : FLASHC_F32;
  if (headDim)
    *headDim = m.headDim;
  if (headDimV)
    *headDimV = m.headDimV;
  if (hasFwd)
    *hasFwd = m.hasForward();
  if (hasBwd)
    *hasBwd = m.hasBackward();
  return 0;
}

const char *flashc_last_error(void) { return lastError.c_str(); }

} // extern "C"
