//===- Arguments.h - what a caller passes to the kernels --------*- C++ -*-===//
//
// Tensors live on the device and are described, not owned: a base pointer,
// an element type, sizes and strides in elements. Sequence lengths and the
// block layout are small and live on the host: the runtime checks every
// value and uploads them itself.
//
// validateForward / validateBackward are pure functions of the manifest and
// the arguments (no driver, no device memory is touched), so every check is
// unit-tested on a machine without a GPU; each failure names the argument,
// the dimension and the expected value.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_RUNTIME_ARGUMENTS_H
#define FLASHC_RUNTIME_ARGUMENTS_H

#include "runtime/BlockLayout.h"
#include "runtime/Manifest.h"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

namespace flashc::runtime {

/// A strided view of device memory. Element (i0, i1, ...) is at
/// data + sum(i_d * strides[d]) * dtypeSize(dtype) bytes.
struct TensorRef {
  /// Device address (a CUdeviceptr); 0 means "not given".
  uint64_t data = 0;
  DType dtype = DType::F16;
  /// 4 for Q, K, V, O, dO, dQ, dK, dV; 3 for LSE and delta.
  int rank = 0;
  int64_t sizes[4] = {0, 0, 0, 0};
  /// In elements, not bytes.
  int64_t strides[4] = {0, 0, 0, 0};

  bool present() const { return data != 0; }
  int64_t numElements() const;

  /// A row-major (contiguous) tensor of \p sizes.
  static TensorRef contiguous(uint64_t data, DType dtype,
                              std::initializer_list<int64_t> sizes);
};

/// A host array the caller keeps alive for the duration of the call.
template <typename T> struct HostArray {
  const T *data = nullptr;
  int64_t size = 0;
  bool present() const { return data != nullptr; }
};

/// Arguments of the forward pass: O, LSE = attention(Q, K, V).
struct ForwardArgs {
  TensorRef q;   ///< [B, Hq, Nq, D]
  TensorRef k;   ///< [B, Hkv, Nk, D]
  TensorRef v;   ///< [B, Hkv, Nk, Dv]
  TensorRef o;   ///< [B, Hq, Nq, Dv], written
  TensorRef lse; ///< [B, Hq, Nq] f32, written
  /// Per-batch valid lengths, B values in [0, N]; given iff the spec has
  /// seqlens_q / seqlens_k.
  HostArray<int32_t> seqLensQ, seqLensK;
  /// Dense block layout [1 or B, 1 or Hq, ceil(Nq / bq), ceil(Nk / bk)];
  /// given (data non-null) iff the spec has a layout.
  DenseLayoutView layout;
  /// Dropout key; only for specs with dropout. The seed defaults to the
  /// manifest's dropout_seed, the offset to 0.
  std::optional<uint64_t> seed, offset;
};

/// Arguments of the backward pass: dQ, dK, dV from Q, K, V, O, LSE, dO.
struct BackwardArgs {
  TensorRef q, k, v;
  TensorRef o;    ///< the forward's output [B, Hq, Nq, Dv]
  TensorRef lse;  ///< the forward's LSE [B, Hq, Nq] f32
  TensorRef dout; ///< [B, Hq, Nq, Dv]
  TensorRef dq;   ///< [B, Hq, Nq, D], written
  TensorRef dk;   ///< [B, Hkv, Nk, D], written
  TensorRef dv;   ///< [B, Hkv, Nk, Dv], written
  /// Scratch rowsum(dO * O) [B, Hq, Nq] f32; when not given the runtime
  /// allocates it (stream-ordered) for the call.
  TensorRef delta;
  HostArray<int32_t> seqLensQ, seqLensK;
  DenseLayoutView layout;
  std::optional<uint64_t> seed, offset;
};

/// The sizes of one call, read from the tensors.
struct ProblemSizes {
  int64_t batch = 0, headsQ = 0, headsKV = 0;
  int64_t seqQ = 0, seqK = 0, headDim = 0, headDimV = 0;
};

/// Checks \p args against \p manifest (see the file comment) and returns
/// the sizes of the call in \p sizes.
Status validateForward(const Manifest &manifest, const ForwardArgs &args,
                       ProblemSizes &sizes);
Status validateBackward(const Manifest &manifest, const BackwardArgs &args,
                        ProblemSizes &sizes);

/// Whether the byte ranges that \p a and \p b address may share a byte.
/// Exact for the strided views here (last dimension contiguous), except
/// that a search too large to finish answers true.
bool mayOverlap(const TensorRef &a, const TensorRef &b);

/// Whether two different indices of \p t address a common byte (e.g. a
/// stride of 0 on a dimension of size > 1). Conservative: strides must nest.
bool hasInternalOverlap(const TensorRef &t);

} // namespace flashc::runtime

#endif // FLASHC_RUNTIME_ARGUMENTS_H
