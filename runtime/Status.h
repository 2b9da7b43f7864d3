//===- Status.h - the runtime's error type ----------------------*- C++ -*-===//
//
// Every fallible function of the runtime returns a Status: success, or a
// message saying what is wrong and what was expected. No exceptions cross
// the runtime's API. The class itself is declared in BlockLayout.h, the
// first file of the runtime; this header adds what propagates it.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_RUNTIME_STATUS_H
#define FLASHC_RUNTIME_STATUS_H

#include "runtime/BlockLayout.h"

/// Evaluates an expression yielding a Status and returns it from the
/// enclosing function if it failed.
#define FLASHC_TRY(expr)                                                       \
  do {                                                                         \
    ::flashc::runtime::Status flashcStatus_ = (expr);                          \
    if (!flashcStatus_)                                                        \
      return flashcStatus_;                                                    \
  } while (false)

#endif // FLASHC_RUNTIME_STATUS_H
