//===- main.cpp - the flashc command-line driver --------------------------===//
//
// flashc verify SPEC      parse and verify a spec, print what it computes
// flashc run SPEC         compile, run on random data, check against the
//                         float64 reference, print errors, time, TFLOP/s
// flashc explain SPEC     the IO report
// flashc compile SPEC     ahead-of-time kernels for the runtime
//
// Exit codes: 0 success, 1 a failed check or bad input, 2 not available in
// this build or not implemented yet; command-line errors exit with CLI11's
// codes (non-zero) after its message.
//
//===----------------------------------------------------------------------===//

#include "tools/flashc/CompileCommand.h"
#include "codegen/nvidia/Pipeline.h"
#include "tools/flashc/ExplainCommand.h"
#include "tools/flashc/RunHarness.h"
#include "tools/flashc/SpecFile.h"
#include "tools/flashc/SpecSummary.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <new>

using namespace flashc::tool;

namespace {

constexpr const char *kVersion = "0.1.0";

/// Everything the subcommands share: one context with the spec dialects.
struct Session {
  Session() : context(makeRegistry()) {
    // Diagnostics point into the spec's text; a dump of the op in generic
    // form after each one would only bury them.
    context.printOpOnDiagnostic(false);
  }
  static mlir::DialectRegistry makeRegistry() {
    mlir::DialectRegistry registry;
    registerSpecDialects(registry);
    // `compile` lowers to the gpu/nvvm/llvm dialects and translates to LLVM
    // IR in this context.
    flashc::nvidia::registerNvidiaDialects(registry);
    return registry;
  }
  mlir::MLIRContext context;
};

/// Loads \p path; on failure prints why and returns null.
std::unique_ptr<SpecFile> loadSpec(Session &session, llvm::StringRef command,
                                   const std::string &path) {
  llvm::Expected<std::unique_ptr<SpecFile>> spec =
      SpecFile::load(path, session.context);
  if (!spec) {
    llvm::outs().flush();
    llvm::errs() << "flashc " << command
                 << ": error: " << llvm::toString(spec.takeError()) << "\n";
    return nullptr;
  }
  return std::move(*spec);
}

int verifyCommand(const std::string &path) {
  Session session;
  std::unique_ptr<SpecFile> spec = loadSpec(session, "verify", path);
  if (!spec)
    return kExitFailure;
  llvm::outs() << "flashc verify: " << path << ": OK\n";
  printSpecSummary(llvm::outs(), *spec);
  return kExitSuccess;
}

int runCommand(const std::string &path, const RunOptions &opts) {
  Session session;
  std::unique_ptr<SpecFile> spec = loadSpec(session, "run", path);
  if (!spec)
    return kExitFailure;
  return runSpec(*spec, opts, llvm::outs(), llvm::errs());
}

int explainCommand(const std::string &path, const ExplainOptions &opts) {
  Session session;
  std::unique_ptr<SpecFile> spec = loadSpec(session, "explain", path);
  if (!spec)
    return kExitFailure;
  return explainSpec(*spec, opts, llvm::outs(), llvm::errs());
}

int compileCommand(const std::string &path,
                   const CompileCommandOptions &opts) {
  Session session;
  std::unique_ptr<SpecFile> spec = loadSpec(session, "compile", path);
  if (!spec)
    return kExitFailure;
  return compileSpec(*spec, opts, llvm::outs(), llvm::errs());
}

/// A CLI11 validator for --backend that lists only the public backends.
CLI::Validator backendValidator() {
  return CLI::Validator(
      [](std::string &value) -> std::string {
        for (const char *known :
             {"cpu", "gpu", "testing-reference", "testing-faulty"})
          if (value == known)
            return "";
        return "unknown backend '" + value + "'; expected cpu or gpu";
      },
      "cpu|gpu");
}

/// Whether all of \p text parses as a T, into \p value.
template <typename T> bool parseWhole(const std::string &text, T &value) {
  const char *end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end && !text.empty();
}

/// Validators with messages in the user's terms (CLI11's own print ranges
/// up to DBL_MAX).
CLI::Validator positiveInteger() {
  return CLI::Validator(
      [](std::string &value) -> std::string {
        int64_t x = 0;
        if (parseWhole(value, x) && x >= 1)
          return "";
        return "must be a positive integer, got '" + value + "'";
      },
      "POSITIVE");
}

CLI::Validator seedValue() {
  return CLI::Validator(
      [](std::string &value) -> std::string {
        uint64_t x = 0;
        if (parseWhole(value, x))
          return "";
        return "must be an integer in [0, 2^64 - 1], got '" + value + "'";
      },
      "");
}

/// A finite number in [lo, hi].
CLI::Validator numberIn(double lo, double hi, std::string what) {
  return CLI::Validator(
      [lo, hi, what](std::string &value) -> std::string {
        char *end = nullptr;
        double x = std::strtod(value.c_str(), &end);
        if (!value.empty() && end == value.c_str() + value.size() &&
            std::isfinite(x) && x >= lo && x <= hi)
          return "";
        return "must be " + what + ", got '" + value + "'";
      },
      "");
}

int realMain(int argc, char **argv) {
  CLI::App app{"flashc: an attention compiler (FlashAttention from a spec)",
               "flashc"};
  app.set_version_flag("--version", std::string("flashc ") + kVersion +
                                        " (LLVM/MLIR " + LLVM_VERSION_STRING +
                                        ")");
  // At most one subcommand; none is reported below, so that a stray
  // argument (`flashc --bogus`) is named by CLI11 instead.
  app.require_subcommand(0, 1);
  app.footer("Exit codes: 0 success, 1 failed check or bad input, 2 not "
             "available in this build.");

  std::string specPath;
  auto addSpec = [&](CLI::App *sub) {
    sub->add_option("spec", specPath, "spec file (.mlir), '-' for stdin")
        ->required();
  };

  CLI::App *verify = app.add_subcommand(
      "verify", "parse and verify a spec; print its shapes, masks and FLOPs");
  addSpec(verify);

  RunOptions runOpts;
  int64_t batch = 0, headsQ = 0, headsKV = 0, seqQ = 0, seqK = 0;
  uint64_t seed = 0;
  double tolerance = 0.0;
  CLI::App *run = app.add_subcommand(
      "run", "compile a spec, run it on random data and check it against the "
             "float64 reference");
  addSpec(run);
  CLI::Option *batchOpt = run->add_option("--batch", batch,
                                          "batch size B (default: the spec's, "
                                          "else 2)")
                              ->check(positiveInteger());
  CLI::Option *headsOpt =
      run->add_option("--heads", headsQ,
                      "query heads Hq (default: the spec's, else 4)")
          ->check(positiveInteger());
  CLI::Option *headsKVOpt =
      run->add_option("--heads-kv", headsKV,
                      "key/value heads Hkv (default: the spec's, else Hq)")
          ->check(positiveInteger());
  CLI::Option *seqQOpt =
      run->add_option("--seqlen-q", seqQ,
                      "query length Nq (default: the spec's, else 256)")
          ->check(positiveInteger());
  CLI::Option *seqKOpt =
      run->add_option("--seqlen-k", seqK,
                      "key length Nk (default: the spec's, else 256)")
          ->check(positiveInteger());
  CLI::Option *seedOpt =
      run->add_option("--seed", seed,
                      "seed of the random data (default: fresh, printed)")
          ->check(seedValue());
  run->add_option("--backend", runOpts.backend,
                  "where kernels run (default: the GPU when there is one "
                  "flashc can run on, else the CPU)")
      ->check(backendValidator());
  run->add_flag("--grad", runOpts.grad, "also check the backward pass");
  run->add_flag("--deterministic", runOpts.deterministic,
                "compile every gradient as `deterministic`: no atomics (dQ "
                "by recomputation in a kernel of its own)");
  CLI::Option *toleranceOpt =
      run->add_option("--tolerance", tolerance,
                      "largest relative error accepted (default 1e-5 for "
                      "f32, 1e-2 for f16/bf16)")
          ->check(numberIn(0.0, HUGE_VAL, "a non-negative number"));
  run->add_option("--density", runOpts.density,
                  "fraction of blocks a random layout keeps")
      ->check(numberIn(0.0, 1.0, "a number in [0, 1]"))
      ->capture_default_str();

  CLI::App *explain = app.add_subcommand(
      "explain", "print the IO report: tiles, on-chip bytes, HBM traffic, "
                 "FLOPs and blocks skipped, against standard attention");
  addSpec(explain);
  ExplainOptions explainOpts;
  int64_t exBatch = 0, exHeadsQ = 0, exHeadsKV = 0, exSeqQ = 0, exSeqK = 0;
  CLI::Option *exBatchOpt =
      explain->add_option("--batch", exBatch, "batch size B")
          ->check(positiveInteger());
  CLI::Option *exHeadsOpt =
      explain->add_option("--heads", exHeadsQ, "query heads Hq")
          ->check(positiveInteger());
  CLI::Option *exHeadsKVOpt =
      explain->add_option("--heads-kv", exHeadsKV, "key/value heads Hkv")
          ->check(positiveInteger());
  CLI::Option *exSeqQOpt =
      explain->add_option("--seqlen-q", exSeqQ, "query length Nq")
          ->check(positiveInteger());
  CLI::Option *exSeqKOpt =
      explain->add_option("--seqlen-k", exSeqK, "key length Nk")
          ->check(positiveInteger());
  explain
      ->add_option("--target", explainOpts.target,
                   "cpu (the paper's tiles for its on-chip memory), or a "
                   "GPU whose compiled tiles to report: sm_80, sm_90, "
                   "sm_90a")
      ->capture_default_str();
  explain->add_option("--block-q", explainOpts.blockQ, "override Br")
      ->check(positiveInteger());
  explain->add_option("--block-k", explainOpts.blockK, "override Bc")
      ->check(positiveInteger());

  CompileCommandOptions compileOpts;
  CLI::App *compile = app.add_subcommand(
      "compile", "ahead-of-time kernels (PTX, cubin where ptxas exists) and "
                 "the launch metadata the runtime reads");
  addSpec(compile);
  compile->add_option("--target", compileOpts.target, "sm_80, sm_90 or sm_90a")
      ->capture_default_str();
  compile->add_option("-o,--output", compileOpts.outputDir,
                      "output directory")
      ->required();
  compile->add_option("--block-q", compileOpts.blockQ, "override Br")
      ->check(positiveInteger());
  compile->add_option("--block-k", compileOpts.blockK, "override Bc")
      ->check(positiveInteger());
  compile->add_option("--dq-block-q", compileOpts.dqBlockQ,
                      "override Br of the backward's dQ kernel")
      ->check(positiveInteger());
  compile->add_option("--dq-block-k", compileOpts.dqBlockK,
                      "override Bc of the backward's dQ kernel")
      ->check(positiveInteger());
  compile->add_flag("--prefetch-always", compileOpts.prefetchAlways,
                    "prefetch every kernel's loop loads whose buffers fit, "
                    "whatever its registers (tuning)");
  compile->add_flag("--pin-thread-index", compileOpts.pinThreadIndex,
                    "recompute register-tile fragment addresses in each op "
                    "instead of letting LLVM hoist them out of loops "
                    "(tuning)");
  compile->add_flag("!--no-ptxas", compileOpts.ptxas,
                    "emit PTX only, even where ptxas exists");
  compile->add_flag("--deterministic", compileOpts.deterministic,
                    "compile every gradient as `deterministic`: no atomics "
                    "(dQ by recomputation in a kernel of its own)");
  compile->add_flag("--sum-dq", compileOpts.sumDq,
                    "sum dQ in the dK/dV kernel (5 block matmuls a pair "
                    "instead of 7; slower on the H100 so far) unless a "
                    "gradient is deterministic");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e);
  }

  if (verify->parsed())
    return verifyCommand(specPath);
  if (run->parsed()) {
    auto given = [](CLI::Option *opt, auto value) {
      return opt->count() ? std::optional<decltype(value)>(value)
                          : std::nullopt;
    };
    runOpts.batch = given(batchOpt, batch);
    runOpts.headsQ = given(headsOpt, headsQ);
    runOpts.headsKV = given(headsKVOpt, headsKV);
    runOpts.seqQ = given(seqQOpt, seqQ);
    runOpts.seqK = given(seqKOpt, seqK);
    runOpts.seed = given(seedOpt, seed);
    runOpts.tolerance = given(toleranceOpt, tolerance);
    return runCommand(specPath, runOpts);
  }
  if (explain->parsed()) {
    auto given = [](CLI::Option *opt, int64_t value) {
      return opt->count() ? std::optional<int64_t>(value) : std::nullopt;
    };
    explainOpts.sizes.batch = given(exBatchOpt, exBatch);
    explainOpts.sizes.headsQ = given(exHeadsOpt, exHeadsQ);
    explainOpts.sizes.headsKV = given(exHeadsKVOpt, exHeadsKV);
    explainOpts.sizes.seqQ = given(exSeqQOpt, exSeqQ);
    explainOpts.sizes.seqK = given(exSeqKOpt, exSeqK);
    return explainCommand(specPath, explainOpts);
  }
  if (compile->parsed())
    return compileCommand(specPath, compileOpts);
  llvm::errs() << "flashc: a subcommand is required: verify, run, explain or "
                  "compile\nRun with --help for more information.\n";
  return kExitFailure;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  try {
    return realMain(argc, argv);
  } catch (const std::bad_alloc &) {
    llvm::errs() << "flashc: error: out of memory\n";
  } catch (const std::exception &e) {
    llvm::errs() << "flashc: internal error: " << e.what() << "\n";
  }
  return kExitFailure;
}
