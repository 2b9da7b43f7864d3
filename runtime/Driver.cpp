//===- Driver.cpp - the CUDA driver API, loaded at run time ---------------===//

#include "runtime/Driver.h"

#include <dlfcn.h>
#include <mutex>
#include <string>

namespace flashc::runtime {

#define FLASHC_STRINGIFY_EXPANDED(x) FLASHC_STRINGIFY(x)
#define FLASHC_STRINGIFY(x) #x

namespace {

using GetProcAddress = CUresult (*)(const char *, void **, int, cuuint64_t,
                                    CUdriverProcAddressQueryResult *);

/// Resolves \p baseName ("cuMemAlloc"), preferring cuGetProcAddress, which
/// picks the version matching this header (CUDA_VERSION), and falling back
/// to dlsym of \p versionedName ("cuMemAlloc_v2").
void *resolve(void *library, GetProcAddress getProc, const char *baseName,
              const char *versionedName) {
  if (getProc) {
    void *fn = nullptr;
    CUdriverProcAddressQueryResult found = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    if (getProc(baseName, &fn, CUDA_VERSION, CU_GET_PROC_ADDRESS_DEFAULT,
                &found) == CUDA_SUCCESS &&
        fn)
      return fn;
  }
  return dlsym(library, versionedName);
}

} // namespace

Status loadDriverLibrary(const char *library, DriverApi &out) {
  out = DriverApi();
  void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    return Status::error(std::string("no CUDA driver: ") + library +
                         " not found (" + (why ? why : "dlopen failed") +
                         "); flashc needs an NVIDIA GPU and its driver to "
                         "run kernels");
  }
  // The library stays loaded for the life of the process, as libcuda
  // expects: unloading it under live contexts is undefined.
  auto getProc =
      reinterpret_cast<GetProcAddress>(dlsym(handle, "cuGetProcAddress_v2"));
  DriverApi api;
#define FLASHC_RESOLVE(member, function)                                       \
  api.member = reinterpret_cast<decltype(api.member)>(resolve(                 \
      handle, getProc, #function, FLASHC_STRINGIFY_EXPANDED(function)));       \
  if (!api.member)                                                             \
    return Status::error(std::string("CUDA driver ") + library +               \
                         " lacks " FLASHC_STRINGIFY_EXPANDED(function)          \
                         " (driver too old for CUDA " +                        \
                         std::to_string(CUDA_VERSION / 1000) + "." +            \
                         std::to_string(CUDA_VERSION % 1000 / 10) +            \
                         " headers?)");
  FLASHC_DRIVER_FUNCTIONS(FLASHC_RESOLVE)
#undef FLASHC_RESOLVE
  if (api.driverGetVersion(&api.version) != CUDA_SUCCESS)
    api.version = 0;
  out = api;
  return Status::success();
}

namespace {
struct ProcessDriver {
  DriverApi api;
  Status status;
};

ProcessDriver &processDriver() {
  static ProcessDriver d = [] {
    ProcessDriver pd;
    pd.status = loadDriverLibrary("libcuda.so.1", pd.api);
    if (pd.status) {
      CUresult r = pd.api.init(0);
      if (r != CUDA_SUCCESS) {
        const char *name = nullptr, *text = nullptr;
        pd.api.getErrorName(r, &name);
        pd.api.getErrorString(r, &text);
        pd.status = Status::error(
            std::string("CUDA driver found but cuInit failed: ") +
            (name ? name : "?") + " (" + (text ? text : "?") +
            ") - is there a GPU, and may this process use it?");
      }
    }
    return pd;
  }();
  return d;
}
} // namespace

const DriverApi *driver(Status &status) {
  ProcessDriver &d = processDriver();
  status = d.status;
  return d.status ? &d.api : nullptr;
}

Status cudaError(CUresult result, const char *expression) {
  const char *name = nullptr, *text = nullptr;
  Status loaded;
  if (const DriverApi *api = driver(loaded)) {
    api->getErrorName(result, &name);
    api->getErrorString(result, &text);
  }
  std::string message = "CUDA error ";
  message += name ? std::string(name) : "CUresult " + std::to_string(result);
  if (text)
    message += std::string(" (") + text + ")";
  return Status::error(message + " in " + expression);
}

} // namespace flashc::runtime
