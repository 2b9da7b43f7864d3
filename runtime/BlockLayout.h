//===- BlockLayout.h - dense block layouts to kernel index lists -*- C++
//-*-===//
//
// A block-sparsity layout reaches flashc as a dense array
// [LB, LH, MQ, MK] (LB = 1 or B, LH = 1 or Hq, MQ = ceil(Nq / bq),
// MK = ceil(Nk / bk); a nonzero entry keeps the block). Kernels do not scan
// that array: they iterate compressed lists (passes/KernelABI.h):
//
//   row form        offsets [LB, LH, MQ + 1] i32, blocks [nnz] i32: for slab
//                   (lb, lh) and layout row r, the kept columns are
//                   blocks[offsets[lb][lh][r] .. offsets[lb][lh][r + 1]), in
//                   increasing order (the forward pass and dQ);
//   transposed form offsets [LB, LH, MK + 1], blocks [nnz]: for each layout
//                   column, its kept rows (dK and dV).
//
// Offsets are absolute indices into the one blocks array of all slabs, so
// offsets[0][0][0] == 0 and each slab starts where the previous one ends.
//
// Plain C++17 with no MLIR, LLVM or CUDA dependency and no exceptions: this
// code also sits in the GPU runtime, and every failure is a returned Status
// whose message names the value at fault and what was expected.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_RUNTIME_BLOCKLAYOUT_H
#define FLASHC_RUNTIME_BLOCKLAYOUT_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace flashc::runtime {

/// Success, or an error message for the caller to print.
class Status {
public:
  static Status success() { return Status(); }
  static Status error(std::string message) {
    Status s;
    s.message_ = std::move(message);
    if (s.message_.empty())
      s.message_ = "unknown error";
    return s;
  }

  bool ok() const { return message_.empty(); }
  explicit operator bool() const { return ok(); }
  /// Empty on success.
  const std::string &message() const { return message_; }

private:
  std::string message_;
};

/// Element types a dense layout may have; any nonzero value keeps a block.
enum class LayoutElementType { UInt8, Int8, Int32 };

/// A read-only view of a dense row-major layout [LB, LH, MQ, MK].
struct DenseLayoutView {
  const void *data = nullptr;
  LayoutElementType elementType = LayoutElementType::UInt8;
  /// Number of elements behind `data`, checked against the shape.
  int64_t numElements = 0;
  int64_t batch = 0; ///< LB
  int64_t heads = 0; ///< LH
  int64_t rows = 0;  ///< MQ
  int64_t cols = 0;  ///< MK
};

/// Which compressed form a BlockLists holds.
enum class ListOrientation {
  /// One list per layout row (query block): the kept columns.
  Rows,
  /// One list per layout column (key block): the kept rows.
  Columns,
};

/// Compressed lists in the kernel ABI's form.
struct BlockLists {
  ListOrientation orientation = ListOrientation::Rows;
  int64_t batch = 0; ///< LB
  int64_t heads = 0; ///< LH
  int64_t rows = 0;  ///< MQ of the dense layout
  int64_t cols = 0;  ///< MK of the dense layout
  /// [LB, LH, numLists() + 1], absolute into `blocks`.
  std::vector<int32_t> offsets;
  /// The kept indices, increasing within each list.
  std::vector<int32_t> blocks;

  /// MQ for the row form, MK for the transposed form.
  int64_t numLists() const {
    return orientation == ListOrientation::Rows ? rows : cols;
  }
  /// The range of the other dimension: what `blocks` entries index.
  int64_t indexRange() const {
    return orientation == ListOrientation::Rows ? cols : rows;
  }
  int64_t numKept() const { return static_cast<int64_t>(blocks.size()); }
};

/// Sizes of the attention problem a layout belongs to.
struct LayoutProblem {
  int64_t batch = 0;  ///< B
  int64_t headsQ = 0; ///< Hq
  int64_t seqQ = 0;   ///< Nq
  int64_t seqK = 0;   ///< Nk
  int64_t blockQ = 0; ///< bq
  int64_t blockK = 0; ///< bk
};

/// Checks the shape of \p layout on its own: positive sizes whose product
/// equals numElements and fits the int32 indices of the lists, and non-null
/// data.
Status checkDenseLayout(const DenseLayoutView &layout);

/// Checks \p layout against \p problem: LB is 1 or B, LH is 1 or Hq,
/// MQ = ceil(Nq / bq), MK = ceil(Nk / bk). Implies checkDenseLayout.
Status checkLayoutShape(const DenseLayoutView &layout,
                        const LayoutProblem &problem);

/// Builds the row form of \p layout (offsets [LB, LH, MQ + 1]) into \p out.
/// On failure \p out is left empty.
Status buildRowLists(const DenseLayoutView &layout, BlockLists &out);

/// Builds the transposed form (offsets [LB, LH, MK + 1]) into \p out.
Status buildColumnLists(const DenseLayoutView &layout, BlockLists &out);

/// Checks that \p lists are well formed: offsets of the right length,
/// starting at 0, non-decreasing, ending at numKept(); indices in range and
/// strictly increasing within each list.
Status checkBlockLists(const BlockLists &lists);

/// Expands \p lists back to a dense [LB, LH, MQ, MK] layout of 0/1 bytes
/// (after checkBlockLists).
Status expandBlockLists(const BlockLists &lists, std::vector<uint8_t> &dense);

} // namespace flashc::runtime

#endif // FLASHC_RUNTIME_BLOCKLAYOUT_H
