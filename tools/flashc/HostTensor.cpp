//===- HostTensor.cpp - dense host buffers in a kernel's element type -----===//

#include "tools/flashc/HostTensor.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/APInt.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

namespace flashc::tool {

/// Cache-line alignment, which vectorised kernels like.
static constexpr size_t kAlignment = 64;

std::optional<ElementKind> elementKindOf(mlir::Type type) {
  if (type.isF32())
    return ElementKind::F32;
  if (type.isF16())
    return ElementKind::F16;
  if (type.isBF16())
    return ElementKind::BF16;
  if (type.isInteger(32))
    return ElementKind::I32;
  return std::nullopt;
}

llvm::StringRef elementKindName(ElementKind kind) {
  switch (kind) {
  case ElementKind::F32:
    return "f32";
  case ElementKind::F16:
    return "f16";
  case ElementKind::BF16:
    return "bf16";
  case ElementKind::I32:
    return "i32";
  }
  return "?";
}

size_t elementBytes(ElementKind kind) {
  return kind == ElementKind::F16 || kind == ElementKind::BF16 ? 2 : 4;
}

static const llvm::fltSemantics &halfSemantics(ElementKind kind) {
  return kind == ElementKind::F16 ? llvm::APFloat::IEEEhalf()
                                  : llvm::APFloat::BFloat();
}

/// The 16-bit pattern of \p x rounded to f16 or bf16.
static uint16_t toHalfBits(double x, ElementKind kind) {
  llvm::APFloat f(x);
  bool losesInfo = false;
  f.convert(halfSemantics(kind), llvm::APFloat::rmNearestTiesToEven,
            &losesInfo);
  return static_cast<uint16_t>(f.bitcastToAPInt().getZExtValue());
}

static double fromHalfBits(uint16_t bits, ElementKind kind) {
  llvm::APFloat f(halfSemantics(kind), llvm::APInt(16, bits));
  bool losesInfo = false;
  f.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
            &losesInfo);
  return f.convertToDouble();
}

double roundToElement(double x, ElementKind kind) {
  switch (kind) {
  case ElementKind::F32:
    return static_cast<double>(static_cast<float>(x));
  case ElementKind::F16:
  case ElementKind::BF16:
    return fromHalfBits(toHalfBits(x, kind), kind);
  case ElementKind::I32:
    return static_cast<double>(static_cast<int32_t>(x));
  }
  return x;
}

double loadElement(const void *base, int64_t index, ElementKind kind) {
  switch (kind) {
  case ElementKind::F32:
    return static_cast<const float *>(base)[index];
  case ElementKind::F16:
  case ElementKind::BF16:
    return fromHalfBits(static_cast<const uint16_t *>(base)[index], kind);
  case ElementKind::I32:
    return static_cast<const int32_t *>(base)[index];
  }
  return 0.0;
}

void storeElement(void *base, int64_t index, ElementKind kind, double value) {
  switch (kind) {
  case ElementKind::F32:
    static_cast<float *>(base)[index] = static_cast<float>(value);
    return;
  case ElementKind::F16:
  case ElementKind::BF16:
    static_cast<uint16_t *>(base)[index] = toHalfBits(value, kind);
    return;
  case ElementKind::I32:
    static_cast<int32_t *>(base)[index] = static_cast<int32_t>(value);
    return;
  }
}

HostTensor::HostTensor(ElementKind kind, llvm::ArrayRef<int64_t> shape)
    : elementKind(kind), dims(shape.begin(), shape.end()) {
  count = 1;
  for (int64_t d : shape)
    count *= d;
  size_t bytes = static_cast<size_t>(count) * elementBytes(kind);
  // Rounded up to the alignment, as aligned_alloc requires, and never empty
  // so that an empty tensor still has a valid pointer.
  size_t allocated = std::max<size_t>(kAlignment, (bytes + kAlignment - 1) /
                                                      kAlignment * kAlignment);
  void *p = std::aligned_alloc(kAlignment, allocated);
  if (!p)
    throw std::bad_alloc();
  std::memset(p, 0, allocated);
  storage.reset(p);
}

void HostTensor::Free::operator()(void *p) const { std::free(p); }

void HostTensor::assign(llvm::ArrayRef<double> values) {
  for (int64_t i = 0; i < count; ++i)
    storeElement(data(), i, elementKind, values[i]);
}

std::vector<double> HostTensor::toDoubles() const {
  std::vector<double> out(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    out[i] = loadElement(data(), i, elementKind);
  return out;
}

void HostTensor::poison() {
  switch (elementKind) {
  case ElementKind::F32: {
    auto *p = static_cast<float *>(data());
    for (int64_t i = 0; i < count; ++i)
      p[i] = std::numeric_limits<float>::quiet_NaN();
    return;
  }
  case ElementKind::F16:
  case ElementKind::BF16: {
    // Quiet NaN with the sign set in both formats.
    uint16_t nan = elementKind == ElementKind::F16 ? 0xfe00 : 0xffc0;
    auto *p = static_cast<uint16_t *>(data());
    for (int64_t i = 0; i < count; ++i)
      p[i] = nan;
    return;
  }
  case ElementKind::I32: {
    auto *p = static_cast<int32_t *>(data());
    for (int64_t i = 0; i < count; ++i)
      p[i] = std::numeric_limits<int32_t>::max();
    return;
  }
  }
}

MemRefArg HostTensor::memref() {
  MemRefArg arg;
  arg.data = data();
  arg.offset = 0;
  arg.sizes.assign(dims.begin(), dims.end());
  arg.strides.resize(dims.size());
  int64_t stride = 1;
  for (size_t d = dims.size(); d-- > 0;) {
    arg.strides[d] = stride;
    stride *= dims[d];
  }
  return arg;
}

} // namespace flashc::tool
