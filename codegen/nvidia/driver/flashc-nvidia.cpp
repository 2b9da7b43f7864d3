//===- flashc-nvidia.cpp - compile a spec to a kernel directory -----------===//
//
// A small driver of the NVIDIA backend, for tests and by hand:
//
//   flashc-nvidia SPEC.mlir --chip sm_90 -o DIR [--block-q N --block-k N]
//                [--sum-dq]
//
// tiles the spec (attn-select-tiles for the chip, unless overridden), runs
// compileForNvidia and writes DIR/<kernel>.ptx, .cubin (where ptxas exists)
// and DIR/flashc.json; prints one line per kernel with its launch facts and
// ptxas's register and spill counts. An input that is already tiled
// (kernel functions, no spec op) is compiled as is. Tiles that do not fit
// the chip's shared memory are shrunk (tileForNvidia).
//
//===----------------------------------------------------------------------===//

#include "codegen/nvidia/NvidiaCompiler.h"
#include "codegen/nvidia/Pipeline.h"
#include "dialect/AttentionConfig.h"
#include "dialect/AttnDialect.h"
#include "dialect/AttnOps.h"
#include "passes/Pipelines.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace nv = flashc::nvidia;

static llvm::cl::opt<std::string> inputFile(llvm::cl::Positional,
                                            llvm::cl::desc("<spec.mlir>"),
                                            llvm::cl::init("-"));
static llvm::cl::opt<std::string> chip("chip",
                                       llvm::cl::desc("sm_80, sm_90, sm_90a"),
                                       llvm::cl::init("sm_90"));
static llvm::cl::opt<std::string> outputDir("o",
                                            llvm::cl::desc("kernel directory"),
                                            llvm::cl::value_desc("dir"));
static llvm::cl::opt<int64_t> blockQ("block-q", llvm::cl::desc("override Br"),
                                     llvm::cl::init(0));
static llvm::cl::opt<int64_t> blockK("block-k", llvm::cl::desc("override Bc"),
                                     llvm::cl::init(0));
static llvm::cl::opt<bool> sumDq(
    "sum-dq", llvm::cl::desc("sum dQ in the dK/dV kernel (dq_accum)"),
    llvm::cl::init(false));
static llvm::cl::opt<bool> noPtxas("no-ptxas",
                                   llvm::cl::desc("do not run ptxas"),
                                   llvm::cl::init(false));

static int fail(const llvm::Twine &message) {
  llvm::errs() << "flashc-nvidia: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::ParseCommandLineOptions(argc, argv,
                                    "flashc NVIDIA backend driver\n");
  llvm::Expected<nv::TargetInfo> target = nv::TargetInfo::get(chip);
  if (!target)
    return fail(llvm::toString(target.takeError()));

  DialectRegistry registry;
  registry.insert<flashc::attn::AttnDialect, arith::ArithDialect,
                  func::FuncDialect, math::MathDialect, memref::MemRefDialect,
                  scf::SCFDialect, tensor::TensorDialect>();
  nv::registerNvidiaDialects(registry);
  MLIRContext context(registry);

  std::string error;
  auto file = openInputFile(inputFile, &error);
  if (!file)
    return fail(error);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return fail("cannot parse " + inputFile);

  // The manifest's facts come from the spec op, before tiling replaces it.
  std::optional<nv::ManifestInfo> info;
  module->walk([&](Operation *op) {
    if (info)
      return;
    if (auto fwd = dyn_cast<flashc::attn::AttentionOp>(op))
      info = nv::fromConfig(flashc::attn::getAttentionConfig(fwd), inputFile,
                            target->chip());
    if (auto bwd = dyn_cast<flashc::attn::AttentionGradOp>(op))
      info = nv::fromConfig(flashc::attn::getAttentionConfig(bwd), inputFile,
                            target->chip());
  });
  if (info) {
    auto tiled = nv::tileForNvidia(*module, *target,
                                   flashc::TileSizes{blockQ, blockK}, sumDq);
    if (!tiled)
      return fail(llvm::toString(tiled.takeError()));
    module = std::move(*tiled);
  }

  nv::CompileOptions options;
  options.runPtxas = !noPtxas;
  llvm::Expected<nv::NvidiaKernels> kernels =
      nv::compileForNvidia(*module, *target, options);
  if (!kernels)
    return fail(llvm::toString(kernels.takeError()));
  for (const nv::NvidiaKernel &k : kernels->kernels) {
    llvm::outs() << "kernel " << k.name << " kind=" << k.kind
                 << " grid=" << k.grid << " block=" << k.blockQ << "x"
                 << k.blockK << " threads=" << k.threads
                 << " shared_bytes=" << k.sharedBytes;
    if (k.ptxas)
      llvm::outs() << " registers=" << k.ptxas->registers
                   << " spill_stores=" << k.ptxas->spillStoreBytes
                   << " spill_loads=" << k.ptxas->spillLoadBytes
                   << " stack=" << k.ptxas->stackFrameBytes;
    llvm::outs() << "\n";
  }
  if (!outputDir.empty()) {
    if (!info) {
      info = nv::ManifestInfo();
      info->spec = inputFile;
      info->target = target->chip().str();
    }
    if (llvm::Error err = nv::writeKernelDirectory(*kernels, *info, outputDir))
      return fail(llvm::toString(std::move(err)));
  }
  return 0;
}
