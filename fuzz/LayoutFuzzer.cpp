//===- LayoutFuzzer.cpp - fuzz-layout: runtime/BlockLayout on anything ----===//
//
// The runtime converts a caller's dense block layout into the kernels' index
// lists, and checks lists it is given; a kernel trusts what passes. Three
// modes, chosen by the input's last byte:
//
//   0  a dense layout of any shape and contents (and a buffer whose size may
//      not match the shape): building either list form must fail cleanly or
//      give lists that pass checkBlockLists and expand back to exactly the
//      layout's nonzero pattern;
//   1  arbitrary lists: checkBlockLists must never read out of bounds, and
//      lists it accepts must expand and rebuild to themselves;
//   2  checkLayoutShape on any problem sizes: when it accepts, the layout's
//      shape must really be [1 or B, 1 or Hq, ceil(Nq/bq), ceil(Nk/bk)].
//
// The buffer behind a view always holds numElements elements: a caller that
// lies about that is outside what a library can check.
//
//===----------------------------------------------------------------------===//

#include "runtime/BlockLayout.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

using namespace flashc::runtime;

namespace {

constexpr int64_t kMaxBuffer = 1 << 16;

[[noreturn]] void bug(const char *what, const Status &status = Status()) {
  std::fprintf(stderr, "==flashc-fuzz== BUG: %s %s\n", what,
               status.message().c_str());
  std::abort();
}

int64_t layoutDim(FuzzedDataProvider &in) {
  if (in.ConsumeIntegralInRange<int>(0, 9) < 8)
    return in.ConsumeIntegralInRange<int64_t>(1, 9);
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
  case 0:
    return 0;
  case 1:
    return -1;
  case 2:
    return std::numeric_limits<int64_t>::max();
  case 3:
    return std::numeric_limits<int64_t>::min();
  case 4:
    return int64_t(1) << 31;
  case 5:
    return 46341; // 46341^2 > 2^31
  case 6:
    return int64_t(1) << 32;
  default:
    return in.ConsumeIntegral<int64_t>();
  }
}

/// a * b * c * d when all are positive and the product is at most
/// kMaxBuffer, else -1.
int64_t product(int64_t a, int64_t b, int64_t c, int64_t d) {
  int64_t p = 1;
  for (int64_t x : {a, b, c, d}) {
    if (x < 1 || x > kMaxBuffer || p * x > kMaxBuffer)
      return -1;
    p *= x;
  }
  return p;
}

/// Storage for a dense layout whose view never points past its end.
struct DenseBuffer {
  std::vector<int32_t> words; // large enough for any element type
  DenseLayoutView view;
  std::vector<uint8_t> kept; // what a nonzero element means: 0 or 1
};

DenseBuffer makeDense(FuzzedDataProvider &in) {
  DenseBuffer buf;
  DenseLayoutView &v = buf.view;
  v.batch = layoutDim(in);
  v.heads = layoutDim(in);
  v.rows = layoutDim(in);
  v.cols = layoutDim(in);
  int typeChoice = in.ConsumeIntegralInRange<int>(0, 3);
  v.elementType = typeChoice == 3 ? static_cast<LayoutElementType>(
                                        in.ConsumeIntegralInRange<int>(3, 255))
                                  : static_cast<LayoutElementType>(typeChoice);
  int64_t total = product(v.batch, v.heads, v.rows, v.cols);
  int64_t count = total;
  if (total < 0 || in.ConsumeIntegralInRange<int>(0, 15) == 0)
    count = in.ConsumeIntegralInRange<int64_t>(0, 64);
  buf.words.assign(static_cast<size_t>(count) + 1, 0);
  buf.kept.assign(static_cast<size_t>(count), 0);
  for (int64_t i = 0; i < count; ++i) {
    // Sparse by default: the fuzzer turns entries on.
    int32_t word = in.ConsumeBool() ? in.ConsumeIntegral<int32_t>() : 0;
    switch (typeChoice) {
    case 0:
      reinterpret_cast<uint8_t *>(buf.words.data())[i] =
          static_cast<uint8_t>(word);
      buf.kept[i] = static_cast<uint8_t>(word) != 0;
      break;
    case 1:
      reinterpret_cast<int8_t *>(buf.words.data())[i] =
          static_cast<int8_t>(word);
      buf.kept[i] = static_cast<int8_t>(word) != 0;
      break;
    default:
      buf.words[i] = word;
      buf.kept[i] = word != 0;
      break;
    }
  }
  v.numElements = count;
  v.data = in.ConsumeIntegralInRange<int>(0, 31) == 0 ? nullptr
                                                      : buf.words.data();
  return buf;
}

void checkListsOfDense(const DenseBuffer &buf, ListOrientation orientation) {
  BlockLists lists;
  Status built = orientation == ListOrientation::Rows
                     ? buildRowLists(buf.view, lists)
                     : buildColumnLists(buf.view, lists);
  Status shape = checkDenseLayout(buf.view);
  if (built.ok() != shape.ok())
    bug("building lists and checkDenseLayout disagree", built);
  if (!built.ok()) {
    if (!lists.offsets.empty() || !lists.blocks.empty())
      bug("a failed build left lists behind");
    if (built.message().empty())
      bug("a failed build has no message");
    return;
  }
  if (Status s = checkBlockLists(lists); !s)
    bug("built lists fail checkBlockLists:", s);
  std::vector<uint8_t> dense;
  if (Status s = expandBlockLists(lists, dense); !s)
    bug("built lists do not expand:", s);
  if (dense != buf.kept)
    bug("lists do not expand back to the layout's nonzero pattern");
}

void denseMode(FuzzedDataProvider &in) {
  DenseBuffer buf = makeDense(in);
  checkListsOfDense(buf, ListOrientation::Rows);
  checkListsOfDense(buf, ListOrientation::Columns);
}

void listsMode(FuzzedDataProvider &in) {
  BlockLists lists;
  lists.orientation =
      in.ConsumeBool() ? ListOrientation::Columns : ListOrientation::Rows;
  lists.batch = layoutDim(in);
  lists.heads = layoutDim(in);
  lists.rows = layoutDim(in);
  lists.cols = layoutDim(in);
  // Usually the right number of offsets, sometimes not.
  int64_t numLists =
      lists.orientation == ListOrientation::Rows ? lists.rows : lists.cols;
  int64_t expected =
      numLists < kMaxBuffer ? product(lists.batch, lists.heads, numLists + 1, 1)
                            : -1;
  size_t numOffsets = in.ConsumeIntegralInRange<size_t>(0, 64);
  if (expected >= 0 && in.ConsumeIntegralInRange<int>(0, 7) != 0)
    numOffsets = static_cast<size_t>(expected);
  size_t numBlocks = in.ConsumeIntegralInRange<size_t>(0, 256);
  // Offsets mostly non-decreasing small steps, indices mostly increasing.
  int32_t at = in.ConsumeIntegralInRange<int>(0, 9) == 0
                   ? in.ConsumeIntegral<int32_t>()
                   : 0;
  for (size_t i = 0; i < numOffsets; ++i) {
    lists.offsets.push_back(at);
    if (in.ConsumeIntegralInRange<int>(0, 15) == 0)
      at = in.ConsumeIntegral<int32_t>();
    else
      at = static_cast<int32_t>(static_cast<uint32_t>(at) +
                                in.ConsumeIntegralInRange<uint32_t>(0, 3));
  }
  int32_t index = 0;
  for (size_t i = 0; i < numBlocks; ++i) {
    if (in.ConsumeIntegralInRange<int>(0, 15) == 0)
      index = in.ConsumeIntegral<int32_t>();
    else
      index = static_cast<int32_t>(
          static_cast<uint32_t>(index) +
          static_cast<uint32_t>(in.ConsumeIntegralInRange<int32_t>(-1, 2)));
    lists.blocks.push_back(index);
  }

  Status checked = checkBlockLists(lists);
  // Lists of a layout with up to 2^31 - 1 entries are valid, and their
  // expansion takes that many bytes: expand only small ones.
  if (checked.ok() &&
      product(lists.batch, lists.heads, lists.rows, lists.cols) < 0)
    return;
  std::vector<uint8_t> dense;
  Status expanded = expandBlockLists(lists, dense);
  if (checked.ok() != expanded.ok())
    bug("checkBlockLists and expandBlockLists disagree", expanded);
  if (!checked.ok())
    return;
  // Accepted lists are the canonical form of their expansion.
  DenseLayoutView view;
  view.data = dense.data();
  view.elementType = LayoutElementType::UInt8;
  view.numElements = static_cast<int64_t>(dense.size());
  view.batch = lists.batch;
  view.heads = lists.heads;
  view.rows = lists.rows;
  view.cols = lists.cols;
  BlockLists rebuilt;
  Status s = lists.orientation == ListOrientation::Rows
                 ? buildRowLists(view, rebuilt)
                 : buildColumnLists(view, rebuilt);
  if (!s)
    bug("the expansion of accepted lists does not build:", s);
  if (rebuilt.offsets != lists.offsets || rebuilt.blocks != lists.blocks)
    bug("accepted lists differ from the lists of their own expansion");
}

void shapeMode(FuzzedDataProvider &in) {
  DenseBuffer buf = makeDense(in);
  LayoutProblem p;
  auto problemSize = [&] {
    if (in.ConsumeIntegralInRange<int>(0, 3) != 0)
      return in.ConsumeIntegralInRange<int64_t>(1, 300);
    int64_t x = layoutDim(in);
    bool scaled = in.ConsumeBool() && x > std::numeric_limits<int64_t>::min() / 16 &&
                  x < std::numeric_limits<int64_t>::max() / 16;
    return scaled ? x * 16 : x;
  };
  p.batch = problemSize();
  p.headsQ = problemSize();
  p.seqQ = problemSize();
  p.seqK = problemSize();
  p.blockQ = problemSize();
  p.blockK = problemSize();
  Status s = checkLayoutShape(buf.view, p);
  if (!s.ok()) {
    if (s.message().empty())
      bug("a rejected layout has no message");
    return;
  }
  auto ceilDiv = [](int64_t a, int64_t b) {
    return static_cast<int64_t>((static_cast<__int128>(a) + b - 1) / b);
  };
  const DenseLayoutView &v = buf.view;
  if (!checkDenseLayout(v).ok() || !(v.batch == 1 || v.batch == p.batch) ||
      !(v.heads == 1 || v.heads == p.headsQ) ||
      v.rows != ceilDiv(p.seqQ, p.blockQ) ||
      v.cols != ceilDiv(p.seqK, p.blockK))
    bug("checkLayoutShape accepted a layout of the wrong shape");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzedDataProvider in(data, size);
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
  case 0:
    denseMode(in);
    break;
  case 1:
    listsMode(in);
    break;
  default:
    shapeMode(in);
    break;
  }
  return 0;
}
