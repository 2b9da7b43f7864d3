//===- RuntimeTest.cpp - the launch path, with a recording device ---------===//
//
// KernelDirectory::createForTesting puts a recording DeviceApi under the
// real forward/backward code, so the order of launches, their dimensions and
// parameters, uploads and scratch memory are all checked without a GPU. The
// last tests check that without a driver everything fails cleanly.
//
//===----------------------------------------------------------------------===//

#include "runtime/Runtime.h"
#include "runtime/TestManifest.h"
#include "runtime/flashc_runtime.h"

#include <gtest/gtest.h>

#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <unistd.h>

using namespace flashc::runtime;
using namespace flashc::runtime::testing;

namespace {

/// Records every call; device memory is fake addresses plus host copies.
class RecordingDevice : public DeviceApi {
public:
  struct Launch {
    CUfunction function;
    LaunchDims dims;
    CUstream stream;
    std::vector<uint64_t> params;
  };
  std::vector<Launch> launches;
  std::vector<std::string> events; // "alloc", "free", "copy", ...
  std::map<CUdeviceptr, std::vector<uint8_t>> memory;
  uint64_t next = 0x7000000000;

  Status allocate(size_t bytes, CUdeviceptr &out) override {
    out = next;
    next += (bytes + 255) / 256 * 256 + 256;
    memory[out].resize(bytes);
    events.push_back("alloc");
    return Status::success();
  }
  void release(CUdeviceptr ptr) override {
    memory.erase(ptr);
    events.push_back("free");
  }
  Status copyToDevice(CUdeviceptr dst, const void *src,
                      size_t bytes) override {
    std::memcpy(memory.at(dst).data(), src, bytes);
    events.push_back("copy");
    return Status::success();
  }
  Status allocateAsync(size_t bytes, CUstream, CUdeviceptr &out) override {
    out = next;
    next += (bytes + 255) / 256 * 256 + 256;
    events.push_back("allocAsync " + std::to_string(bytes));
    return Status::success();
  }
  Status releaseAsync(CUdeviceptr, CUstream) override {
    events.push_back("freeAsync");
    return Status::success();
  }
  Status launch(CUfunction function, const LaunchDims &dims, CUstream stream,
                void **params, size_t numParams) override {
    Launch l{function, dims, stream, {}};
    for (size_t i = 0; i < numParams; ++i)
      l.params.push_back(*static_cast<uint64_t *>(params[i]));
    launches.push_back(l);
    events.push_back("launch");
    return Status::success();
  }
};

CUfunction fn(uintptr_t i) { return reinterpret_cast<CUfunction>(i); }
CUstream stream42() { return reinterpret_cast<CUstream>(uintptr_t(42)); }

constexpr int64_t B = 2, Hq = 4, Hkv = 2, Nq = 100, Nk = 300, D = 64;

struct Fixture {
  std::shared_ptr<RecordingDevice> device =
      std::make_shared<RecordingDevice>();
  std::unique_ptr<KernelDirectory> kernels;
  std::vector<int32_t> seqQ = {100, 0}, seqK = {300, 17};
  // [B, 1, 1, 3]: blocks of 128 over Nq = 100, Nk = 300.
  std::vector<uint8_t> layout = {1, 0, 1, 0, 1, 1};

  explicit Fixture(const TestOptions &o = TestOptions()) {
    Manifest m;
    Status s = parseManifest(testManifest(o).str(), "t.json", m);
    EXPECT_TRUE(s.ok()) << s.message();
    kernels = KernelDirectory::createForTesting(
        m, {fn(1), fn(2), fn(3), fn(4)}, device);
  }

  template <typename Args> void fill(Args &a, const TestOptions &o) {
    a.q = TensorRef::contiguous(0x100000, DType::BF16, {B, Hq, Nq, D});
    a.k = TensorRef::contiguous(0x200000, DType::BF16, {B, Hkv, Nk, D});
    a.v = TensorRef::contiguous(0x300000, DType::BF16, {B, Hkv, Nk, D});
    a.o = TensorRef::contiguous(0x400000, DType::BF16, {B, Hq, Nq, D});
    a.lse = TensorRef::contiguous(0x500000, DType::F32, {B, Hq, Nq});
    if (o.seqLensQ)
      a.seqLensQ = {seqQ.data(), B};
    if (o.seqLensK)
      a.seqLensK = {seqK.data(), B};
    if (o.layout) {
      a.layout.data = layout.data();
      a.layout.numElements = 6;
      a.layout.batch = B;
      a.layout.heads = 1;
      a.layout.rows = 1;
      a.layout.cols = 3;
    }
  }

  ForwardArgs forwardArgs(const TestOptions &o = TestOptions()) {
    ForwardArgs a;
    fill(a, o);
    return a;
  }

  BackwardArgs backwardArgs(const TestOptions &o = TestOptions()) {
    BackwardArgs a;
    fill(a, o);
    a.dout = TensorRef::contiguous(0x600000, DType::BF16, {B, Hq, Nq, D});
    a.dq = TensorRef::contiguous(0x700000, DType::BF16, {B, Hq, Nq, D});
    a.dk = TensorRef::contiguous(0x800000, DType::BF16, {B, Hkv, Nk, D});
    a.dv = TensorRef::contiguous(0x900000, DType::BF16, {B, Hkv, Nk, D});
    return a;
  }
};

TEST(Runtime, SharedMemoryOptInCountsStaticBytes) {
  EXPECT_FALSE(needsSharedMemoryOptIn(48 * 1024, 0));
  EXPECT_TRUE(needsSharedMemoryOptIn(48 * 1024, 1));
  EXPECT_TRUE(needsSharedMemoryOptIn(48 * 1024 + 16, 0));
  EXPECT_FALSE(needsSharedMemoryOptIn(40 * 1024, 8 * 1024));
}

TEST(Runtime, ForwardLaunchesOnTheCallersStream) {
  Fixture f;
  Status s = f.kernels->forward(f.forwardArgs(), stream42());
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(f.device->launches.size(), 1u);
  const auto &l = f.device->launches[0];
  EXPECT_EQ(l.function, fn(1));
  EXPECT_EQ(l.stream, stream42());
  EXPECT_EQ(l.dims.grid[0], 2u); // ceil(100 / 64)
  EXPECT_EQ(l.dims.grid[1], 4u);
  EXPECT_EQ(l.dims.grid[2], 2u);
  EXPECT_EQ(l.dims.block[0], 128u);
  EXPECT_EQ(l.dims.sharedBytes, 32768u);
  ASSERT_EQ(l.params.size(), 4u * 11 + 9);
  EXPECT_EQ(l.params[0], 0x100000u);  // q allocated
  EXPECT_EQ(l.params[1], 0x100000u);  // q aligned
  EXPECT_EQ(l.params[2], 0u);         // q offset
  EXPECT_EQ(l.params[3 + 2], 100u);   // q size 2 = Nq
  EXPECT_EQ(l.params[11], 0x200000u); // k
  EXPECT_EQ(l.params[44], 0x500000u); // lse
  // Nothing to upload for a plain spec.
  EXPECT_EQ(f.device->events, std::vector<std::string>{"launch"});
}

TEST(Runtime, InvalidArgumentsLaunchNothing) {
  Fixture f;
  ForwardArgs a = f.forwardArgs();
  a.o.data = a.q.data;
  Status s = f.kernels->forward(a, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("overlaps"), std::string::npos);
  EXPECT_TRUE(f.device->events.empty());
}

TEST(Runtime, UploadsAreCachedByValue) {
  TestOptions o;
  o.seqLensQ = o.seqLensK = o.layout = true;
  Fixture f(o);
  ForwardArgs a = f.forwardArgs(o);
  ASSERT_TRUE(f.kernels->forward(a, nullptr).ok());
  EXPECT_EQ(f.device->events,
            (std::vector<std::string>{"alloc", "copy", "launch"}));
  ASSERT_EQ(f.device->memory.size(), 1u);
  CUdeviceptr base = f.device->memory.begin()->first;
  const std::vector<uint8_t> &bytes = f.device->memory.begin()->second;
  int32_t lens[2];
  std::memcpy(lens, bytes.data() + 16, 8);
  EXPECT_EQ(lens[0], 300);
  EXPECT_EQ(lens[1], 17);
  // The seqlens_q descriptor points into the upload.
  const auto &params = f.device->launches[0].params;
  EXPECT_EQ(params[53], base);
  EXPECT_EQ(params[53 + 5], base + 16);

  // Same values again: no new upload.
  ASSERT_TRUE(f.kernels->forward(a, nullptr).ok());
  EXPECT_EQ(f.device->events.size(), 4u);
  // A new length: a new upload, the old buffer freed.
  f.seqK[1] = 18;
  ASSERT_TRUE(f.kernels->forward(a, nullptr).ok());
  EXPECT_EQ(f.device->events,
            (std::vector<std::string>{"alloc", "copy", "launch", "launch",
                                      "alloc", "copy", "free", "launch"}));
  EXPECT_EQ(f.device->memory.size(), 1u);
}

TEST(Runtime, BackwardLaunchesThreeKernelsInOrder) {
  TestOptions o;
  o.layout = true;
  Fixture f(o);
  BackwardArgs a = f.backwardArgs(o);
  Status s = f.kernels->backward(a, stream42());
  ASSERT_TRUE(s.ok()) << s.message();
  // One scratch allocation: dq_accum [B, Hq, Nq, D] f32, then delta.
  size_t accumBytes = B * Hq * Nq * D * 4, deltaBytes = B * Hq * Nq * 4;
  EXPECT_EQ(f.device->events,
            (std::vector<std::string>{"alloc", "copy",
                                      "allocAsync " +
                                          std::to_string(accumBytes +
                                                         deltaBytes),
                                      "launch", "launch", "launch",
                                      "freeAsync"}));
  ASSERT_EQ(f.device->launches.size(), 3u);
  const auto &prep = f.device->launches[0];
  const auto &dkdv = f.device->launches[1];
  const auto &dq = f.device->launches[2];
  EXPECT_EQ(prep.function, fn(2));
  EXPECT_EQ(dkdv.function, fn(3));
  EXPECT_EQ(dq.function, fn(4));
  for (const auto &l : f.device->launches)
    EXPECT_EQ(l.stream, stream42());
  // bwd_prep: o, dout, delta, dq_accum.
  ASSERT_EQ(prep.params.size(), 11u + 11 + 9 + 11);
  EXPECT_EQ(prep.params[0], 0x400000u);
  EXPECT_EQ(prep.params[11], 0x600000u);
  uint64_t delta = prep.params[22 + 1];
  uint64_t accum = prep.params[31 + 1];
  EXPECT_NE(accum, 0u);
  EXPECT_EQ(delta, accum + accumBytes);
  // dq_accum's sizes and strides: [B, Hq, Nq, D], contiguous.
  EXPECT_EQ(prep.params[31 + 3], uint64_t{B});
  EXPECT_EQ(prep.params[31 + 6], uint64_t{D});
  EXPECT_EQ(prep.params[31 + 7], uint64_t{Hq * Nq * D});
  // dK/dV over key blocks: (ceil(300 / 64), Hkv, B).
  EXPECT_EQ(dkdv.dims.grid[0], 5u);
  EXPECT_EQ(dkdv.dims.grid[1], 2u);
  EXPECT_EQ(dkdv.dims.grid[2], 2u);
  // q k v dout (4 x 11), lse, delta (2 x 9), dk dv dq_accum (3 x 11),
  // layout (9 + 5).
  ASSERT_EQ(dkdv.params.size(), 4u * 11 + 2 * 9 + 3 * 11 + 9 + 5);
  EXPECT_EQ(dkdv.params[44 + 9 + 1], delta); // delta after lse
  EXPECT_EQ(dkdv.params[44 + 18 + 22 + 1], accum); // after dk, dv
  // The transposed lists: offsets [B, 1, MK + 1] = [2, 1, 4].
  size_t layoutAt = 4 * 11 + 2 * 9 + 3 * 11;
  EXPECT_EQ(dkdv.params[layoutAt + 3], 2u);
  EXPECT_EQ(dkdv.params[layoutAt + 4], 1u);
  EXPECT_EQ(dkdv.params[layoutAt + 5], 4u);
  // The column lists of the layout [[1, 0, 1], [0, 1, 1]]: 4 kept.
  EXPECT_EQ(dkdv.params[layoutAt + 9 + 3], 4u);
  // bwd_dq: dq_accum, dq; over query blocks, no layout.
  ASSERT_EQ(dq.params.size(), 2u * 11);
  EXPECT_EQ(dq.params[1], accum);
  EXPECT_EQ(dq.dims.grid[1], uint64_t{Hq});
}

TEST(Runtime, BackwardUsesTheCallersDelta) {
  Fixture f;
  BackwardArgs a = f.backwardArgs();
  a.delta = TensorRef::contiguous(0xa00000, DType::F32, {B, Hq, Nq});
  ASSERT_TRUE(f.kernels->backward(a, nullptr).ok());
  // Scratch for dq_accum alone.
  EXPECT_EQ(f.device->events,
            (std::vector<std::string>{"allocAsync " +
                                          std::to_string(B * Hq * Nq * D * 4),
                                      "launch", "launch", "launch",
                                      "freeAsync"}));
  EXPECT_EQ(f.device->launches[0].params[22 + 1], 0xa00000u);
}

TEST(Runtime, DeterministicBackwardHasNoDqScratch) {
  TestOptions o;
  o.deterministic = true;
  Fixture f(o);
  BackwardArgs a = f.backwardArgs(o);
  ASSERT_TRUE(f.kernels->backward(a, nullptr).ok());
  EXPECT_EQ(f.device->events,
            (std::vector<std::string>{"allocAsync " +
                                          std::to_string(B * Hq * Nq * 4),
                                      "launch", "launch", "launch",
                                      "freeAsync"}));
  // bwd_prep: o, dout, delta; bwd_dkdv: q k v dout lse delta dk dv; bwd_dq:
  // q k v dout lse delta dq, reading the scores again.
  EXPECT_EQ(f.device->launches[0].params.size(), 11u + 11 + 9);
  EXPECT_EQ(f.device->launches[1].params.size(), 4u * 11 + 2 * 9 + 2 * 11);
  EXPECT_EQ(f.device->launches[2].params.size(), 4u * 11 + 2 * 9 + 11);
  EXPECT_EQ(f.device->launches[2].params[44 + 9],
            f.device->launches[0].params[22]); // the same delta
}

TEST(Runtime, DirectoryWithoutBackward) {
  TestOptions o;
  o.backward = false;
  Fixture f(o);
  Status s = f.kernels->backward(f.backwardArgs(), nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no backward kernels"), std::string::npos);
}

//===----------------------------------------------------------------------===//
// Without a driver
//===----------------------------------------------------------------------===//

bool systemHasDriver() {
  void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (h)
    dlclose(h);
  return h != nullptr;
}

TEST(NoDriver, MissingLibraryIsACleanError) {
  DriverApi api;
  Status s = loadDriverLibrary("libflashc-no-such-driver.so.1", api);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("no CUDA driver: libflashc-no-such-driver.so.1 "
                              "not found (",
                              0),
            0u)
      << s.message();
  EXPECT_EQ(api.launchKernel, nullptr);
}

TEST(NoDriver, EveryEntryPointFailsCleanly) {
  if (systemHasDriver())
    GTEST_SKIP() << "this machine has libcuda.so.1";
  Status s;
  EXPECT_EQ(driver(s), nullptr);
  EXPECT_EQ(s.message().rfind("no CUDA driver: libcuda.so.1 not found", 0), 0u)
      << s.message();

  std::shared_ptr<Device> device;
  s = Device::open(-1, device);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("no CUDA driver: libcuda.so.1 not found", 0), 0u);

  // A valid kernel directory still cannot be loaded.
  char dirTemplate[] = "/tmp/flashc-nodriver-XXXXXX";
  ASSERT_NE(mkdtemp(dirTemplate), nullptr);
  std::string dir = dirTemplate;
  std::ofstream(dir + "/flashc.json") << testManifest().str();
  std::ofstream(dir + "/kernels.ptx") << "// ptx";
  std::unique_ptr<KernelDirectory> kd;
  s = KernelDirectory::load(dir, nullptr, kd);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("no CUDA driver: libcuda.so.1 not found", 0), 0u);
  EXPECT_EQ(kd, nullptr);

  // And through the C interface.
  EXPECT_EQ(flashc_load(dir.c_str()), nullptr);
  EXPECT_EQ(std::string(flashc_last_error())
                .rfind("no CUDA driver: libcuda.so.1 not found", 0),
            0u)
      << flashc_last_error();
  std::remove((dir + "/flashc.json").c_str());
  std::remove((dir + "/kernels.ptx").c_str());
  rmdir(dir.c_str());
}

TEST(NoDriver, BadManifestIsReportedBeforeTheDriver) {
  EXPECT_EQ(flashc_load("/nonexistent/kernels"), nullptr);
  EXPECT_NE(std::string(flashc_last_error()).find("cannot read the manifest"),
            std::string::npos)
      << flashc_last_error();
}

TEST(CApi, RejectsUnknownDtypeCodes) {
  flashc_forward_args args;
  std::memset(&args, 0, sizeof(args));
  args.q.data = 0x1000;
  args.q.dtype = 7;
  args.q.rank = 4;
  // A handle is needed to reach argument conversion; a null one is refused
  // first.
  EXPECT_NE(flashc_forward(nullptr, &args, nullptr), 0);
  EXPECT_EQ(std::string(flashc_last_error()),
            "flashc_forward: NULL handle or arguments");
}

} // namespace
