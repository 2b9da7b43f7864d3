//===- FuzzSupport.h - what the MLIR fuzz targets share ---------*- C++ -*-===//
//
// The contract every fuzz target checks: on any input, flashc either
// succeeds or fails with an error diagnostic. It never crashes, asserts,
// trips a sanitizer, fails silently, or hands a later stage IR that does not
// verify. A violation that is not a crash is turned into one (reportBug), so
// that libFuzzer records the input.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_FUZZ_FUZZSUPPORT_H
#define FLASHC_FUZZ_FUZZSUPPORT_H

#include "passes/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace flashc::fuzz {

/// A single-threaded context with the dialects a spec file may use (attn,
/// func, arith, math, tensor: those of `flashc`), that prints no operation
/// into diagnostics. A fresh one every few hundred inputs, so that what one
/// input uniqued (types, attributes, identifiers) cannot accumulate.
mlir::MLIRContext &specContext();

/// Swallows diagnostics while alive, counting errors and keeping the first
/// one (for reportBug). With FLASHC_FUZZ_VERBOSE=1 in the environment they
/// are printed to stderr as well.
class DiagnosticSink {
public:
  explicit DiagnosticSink(mlir::MLIRContext &context);
  int errors() const { return numErrors; }
  const std::string &firstError() const { return first; }

private:
  int numErrors = 0;
  std::string first;
  mlir::ScopedDiagnosticHandler handler;
};

/// Parses and verifies \p text as a module; null when it does not parse or
/// verify. A failure without an error diagnostic is a bug.
mlir::OwningOpRef<mlir::ModuleOp> parseSpec(llvm::StringRef text,
                                            mlir::MLIRContext &context);

/// Printing a verified module and parsing the text back must succeed, and
/// printing that must give the same text.
void checkRoundTrip(mlir::ModuleOp module);

/// Runs the tiling pipeline with \p options on \p module, then (in builds
/// with codegen/cpu) the CPU lowering pipeline on the result, as
/// `flashc run` does. Each must succeed or fail with an error diagnostic;
/// every pass that succeeds must leave IR that verifies.
void checkPipelines(mlir::ModuleOp module, const TilingOptions &options);

/// Prints \p what (and \p detail) to stderr and aborts.
[[noreturn]] void reportBug(llvm::StringRef what, llvm::StringRef detail = "");

/// Whether FLASHC_FUZZ_VERBOSE=1 is set: diagnostics and generated specs are
/// printed to stderr.
bool verbose();

} // namespace flashc::fuzz

#endif // FLASHC_FUZZ_FUZZSUPPORT_H
