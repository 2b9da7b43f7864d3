//===- Passes.h - flashc NVIDIA backend passes ------------------*- C++ -*-===//

#ifndef FLASHC_CODEGEN_NVIDIA_PASSES_H
#define FLASHC_CODEGEN_NVIDIA_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace flashc::nvidia {

#define GEN_PASS_DECL
#include "codegen/nvidia/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/nvidia/Passes.h.inc"

} // namespace flashc::nvidia

#endif // FLASHC_CODEGEN_NVIDIA_PASSES_H
