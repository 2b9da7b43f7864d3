//===- KernelBackend.h - what `flashc run` runs kernels with ----*- C++ -*-===//
//
// The run harness builds inputs, the reference result and kernel arguments
// (passes/KernelABI.h); a backend turns the spec into kernels and calls them.
// The CPU backend compiles through the tiling pipeline and codegen's JIT; the
// GPU one compiles for the GPU present and launches through the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_TOOLS_FLASHC_KERNELBACKEND_H
#define FLASHC_TOOLS_FLASHC_KERNELBACKEND_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace flashc::tool {

/// A strided buffer argument: the fields of a memref descriptor. Mirrors
/// codegen's cpu::MemRefArg so that this header needs no codegen header.
struct MemRefArg {
  void *data = nullptr;
  int64_t offset = 0;
  llvm::SmallVector<int64_t, 4> sizes, strides;
};

/// One kernel argument, in the order of passes/KernelABI.h.
using KernelArg = std::variant<MemRefArg, int64_t>;

/// The concrete sizes of one run (every dynamic size resolved).
struct ConcreteShape {
  int64_t batch = 0, headsQ = 0, headsKV = 0;
  int64_t seqQ = 0, seqK = 0, headDim = 0, headDimV = 0;
  /// Leading sizes of the layout operand (1 or batch, 1 or headsQ), when the
  /// spec has one.
  int64_t layoutBatch = 0, layoutHeads = 0;
};

class KernelBackend {
public:
  virtual ~KernelBackend();

  /// The name `--backend` selects it by.
  virtual llvm::StringRef name() const = 0;

  /// Compiles the kernels of \p specModule (which the backend must not
  /// modify) for runs of \p shape.
  virtual llvm::Error prepare(mlir::ModuleOp specModule,
                              const ConcreteShape &shape) = 0;

  /// Whether the prepared kernels include one of \p kind ("fwd", ...).
  virtual bool hasKernel(llvm::StringRef kind) const = 0;

  /// Whether the prepared backward kernels sum dQ in dq_accum (the kernel
  /// ABI with dq_accum, passes/KernelABI.h) rather than recompute it.
  virtual bool sumsDqInScratch() const = 0;

  /// Whether the prepared kernels write bitwise the same outputs on every
  /// run; not where dQ is summed by atomics in an order that depends on
  /// scheduling.
  virtual bool isDeterministic() const { return true; }

  /// Calls the kernel of \p kind with \p args.
  virtual llvm::Error call(llvm::StringRef kind,
                           llvm::ArrayRef<KernelArg> args) = 0;

  /// What the kernels run on, once prepared ("NVIDIA H100 ..., sm_90a"), or
  /// empty.
  virtual std::string describe() const { return ""; }

  /// The milliseconds the kernels of the calls since the last take spent
  /// (launch to completion), for backends whose call() also moves data;
  /// std::nullopt where a call's wall time is the kernel's.
  virtual std::optional<double> takeKernelMilliseconds() {
    return std::nullopt;
  }
};

/// The backend called \p name: "cpu", "gpu", or the hidden
/// "testing-reference" / "testing-faulty" that run the float64 reference
/// behind the kernel ABI to test the harness itself. Fails with a message
/// saying why a backend is not available.
llvm::Expected<std::unique_ptr<KernelBackend>>
createKernelBackend(llvm::StringRef name);

/// The GPU backend when there is a GPU flashc can run on, else the CPU one,
/// with \p whyNotGpu saying why not the GPU (no driver, no device, too old,
/// no runtime in this build).
llvm::Expected<std::unique_ptr<KernelBackend>>
createDefaultBackend(std::string &whyNotGpu);

/// The GPU backend on the GPU of the calling thread (else device 0), or an
/// error saying why there is none: this build lacks the runtime, no driver,
/// no device, or one older than sm_80.
llvm::Expected<std::unique_ptr<KernelBackend>> createGpuBackend();

/// The CPU backend, or an error when this build lacks the compiler pipeline.
llvm::Expected<std::unique_ptr<KernelBackend>> createCpuBackend();

/// A backend that computes each kernel's outputs with the reference from
/// its ABI arguments; with \p faulty it corrupts some outputs on purpose.
std::unique_ptr<KernelBackend> createReferenceBackend(bool faulty);

} // namespace flashc::tool

#endif // FLASHC_TOOLS_FLASHC_KERNELBACKEND_H
