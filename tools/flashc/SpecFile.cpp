//===- SpecFile.cpp - load one attention spec from a file -----------------===//

#include "tools/flashc/SpecFile.h"

#include "dialect/AttnDialect.h"
#include "dialect/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace mlir;

namespace flashc::tool {

void registerSpecDialects(DialectRegistry &registry) {
  registry.insert<attn::AttnDialect, arith::ArithDialect, func::FuncDialect,
                  math::MathDialect, tensor::TensorDialect>();
}

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

SpecFile::~SpecFile() {
  // The module's diagnostics need the handler: drop the module first.
  moduleOp = nullptr;
  diagnostics.reset();
}

llvm::Expected<std::unique_ptr<SpecFile>> SpecFile::load(llvm::StringRef path,
                                                         MLIRContext &context) {
  std::unique_ptr<SpecFile> spec(new SpecFile());
  spec->filePath = path.str();
  // How messages name the file: as the user did, or <stdin> for "-".
  std::string shown = path == "-" ? std::string("<stdin>") : path.str();
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFileOrSTDIN(path, /*IsText=*/true);
  if (std::error_code ec = buffer.getError())
    return makeError("cannot read spec file '" + shown + "': " + ec.message());

  spec->sourceMgr = std::make_shared<llvm::SourceMgr>();
  spec->sourceMgr->AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  spec->diagnostics =
      std::make_unique<SourceMgrDiagnosticHandler>(*spec->sourceMgr, &context);

  ParserConfig config(&context, /*verifyAfterParse=*/true);
  spec->moduleOp = parseSourceFile<ModuleOp>(spec->sourceMgr, config);
  if (!spec->moduleOp)
    return makeError("'" + shown +
                     "' is not a valid spec (see the errors above)");

  llvm::SmallVector<Operation *> found;
  spec->moduleOp->walk([&](Operation *op) {
    if (isa<attn::AttentionOp, attn::AttentionGradOp>(op))
      found.push_back(op);
  });
  if (found.empty())
    return makeError("no attn.attention or attn.attention_grad op in '" +
                     shown + "': a spec describes exactly one");
  if (found.size() > 1) {
    InFlightDiagnostic diag =
        found[1]->emitError()
        << "a spec describes exactly one attention op, but this file has "
        << found.size();
    diag.attachNote(found[0]->getLoc()) << "the first one is here";
    diag.report();
    return makeError("'" + shown + "' holds " + llvm::Twine(found.size()) +
                     " attention ops; put each in its own spec file");
  }
  spec->attnOp = found.front();
  return std::move(spec);
}

bool SpecFile::isGradient() const { return isa<attn::AttentionGradOp>(attnOp); }

std::string SpecFile::functionName() const {
  if (auto fn = attnOp->getParentOfType<FunctionOpInterface>())
    return fn.getName().str();
  return "";
}

attn::AttentionConfig SpecFile::config() const {
  if (auto grad = dyn_cast<attn::AttentionGradOp>(attnOp))
    return attn::getAttentionConfig(grad);
  return attn::getAttentionConfig(cast<attn::AttentionOp>(attnOp));
}

} // namespace flashc::tool
