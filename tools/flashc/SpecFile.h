//===- SpecFile.h - load one attention spec from a file ---------*- C++ -*-===//
//
// Every flashc subcommand starts the same way: read a spec file, parse and
// verify it with diagnostics printed as `file:line:col: error: message`, and
// find the one attn.attention or attn.attention_grad op it describes.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_TOOLS_FLASHC_SPECFILE_H
#define FLASHC_TOOLS_FLASHC_SPECFILE_H

#include "dialect/AttentionConfig.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/SourceMgr.h"

#include <memory>
#include <string>

namespace mlir {
class DialectRegistry;
class MLIRContext;
class SourceMgrDiagnosticHandler;
} // namespace mlir

namespace flashc::tool {

/// Adds the dialects a spec file may use: attn, func, arith, math, tensor.
void registerSpecDialects(mlir::DialectRegistry &registry);

/// A parsed, verified spec and its one spec-level attention op. Diagnostics
/// about the file, now or later (from passes run on the module), are printed
/// to stderr with the file's source lines for as long as it lives.
class SpecFile {
public:
  /// Loads \p path ("-" for stdin) into \p context. Diagnostics with a
  /// location are printed as they arise; the returned error says what failed
  /// overall (the file cannot be read, does not parse or verify, holds no or
  /// several attention ops).
  static llvm::Expected<std::unique_ptr<SpecFile>>
  load(llvm::StringRef path, mlir::MLIRContext &context);

  ~SpecFile();

  llvm::StringRef path() const { return filePath; }
  mlir::ModuleOp module() { return *moduleOp; }
  /// The attn.attention or attn.attention_grad op.
  mlir::Operation *attentionOp() const { return attnOp; }
  bool isGradient() const;
  /// Name of the function that holds the op, or "" when it has none.
  std::string functionName() const;
  /// The op's configuration (shapes may be dynamic).
  attn::AttentionConfig config() const;

private:
  SpecFile() = default;

  std::string filePath;
  std::shared_ptr<llvm::SourceMgr> sourceMgr;
  std::unique_ptr<mlir::SourceMgrDiagnosticHandler> diagnostics;
  mlir::OwningOpRef<mlir::ModuleOp> moduleOp;
  mlir::Operation *attnOp = nullptr;
};

} // namespace flashc::tool

#endif // FLASHC_TOOLS_FLASHC_SPECFILE_H
