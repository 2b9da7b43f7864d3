//===- LaunchPlan.h - validated arguments to kernel launches ----*- C++ -*-===//
//
// After validation, a call becomes launches: the host-side arrays (sequence
// lengths, the layout's compressed lists) are packed into one upload, every
// argument role is bound to a memref descriptor or an i64, and each kernel's
// parameters are packed in the order of its manifest entry. All of it is
// pure (device addresses come in as numbers), so tests check the exact
// parameter words without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_RUNTIME_LAUNCHPLAN_H
#define FLASHC_RUNTIME_LAUNCHPLAN_H

#include "runtime/Arguments.h"
#include "runtime/BlockLayout.h"
#include "runtime/Manifest.h"

#include <array>
#include <cstdint>
#include <vector>

namespace flashc::runtime {

/// The fields of an MLIR memref descriptor. Kernels receive each field as
/// one 8-byte parameter: allocated, aligned, offset, sizes..., strides...
struct MemRefDescriptor {
  uint64_t allocated = 0;
  uint64_t aligned = 0;
  int64_t offset = 0;
  int rank = 0;
  int64_t sizes[4] = {0, 0, 0, 0};
  int64_t strides[4] = {0, 0, 0, 0};

  /// The descriptor of \p t: both pointers are t.data, offset 0.
  static MemRefDescriptor of(const TensorRef &t);
  /// A contiguous i32 array of \p sizes at \p data.
  static MemRefDescriptor i32Array(uint64_t data,
                                   std::initializer_list<int64_t> sizes);
};

/// Every role bound to its value for one call.
struct BoundArgs {
  static constexpr int kNumRoles = static_cast<int>(ArgRole::Offset) + 1;
  std::array<MemRefDescriptor, kNumRoles> memrefs{};
  std::array<bool, kNumRoles> bound{};
  int64_t seed = 0, offset = 0;

  void bind(ArgRole role, const MemRefDescriptor &d) {
    memrefs[static_cast<int>(role)] = d;
    bound[static_cast<int>(role)] = true;
  }
  void bindScalar(ArgRole role, int64_t value);
  bool isBound(ArgRole role) const { return bound[static_cast<int>(role)]; }
};

/// A kernel's parameters in cuLaunchKernel's form: `pointers()` is the
/// kernelParams array, each entry pointing at one 8-byte word.
class ParamBuffer {
public:
  const std::vector<uint64_t> &words() const { return values; }
  void **pointers();
  void push(uint64_t word) { values.push_back(word); }

private:
  std::vector<uint64_t> values;
  std::vector<void *> ptrs;
};

/// Packs the parameters of \p kernel from \p args in the order of
/// kernel.args; fails if a role it takes is not bound.
Status packParams(const KernelSpec &kernel, const BoundArgs &args,
                  ParamBuffer &out);

/// Grid, block and dynamic shared memory of one launch.
struct LaunchDims {
  unsigned grid[3] = {1, 1, 1};
  unsigned block[3] = {1, 1, 1};
  unsigned sharedBytes = 0;
};

/// The launch dimensions of \p kernel for a call of \p sizes.
LaunchDims launchDims(const KernelSpec &kernel, const ProblemSizes &sizes);

/// The host data one call uploads, packed into one buffer: each piece
/// starts 16-byte aligned at the recorded byte offset (-1: absent).
struct Uploads {
  std::vector<uint8_t> bytes;
  int64_t seqLensQ = -1, seqLensK = -1;
  /// Row lists (forward, dQ) and column lists (dK and dV).
  int64_t rowOffsets = -1, rowBlocks = -1, colOffsets = -1, colBlocks = -1;
  BlockLists rows, cols;

  bool empty() const { return bytes.empty(); }
};

/// Builds the uploads of a call: the sequence lengths the manifest takes,
/// and, with a layout, its row lists (and with \p transposed its column
/// lists too). Arguments must have been validated.
Status buildUploads(const Manifest &manifest, const HostArray<int32_t> &seqQ,
                    const HostArray<int32_t> &seqK,
                    const DenseLayoutView &layout, bool transposed,
                    Uploads &out);

/// Binds the roles of a forward call: tensors from \p args, host arrays to
/// their place in the upload at device address \p uploadBase.
BoundArgs bindForward(const Manifest &manifest, const ForwardArgs &args,
                      const ProblemSizes &sizes, const Uploads &uploads,
                      uint64_t uploadBase);

/// Likewise for a backward call; \p delta is the delta tensor to use (the
/// caller's or the runtime's scratch), \p dqAccum the f32 [B, Hq, Nq, D]
/// scratch the kernels sum dQ in (absent for a deterministic directory). The layout roles are bound to the row
/// lists; `bwd_dkdv` gets the column lists through bindColumnLayout.
BoundArgs bindBackward(const Manifest &manifest, const BackwardArgs &args,
                       const TensorRef &delta, const TensorRef &dqAccum,
                       const ProblemSizes &sizes, const Uploads &uploads,
                       uint64_t uploadBase);

/// Rebinds the layout roles of \p args to the column lists (for bwd_dkdv).
void bindColumnLayout(BoundArgs &args, const Uploads &uploads,
                      uint64_t uploadBase);

} // namespace flashc::runtime

#endif // FLASHC_RUNTIME_LAUNCHPLAN_H
