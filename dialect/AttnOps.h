//===- AttnOps.h - attn dialect operations ----------------------*- C++ -*-===//

#ifndef FLASHC_DIALECT_ATTNOPS_H
#define FLASHC_DIALECT_ATTNOPS_H

#include "dialect/AttnDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialect/AttnEnums.h.inc"

#define GET_OP_CLASSES
#include "dialect/AttnOps.h.inc"

#endif // FLASHC_DIALECT_ATTNOPS_H
