//===- ArgumentsTest.cpp - every check before a launch --------------------===//
//
// Validation is a pure function of the manifest and the arguments, so these
// tests use made-up device addresses: nothing is dereferenced.
//
//===----------------------------------------------------------------------===//

#include "runtime/Arguments.h"
#include "runtime/TestManifest.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

using namespace flashc::runtime;
using namespace flashc::runtime::testing;

namespace {

constexpr int64_t B = 2, Hq = 4, Hkv = 2, Nq = 100, Nk = 37, D = 64;

Manifest manifestWith(const TestOptions &o) {
  Manifest m;
  Status s = parseManifest(testManifest(o).str(), "t.json", m);
  EXPECT_TRUE(s.ok()) << s.message();
  return m;
}

/// Distinct, far-apart fake device addresses.
uint64_t address(int i) { return 0x100000000ull * static_cast<uint64_t>(i + 1); }

struct ForwardFixture {
  Manifest m;
  ForwardArgs a;
  std::vector<int32_t> seqQ = {100, 0}, seqK = {37, 5};
  std::vector<uint8_t> layout = std::vector<uint8_t>(1 * Hq * 1 * 1, 1);

  explicit ForwardFixture(const TestOptions &o = TestOptions())
      : m(manifestWith(o)) {
    a.q = TensorRef::contiguous(address(0), DType::BF16, {B, Hq, Nq, D});
    a.k = TensorRef::contiguous(address(1), DType::BF16, {B, Hkv, Nk, D});
    a.v = TensorRef::contiguous(address(2), DType::BF16, {B, Hkv, Nk, D});
    a.o = TensorRef::contiguous(address(3), DType::BF16, {B, Hq, Nq, D});
    a.lse = TensorRef::contiguous(address(4), DType::F32, {B, Hq, Nq});
    if (o.seqLensQ)
      a.seqLensQ = {seqQ.data(), B};
    if (o.seqLensK)
      a.seqLensK = {seqK.data(), B};
    if (o.layout) {
      a.layout.data = layout.data();
      a.layout.elementType = LayoutElementType::UInt8;
      a.layout.batch = 1;
      a.layout.heads = Hq;
      a.layout.rows = 1; // ceil(100 / 128)
      a.layout.cols = 1; // ceil(37 / 128)
      a.layout.numElements = Hq;
    }
  }

  Status validate() {
    ProblemSizes s;
    return validateForward(m, a, s);
  }
};

void expectError(const Status &s, const std::string &message) {
  ASSERT_FALSE(s.ok()) << "expected: " << message;
  EXPECT_EQ(s.message(), message);
}

void expectErrorContaining(const Status &s, const std::string &part) {
  ASSERT_FALSE(s.ok()) << "expected: " << part;
  EXPECT_NE(s.message().find(part), std::string::npos)
      << "message: " << s.message() << "\nexpected to contain: " << part;
}

TEST(ValidateForward, AcceptsValidArgumentsAndReportsSizes) {
  ForwardFixture f;
  ProblemSizes s;
  ASSERT_TRUE(validateForward(f.m, f.a, s).ok());
  EXPECT_EQ(s.batch, B);
  EXPECT_EQ(s.headsQ, Hq);
  EXPECT_EQ(s.headsKV, Hkv);
  EXPECT_EQ(s.seqQ, Nq);
  EXPECT_EQ(s.seqK, Nk);
  EXPECT_EQ(s.headDim, D);
  EXPECT_EQ(s.headDimV, D);
}

TEST(ValidateForward, AcceptsBSHDStrides) {
  ForwardFixture f;
  // [B, N, H, D] memory viewed as [B, H, N, D].
  for (TensorRef *t : {&f.a.q, &f.a.o}) {
    t->strides[0] = Nq * Hq * D;
    t->strides[1] = D;
    t->strides[2] = Hq * D;
  }
  for (TensorRef *t : {&f.a.k, &f.a.v}) {
    t->strides[0] = Nk * Hkv * D;
    t->strides[1] = D;
    t->strides[2] = Hkv * D;
  }
  Status s = f.validate();
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(ValidateForward, NeedsAForwardKernel) {
  TestOptions o;
  o.forward = false;
  ForwardFixture f(o);
  expectError(f.validate(), "forward: this kernel directory has no fwd kernel "
                            "(it was compiled from a gradient spec)");
}

TEST(ValidateForward, NullPointer) {
  ForwardFixture f;
  f.a.v.data = 0;
  expectError(f.validate(), "v: device pointer is null (expected a bf16 "
                            "tensor [B, Hkv, Nk, Dv])");
}

TEST(ValidateForward, ElementTypes) {
  ForwardFixture f;
  f.a.k.dtype = DType::F16;
  expectError(f.validate(),
              "k: element type is f16, expected bf16 (the kernels' "
              "element_type)");
  ForwardFixture g;
  g.a.lse.dtype = DType::BF16;
  expectError(g.validate(), "lse: element type is bf16, expected f32");
}

TEST(ValidateForward, Ranks) {
  ForwardFixture f;
  f.a.lse = TensorRef::contiguous(address(4), DType::F32, {B, Hq, Nq, 1});
  expectError(f.validate(), "lse: rank is 4, expected 3 [B, Hq, Nq]");
  ForwardFixture g;
  g.a.q = TensorRef::contiguous(address(0), DType::BF16, {B, Hq, Nq * D});
  expectError(g.validate(), "q: rank is 3, expected 4 [B, Hq, Nq, D]");
}

TEST(ValidateForward, SizesMustBePositive) {
  ForwardFixture f;
  f.a.q.sizes[2] = 0;
  expectError(f.validate(), "q: size 0 of dimension 2 must be at least 1 "
                            "(sizes [2, 4, 0, 64])");
}

TEST(ValidateForward, HeadDims) {
  ForwardFixture f;
  f.a.q = TensorRef::contiguous(address(0), DType::BF16, {B, Hq, Nq, 128});
  expectError(f.validate(), "q: head dimension (size of dimension 3) is 128 "
                            "but the kernels were compiled for D = 64");
  ForwardFixture g;
  g.a.v = TensorRef::contiguous(address(2), DType::BF16, {B, Hkv, Nk, 32});
  expectError(g.validate(), "v: head dimension (size of dimension 3) is 32 "
                            "but the kernels were compiled for Dv = 64");
  ForwardFixture h;
  h.a.k = TensorRef::contiguous(address(1), DType::BF16, {B, Hkv, Nk, 32});
  expectError(h.validate(), "k: size of dimension 3 (D) is 32, expected 64 "
                            "([B, Hkv, Nk, D] = [2, 2, 37, 64] from q, k and "
                            "v)");
}

TEST(ValidateForward, StaticSizes) {
  TestOptions o;
  o.batch = "3";
  ForwardFixture f(o);
  expectError(f.validate(), "batch B (q dimension 0) is 2 but the kernels "
                            "were compiled for 3 (static_sizes.batch)");
  TestOptions p;
  p.headsQ = "8";
  ForwardFixture g(p);
  expectError(g.validate(), "query heads Hq (q dimension 1) is 4 but the "
                            "kernels were compiled for 8 "
                            "(static_sizes.heads_q)");
  TestOptions r;
  r.seqK = "64";
  ForwardFixture h(r);
  expectError(h.validate(), "key length Nk (k dimension 2) is 37 but the "
                            "kernels were compiled for 64 "
                            "(static_sizes.seq_k)");
}

TEST(ValidateForward, MatchingSizesAcrossTensors) {
  ForwardFixture f;
  f.a.k = TensorRef::contiguous(address(1), DType::BF16, {3, Hkv, Nk, D});
  expectError(f.validate(), "k: size of dimension 0 (B) is 3, expected 2 "
                            "([B, Hkv, Nk, D] = [2, 2, 37, 64] from q, k and "
                            "v)");
  ForwardFixture g;
  g.a.v = TensorRef::contiguous(address(2), DType::BF16, {B, Hkv, 36, D});
  expectError(g.validate(), "v: size of dimension 2 (Nk) is 36, expected 37 "
                            "([B, Hkv, Nk, Dv] = [2, 2, 37, 64] from q, k and "
                            "v)");
  ForwardFixture h;
  h.a.o = TensorRef::contiguous(address(3), DType::BF16, {B, Hq, Nq + 1, D});
  expectErrorContaining(h.validate(),
                        "o: size of dimension 2 (Nq) is 101, expected 100");
  ForwardFixture i;
  i.a.lse = TensorRef::contiguous(address(4), DType::F32, {B, 1, Nq});
  expectError(i.validate(), "lse: size of dimension 1 (Hq) is 1, expected 4 "
                            "([B, Hq, Nq] = [2, 4, 100] from q)");
}

TEST(ValidateForward, HeadsMustDivide) {
  TestOptions o;
  o.headsKV = "-1";
  o.headsQ = "-1";
  ForwardFixture f(o);
  f.a.k = TensorRef::contiguous(address(1), DType::BF16, {B, 3, Nk, D});
  f.a.v = TensorRef::contiguous(address(2), DType::BF16, {B, 3, Nk, D});
  expectError(f.validate(), "heads: Hq = 4 (q dimension 1) is not a multiple "
                            "of Hkv = 3 (k dimension 1)");
}

TEST(ValidateForward, LastStrideMustBeOne) {
  ForwardFixture f;
  f.a.q.strides[3] = 2;
  expectError(f.validate(), "q: the last dimension must be contiguous (stride "
                            "1), got stride 2 (strides [25600, 6400, 64, 2])");
  ForwardFixture g;
  g.a.lse.strides[2] = 4;
  expectErrorContaining(g.validate(), "lse: the last dimension must be "
                                      "contiguous (stride 1), got stride 4");
}

TEST(ValidateForward, NegativeStrides) {
  ForwardFixture f;
  f.a.k.strides[1] = -Nk * D;
  expectError(f.validate(), "k: stride -2368 of dimension 1 is negative "
                            "(strides [4736, -2368, 64, 1])");
}

TEST(ValidateForward, Alignment) {
  ForwardFixture f;
  f.a.v.data += 8;
  expectError(f.validate(),
              "v: base pointer 0x300000008 is not 16-byte aligned");
  ForwardFixture g;
  g.a.lse.data += 4;
  expectError(g.validate(),
              "lse: base pointer 0x500000004 is not 16-byte aligned");
  // Rows of Q must stay 16-byte aligned: a row stride of 68 bf16 = 136 B.
  ForwardFixture h;
  h.a.q.strides[2] = 68;
  h.a.q.strides[1] = 68 * Nq;
  h.a.q.strides[0] = 68 * Nq * Hq;
  expectError(h.validate(), "q: stride 68 of dimension 2 is 136 bytes, not "
                            "a multiple of 16 (rows must stay 16-byte "
                            "aligned)");
}

TEST(ValidateForward, HugeStrides) {
  // A stride whose byte count overflows int64 is rejected before the span
  // check; found by fuzz-runtime-args
  // (test/fuzz-regressions/runtime-stride-bytes-overflow.test).
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  ForwardFixture f;
  f.a.k.strides[0] = kMax;
  expectError(f.validate(), "k: stride " + std::to_string(kMax) +
                                " of dimension 0 is too large: in bytes it "
                                "overflows int64 (strides [" +
                                std::to_string(kMax) + ", 2368, 64, 1])");
  // One that fits in bytes goes on to the span check.
  ForwardFixture g;
  g.a.k.strides[0] = kMax / 2 - 7;
  expectErrorContaining(g.validate(), "k: sizes [2, 2, 37, 64] and strides [" +
                                          std::to_string(kMax / 2 - 7) +
                                          ", 2368, 64, 1] span more than "
                                          "2^48 bytes");
}

TEST(ValidateForward, OutputsMustNotOverlap) {
  ForwardFixture f;
  f.a.o.data = f.a.q.data; // in place over Q
  expectError(f.validate(), "o (an output, at 0x100000000) overlaps q (at "
                            "0x100000000)");
  ForwardFixture g;
  // LSE inside the tail of O.
  g.a.lse.data = g.a.o.data + (B * Hq * Nq * D * 2) - 64;
  expectErrorContaining(g.validate(), "overlaps lse");
  ForwardFixture h;
  h.a.o.strides[1] = 0; // every head writes the same memory
  expectError(h.validate(), "o: an output whose elements overlap each other "
                            "(sizes [2, 4, 100, 64], strides [25600, 0, 64, "
                            "1]): each element must have its own memory");
}

TEST(ValidateForward, InputsMayOverlapAndBroadcast) {
  ForwardFixture f;
  f.a.v = f.a.k; // K and V the same memory: fine for inputs
  f.a.q.strides[0] = 0; // one Q broadcast over the batch
  Status s = f.validate();
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(ValidateForward, SeqLens) {
  TestOptions o;
  o.seqLensQ = o.seqLensK = true;
  ForwardFixture ok(o);
  Status s = ok.validate();
  EXPECT_TRUE(s.ok()) << s.message();

  ForwardFixture missing(o);
  missing.a.seqLensK = {};
  expectError(missing.validate(),
              "seqlens_k: the kernels take per-batch lengths (spec clause "
              "seqlens_k); pass B = 2 values");
  ForwardFixture count(o);
  count.a.seqLensQ.size = 3;
  expectError(count.validate(), "seqlens_q: expected B = 2 values, got 3");
  ForwardFixture range(o);
  range.seqK[1] = 38;
  expectError(range.validate(), "seqlens_k[1] = 38 is outside [0, Nk = 37]");
  ForwardFixture negative(o);
  negative.seqQ[0] = -1;
  expectError(negative.validate(),
              "seqlens_q[0] = -1 is outside [0, Nq = 100]");
  ForwardFixture extra;
  std::vector<int32_t> lens = {1, 2};
  extra.a.seqLensQ = {lens.data(), 2};
  expectError(extra.validate(), "seqlens_q: the kernels were compiled without "
                                "seqlens_q; pass none");
}

TEST(ValidateForward, Layout) {
  TestOptions o;
  o.layout = true;
  ForwardFixture ok(o);
  Status s = ok.validate();
  EXPECT_TRUE(s.ok()) << s.message();

  ForwardFixture missing(o);
  missing.a.layout = DenseLayoutView();
  expectError(missing.validate(),
              "layout: the kernels take a block-sparsity layout of [128, "
              "128] blocks; pass a dense layout [1 or B, 1 or Hq, ceil(Nq / "
              "128), ceil(Nk / 128)]");
  ForwardFixture shape(o);
  shape.a.layout.heads = 2;
  shape.a.layout.numElements = 2;
  expectErrorContaining(shape.validate(),
                        "block layout: shape [1, 2, 1, 1] does not match [1 "
                        "or 2, 1 or 4, 1, 1]");
  ForwardFixture extra;
  std::vector<uint8_t> dense(4, 1);
  extra.a.layout.data = dense.data();
  expectError(extra.validate(), "layout: the kernels were compiled without a "
                                "block-sparsity layout; pass none");
}

TEST(ValidateForward, DropoutKey) {
  ForwardFixture f;
  f.a.seed = 7;
  expectError(f.validate(), "seed: the kernels have no dropout (dropout_p = "
                            "0); pass no seed or offset");
  ForwardFixture g;
  g.a.offset = 7;
  expectError(g.validate(), "offset: the kernels have no dropout (dropout_p "
                            "= 0); pass no seed or offset");
  TestOptions o;
  o.dropout = true;
  ForwardFixture h(o);
  h.a.seed = 7;
  h.a.offset = 9;
  Status s = h.validate();
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(ValidateForward, GridLimits) {
  TestOptions o;
  o.headsQ = "-1";
  o.headsKV = "-1";
  ForwardFixture f(o);
  int64_t h = 70000;
  f.a.q = TensorRef::contiguous(address(0), DType::BF16, {1, h, 1, D});
  f.a.k = TensorRef::contiguous(address(1), DType::BF16, {1, h, 1, D});
  f.a.v = TensorRef::contiguous(address(2), DType::BF16, {1, h, 1, D});
  f.a.o = TensorRef::contiguous(address(3), DType::BF16, {1, h, 1, D});
  f.a.lse = TensorRef::contiguous(address(4), DType::F32, {1, h, 1});
  expectError(f.validate(), "query heads Hq = 70000 exceed the CUDA grid "
                            "limit of 65535 (gridDim.y)");
}

struct BackwardFixture {
  Manifest m;
  BackwardArgs a;

  BackwardFixture() : m(manifestWith(TestOptions())) {
    a.q = TensorRef::contiguous(address(0), DType::BF16, {B, Hq, Nq, D});
    a.k = TensorRef::contiguous(address(1), DType::BF16, {B, Hkv, Nk, D});
    a.v = TensorRef::contiguous(address(2), DType::BF16, {B, Hkv, Nk, D});
    a.o = TensorRef::contiguous(address(3), DType::BF16, {B, Hq, Nq, D});
    a.lse = TensorRef::contiguous(address(4), DType::F32, {B, Hq, Nq});
    a.dout = TensorRef::contiguous(address(5), DType::BF16, {B, Hq, Nq, D});
    a.dq = TensorRef::contiguous(address(6), DType::BF16, {B, Hq, Nq, D});
    a.dk = TensorRef::contiguous(address(7), DType::BF16, {B, Hkv, Nk, D});
    a.dv = TensorRef::contiguous(address(8), DType::BF16, {B, Hkv, Nk, D});
  }

  Status validate() {
    ProblemSizes s;
    return validateBackward(m, a, s);
  }
};

TEST(ValidateBackward, AcceptsValidArguments) {
  BackwardFixture f;
  Status s = f.validate();
  EXPECT_TRUE(s.ok()) << s.message();
  f.a.delta = TensorRef::contiguous(address(9), DType::F32, {B, Hq, Nq});
  s = f.validate();
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(ValidateBackward, NeedsBackwardKernels) {
  BackwardFixture f;
  TestOptions o;
  o.backward = false;
  f.m = manifestWith(o);
  expectError(f.validate(), "backward: this kernel directory has no backward "
                            "kernels (compile an attn.attention_grad spec)");
}

TEST(ValidateBackward, GradientShapesAndOverlap) {
  BackwardFixture f;
  f.a.dk = TensorRef::contiguous(address(7), DType::BF16, {B, Hq, Nk, D});
  expectError(f.validate(), "dk: size of dimension 1 (Hkv) is 4, expected 2 "
                            "([B, Hkv, Nk, D] = [2, 2, 37, 64] from q, k and "
                            "v)");
  BackwardFixture g;
  g.a.dv.data = g.a.dk.data;
  expectError(g.validate(), "dk (an output, at 0x800000000) overlaps dv (at "
                            "0x800000000)");
  BackwardFixture h;
  h.a.delta = TensorRef::contiguous(h.a.lse.data, DType::F32, {B, Hq, Nq});
  expectError(h.validate(), "delta (an output, at 0x500000000) overlaps lse "
                            "(at 0x500000000)");
  BackwardFixture i;
  i.a.dout.dtype = DType::F32;
  expectErrorContaining(i.validate(), "dout: element type is f32, expected "
                                      "bf16");
}

TEST(ValidateBackward, GridOfAHugeKeyLength) {
  // Nk = 2^63 - 1 through stride-0 (broadcast) key rows: the dK/dV kernel's
  // grid is ceil(Nk / 64) blocks, computed without the Nk + 64 - 1 that
  // overflows int64; found with fuzz-layout's ceil-div overflow
  // (test/fuzz-regressions/layout-ceildiv-overflow.test).
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  BackwardFixture f;
  for (TensorRef *t : {&f.a.k, &f.a.v, &f.a.dk, &f.a.dv}) {
    t->sizes[2] = kMax;
    t->strides[2] = 0;
  }
  expectError(f.validate(), "bwd_dkdv: key length Nk = " +
                                std::to_string(kMax) + " needs " +
                                std::to_string(kMax / 64 + 1) +
                                " blocks of 64, more than the 2^31 - 1 of "
                                "gridDim.x");
}

TEST(ValidateBackward, PackedGradientsDoNotOverlap) {
  // dQ, dK, dV as slices of one [B, N, 3, H, D] buffer, as training code
  // packs them: interleaved, but no byte is shared.
  BackwardFixture f;
  TestOptions o;
  o.headsKV = "4";
  f.m = manifestWith(o);
  int64_t n = 37;
  uint64_t base = address(6);
  auto slice = [&](int which) {
    TensorRef t;
    t.data = base + static_cast<uint64_t>(which * Hq * D * 2);
    t.dtype = DType::BF16;
    t.rank = 4;
    int64_t sizes[4] = {B, Hq, n, D};
    int64_t strides[4] = {n * 3 * Hq * D, D, 3 * Hq * D, 1};
    for (int d = 0; d < 4; ++d) {
      t.sizes[d] = sizes[d];
      t.strides[d] = strides[d];
    }
    return t;
  };
  f.a.q = TensorRef::contiguous(address(0), DType::BF16, {B, Hq, n, D});
  f.a.k = TensorRef::contiguous(address(1), DType::BF16, {B, Hq, n, D});
  f.a.v = TensorRef::contiguous(address(2), DType::BF16, {B, Hq, n, D});
  f.a.o = TensorRef::contiguous(address(3), DType::BF16, {B, Hq, n, D});
  f.a.lse = TensorRef::contiguous(address(4), DType::F32, {B, Hq, n});
  f.a.dout = TensorRef::contiguous(address(5), DType::BF16, {B, Hq, n, D});
  f.a.dq = slice(0);
  f.a.dk = slice(1);
  f.a.dv = slice(2);
  Status s = f.validate();
  EXPECT_TRUE(s.ok()) << s.message();
  // Shifted by one row of D into its neighbour: they now overlap.
  f.a.dk.data = f.a.dq.data + 3 * D * 2;
  expectErrorContaining(f.validate(), "dq (an output");
}

TEST(Overlap, ExactForStridedViews) {
  TensorRef a = TensorRef::contiguous(0x1000, DType::F32, {4, 8});
  TensorRef b = a;
  EXPECT_TRUE(mayOverlap(a, b));
  b.data = 0x1000 + 4 * 8 * 4; // right after a
  EXPECT_FALSE(mayOverlap(a, b));
  b.data -= 4; // shares one element
  EXPECT_TRUE(mayOverlap(a, b));
  // Even and odd rows of one buffer.
  TensorRef even = TensorRef::contiguous(0x1000, DType::F32, {4, 8});
  even.strides[0] = 16;
  TensorRef odd = even;
  odd.data += 8 * 4;
  EXPECT_FALSE(mayOverlap(even, odd));
  odd.data += 4;
  EXPECT_TRUE(mayOverlap(even, odd));
}

TEST(Overlap, Internal) {
  TensorRef t = TensorRef::contiguous(0x1000, DType::F16, {2, 3, 5, 8});
  EXPECT_FALSE(hasInternalOverlap(t));
  t.strides[2] = 4; // rows of 8 every 4 elements
  EXPECT_TRUE(hasInternalOverlap(t));
  TensorRef u = TensorRef::contiguous(0x1000, DType::F16, {1, 3, 5, 8});
  u.strides[0] = 0; // size 1: any stride is fine
  EXPECT_FALSE(hasInternalOverlap(u));
}

} // namespace
