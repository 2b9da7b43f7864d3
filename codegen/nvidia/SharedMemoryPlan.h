//===- SharedMemoryPlan.h - tiles in the dynamic shared memory --*- C++ -*-===//
//
// A kernel's tiles all live in one dynamic shared-memory buffer. The plan is
// computed before any conversion (attn-plan-shared-memory) and recorded on
// the IR, so that the conversion (attn-map-kernels-to-gpu) and the compiler
// driver (the launch's shared_bytes) read the same numbers.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_CODEGEN_NVIDIA_SHAREDMEMORYPLAN_H
#define FLASHC_CODEGEN_NVIDIA_SHAREDMEMORYPLAN_H

#include "codegen/nvidia/TargetInfo.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/SmallVector.h"

namespace flashc::nvidia {

/// i64 on a tile's memref.alloca: its byte offset in the buffer.
inline constexpr llvm::StringLiteral kSharedOffsetAttr = "attn.shared_offset";
/// i64 on a 2-D tile's memref.alloca: elements from one row to the next.
inline constexpr llvm::StringLiteral kSharedPitchAttr = "attn.shared_pitch";
/// i64 on a kernel: bytes of dynamic shared memory its launch needs.
inline constexpr llvm::StringLiteral kSharedBytesAttr = "attn.shared_bytes";

/// Where one tile lives.
struct TileSlot {
  mlir::memref::AllocaOp alloca;
  int64_t offset = 0; ///< bytes from the start of the buffer
  int64_t pitch = 0;  ///< elements per row (2-D tiles); 0 for 1-D
  int64_t bytes = 0;  ///< bytes the slot occupies
};

struct SharedMemoryPlan {
  llvm::SmallVector<TileSlot> slots;
  int64_t totalBytes = 0;
};

/// Places every statically shaped memref.alloca of \p kernel in program
/// order, 16-byte aligned; with \p pad, 2-D rows that are a multiple of 128
/// bytes get one bank-conflict-breaking pad (16 bytes for 16-bit elements,
/// 32 for 32-bit ones).
SharedMemoryPlan planSharedMemory(mlir::FunctionOpInterface kernel,
                                  const TargetInfo &target, bool pad);

/// Records \p plan on the IR (the attributes above).
void recordSharedMemoryPlan(mlir::FunctionOpInterface kernel,
                            const SharedMemoryPlan &plan);

} // namespace flashc::nvidia

#endif // FLASHC_CODEGEN_NVIDIA_SHAREDMEMORYPLAN_H
