//===- BlockLayout.cpp - dense block layouts to kernel index lists --------===//

#include "runtime/BlockLayout.h"

#include <limits>

namespace flashc::runtime {
namespace {

constexpr int64_t kMaxIndex = std::numeric_limits<int32_t>::max();

std::string shapeString(int64_t a, int64_t b, int64_t c, int64_t d) {
  return "[" + std::to_string(a) + ", " + std::to_string(b) + ", " +
         std::to_string(c) + ", " + std::to_string(d) + "]";
}

std::string shapeString(const DenseLayoutView &l) {
  return shapeString(l.batch, l.heads, l.rows, l.cols);
}

/// ceil(a / b) for a >= 0, b >= 1, without the a + b - 1 that overflows for
/// a near INT64_MAX.
int64_t ceilDiv(int64_t a, int64_t b) { return a / b + (a % b != 0); }

/// Whether element \p index of \p layout keeps its block.
bool isKept(const DenseLayoutView &layout, int64_t index) {
  switch (layout.elementType) {
  case LayoutElementType::UInt8:
    return static_cast<const uint8_t *>(layout.data)[index] != 0;
  case LayoutElementType::Int8:
    return static_cast<const int8_t *>(layout.data)[index] != 0;
  case LayoutElementType::Int32:
    return static_cast<const int32_t *>(layout.data)[index] != 0;
  }
  return false;
}

/// Builds either form: the lists run over `outer` (rows or columns) and hold
/// indices of `inner`; `stride*` place (outer, inner) in the dense array.
Status buildLists(const DenseLayoutView &layout, ListOrientation orientation,
                  BlockLists &out) {
  out = BlockLists();
  if (Status s = checkDenseLayout(layout); !s)
    return s;
  bool byRow = orientation == ListOrientation::Rows;
  int64_t outer = byRow ? layout.rows : layout.cols;
  int64_t inner = byRow ? layout.cols : layout.rows;
  int64_t outerStride = byRow ? layout.cols : 1;
  int64_t innerStride = byRow ? 1 : layout.cols;
  int64_t slabs = layout.batch * layout.heads;
  int64_t slabSize = layout.rows * layout.cols;

  BlockLists lists;
  lists.orientation = orientation;
  lists.batch = layout.batch;
  lists.heads = layout.heads;
  lists.rows = layout.rows;
  lists.cols = layout.cols;
  lists.offsets.reserve(static_cast<size_t>(slabs * (outer + 1)));
  for (int64_t slab = 0; slab < slabs; ++slab) {
    for (int64_t o = 0; o < outer; ++o) {
      lists.offsets.push_back(static_cast<int32_t>(lists.blocks.size()));
      int64_t base = slab * slabSize + o * outerStride;
      for (int64_t i = 0; i < inner; ++i)
        if (isKept(layout, base + i * innerStride))
          lists.blocks.push_back(static_cast<int32_t>(i));
    }
    // The closing offset of a slab equals the opening one of the next.
    lists.offsets.push_back(static_cast<int32_t>(lists.blocks.size()));
  }
  out = std::move(lists);
  return Status::success();
}

} // namespace

/// Checks that [lb, lh, mq, mk] are positive with a product that fits int32
/// indices, and returns that product in \p total.
static Status checkSizes(const char *what, int64_t lb, int64_t lh, int64_t mq,
                         int64_t mk, int64_t &total) {
  const std::pair<const char *, int64_t> dims[] = {
      {"LB", lb}, {"LH", lh}, {"MQ", mq}, {"MK", mk}};
  for (const auto &[name, size] : dims)
    if (size < 1)
      return Status::error(std::string(what) + ": size " + name +
                           " must be at least 1, got " + std::to_string(size) +
                           " (shape " + shapeString(lb, lh, mq, mk) + ")");
  // The product must fit the int32 offsets and indices of the lists. Each
  // factor is compared with what is left of the bound before multiplying, so
  // the product never exceeds 2^31 - 1 and cannot overflow.
  total = 1;
  for (const auto &[name, size] : dims) {
    if (size > kMaxIndex / total)
      return Status::error(std::string(what) + ": shape " +
                           shapeString(lb, lh, mq, mk) +
                           " has more than 2^31 - 1 entries, the most that "
                           "int32 block lists can index (the product passes "
                           "it at " + name + " = " + std::to_string(size) +
                           ")");
    total *= size;
  }
  return Status::success();
}

Status checkDenseLayout(const DenseLayoutView &layout) {
  int64_t total = 0;
  if (Status s = checkSizes("block layout", layout.batch, layout.heads,
                            layout.rows, layout.cols, total);
      !s)
    return s;
  if (layout.numElements != total)
    return Status::error("block layout: shape " + shapeString(layout) +
                         " needs " + std::to_string(total) + " elements, got " +
                         std::to_string(layout.numElements));
  if (!layout.data)
    return Status::error("block layout: data pointer is null");
  // The enum may hold any value a caller cast into it.
  if (layout.elementType != LayoutElementType::UInt8 &&
      layout.elementType != LayoutElementType::Int8 &&
      layout.elementType != LayoutElementType::Int32)
    return Status::error("block layout: unknown element type");
  return Status::success();
}

Status checkLayoutShape(const DenseLayoutView &layout,
                        const LayoutProblem &problem) {
  const std::pair<const char *, int64_t> sizes[] = {
      {"B", problem.batch}, {"Hq", problem.headsQ}, {"Nq", problem.seqQ},
      {"Nk", problem.seqK}, {"bq", problem.blockQ}, {"bk", problem.blockK}};
  for (const auto &[name, size] : sizes)
    if (size < 1)
      return Status::error(std::string("block layout: problem size ") + name +
                           " must be at least 1, got " + std::to_string(size));
  if (Status s = checkDenseLayout(layout); !s)
    return s;
  int64_t mq = ceilDiv(problem.seqQ, problem.blockQ);
  int64_t mk = ceilDiv(problem.seqK, problem.blockK);
  bool batchOk = layout.batch == 1 || layout.batch == problem.batch;
  bool headsOk = layout.heads == 1 || layout.heads == problem.headsQ;
  if (!batchOk || !headsOk || layout.rows != mq || layout.cols != mk)
    return Status::error(
        "block layout: shape " + shapeString(layout) +
        " does not match [1 or " + std::to_string(problem.batch) + ", 1 or " +
        std::to_string(problem.headsQ) + ", " + std::to_string(mq) + ", " +
        std::to_string(mk) + "] (B = " + std::to_string(problem.batch) +
        ", Hq = " + std::to_string(problem.headsQ) + ", ceil(Nq / bq) = ceil(" +
        std::to_string(problem.seqQ) + " / " + std::to_string(problem.blockQ) +
        "), ceil(Nk / bk) = ceil(" + std::to_string(problem.seqK) + " / " +
        std::to_string(problem.blockK) + "))");
  return Status::success();
}

Status buildRowLists(const DenseLayoutView &layout, BlockLists &out) {
  return buildLists(layout, ListOrientation::Rows, out);
}

Status buildColumnLists(const DenseLayoutView &layout, BlockLists &out) {
  return buildLists(layout, ListOrientation::Columns, out);
}

Status checkBlockLists(const BlockLists &lists) {
  int64_t total = 0;
  if (Status s = checkSizes("block lists", lists.batch, lists.heads, lists.rows,
                            lists.cols, total);
      !s)
    return s;

  int64_t numLists = lists.numLists();
  int64_t range = lists.indexRange();
  int64_t slabs = lists.batch * lists.heads;
  int64_t expected = slabs * (numLists + 1);
  if (static_cast<int64_t>(lists.offsets.size()) != expected)
    return Status::error(
        "block lists: offsets must have " + std::to_string(expected) +
        " entries ([" + std::to_string(lists.batch) + ", " +
        std::to_string(lists.heads) + ", " + std::to_string(numLists + 1) +
        "]), got " + std::to_string(lists.offsets.size()));
  if (lists.numKept() > total)
    return Status::error("block lists: " + std::to_string(lists.numKept()) +
                         " kept blocks is more than the layout has entries");
  int64_t previousEnd = 0;
  for (int64_t slab = 0; slab < slabs; ++slab) {
    const int32_t *off = lists.offsets.data() + slab * (numLists + 1);
    if (off[0] != previousEnd)
      return Status::error("block lists: slab " + std::to_string(slab) +
                           " starts at offset " + std::to_string(off[0]) +
                           ", expected " + std::to_string(previousEnd));
    for (int64_t l = 0; l < numLists; ++l) {
      int64_t begin = off[l], end = off[l + 1];
      if (end < begin || end > lists.numKept())
        return Status::error("block lists: list " + std::to_string(l) +
                             " of slab " + std::to_string(slab) +
                             " has offsets [" + std::to_string(begin) + ", " +
                             std::to_string(end) +
                             "): offsets must not decrease nor pass the " +
                             std::to_string(lists.numKept()) + " blocks");
      for (int64_t k = begin; k < end; ++k) {
        int32_t index = lists.blocks[static_cast<size_t>(k)];
        if (index < 0 || index >= range)
          return Status::error("block lists: index " + std::to_string(index) +
                               " at position " + std::to_string(k) +
                               " is outside [0, " + std::to_string(range) +
                               ")");
        if (k > begin && index <= lists.blocks[static_cast<size_t>(k - 1)])
          return Status::error(
              "block lists: indices of list " + std::to_string(l) +
              " of slab " + std::to_string(slab) +
              " are not strictly increasing at position " + std::to_string(k));
      }
    }
    previousEnd = off[numLists];
  }
  if (previousEnd != lists.numKept())
    return Status::error("block lists: the last offset is " +
                         std::to_string(previousEnd) + " but there are " +
                         std::to_string(lists.numKept()) + " blocks");
  return Status::success();
}

Status expandBlockLists(const BlockLists &lists, std::vector<uint8_t> &dense) {
  dense.clear();
  if (Status s = checkBlockLists(lists); !s)
    return s;
  bool byRow = lists.orientation == ListOrientation::Rows;
  int64_t numLists = lists.numLists();
  int64_t slabSize = lists.rows * lists.cols;
  dense.assign(static_cast<size_t>(lists.batch * lists.heads * slabSize), 0);
  for (int64_t slab = 0; slab < lists.batch * lists.heads; ++slab) {
    const int32_t *off = lists.offsets.data() + slab * (numLists + 1);
    for (int64_t l = 0; l < numLists; ++l)
      for (int64_t k = off[l]; k < off[l + 1]; ++k) {
        int64_t index = lists.blocks[static_cast<size_t>(k)];
        int64_t row = byRow ? l : index, col = byRow ? index : l;
        dense[static_cast<size_t>(slab * slabSize + row * lists.cols + col)] =
            1;
      }
  }
  return Status::success();
}

} // namespace flashc::runtime
