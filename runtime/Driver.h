//===- Driver.h - the CUDA driver API, loaded at run time -------*- C++ -*-===//
//
// The runtime never links libcuda: a binary linked against the toolkit's
// stub fails to *load* where there is no driver (TOOLCHAIN.md). Instead the
// driver is dlopen()ed on first use and every entry point is resolved by
// name, so "no GPU" is a Status like any other. <cuda.h> is included for its
// types and prototypes only.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_RUNTIME_DRIVER_H
#define FLASHC_RUNTIME_DRIVER_H

#include "runtime/Status.h"

#include <cuda.h>

namespace flashc::runtime {

/// The driver entry points the runtime uses: X(member, driver function).
/// The function names are cuda.h's, so its macros pick the versioned symbol
/// (cuMemAlloc -> cuMemAlloc_v2) whose prototype the header declares.
#define FLASHC_DRIVER_FUNCTIONS(X)                                             \
  X(init, cuInit)                                                              \
  X(driverGetVersion, cuDriverGetVersion)                                      \
  X(getErrorName, cuGetErrorName)                                              \
  X(getErrorString, cuGetErrorString)                                          \
  X(deviceGet, cuDeviceGet)                                                    \
  X(deviceGetCount, cuDeviceGetCount)                                          \
  X(deviceGetName, cuDeviceGetName)                                            \
  X(deviceGetAttribute, cuDeviceGetAttribute)                                  \
  X(devicePrimaryCtxRetain, cuDevicePrimaryCtxRetain)                          \
  X(devicePrimaryCtxRelease, cuDevicePrimaryCtxRelease)                        \
  X(ctxGetCurrent, cuCtxGetCurrent)                                            \
  X(ctxGetDevice, cuCtxGetDevice_v2)                                           \
  X(ctxPushCurrent, cuCtxPushCurrent)                                          \
  X(ctxPopCurrent, cuCtxPopCurrent)                                            \
  X(ctxSynchronize, cuCtxSynchronize)                                          \
  X(moduleLoadDataEx, cuModuleLoadDataEx)                                      \
  X(moduleUnload, cuModuleUnload)                                              \
  X(moduleGetFunction, cuModuleGetFunction)                                    \
  X(funcGetAttribute, cuFuncGetAttribute)                                      \
  X(funcSetAttribute, cuFuncSetAttribute)                                      \
  X(launchKernel, cuLaunchKernel)                                              \
  X(memAlloc, cuMemAlloc)                                                      \
  X(memFree, cuMemFree)                                                        \
  X(memcpyHtoD, cuMemcpyHtoD)                                                  \
  X(memcpyDtoH, cuMemcpyDtoH)                                                  \
  X(memsetD8, cuMemsetD8)                                                      \
  X(memAllocAsync, cuMemAllocAsync)                                            \
  X(memFreeAsync, cuMemFreeAsync)                                              \
  X(streamSynchronize, cuStreamSynchronize)

/// Pointers to the driver's functions; all non-null once loaded.
struct DriverApi {
#define FLASHC_DRIVER_MEMBER(member, function)                                 \
  decltype(&::function) member = nullptr;
  FLASHC_DRIVER_FUNCTIONS(FLASHC_DRIVER_MEMBER)
#undef FLASHC_DRIVER_MEMBER
  /// cuDriverGetVersion's answer, e.g. 13000.
  int version = 0;
};

/// The process's driver: loads "libcuda.so.1", resolves every entry point
/// and calls cuInit(0), once. Returns null and sets \p status when that
/// failed, e.g. "no CUDA driver: libcuda.so.1 not found (...)". Thread-safe.
const DriverApi *driver(Status &status);

/// Loads the driver from \p library into \p out without touching the
/// process's driver (tests use it with a library that does not exist).
/// Does not call cuInit.
Status loadDriverLibrary(const char *library, DriverApi &out);

/// A Status for a failed driver call: "CUDA error CUDA_ERROR_X (text) in
/// <expression>", with the name and text from cuGetErrorName/String.
Status cudaError(CUresult result, const char *expression);

/// Evaluates a driver call and returns its error as a Status from the
/// enclosing function. Use as `FLASHC_CU(api->memAlloc(&ptr, bytes));`.
#define FLASHC_CU(call)                                                        \
  do {                                                                         \
    CUresult flashcResult_ = (call);                                           \
    if (flashcResult_ != CUDA_SUCCESS)                                         \
      return ::flashc::runtime::cudaError(flashcResult_, #call);               \
  } while (false)


} // namespace flashc::runtime

#endif // FLASHC_RUNTIME_DRIVER_H
