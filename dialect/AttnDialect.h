//===- AttnDialect.h - attn dialect declaration -----------------*- C++ -*-===//

#ifndef FLASHC_DIALECT_ATTNDIALECT_H
#define FLASHC_DIALECT_ATTNDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Dialect.h"

#include "dialect/AttnDialect.h.inc"

#endif // FLASHC_DIALECT_ATTNDIALECT_H
