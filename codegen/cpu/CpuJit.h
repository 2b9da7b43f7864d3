//===- CpuJit.h - run tiled attn kernels in process on the CPU --*- C++ -*-===//
//
// Lowers a module of tiled-level kernels with the CPU pipeline, JIT-compiles
// it with mlir::ExecutionEngine and calls its kernels on caller-owned
// buffers, checking every argument against the kernel's signature first.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_CPU_CPUJIT_H
#define FLASHC_CODEGEN_CPU_CPUJIT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <variant>

namespace flashc::cpu {

/// One memref argument: data pointer, element offset, sizes and strides in
/// elements.
struct MemRefArg {
  void *data;
  int64_t offset;
  llvm::SmallVector<int64_t, 4> sizes, strides;
};

/// int64_t for the i64 scalars (seed, offset).
using KernelArg = std::variant<MemRefArg, int64_t>;

class CpuKernelModule {
public:
  /// Lowers a module of tiled-level kernels (it is cloned, not modified) to
  /// LLVM and JIT-compiles it. Errors (a failed pass, a JIT failure) come
  /// back as llvm::Error with the diagnostics' text. Registers the LLVM IR
  /// translations with the module's context, which must stay alive only for
  /// the call: the compiled module does not refer to it.
  static llvm::Expected<std::unique_ptr<CpuKernelModule>>
  compile(mlir::ModuleOp module);

  /// Calls kernel `name` (a func with attn.kernel_kind) with the arguments
  /// in the order passes/KernelABI.h gives; checks count and kinds (memref
  /// rank vs. the func's signature) before calling and returns an
  /// llvm::Error naming the bad argument instead of calling.
  llvm::Error invoke(llvm::StringRef name, llvm::ArrayRef<KernelArg> args);

  ~CpuKernelModule();
  CpuKernelModule(const CpuKernelModule &) = delete;
  CpuKernelModule &operator=(const CpuKernelModule &) = delete;

private:
  struct Impl;
  explicit CpuKernelModule(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace flashc::cpu

#endif // FLASHC_CODEGEN_CPU_CPUJIT_H
