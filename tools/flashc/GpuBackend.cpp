//===- GpuBackend.cpp - `flashc run --backend gpu` ------------------------===//
//
// Compiles the spec in process for the GPU the runtime finds (sm_90a for
// compute capability 9.0, sm_80 PTX for other 8.x and later chips), loads
// the kernel directory through the runtime, and calls each kernel the way
// the harness calls the CPU ones: its arguments (host buffers in the
// kernel ABI's order, passes/KernelABI.h) are copied to device memory as
// they are, poison included, the one kernel is launched
// (KernelDirectory::launchKernel), and every buffer comes back. The time
// the harness reports is that of the launch and the wait for it, not of
// the copies.
//
//===----------------------------------------------------------------------===//

#include "tools/flashc/KernelBackend.h"

#ifdef FLASHC_HAVE_GPU_RUNTIME
#include "codegen/nvidia/NvidiaCompiler.h"
#include "dialect/AttnOps.h"
#include "runtime/Runtime.h"

#include "llvm/Support/FileSystem.h"

#include <chrono>
#endif

namespace flashc::tool {

#ifndef FLASHC_HAVE_GPU_RUNTIME

llvm::Expected<std::unique_ptr<KernelBackend>> createGpuBackend() {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      "this flashc was built without the GPU runtime (no cuda.h at "
      "configure time)");
}

#else

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Error toError(const runtime::Status &status) {
  return status ? llvm::Error::success() : makeError(status.message());
}

/// The chip flashc compiles for on a GPU of compute capability \p cc.
std::optional<std::string> chipFor(int cc) {
  if (cc == 90)
    return std::string("sm_90a");
  if (cc >= 80)
    return std::string("sm_80");
  return std::nullopt;
}

/// Bytes of one element of the buffer passed for \p role.
int64_t elementBytes(runtime::ArgRole role, const runtime::Manifest &m) {
  switch (role) {
  case runtime::ArgRole::Q:
  case runtime::ArgRole::K:
  case runtime::ArgRole::V:
  case runtime::ArgRole::O:
  case runtime::ArgRole::DOut:
  case runtime::ArgRole::DQ:
  case runtime::ArgRole::DK:
  case runtime::ArgRole::DV:
    return runtime::dtypeSize(m.elementType);
  default:
    return 4; // LSE, delta (f32); sequence lengths and layout lists (i32)
  }
}

/// Bytes from the allocation's start through the last element of \p arg.
int64_t spanBytes(const MemRefArg &arg, int64_t eltBytes) {
  int64_t last = arg.offset;
  for (size_t d = 0; d < arg.sizes.size(); ++d) {
    if (arg.sizes[d] == 0)
      return 0;
    last += (arg.sizes[d] - 1) * arg.strides[d];
  }
  return (last + 1) * eltBytes;
}

class GpuBackend : public KernelBackend {
public:
  /// \p device: the GPU, opened once; \p chip: what flashc compiles for it.
  GpuBackend(std::shared_ptr<runtime::Device> device, std::string chip)
      : device(std::move(device)), chip(std::move(chip)) {}

  llvm::StringRef name() const override { return "gpu"; }

  llvm::Error prepare(mlir::ModuleOp specModule,
                      const ConcreteShape &shape) override {
    llvm::Expected<nvidia::TargetInfo> target = nvidia::TargetInfo::get(chip);
    if (!target)
      return target.takeError();
    // dQ by recomputation (tileForNvidia's default: measured faster).
    auto tiled = nvidia::tileForNvidia(specModule, *target);
    if (!tiled)
      return tiled.takeError();
    llvm::Expected<nvidia::NvidiaKernels> kernels =
        nvidia::compileForNvidia(**tiled, *target);
    if (!kernels)
      return kernels.takeError();
    attn::AttentionConfig config;
    specModule.walk([&](mlir::Operation *op) {
      if (auto fwd = llvm::dyn_cast<attn::AttentionOp>(op))
        config = attn::getAttentionConfig(fwd);
      else if (auto grad = llvm::dyn_cast<attn::AttentionGradOp>(op))
        config = attn::getAttentionConfig(grad);
    });
    nvidia::ManifestInfo info = nvidia::fromConfig(config, "flashc-run", chip);

    // The runtime loads a kernel directory: write one, load it, remove it
    // (the modules are in memory once loaded).
    llvm::SmallString<128> dir;
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("flashc-run", dir))
      return makeError("cannot create a temporary directory: " + ec.message());
    llvm::Error written = nvidia::writeKernelDirectory(*kernels, info, dir);
    runtime::Status loaded =
        written ? runtime::Status::success()
                : runtime::KernelDirectory::load(dir.str().str(), device,
                                                 directory);
    llvm::sys::fs::remove_directories(dir);
    if (written)
      return written;
    if (llvm::Error e = toError(loaded))
      return e;
    sizes = runtime::ProblemSizes{shape.batch,   shape.headsQ, shape.headsKV,
                                  shape.seqQ,    shape.seqK,   shape.headDim,
                                  shape.headDimV};
    return llvm::Error::success();
  }

  std::string describe() const override {
    return device->name() + ", " + chip;
  }

  bool hasKernel(llvm::StringRef kind) const override {
    return directory && spec(kind) != nullptr;
  }

  bool sumsDqInScratch() const override {
    const runtime::KernelSpec *dkdv = directory ? spec("bwd_dkdv") : nullptr;
    return dkdv && dkdv->takes(runtime::ArgRole::DQAccum);
  }

  bool isDeterministic() const override { return !sumsDqInScratch(); }

  llvm::Error call(llvm::StringRef kind,
                   llvm::ArrayRef<KernelArg> args) override {
    const runtime::KernelSpec *kernel = directory ? spec(kind) : nullptr;
    if (!kernel)
      return makeError("no '" + kind + "' kernel was compiled");
    if (args.size() != kernel->args.size())
      return makeError("the '" + kind + "' kernel takes " +
                       llvm::Twine(kernel->args.size()) +
                       " arguments, the harness passed " +
                       llvm::Twine(args.size()));
    const runtime::Manifest &m = directory->manifest();
    runtime::BoundArgs bound;
    struct Copy {
      const MemRefArg *host;
      runtime::DeviceBuffer buffer;
      int64_t bytes;
    };
    std::vector<Copy> copies;
    copies.reserve(args.size());
    for (auto [arg, role] : llvm::zip(args, kernel->args)) {
      if (const auto *scalar = std::get_if<int64_t>(&arg)) {
        bound.bindScalar(role, *scalar);
        continue;
      }
      const auto &memref = std::get<MemRefArg>(arg);
      if (memref.sizes.size() > 4)
        return makeError("a buffer of rank > 4 for the '" + kind + "' kernel");
      int64_t bytes = spanBytes(memref, elementBytes(role, m));
      Copy copy{&memref, runtime::DeviceBuffer(), bytes};
      // At least one word: the driver allocates nothing for zero bytes.
      if (llvm::Error e = toError(runtime::DeviceBuffer::allocate(
              device, static_cast<size_t>(std::max<int64_t>(bytes, 16)),
              copy.buffer)))
        return e;
      if (bytes > 0)
        if (llvm::Error e = toError(device->copyToDevice(
                copy.buffer.get(), memref.data, static_cast<size_t>(bytes))))
          return e;
      runtime::MemRefDescriptor d;
      d.allocated = d.aligned = copy.buffer.get();
      d.offset = memref.offset;
      d.rank = static_cast<int>(memref.sizes.size());
      for (int i = 0; i < d.rank; ++i) {
        d.sizes[i] = memref.sizes[i];
        d.strides[i] = memref.strides[i];
      }
      bound.bind(role, d);
      copies.push_back(std::move(copy));
    }
    auto start = std::chrono::steady_clock::now();
    runtime::Status launched =
        directory->launchKernel(kernel->kind, bound, sizes, nullptr);
    if (launched)
      launched = device->synchronize(nullptr);
    auto end = std::chrono::steady_clock::now();
    if (llvm::Error e = toError(launched))
      return e;
    kernelMs += std::chrono::duration<double, std::milli>(end - start).count();
    for (Copy &copy : copies)
      if (copy.bytes > 0)
        if (llvm::Error e = toError(device->copyToHost(
                copy.host->data, copy.buffer.get(),
                static_cast<size_t>(copy.bytes))))
          return e;
    return llvm::Error::success();
  }

  std::optional<double> takeKernelMilliseconds() override {
    double ms = kernelMs;
    kernelMs = 0.0;
    return ms;
  }

private:
  const runtime::KernelSpec *spec(llvm::StringRef kind) const {
    for (const runtime::KernelSpec &k : directory->manifest().kernels)
      if (kind == runtime::kernelKindName(k.kind))
        return &k;
    return nullptr;
  }

  std::shared_ptr<runtime::Device> device;
  std::string chip;
  std::unique_ptr<runtime::KernelDirectory> directory;
  runtime::ProblemSizes sizes;
  double kernelMs = 0.0;
};

} // namespace

llvm::Expected<std::unique_ptr<KernelBackend>> createGpuBackend() {
  std::shared_ptr<runtime::Device> device;
  if (llvm::Error e = toError(runtime::Device::open(-1, device)))
    return std::move(e);
  std::optional<std::string> chip = chipFor(device->computeCapability());
  if (!chip)
    return makeError("the GPU (" + device->name() + ", compute capability " +
                     llvm::Twine(device->computeCapability()) +
                     ") is older than sm_80, the oldest flashc targets");
  return std::make_unique<GpuBackend>(std::move(device), *chip);
}

#endif // FLASHC_HAVE_GPU_RUNTIME

} // namespace flashc::tool
