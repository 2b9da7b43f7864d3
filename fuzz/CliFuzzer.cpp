//===- CliFuzzer.cpp - fuzz-cli: what `flashc` does before compiling -------===//
//
// The command line's own checks on a spec file and its options: loading
// (one attention op, its function, diagnostics printed with the file's
// lines), `flashc verify`'s summary, the size resolution of `flashc run`
// (options against static sizes, Hq % Hkv, the layout's shape) and
// `flashc explain`'s IO report. None may crash; each failure must come with
// a message. The input's last bytes choose the options, the rest is the
// spec file.
//
// `flashc run` itself is left out: it JIT-compiles and runs the float64
// reference, ~1000x slower than the rest; fuzz-pipeline covers its compile
// path and test/Hostile its numbers.
//
//===----------------------------------------------------------------------===//

#include "tools/flashc/ExplainCommand.h"
#include "tools/flashc/RunHarness.h"
#include "tools/flashc/SpecFile.h"
#include "tools/flashc/SpecSummary.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <unistd.h>

using namespace flashc::tool;

namespace {

[[noreturn]] void bug(const std::string &what) {
  std::fprintf(stderr, "==flashc-fuzz== BUG: %s\n", what.c_str());
  std::abort();
}

mlir::MLIRContext &context() {
  static std::unique_ptr<mlir::MLIRContext> ctx;
  static int uses = 0;
  if (!ctx || ++uses > 500) {
    ctx.reset();
    mlir::DialectRegistry registry;
    registerSpecDialects(registry);
    ctx = std::make_unique<mlir::MLIRContext>(
        registry, mlir::MLIRContext::Threading::DISABLED);
    ctx->loadAllAvailableDialects();
    uses = 0;
  }
  return *ctx;
}

std::optional<int64_t> size(FuzzedDataProvider &in) {
  switch (in.ConsumeIntegralInRange<int>(0, 9)) {
  case 0:
  case 1:
  case 2:
  case 3:
    return std::nullopt;
  case 4:
    return in.ConsumeIntegralInRange<int64_t>(1, 8);
  case 5:
    return in.ConsumeIntegralInRange<int64_t>(1, 300);
  case 6:
    return 0;
  case 7:
    return -1;
  case 8:
    return std::numeric_limits<int64_t>::max();
  default:
    return int64_t(1) << 31;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size_) {
  FuzzedDataProvider in(data, size_);
  RunOptions run;
  run.batch = size(in);
  run.headsQ = size(in);
  run.headsKV = size(in);
  run.seqQ = size(in);
  run.seqK = size(in);
  ExplainOptions explain;
  explain.target = in.ConsumeBool() ? "cpu" : "sm_90a";
  std::string text = in.ConsumeRemainingBytesAsString();

  static const std::string path =
      "/tmp/flashc-fuzz-cli-" + std::to_string(getpid()) + ".mlir";
  {
    std::FILE *f = std::fopen(path.c_str(), "wb");
    if (!f)
      return 0;
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  llvm::Expected<std::unique_ptr<SpecFile>> spec =
      SpecFile::load(path, context());
  if (!spec) {
    if (llvm::toString(spec.takeError()).empty())
      bug("SpecFile::load failed without a message");
    return 0;
  }
  std::string summary;
  llvm::raw_string_ostream os(summary);
  printSpecSummary(os, **spec);

  // `flashc run`'s size resolution on any options.
  flashc::attn::AttentionConfig config = (*spec)->config();
  mlir::Operation *op = (*spec)->attentionOp();
  mlir::Value layout;
  if (auto fwd = llvm::dyn_cast<flashc::attn::AttentionOp>(op))
    layout = fwd.getLayout();
  else if (auto bwd = llvm::dyn_cast<flashc::attn::AttentionGradOp>(op))
    layout = bwd.getLayout();
  llvm::Expected<ConcreteShape> shape =
      resolveShape(config, layout ? layout.getType() : mlir::Type(), run);
  if (!shape) {
    if (llvm::toString(shape.takeError()).empty())
      bug("resolveShape failed without a message");
    return 0;
  }
  if (shape->batch < 1 || shape->headsQ < 1 || shape->headsKV < 1 ||
      shape->seqQ < 1 || shape->seqK < 1 || shape->headsQ % shape->headsKV)
    bug("resolveShape accepted sizes that are not a valid problem");

  // `flashc explain` walks every tile pair: only where that is quick.
  double pairs = double(shape->batch) * shape->headsQ *
                 (double(shape->seqQ) / 16 + 1) * (double(shape->seqK) / 16 + 1);
  if (pairs > 1e5)
    return 0;
  explain.sizes = run;
  std::string report, errors;
  llvm::raw_string_ostream out(report), err(errors);
  int rc = explainSpec(**spec, explain, out, err);
  if (rc != kExitSuccess && errors.empty())
    bug("flashc explain failed without a message");
  return 0;
}
