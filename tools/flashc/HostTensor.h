//===- HostTensor.h - dense host buffers in a kernel's element type -*- C++
//-*-===//
//
// `flashc run` feeds kernels f32, f16 or bf16 data and the reference the very
// same values in float64. A HostTensor holds the element-typed bytes; values
// go in through round-to-nearest-even conversion, so that reading them back
// gives exactly what the kernel sees.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_TOOLS_FLASHC_HOSTTENSOR_H
#define FLASHC_TOOLS_FLASHC_HOSTTENSOR_H

#include "tools/flashc/KernelBackend.h"

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir {
class Type;
} // namespace mlir

namespace flashc::tool {

enum class ElementKind { F32, F16, BF16, I32 };

/// The element kind of an MLIR scalar type (f32, f16, bf16, i32).
std::optional<ElementKind> elementKindOf(mlir::Type type);
llvm::StringRef elementKindName(ElementKind kind);
size_t elementBytes(ElementKind kind);

/// \p x rounded to the nearest value of \p kind (ties to even), as a double.
double roundToElement(double x, ElementKind kind);

/// Element \p index of the \p kind array at \p base, as a double.
double loadElement(const void *base, int64_t index, ElementKind kind);
/// Stores \p value, rounded to \p kind, as element \p index at \p base.
void storeElement(void *base, int64_t index, ElementKind kind, double value);

/// A dense row-major buffer of `shape`, 64-byte aligned.
class HostTensor {
public:
  HostTensor(ElementKind kind, llvm::ArrayRef<int64_t> shape);

  ElementKind kind() const { return elementKind; }
  llvm::ArrayRef<int64_t> shape() const { return dims; }
  int64_t numElements() const { return count; }
  void *data() { return storage.get(); }
  const void *data() const { return storage.get(); }

  /// Stores \p values (numElements() of them), rounded to the element type.
  void assign(llvm::ArrayRef<double> values);
  /// The stored values, exactly, as doubles.
  std::vector<double> toDoubles() const;
  /// Fills with NaN (float kinds) or 0x7fffffff (i32): outputs that a kernel
  /// fails to write show up as NaN.
  void poison();

  /// The memref descriptor of the dense buffer.
  MemRefArg memref();

private:
  ElementKind elementKind;
  llvm::SmallVector<int64_t, 4> dims;
  int64_t count = 0;
  struct Free {
    void operator()(void *p) const;
  };
  std::unique_ptr<void, Free> storage;
};

} // namespace flashc::tool

#endif // FLASHC_TOOLS_FLASHC_HOSTTENSOR_H
