//===- Runtime.cpp - load flashc kernels and launch them ------------------===//

#include "runtime/Runtime.h"

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace flashc::runtime {

DeviceApi::~DeviceApi() = default;

//===----------------------------------------------------------------------===//
// Device
//===----------------------------------------------------------------------===//

Status Device::open(int ordinal, std::shared_ptr<Device> &out) {
  out.reset();
  Status loaded;
  const DriverApi *api = driver(loaded);
  if (!api)
    return loaded;
  std::shared_ptr<Device> d(new Device());
  d->driverApi = api;
  int count = 0;
  FLASHC_CU(api->deviceGetCount(&count));
  if (count == 0)
    return Status::error("no CUDA device: the driver sees no GPU");
  if (ordinal < 0) {
    CUcontext current = nullptr;
    FLASHC_CU(api->ctxGetCurrent(&current));
    // cuCtxGetDevice_v2 names the context: CUDA 13's cuGetProcAddress hands
    // out the two-argument entry point for "cuCtxGetDevice", so calling it
    // with one argument read a garbage context (a crash under torch).
    if (current)
      FLASHC_CU(api->ctxGetDevice(&d->dev, current));
    else
      FLASHC_CU(api->deviceGet(&d->dev, 0));
  } else {
    if (ordinal >= count)
      return Status::error("CUDA device " + std::to_string(ordinal) +
                           " does not exist (the driver sees " +
                           std::to_string(count) + ")");
    FLASHC_CU(api->deviceGet(&d->dev, ordinal));
  }
  d->ordinalValue = static_cast<int>(d->dev);
  FLASHC_CU(api->deviceGetAttribute(
      &d->ccMajor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d->dev));
  FLASHC_CU(api->deviceGetAttribute(
      &d->ccMinor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d->dev));
  FLASHC_CU(api->deviceGetAttribute(
      &d->sharedOptIn, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
      d->dev));
  char name[256] = {0};
  FLASHC_CU(api->deviceGetName(name, sizeof(name) - 1, d->dev));
  d->deviceName = name;
  FLASHC_CU(api->devicePrimaryCtxRetain(&d->ctx, d->dev));
  out = std::move(d);
  return Status::success();
}

Device::~Device() {
  if (ctx)
    driverApi->devicePrimaryCtxRelease(dev);
}

Device::Scope::Scope(const Device &device) : device(device) {
  CUresult r = device.driverApi->ctxPushCurrent(device.ctx);
  if (r != CUDA_SUCCESS)
    pushStatus = cudaError(r, "cuCtxPushCurrent(primary context)");
}

Device::Scope::~Scope() {
  if (pushStatus) {
    CUcontext popped = nullptr;
    device.driverApi->ctxPopCurrent(&popped);
  }
}

#define FLASHC_DEVICE_SCOPE()                                                  \
  Scope scope(*this);                                                          \
  FLASHC_TRY(scope.status())

Status Device::allocate(size_t bytes, CUdeviceptr &out) {
  out = 0;
  FLASHC_DEVICE_SCOPE();
  FLASHC_CU(driverApi->memAlloc(&out, bytes ? bytes : 1));
  return Status::success();
}

void Device::release(CUdeviceptr ptr) {
  if (!ptr)
    return;
  Scope scope(*this);
  driverApi->memFree(ptr);
}

Status Device::copyToDevice(CUdeviceptr dst, const void *src, size_t bytes) {
  if (!bytes)
    return Status::success();
  FLASHC_DEVICE_SCOPE();
  FLASHC_CU(driverApi->memcpyHtoD(dst, src, bytes));
  return Status::success();
}

Status Device::copyToHost(void *dst, CUdeviceptr src, size_t bytes) {
  if (!bytes)
    return Status::success();
  FLASHC_DEVICE_SCOPE();
  FLASHC_CU(driverApi->memcpyDtoH(dst, src, bytes));
  return Status::success();
}

Status Device::fill(CUdeviceptr dst, uint8_t value, size_t bytes) {
  if (!bytes)
    return Status::success();
  FLASHC_DEVICE_SCOPE();
  FLASHC_CU(driverApi->memsetD8(dst, value, bytes));
  return Status::success();
}

Status Device::allocateAsync(size_t bytes, CUstream stream,
                             CUdeviceptr &out) {
  out = 0;
  FLASHC_DEVICE_SCOPE();
  FLASHC_CU(driverApi->memAllocAsync(&out, bytes ? bytes : 1, stream));
  return Status::success();
}

Status Device::releaseAsync(CUdeviceptr ptr, CUstream stream) {
  FLASHC_DEVICE_SCOPE();
  FLASHC_CU(driverApi->memFreeAsync(ptr, stream));
  return Status::success();
}

Status Device::launch(CUfunction function, const LaunchDims &d,
                      CUstream stream, void **params, size_t) {
  FLASHC_DEVICE_SCOPE();
  FLASHC_CU(driverApi->launchKernel(function, d.grid[0], d.grid[1], d.grid[2],
                                    d.block[0], d.block[1], d.block[2],
                                    d.sharedBytes, stream, params, nullptr));
  return Status::success();
}

Status Device::synchronize(CUstream stream) {
  FLASHC_DEVICE_SCOPE();
  FLASHC_CU(driverApi->streamSynchronize(stream));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// DeviceBuffer, Module
//===----------------------------------------------------------------------===//

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&other) noexcept {
  if (this != &other) {
    reset();
    device = std::move(other.device);
    ptr = other.ptr;
    bytes = other.bytes;
    other.ptr = 0;
    other.bytes = 0;
  }
  return *this;
}

Status DeviceBuffer::allocate(std::shared_ptr<DeviceApi> device, size_t bytes,
                              DeviceBuffer &out) {
  out.reset();
  CUdeviceptr ptr = 0;
  FLASHC_TRY(device->allocate(bytes, ptr));
  out.device = std::move(device);
  out.ptr = ptr;
  out.bytes = bytes;
  return Status::success();
}

void DeviceBuffer::reset() {
  if (ptr && device)
    device->release(ptr);
  ptr = 0;
  bytes = 0;
  device.reset();
}

Module::~Module() {
  if (module && device) {
    Device::Scope scope(*device);
    device->api().moduleUnload(module);
  }
}

Module::Module(Module &&other) noexcept
    : device(std::move(other.device)), module(other.module) {
  other.module = nullptr;
}

Status Module::load(std::shared_ptr<Device> device, const std::string &image,
                    const std::string &what, Module &out) {
  Device::Scope scope(*device);
  FLASHC_TRY(scope.status());
  // The PTX JIT explains a failure only through its log buffer.
  char errorLog[8192] = {0};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {errorLog, reinterpret_cast<void *>(sizeof(errorLog) - 1)};
  CUmodule module = nullptr;
  CUresult r = device->api().moduleLoadDataEx(&module, image.c_str(), 2,
                                              options, values);
  if (r != CUDA_SUCCESS) {
    Status s = cudaError(r, ("cuModuleLoadDataEx(" + what + ")").c_str());
    std::string log = errorLog;
    return Status::error(s.message() + (log.empty() ? "" : ":\n" + log));
  }
  out.device = std::move(device);
  out.module = module;
  return Status::success();
}

//===----------------------------------------------------------------------===//
// KernelDirectory
//===----------------------------------------------------------------------===//

namespace {

Status readFile(const std::string &path, std::string &out) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return Status::error(path + ": cannot read");
  std::stringstream text;
  text << file.rdbuf();
  out = text.str();
  return Status::success();
}

/// "sm_90a" -> 90, archSpecific = true.
int targetArch(const std::string &target, bool &archSpecific) {
  archSpecific = !target.empty() && target.back() == 'a';
  return std::atoi(target.c_str() + 3);
}

std::string ccText(int cc) {
  return std::to_string(cc / 10) + "." + std::to_string(cc % 10);
}

} // namespace

KernelDirectory::~KernelDirectory() = default;

Status KernelDirectory::load(const std::string &directory,
                             std::shared_ptr<Device> device,
                             std::unique_ptr<KernelDirectory> &out) {
  out.reset();
  Manifest manifest;
  FLASHC_TRY(loadManifest(directory, manifest));
  if (!device)
    FLASHC_TRY(Device::open(-1, device));

  bool archSpecific = false;
  int arch = targetArch(manifest.target, archSpecific);
  int cc = device->computeCapability();
  if (archSpecific ? cc != arch : cc < arch)
    return Status::error(
        directory + ": the kernels target " + manifest.target + ", which " +
        (archSpecific ? "runs only on compute capability " + ccText(arch)
                      : "needs compute capability " + ccText(arch) +
                            " or newer") +
        "; GPU " + std::to_string(device->ordinal()) + " (" + device->name() +
        ") is " + ccText(cc));

  std::unique_ptr<KernelDirectory> kd(new KernelDirectory());
  kd->dir = directory;
  kd->man = manifest;
  kd->device = device;
  std::map<std::string, size_t> moduleOf; // file -> index in kd->modules
  const DriverApi &api = device->api();
  for (size_t i = 0; i < manifest.kernels.size(); ++i) {
    const KernelSpec &spec = manifest.kernels[i];
    std::string where = directory + ": kernels[" + std::to_string(i) + "] (" +
                        kernelKindName(spec.kind) + ", " + spec.name + ")";
    // A cubin holds machine code for exactly one arch; PTX is JIT-compiled
    // by the driver for this device.
    bool useCubin = !spec.cubinFile.empty() && cc == arch;
    const std::string &file = useCubin ? spec.cubinFile : spec.ptxFile;
    auto it = moduleOf.find(file);
    if (it == moduleOf.end()) {
      std::string image;
      FLASHC_TRY(readFile(directory + "/" + file, image));
      Module module;
      FLASHC_TRY(Module::load(device, image, directory + "/" + file, module));
      kd->modules.push_back(std::move(module));
      it = moduleOf.emplace(file, kd->modules.size() - 1).first;
    }
    Loaded k;
    k.spec = spec;
    k.stats.loadedFrom = useCubin ? "cubin" : "ptx";
    {
      Device::Scope scope(*device);
      FLASHC_TRY(scope.status());
      CUresult r = api.moduleGetFunction(
          &k.function, kd->modules[it->second].get(), spec.name.c_str());
      if (r == CUDA_ERROR_NOT_FOUND)
        return Status::error(where + ": " + directory + "/" + file +
                             " has no entry point named " + spec.name);
      FLASHC_CU(r);
      FLASHC_CU(api.funcGetAttribute(&k.stats.registers,
                                     CU_FUNC_ATTRIBUTE_NUM_REGS, k.function));
      FLASHC_CU(api.funcGetAttribute(&k.stats.localBytes,
                                     CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES,
                                     k.function));
      FLASHC_CU(api.funcGetAttribute(&k.stats.staticSharedBytes,
                                     CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES,
                                     k.function));
      FLASHC_CU(api.funcGetAttribute(
          &k.stats.maxThreads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK,
          k.function));
      if (spec.threads > k.stats.maxThreads)
        return Status::error(
            where + ": launches " + std::to_string(spec.threads) +
            " threads per block, but with " +
            std::to_string(k.stats.registers) +
            " registers per thread this GPU allows at most " +
            std::to_string(k.stats.maxThreads));
      int64_t shared = spec.sharedBytes + k.stats.staticSharedBytes;
      if (shared > device->maxSharedBytesOptIn())
        return Status::error(
            where + ": needs " + std::to_string(spec.sharedBytes) +
            " bytes of dynamic + " + std::to_string(k.stats.staticSharedBytes) +
            " of static shared memory; this GPU allows " +
            std::to_string(device->maxSharedBytesOptIn()) + " per block");
      if (needsSharedMemoryOptIn(spec.sharedBytes,
                                 k.stats.staticSharedBytes))
        FLASHC_CU(api.funcSetAttribute(
            k.function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
            static_cast<int>(spec.sharedBytes)));
    }
    kd->kernels.push_back(std::move(k));
  }
  out = std::move(kd);
  return Status::success();
}

bool needsSharedMemoryOptIn(int64_t dynamicBytes, int64_t staticBytes) {
  // Counted together: a plan of exactly 48 KiB beside the compiler's 1-byte
  // static buffer does not launch without it.
  return dynamicBytes + staticBytes > 48 * 1024;
}

std::unique_ptr<KernelDirectory>
KernelDirectory::createForTesting(Manifest manifest,
                                  std::vector<CUfunction> functions,
                                  std::shared_ptr<DeviceApi> device) {
  std::unique_ptr<KernelDirectory> kd(new KernelDirectory());
  kd->dir = "<testing>";
  kd->device = std::move(device);
  for (size_t i = 0; i < manifest.kernels.size(); ++i) {
    Loaded k;
    k.spec = manifest.kernels[i];
    k.function = i < functions.size() ? functions[i] : nullptr;
    kd->kernels.push_back(k);
  }
  kd->man = std::move(manifest);
  return kd;
}

const KernelDirectory::Loaded *KernelDirectory::find(KernelKind kind) const {
  for (const Loaded &k : kernels)
    if (k.spec.kind == kind)
      return &k;
  return nullptr;
}

const KernelStats *KernelDirectory::stats(KernelKind kind) const {
  const Loaded *k = find(kind);
  return k ? &k->stats : nullptr;
}

namespace {
/// Appends the raw bytes of \p value to \p key.
template <typename T> void appendKey(std::vector<uint8_t> &key, const T &v) {
  const uint8_t *p = reinterpret_cast<const uint8_t *>(&v);
  key.insert(key.end(), p, p + sizeof(T));
}

void appendKey(std::vector<uint8_t> &key, const void *data, size_t bytes) {
  const uint8_t *p = static_cast<const uint8_t *>(data);
  key.insert(key.end(), p, p + bytes);
}

int64_t layoutElementBytes(LayoutElementType t) {
  return t == LayoutElementType::Int32 ? 4 : 1;
}
} // namespace

Status KernelDirectory::upload(UploadCache &cache, const Manifest &m,
                               const HostArray<int32_t> &seqQ,
                               const HostArray<int32_t> &seqK,
                               const DenseLayoutView &layout, bool transposed,
                               const Uploads *&uploads, uint64_t &base) {
  // The key is everything the uploaded bytes depend on.
  std::vector<uint8_t> key;
  if (m.seqLensQ)
    appendKey(key, seqQ.data, static_cast<size_t>(seqQ.size) * 4);
  if (m.seqLensK)
    appendKey(key, seqK.data, static_cast<size_t>(seqK.size) * 4);
  if (m.hasLayout()) {
    for (int64_t dim : {layout.batch, layout.heads, layout.rows, layout.cols})
      appendKey(key, dim);
    appendKey(key, layout.elementType);
    appendKey(key, layout.data,
              static_cast<size_t>(layout.numElements *
                                  layoutElementBytes(layout.elementType)));
  }
  if (key.empty()) {
    static const Uploads none;
    uploads = &none;
    base = 0;
    return Status::success();
  }
  if (key != cache.key || !cache.buffer.get()) {
    Uploads fresh;
    FLASHC_TRY(buildUploads(m, seqQ, seqK, layout, transposed, fresh));
    DeviceBuffer buffer;
    FLASHC_TRY(DeviceBuffer::allocate(device, fresh.bytes.size(), buffer));
    // A synchronous copy: the buffer is complete before any stream uses it.
    FLASHC_TRY(device->copyToDevice(buffer.get(), fresh.bytes.data(),
                                    fresh.bytes.size()));
    // Replacing frees the previous buffer with cuMemFree, which waits for
    // the kernels that may still read it.
    cache.buffer = std::move(buffer);
    cache.uploads = std::move(fresh);
    cache.key = std::move(key);
  }
  uploads = &cache.uploads;
  base = cache.buffer.get();
  return Status::success();
}

Status KernelDirectory::launch(const Loaded &kernel, const BoundArgs &args,
                               const ProblemSizes &sizes, CUstream stream) {
  ParamBuffer params;
  FLASHC_TRY(packParams(kernel.spec, args, params));
  return device->launch(kernel.function, launchDims(kernel.spec, sizes),
                        stream, params.pointers(), params.words().size());
}

Status KernelDirectory::launchKernel(KernelKind kind, const BoundArgs &args,
                                     const ProblemSizes &sizes,
                                     CUstream stream) {
  const Loaded *kernel = find(kind);
  if (!kernel)
    return Status::error(dir + ": no '" + kernelKindName(kind) + "' kernel");
  return launch(*kernel, args, sizes, stream);
}

Status KernelDirectory::forward(const ForwardArgs &args, CUstream stream) {
  ProblemSizes sizes;
  FLASHC_TRY(validateForward(man, args, sizes));
  const Loaded *fwd = find(KernelKind::Forward);
  std::lock_guard<std::mutex> lock(cacheMutex);
  const Uploads *uploads = nullptr;
  uint64_t base = 0;
  FLASHC_TRY(upload(forwardCache, man, args.seqLensQ, args.seqLensK,
                    args.layout, /*transposed=*/false, uploads, base));
  BoundArgs bound = bindForward(man, args, sizes, *uploads, base);
  return launch(*fwd, bound, sizes, stream);
}

Status KernelDirectory::backward(const BackwardArgs &args, CUstream stream) {
  ProblemSizes sizes;
  FLASHC_TRY(validateBackward(man, args, sizes));
  const Loaded *prep = find(KernelKind::BackwardPrep);
  const Loaded *dkdv = find(KernelKind::BackwardDkDv);
  const Loaded *dq = find(KernelKind::BackwardDq);
  std::lock_guard<std::mutex> lock(cacheMutex);
  const Uploads *uploads = nullptr;
  uint64_t base = 0;
  FLASHC_TRY(upload(backwardCache, man, args.seqLensQ, args.seqLensK,
                    args.layout, /*transposed=*/true, uploads, base));

  // Scratch, stream-ordered: dq_accum (f32 [B, Hq, Nq, D], where bwd_dkdv
  // sums dQ; none in a deterministic directory), then delta unless the
  // caller passes one.
  TensorRef delta = args.delta, dqAccum;
  size_t rows = static_cast<size_t>(sizes.batch * sizes.headsQ * sizes.seqQ);
  size_t accumBytes = man.deterministic ? 0
                                        : rows *
                                              static_cast<size_t>(sizes.headDim) *
                                              sizeof(float);
  size_t bytes = accumBytes + (delta.present() ? 0 : rows * sizeof(float));
  CUdeviceptr scratch = 0;
  if (bytes)
    FLASHC_TRY(device->allocateAsync(bytes, stream, scratch));
  if (accumBytes)
    dqAccum = TensorRef::contiguous(
        scratch, DType::F32,
        {sizes.batch, sizes.headsQ, sizes.seqQ, sizes.headDim});
  if (!delta.present())
    delta = TensorRef::contiguous(scratch + accumBytes, DType::F32,
                                  {sizes.batch, sizes.headsQ, sizes.seqQ});
  BoundArgs bound =
      bindBackward(man, args, delta, dqAccum, sizes, *uploads, base);
  Status status = launch(*prep, bound, sizes, stream);
  if (status) {
    BoundArgs columns = bound;
    bindColumnLayout(columns, *uploads, base);
    status = launch(*dkdv, columns, sizes, stream);
  }
  if (status)
    status = launch(*dq, bound, sizes, stream);
  // Stream-ordered: freed once the kernels above are done with it.
  if (scratch) {
    Status released = device->releaseAsync(scratch, stream);
    if (status && !released)
      status = released;
  }
  return status;
}

} // namespace flashc::runtime
