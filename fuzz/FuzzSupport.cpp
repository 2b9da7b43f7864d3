//===- FuzzSupport.cpp - what the MLIR fuzz targets share -----------------===//

#include "fuzz/FuzzSupport.h"

#include "dialect/AttnDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/xxhash.h"
#include "llvm/Support/raw_ostream.h"

#ifdef FLASHC_FUZZ_HAVE_NVIDIA
#include "codegen/nvidia/Pipeline.h"
#include "codegen/nvidia/TargetInfo.h"
#endif
#ifdef FLASHC_FUZZ_HAVE_CPU
#include "codegen/cpu/CpuPipeline.h"
#endif

#include <cstdlib>
#include <memory>

using namespace mlir;

namespace flashc::fuzz {

bool verbose() {
  static const bool on = [] {
    const char *v = std::getenv("FLASHC_FUZZ_VERBOSE");
    return v && std::string(v) == "1";
  }();
  return on;
}

void reportBug(llvm::StringRef what, llvm::StringRef detail) {
  llvm::errs() << "==flashc-fuzz== BUG: " << what << "\n";
  if (!detail.empty())
    llvm::errs() << detail << "\n";
  llvm::errs().flush();
  std::abort();
}

MLIRContext &specContext() {
  // Long campaigns run millions of inputs through one process; a context
  // keeps everything it ever uniqued.
  constexpr int kInputsPerContext = 500;
  static std::unique_ptr<MLIRContext> context;
  static int uses = 0;
  if (!context || ++uses > kInputsPerContext) {
    context.reset();
    DialectRegistry registry;
    registry.insert<attn::AttnDialect, arith::ArithDialect, func::FuncDialect,
                    math::MathDialect, tensor::TensorDialect>();
#ifdef FLASHC_FUZZ_HAVE_NVIDIA
    nvidia::registerNvidiaDialects(registry);
#endif
    context = std::make_unique<MLIRContext>(registry,
                                            MLIRContext::Threading::DISABLED);
    context->loadAllAvailableDialects();
    context->printOpOnDiagnostic(false);
    context->printStackTraceOnDiagnostic(false);
    uses = 0;
  }
  return *context;
}

DiagnosticSink::DiagnosticSink(MLIRContext &context)
    : handler(&context, [this](Diagnostic &diag) {
        if (diag.getSeverity() == DiagnosticSeverity::Error) {
          if (numErrors++ == 0)
            first = diag.str();
        }
        if (verbose())
          llvm::errs() << diag.getLocation() << ": " << diag << "\n";
        return success();
      }) {}

OwningOpRef<ModuleOp> parseSpec(llvm::StringRef text, MLIRContext &context) {
  DiagnosticSink sink(context);
  ParserConfig config(&context, /*verifyAfterParse=*/true);
  // MLIR's lexer expects the NUL that ends every file buffer; libFuzzer's
  // input has none, so copy it into a string that does.
  std::string source = text.str();
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(source, config, "fuzz-input");
  if (!module && sink.errors() == 0)
    reportBug("parsing or verification failed without an error diagnostic");
  return module;
}

static std::string print(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  // Verified IR: let the printer trust it (as mlir-opt does).
  op->print(os, OpPrintingFlags().assumeVerified());
  return text;
}

void checkRoundTrip(ModuleOp module) {
  std::string first = print(module);
  MLIRContext &context = *module.getContext();
  OwningOpRef<ModuleOp> reparsed;
  {
    DiagnosticSink sink(context);
    ParserConfig config(&context, /*verifyAfterParse=*/true);
    reparsed = parseSourceString<ModuleOp>(first, config, "printed");
    if (!reparsed)
      reportBug("a verified module prints text that does not parse or "
                "verify: " +
                    sink.firstError(),
                first);
  }
  std::string second = print(*reparsed);
  if (first != second)
    reportBug("printing is not stable across a round trip",
              "first:\n" + first + "\nsecond:\n" + second);
}

namespace {
/// Checks every pass: one that fails must have emitted an error, one that
/// succeeds must leave IR that verifies.
class ContractInstrumentation : public PassInstrumentation {
public:
  ContractInstrumentation(const DiagnosticSink &sink, llvm::StringRef stage)
      : sink(sink), stage(stage.str()) {}

  void runBeforePass(Pass *, Operation *) override {
    // Passes nest (a pass manager adaptor runs the function passes on each
    // function): one count per pass in flight.
    errorsBefore.push_back(sink.errors());
  }
  void runAfterPass(Pass *pass, Operation *op) override {
    errorsBefore.pop_back();
    // flashc's own passes are checked one by one; upstream conversions only
    // at the end of the stage (checkStageResult): verifying the whole module
    // after each of them would double the time per input.
    if (!pass->getArgument().starts_with("attn-"))
      return;
    DiagnosticSink verifierSink(*op->getContext());
    if (failed(verify(op)))
      reportBug(stage + ": pass '" + pass->getArgument().str() +
                    "' succeeded but left IR that does not verify: " +
                    verifierSink.firstError(),
                verbose() ? print(op) : "");
  }
  void runAfterPassFailed(Pass *pass, Operation *) override {
    int before = errorsBefore.pop_back_val();
    if (sink.errors() == before)
      reportBug(stage + ": pass '" + pass->getArgument().str() +
                "' failed without an error diagnostic");
  }

private:
  const DiagnosticSink &sink;
  std::string stage;
  llvm::SmallVector<int> errorsBefore;
};

/// Runs \p build's passes on \p module; false when they failed (with a
/// diagnostic, or reportBug aborts).
template <typename BuildFn>
bool runStage(ModuleOp module, llvm::StringRef stage, BuildFn build) {
  MLIRContext &context = *module.getContext();
  DiagnosticSink sink(context);
  PassManager pm(&context);
  // The instrumentation verifies after every pass and says which pass broke
  // the IR; the pass manager's own verifier would only fail the pipeline.
  pm.enableVerifier(false);
  pm.addInstrumentation(
      std::make_unique<ContractInstrumentation>(sink, stage));
  build(pm);
  if (failed(pm.run(module))) {
    if (sink.errors() == 0)
      reportBug(stage.str() + ": the pipeline failed without an error diagnostic");
    return false;
  }
  DiagnosticSink verifierSink(context);
  if (failed(verify(module)))
    reportBug(stage.str() + ": the pipeline succeeded but left IR that does not "
                      "verify: " +
                  verifierSink.firstError(),
              verbose() ? print(module) : "");
  return true;
}
} // namespace

void checkPipelines(ModuleOp module, const TilingOptions &options) {
  if (!runStage(module, "tiling", [&](PassManager &pm) {
        buildTilingPipeline(pm, options);
      }))
    return;
  std::string tiled = print(module);
  if (verbose())
    llvm::errs() << "tiled:\n" << tiled << "\n";
#ifdef FLASHC_FUZZ_HAVE_CPU
  // The CPU lowering takes ~90% of the time of an input, and kernels do not
  // depend on B, H or N: most inputs tile to a module seen before. Lowering
  // is deterministic, so lower each distinct tiled module once per process
  // (a single input, as when reproducing a crash, is always lowered).
  static llvm::DenseSet<uint64_t> seen;
  if (seen.size() > (1u << 20))
    seen.clear();
  if (!seen.insert(llvm::xxh3_64bits(tiled)).second)
    return;
#ifdef FLASHC_FUZZ_HAVE_NVIDIA
  // For an NVIDIA chip, the tiled kernels to gpu.func code on a copy:
  // register tiles, the loads' pipelining, wgmma selection (sm_90a), the
  // shared-memory plan, barriers and the lowering of every tile op. (Not the
  // NVVM conversions and LLVM's NVPTX backend: upstream code, and 10-100x
  // slower than all of this.)
  if (llvm::Expected<nvidia::TargetInfo> target =
          nvidia::TargetInfo::get(options.target)) {
    OwningOpRef<ModuleOp> copy(module.clone());
    runStage(*copy, "nvidia lowering", [&](PassManager &pm) {
      nvidia::buildTileToGpuPipeline(pm, *target);
    });
  } else {
    llvm::consumeError(target.takeError());
  }
#endif
  // As CpuKernelModule::compile does before the JIT (which is left out:
  // it is upstream code and 100x slower than everything else here).
  runStage(module, "cpu lowering", [](PassManager &pm) {
    codegen::cpu::buildCpuLoweringPipeline(pm);
  });
#else
  (void)tiled;
#endif
}

} // namespace flashc::fuzz
