//===- Runtime.h - load flashc kernels and launch them ----------*- C++ -*-===//
//
// The flashc runtime: loads a kernel directory written by `flashc compile`
// (runtime/Manifest.h), checks every argument of a call against it, and
// launches the kernels on the caller's stream. It links only the C++
// standard library and libdl; the CUDA driver is loaded at first use
// (runtime/Driver.h), so on a machine without one every call returns a
// clean Status.
//
//   std::shared_ptr<Device> device;
//   FLASHC_TRY(Device::open(-1, device));
//   std::unique_ptr<KernelDirectory> kernels;
//   FLASHC_TRY(KernelDirectory::load("out/causal", device, kernels));
//   ForwardArgs args;
//   args.q = TensorRef::contiguous(qPtr, DType::BF16, {B, H, N, 64});
//   ...
//   FLASHC_TRY(kernels->forward(args, stream));
//
// Host arrays (sequence lengths, the dense layout) are converted and
// uploaded with a synchronous copy, and cached by value: a loop that passes
// the same lengths and layout uploads once; a change costs a host-device
// synchronization (cuMemcpyHtoD, and cuMemFree of the old copy). The scratch
// of backward (the f32 dq_accum the dK/dV kernel sums dQ in, and delta) is
// stream-ordered (cuMemAllocAsync / cuMemFreeAsync).
//
// Thread safety: a KernelDirectory may be called from several threads; the
// cached uploads are guarded by a mutex.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_RUNTIME_RUNTIME_H
#define FLASHC_RUNTIME_RUNTIME_H

#include "runtime/Arguments.h"
#include "runtime/Driver.h"
#include "runtime/LaunchPlan.h"
#include "runtime/Manifest.h"
#include "runtime/Status.h"

#include <cuda.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace flashc::runtime {

/// What KernelDirectory needs from a device: memory, copies and launches.
/// Device implements it over the driver; tests implement it with a
/// recorder, so that the launch path runs without a GPU.
class DeviceApi {
public:
  virtual ~DeviceApi();
  /// Synchronous allocation (cuMemAlloc).
  virtual Status allocate(size_t bytes, CUdeviceptr &out) = 0;
  /// Frees memory from allocate (cuMemFree, which waits for the device).
  virtual void release(CUdeviceptr ptr) = 0;
  /// Synchronous host-to-device copy.
  virtual Status copyToDevice(CUdeviceptr dst, const void *src,
                              size_t bytes) = 0;
  /// Stream-ordered allocation and release (cuMemAllocAsync/FreeAsync).
  virtual Status allocateAsync(size_t bytes, CUstream stream,
                               CUdeviceptr &out) = 0;
  virtual Status releaseAsync(CUdeviceptr ptr, CUstream stream) = 0;
  /// Launches \p function with \p numParams kernel parameters.
  virtual Status launch(CUfunction function, const LaunchDims &dims,
                        CUstream stream, void **params, size_t numParams) = 0;
};

/// The primary context of one GPU, retained for the life of this object
/// (cuDevicePrimaryCtxRetain: the context the CUDA runtime and PyTorch use
/// too). Every call makes it current for its duration and restores the
/// caller's context after.
class Device : public DeviceApi {
public:
  /// Opens device \p ordinal; -1 means the device of the calling thread's
  /// current context, or device 0 when there is none.
  static Status open(int ordinal, std::shared_ptr<Device> &out);
  ~Device() override;
  Device(const Device &) = delete;
  Device &operator=(const Device &) = delete;

  int ordinal() const { return ordinalValue; }
  /// Compute capability, e.g. 90 for sm_90.
  int computeCapability() const { return ccMajor * 10 + ccMinor; }
  const std::string &name() const { return deviceName; }
  /// The most dynamic shared memory a block may opt into.
  int maxSharedBytesOptIn() const { return sharedOptIn; }
  CUcontext context() const { return ctx; }
  const DriverApi &api() const { return *driverApi; }

  Status allocate(size_t bytes, CUdeviceptr &out) override;
  void release(CUdeviceptr ptr) override;
  Status copyToDevice(CUdeviceptr dst, const void *src, size_t bytes) override;
  Status allocateAsync(size_t bytes, CUstream stream,
                       CUdeviceptr &out) override;
  Status releaseAsync(CUdeviceptr ptr, CUstream stream) override;
  Status launch(CUfunction function, const LaunchDims &dims, CUstream stream,
                void **params, size_t numParams) override;

  Status copyToHost(void *dst, CUdeviceptr src, size_t bytes);
  /// cuMemsetD8 over \p bytes (synchronous).
  Status fill(CUdeviceptr dst, uint8_t value, size_t bytes);
  /// Waits for \p stream (0: the legacy default stream).
  Status synchronize(CUstream stream);

  /// Makes this device's context current until destroyed.
  class Scope {
  public:
    explicit Scope(const Device &device);
    ~Scope();
    Scope(const Scope &) = delete;
    Scope &operator=(const Scope &) = delete;
    const Status &status() const { return pushStatus; }

  private:
    const Device &device;
    Status pushStatus;
  };

private:
  Device() = default;
  const DriverApi *driverApi = nullptr;
  int ordinalValue = 0;
  CUdevice dev = 0;
  CUcontext ctx = nullptr;
  int ccMajor = 0, ccMinor = 0;
  int sharedOptIn = 0;
  std::string deviceName;
};

/// Device memory owned by this object (cuMemAlloc / cuMemFree).
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer &&other) noexcept { *this = std::move(other); }
  DeviceBuffer &operator=(DeviceBuffer &&other) noexcept;
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;

  static Status allocate(std::shared_ptr<DeviceApi> device, size_t bytes,
                         DeviceBuffer &out);

  CUdeviceptr get() const { return ptr; }
  size_t size() const { return bytes; }
  void reset();

private:
  std::shared_ptr<DeviceApi> device;
  CUdeviceptr ptr = 0;
  size_t bytes = 0;
};

/// A loaded CUmodule (cuModuleUnload on destruction).
class Module {
public:
  Module() = default;
  ~Module();
  Module(Module &&other) noexcept;
  Module &operator=(Module &&other) = delete;
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;

  /// Loads PTX text or a cubin image; the PTX JIT's error log, if any,
  /// is part of the message on failure.
  static Status load(std::shared_ptr<Device> device, const std::string &image,
                     const std::string &what, Module &out);
  CUmodule get() const { return module; }

private:
  std::shared_ptr<Device> device;
  CUmodule module = nullptr;
};

/// What the driver reports about one loaded kernel (cuFuncGetAttribute).
struct KernelStats {
  int registers = 0;         ///< per thread
  int localBytes = 0;        ///< spill / local memory per thread
  int staticSharedBytes = 0; ///< __shared__ declared in the kernel
  int maxThreads = 0;        ///< per block, given its resources
  /// "cubin" or "ptx": which image was loaded.
  std::string loadedFrom;
};

/// Whether a kernel with \p dynamicBytes of dynamic and \p staticBytes of
/// static shared memory must opt in (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_
/// SIZE_BYTES) before it can launch: above 48 KiB in all.
bool needsSharedMemoryOptIn(int64_t dynamicBytes, int64_t staticBytes);

/// A loaded kernel directory.
class KernelDirectory {
public:
  /// Loads \p directory on \p device: parses and validates the manifest,
  /// checks the target against the device, loads each module (the cubin
  /// when present and built for exactly this device's arch, else the PTX),
  /// gets each function, reads its attributes, and opts into dynamic shared
  /// memory above 48 KiB. A null \p device opens Device::open(-1).
  static Status load(const std::string &directory,
                     std::shared_ptr<Device> device,
                     std::unique_ptr<KernelDirectory> &out);

  /// A directory over \p manifest whose kernels are \p functions (one per
  /// manifest kernel, any values) on \p device: tests drive the whole launch
  /// path with a recording DeviceApi and no driver.
  static std::unique_ptr<KernelDirectory>
  createForTesting(Manifest manifest, std::vector<CUfunction> functions,
                   std::shared_ptr<DeviceApi> device);

  ~KernelDirectory();

  const Manifest &manifest() const { return man; }
  const std::string &directory() const { return dir; }
  /// Stats of the kernel of \p kind, or null when the directory lacks it.
  const KernelStats *stats(KernelKind kind) const;

  /// Validates \p args, then launches `fwd` on \p stream.
  Status forward(const ForwardArgs &args, CUstream stream);
  /// Validates \p args, then launches bwd_prep, bwd_dkdv and bwd_dq in
  /// that order on \p stream.
  Status backward(const BackwardArgs &args, CUstream stream);

  /// Launches the one kernel of \p kind with \p args (every role it takes
  /// bound, buffers in device memory) for a call of \p sizes, on \p stream.
  /// For callers that run the kernels one by one on buffers of their own
  /// (`flashc run`); nothing beyond the binding is checked: forward() and
  /// backward() are the checked entries.
  Status launchKernel(KernelKind kind, const BoundArgs &args,
                      const ProblemSizes &sizes, CUstream stream);

private:
  KernelDirectory() = default;

  struct Loaded {
    KernelSpec spec;
    CUfunction function = nullptr;
    KernelStats stats;
  };
  /// Uploaded host data, reused while the caller passes the same values
  /// (benchmarks and training loops with a fixed layout upload once).
  struct UploadCache {
    std::vector<uint8_t> key;
    Uploads uploads;
    DeviceBuffer buffer;
  };

  const Loaded *find(KernelKind kind) const;
  Status upload(UploadCache &cache, const Manifest &m,
                const HostArray<int32_t> &seqQ, const HostArray<int32_t> &seqK,
                const DenseLayoutView &layout, bool transposed,
                const Uploads *&uploads, uint64_t &base);
  Status launch(const Loaded &kernel, const BoundArgs &args,
                const ProblemSizes &sizes, CUstream stream);

  std::string dir;
  Manifest man;
  std::shared_ptr<DeviceApi> device;
  std::vector<Module> modules;
  std::vector<Loaded> kernels;
  std::mutex cacheMutex;
  UploadCache forwardCache, backwardCache;
};

} // namespace flashc::runtime

#endif // FLASHC_RUNTIME_RUNTIME_H
