//===- NvidiaCompiler.cpp - tiled kernels to PTX and a kernel directory ---===//

#include "codegen/nvidia/NvidiaCompiler.h"
#include "codegen/nvidia/Passes.h"
#include "codegen/nvidia/Pipeline.h"
#include "codegen/nvidia/RegisterTiles.h"
#include "codegen/nvidia/SharedMemoryPlan.h"
#include "dialect/AttentionConfig.h"
#include "dialect/AttnOps.h"
#include "passes/KernelABI.h"
#include "passes/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace mlir;

namespace flashc::nvidia {
namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The argument roles of a kernel of \p kind whose attn.kernel_info is
/// \p info, in the order of passes/KernelABI.h.
std::vector<std::string> argumentRoles(StringRef kind, DictionaryAttr info) {
  std::vector<std::string> roles;
  auto has = [&](StringRef key) { return info && info.contains(key); };
  bool sumsDq = has(abi::kSumsDqInScratch);
  if (kind == abi::kForward) {
    roles = {"q", "k", "v", "o", "lse"};
  } else if (kind == abi::kBackwardPrep) {
    roles = {"o", "dout", "delta"};
    if (sumsDq)
      roles.push_back("dq_accum");
    return roles;
  } else if (kind == abi::kBackwardDkDv) {
    roles = {"q", "k", "v", "dout", "lse", "delta", "dk", "dv"};
    if (sumsDq)
      roles.push_back("dq_accum");
  } else if (kind == abi::kBackwardDq) {
    if (sumsDq)
      return {"dq_accum", "dq"};
    roles = {"q", "k", "v", "dout", "lse", "delta", "dq"};
  }
  if (has(abi::kHasSeqLensQ))
    roles.push_back("seqlens_q");
  if (has(abi::kHasSeqLensK))
    roles.push_back("seqlens_k");
  if (has(abi::kHasLayout)) {
    roles.push_back("layout_offsets");
    roles.push_back("layout_blocks");
  }
  if (has(abi::kHasDropout)) {
    roles.push_back("seed");
    roles.push_back("offset");
  }
  return roles;
}

int64_t infoInt(DictionaryAttr info, StringRef key) {
  if (!info)
    return 0;
  auto attr = info.getAs<IntegerAttr>(key);
  return attr ? attr.getInt() : 0;
}

/// Runs \p pm on \p module; on failure, the diagnostics it raised.
llvm::Error runCapturingDiagnostics(PassManager &pm, ModuleOp module,
                                    StringRef what) {
  std::string messages;
  llvm::raw_string_ostream os(messages);
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error ||
        diag.getSeverity() == DiagnosticSeverity::Warning) {
      os << diag.getLocation() << ": " << diag << "\n";
      for (Diagnostic &note : diag.getNotes()) {
        // The op dump MLIR attaches to pass failures buries the message.
        std::string text = note.str();
        if (!StringRef(text).starts_with("see current operation"))
          os << "  note: " << text << "\n";
      }
    }
    return success();
  });
  if (failed(pm.run(module)))
    return makeError(llvm::formatv("{0} failed:\n{1}", what, messages).str());
  return llvm::Error::success();
}

/// The report of `ptxas -v` in \p text.
PtxasReport parsePtxasReport(StringRef text) {
  PtxasReport report;
  SmallVector<StringRef> m;
  if (llvm::Regex("Used ([0-9]+) registers").match(text, &m))
    m[1].getAsInteger(10, report.registers);
  if (llvm::Regex("([0-9]+) bytes stack frame, ([0-9]+) bytes spill stores, "
                  "([0-9]+) bytes spill loads")
          .match(text, &m)) {
    m[1].getAsInteger(10, report.stackFrameBytes);
    m[2].getAsInteger(10, report.spillStoreBytes);
    m[3].getAsInteger(10, report.spillLoadBytes);
  }
  return report;
}

llvm::Expected<std::string> readFile(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer)
    return makeError("cannot read " + path + ": " +
                     buffer.getError().message());
  return (*buffer)->getBuffer().str();
}

llvm::Error writeFile(StringRef path, StringRef contents) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return makeError("cannot write " + path + ": " + ec.message());
  os << contents;
  os.close();
  if (os.has_error())
    return makeError("cannot write " + path + ": " + os.error().message());
  return llvm::Error::success();
}

} // namespace

/// Whether 128 x 64 tiles were measured faster than the paper's for \p cfg
/// on an H200 (bench/results/2026-11-28-h200-tiles.md and
/// 2026-11-28-h200-session3/bwd-tiles.txt): then each of the 4 warps owns
/// two 16-row slabs of the register tiles, and every fragment it loads from
/// shared memory feeds two mmas.
///  - forward, 16-bit, head dims up to 128, no dropout (d = 128: 239 -> 292
///    TFLOP/s, d = 64: 220 -> 242 at N = 16k; at d = 128 ptxas spills
///    100-200 bytes a thread and it is still faster; dropout's per-element
///    Philox rounds need the registers the second slab takes);
///  - backward, 16-bit, head dims up to 64, no dropout or score modifier
///    (d = 64, N = 16k: 183 -> 197 TFLOP/s; the transposed dK/dV kernel's
///    S^T and dP^T then have one 64-key slab of 128 query columns a warp;
///    dropout's or a modifier's extra score tile would not fit the
///    registers at 4 warps). At d = 128 the dK/dV accumulators leave no
///    room for it.
static bool prefersWideTiles(const attn::AttentionConfig &cfg, bool forward) {
  if (cfg.elementType.isF32() || cfg.hasDropout())
    return false;
  int64_t maxDim = forward ? 128 : 64;
  if (cfg.shape.headDim > maxDim || cfg.shape.headDimV > maxDim)
    return false;
  if (!forward && (cfg.softcap || cfg.alibi || cfg.score))
    return false;
  return true;
}

/// The tuned tiles of \p spec (every op must prefer them, and a layout's
/// blocks must be multiples of them), or std::nullopt where the paper's
/// sizes stay. Forward kernels on wgmma take 128 x 128: measured (H100,
/// bench/results/2026-12-06-h100-session4/tune-wgmma.txt) 4-16 % faster
/// than 128 x 64 at D = 64 and 128, N = 4k and 16k, except D = 128 full
/// 4k (1 % slower).
static std::optional<std::pair<int64_t, int64_t>>
tunedTiles(ModuleOp spec, const TargetInfo &target) {
  constexpr int64_t kRows = 128;
  bool any = false, all = true, backward = false;
  SmallVector<attn::AttentionConfig> configs;
  auto consider = [&](const attn::AttentionConfig &cfg, bool forward) {
    any = true;
    backward |= !forward;
    all &= prefersWideTiles(cfg, forward);
    configs.push_back(cfg);
  };
  spec.walk([&](Operation *op) {
    if (auto fwd = dyn_cast<attn::AttentionOp>(op))
      consider(attn::getAttentionConfig(fwd), /*forward=*/true);
    else if (auto bwd = dyn_cast<attn::AttentionGradOp>(op))
      consider(attn::getAttentionConfig(bwd), /*forward=*/false);
  });
  int64_t cols = target.hasWgmma() && !backward ? 128 : 64;
  for (const attn::AttentionConfig &cfg : configs)
    if (cfg.hasLayout &&
        (cfg.layoutBlockQ % kRows != 0 || cfg.layoutBlockK % cols != 0))
      all = false;
  if (!any || !all)
    return std::nullopt;
  return std::pair{kRows, cols};
}

/// Halves the larger side of \p tiles (Bc on a tie); false where both are
/// down to 16.
static bool shrink(int64_t &blockQ, int64_t &blockK) {
  if (blockQ <= 16 && blockK <= 16)
    return false;
  if (blockK > 16 && blockK >= blockQ)
    blockK /= 2;
  else
    blockQ /= 2;
  return true;
}

TileSizes kernelTiles(ModuleOp tiled) {
  TileSizes tiles;
  tiled.walk([&](func::FuncOp func) {
    auto kind = func->getAttrOfType<StringAttr>(abi::kKernelKindAttr);
    if (!kind)
      return;
    auto info = func->getAttrOfType<DictionaryAttr>(abi::kKernelInfoAttr);
    bool isDq = kind.getValue() == abi::kBackwardDq;
    int64_t &rows = isDq ? tiles.dqBlockQ : tiles.blockQ;
    int64_t &cols = isDq ? tiles.dqBlockK : tiles.blockK;
    rows = std::max(rows, infoInt(info, abi::kTileRows));
    cols = std::max(cols, infoInt(info, abi::kTileCols));
  });
  return tiles;
}

llvm::Expected<OwningOpRef<ModuleOp>> tileForNvidia(ModuleOp spec,
                                                    const TargetInfo &target,
                                                    TileSizes tiles,
                                                    bool sumDq) {
  MLIRContext *context = spec.getContext();
  if (tiles.blockQ == 0 && tiles.blockK == 0 && target.mmaShapes().size())
    if (std::optional<std::pair<int64_t, int64_t>> tuned =
            tunedTiles(spec, target))
      std::tie(tiles.blockQ, tiles.blockK) = *tuned;
  // Shared memory is an upper bound before padding, which the plan drops
  // when it does not fit.
  int64_t limit = target.maxSharedBytesPerBlock() - target.sharedAlignment();
  while (true) {
    OwningOpRef<ModuleOp> module = spec.clone();
    PassManager pm(context);
    TilingOptions tiling;
    tiling.target = target.tilingTarget().str();
    tiling.blockQ = tiles.blockQ;
    tiling.blockK = tiles.blockK;
    tiling.dqBlockQ = tiles.dqBlockQ;
    tiling.dqBlockK = tiles.dqBlockK;
    tiling.sumDq = sumDq;
    buildTilingPipeline(pm, tiling);
    pm.addPass(createAttnDropUnreadTilesPass());
    if (llvm::Error err = runCapturingDiagnostics(pm, *module, "tiling"))
      return std::move(err);
    // The largest unpadded plan among the kernels, and their tiles, with
    // bwd_dq's apart (its tiles may differ); the tiles that will live in
    // registers take no shared memory.
    OwningOpRef<ModuleOp> estimate = module->clone();
    if (target.hasLdMatrix() && !target.mmaShapes().empty()) {
      PassManager registers(context);
      registers.addPass(createAttnAssignRegisterTilesPass({target.chip().str()}));
      if (llvm::Error err =
              runCapturingDiagnostics(registers, *estimate, "register tiles"))
        return std::move(err);
    }
    TileSizes chosen = kernelTiles(*estimate);
    bool mainOver = false, dqOver = false;
    estimate->walk([&](func::FuncOp func) {
      auto kind = func->getAttrOfType<StringAttr>(abi::kKernelKindAttr);
      if (!kind)
        return;
      bool over =
          planSharedMemory(func, target, /*pad=*/false).totalBytes > limit;
      (kind.getValue() == abi::kBackwardDq ? dqOver : mainOver) |= over;
    });
    // compileForNvidia reports what still does not fit.
    bool shrunk = false;
    if (mainOver)
      shrunk |= shrink(chosen.blockQ, chosen.blockK);
    if (dqOver)
      shrunk |= shrink(chosen.dqBlockQ, chosen.dqBlockK);
    if (!shrunk)
      return module;
    tiles = chosen;
  }
}

std::optional<std::string> findPtxas() {
  SmallVector<StringRef, 2> dirs;
  std::string cudaBin;
  if (const char *root = std::getenv("CUDA_ROOT")) {
    cudaBin = (llvm::Twine(root) + "/bin").str();
    dirs.push_back(cudaBin);
  }
  dirs.push_back("/usr/local/cuda/bin");
  if (auto path = llvm::sys::findProgramByName("ptxas", dirs))
    return *path;
  if (auto path = llvm::sys::findProgramByName("ptxas"))
    return *path;
  return std::nullopt;
}

llvm::Expected<std::pair<std::string, PtxasReport>>
assembleWithPtxas(StringRef ptxasPath, StringRef ptx, StringRef chip) {
  SmallString<128> ptxFile, cubinFile, logFile;
  for (auto [path, suffix] :
       {std::pair{&ptxFile, "ptx"}, {&cubinFile, "cubin"}, {&logFile, "log"}})
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("flashc", suffix, *path))
      return makeError("cannot create a temporary file: " + ec.message());
  auto cleanup = llvm::make_scope_exit([&] {
    for (StringRef path : {ptxFile.str(), cubinFile.str(), logFile.str()})
      llvm::sys::fs::remove(path);
  });
  if (llvm::Error err = writeFile(ptxFile, ptx))
    return std::move(err);
  std::string arch = ("-arch=" + chip).str();
  SmallVector<StringRef> args = {ptxasPath, "-v", arch,
                                 ptxFile,   "-o", cubinFile};
  std::optional<StringRef> redirects[] = {std::nullopt, logFile.str(),
                                          logFile.str()};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(ptxasPath, args, std::nullopt, redirects,
                                     /*SecondsToWait=*/0, /*MemoryLimit=*/0,
                                     &message);
  llvm::Expected<std::string> log = readFile(logFile);
  if (!log)
    return log.takeError();
  if (rc != 0)
    return makeError(llvm::formatv("ptxas {0} failed ({1}{2}):\n{3}", arch, rc,
                                   message.empty() ? "" : ", " + message, *log)
                         .str());
  llvm::Expected<std::string> cubin = readFile(cubinFile);
  if (!cubin)
    return cubin.takeError();
  return std::pair{std::move(*cubin), parsePtxasReport(*log)};
}

llvm::Expected<NvidiaKernels> compileForNvidia(ModuleOp tiledModule,
                                               const TargetInfo &target,
                                               const CompileOptions &options) {
  MLIRContext *context = tiledModule.getContext();
  DialectRegistry registry;
  registerNvidiaDialects(registry);
  context->appendDialectRegistry(registry);
  OwningOpRef<ModuleOp> module = tiledModule.clone();

  // Stage 1: the launch facts live on the gpu.funcs, which stage 2 turns
  // into binaries.
  PassManager toGpu(context);
  buildTileToGpuPipeline(toGpu, target, options.tuning);
  if (llvm::Error err =
          runCapturingDiagnostics(toGpu, *module, "lowering to GPU kernels"))
    return std::move(err);
  NvidiaKernels result;
  result.target = target.chip().str();
  module->walk([&](gpu::GPUFuncOp func) {
    auto kind = func->getAttrOfType<StringAttr>(abi::kKernelKindAttr);
    if (!kind)
      return;
    auto info = func->getAttrOfType<DictionaryAttr>(abi::kKernelInfoAttr);
    NvidiaKernel kernel;
    kernel.name = func.getName().str();
    kernel.kind = kind.getValue().str();
    kernel.threads = target.threadsPerBlock();
    if (DenseI32ArrayAttr known = func.getKnownBlockSizeAttr())
      kernel.threads = known[0];
    if (auto bytes = func->getAttrOfType<IntegerAttr>(kSharedBytesAttr))
      kernel.sharedBytes = bytes.getInt();
    if (auto registers =
            func->getAttrOfType<IntegerAttr>(kKernelRegisterTileRegistersAttr))
      kernel.registerTileRegisters = registers.getInt();
    kernel.grid =
        kind.getValue() == abi::kBackwardDkDv ? "key_blocks" : "query_blocks";
    kernel.blockQ = infoInt(info, abi::kTileRows);
    kernel.blockK = infoInt(info, abi::kTileCols);
    kernel.args = argumentRoles(kind.getValue(), info);
    result.kernels.push_back(std::move(kernel));
  });
  for (NvidiaKernel &kernel : result.kernels) {
    auto func = module->lookupSymbol<gpu::GPUModuleOp>(kernel.name)
                    .lookupSymbol<gpu::GPUFuncOp>(kernel.name);
    if (kernel.args.size() != func.getNumArguments())
      return makeError(llvm::formatv("kernel '{0}' has {1} arguments, but its "
                                     "kind '{2}' and attn.kernel_info call for "
                                     "{3}",
                                     kernel.name, func.getNumArguments(),
                                     kernel.kind, kernel.args.size())
                           .str());
  }

  // Stage 2: NVVM, then PTX.
  PassManager toPtx(context);
  buildGpuToNvvmPipeline(toPtx, target);
  buildNvvmToPtxPipeline(toPtx, target);
  if (llvm::Error err =
          runCapturingDiagnostics(toPtx, *module, "lowering to PTX"))
    return std::move(err);
  for (NvidiaKernel &kernel : result.kernels) {
    auto binary = module->lookupSymbol<gpu::BinaryOp>(kernel.name);
    if (!binary || binary.getObjects().empty())
      return makeError("no PTX was produced for kernel '" + kernel.name + "'");
    auto object = cast<gpu::ObjectAttr>(binary.getObjects()[0]);
    kernel.ptx = object.getObject().getValue().str();
    // A math function that libdevice did not resolve would only fail when
    // the driver loads the PTX.
    if (StringRef(kernel.ptx).contains(".extern .func"))
      return makeError("kernel '" + kernel.name +
                       "' calls libdevice functions, but no CUDA toolkit with "
                       "nvvm/libdevice/libdevice.10.bc was found (set "
                       "CUDA_ROOT)");
  }

  if (!options.runPtxas)
    return result;
  std::optional<std::string> ptxas =
      options.ptxasPath.empty() ? findPtxas()
                                : std::optional<std::string>(options.ptxasPath);
  if (!ptxas)
    return result;
  for (NvidiaKernel &kernel : result.kernels) {
    auto assembled = assembleWithPtxas(*ptxas, kernel.ptx, target.chip());
    if (!assembled)
      return assembled.takeError();
    kernel.cubin = std::move(assembled->first);
    kernel.ptxas = assembled->second;
  }
  return result;
}

ManifestInfo fromConfig(const attn::AttentionConfig &config, StringRef specPath,
                        StringRef target) {
  auto size = [](int64_t v) { return ShapedType::isDynamic(v) ? -1 : v; };
  ManifestInfo info;
  info.spec = specPath.str();
  info.target = target.str();
  Type elt = config.elementType;
  info.elementType = elt.isBF16() ? "bf16" : elt.isF16() ? "f16" : "f32";
  info.headDim = config.shape.headDim;
  info.headDimV = config.shape.headDimV;
  info.batch = size(config.shape.batch);
  info.headsQ = size(config.shape.headsQ);
  info.headsKV = size(config.shape.headsKV);
  info.seqQ = size(config.shape.seqQ);
  info.seqK = size(config.shape.seqK);
  info.scale = config.scale;
  info.causal = config.causal;
  info.bottomRight = config.bottomRight;
  if (config.hasWindow())
    info.window = {*config.windowLeft, config.windowRight.value_or(-1)};
  info.softcap = config.softcap;
  info.alibi = config.alibi;
  info.dropoutP = config.dropoutP;
  info.dropoutSeed = config.dropoutSeed;
  info.seqLensQ = config.hasSeqLensQ;
  info.seqLensK = config.hasSeqLensK;
  if (config.hasLayout)
    info.layoutBlock = {config.layoutBlockQ, config.layoutBlockK};
  info.customMask = config.mask != nullptr;
  info.customScore = config.score != nullptr;
  return info;
}

std::string renderManifest(const NvidiaKernels &kernels,
                           const ManifestInfo &info) {
  namespace json = llvm::json;
  auto pairOrNull =
      [](const std::optional<std::pair<int64_t, int64_t>> &p) -> json::Value {
    if (!p)
      return nullptr;
    return json::Array{p->first, p->second};
  };
  json::Array kernelList;
  for (const NvidiaKernel &kernel : kernels.kernels) {
    json::Object entry{{"kind", kernel.kind},
                       {"name", kernel.name},
                       {"ptx", kernel.name + ".ptx"},
                       {"block_q", kernel.blockQ},
                       {"block_k", kernel.blockK},
                       {"threads", kernel.threads},
                       {"shared_bytes", kernel.sharedBytes},
                       {"grid", kernel.grid},
                       {"args", json::Array(kernel.args)}};
    if (kernel.cubin)
      entry["cubin"] = kernel.name + ".cubin";
    kernelList.push_back(std::move(entry));
  }
  // The runtime reads the backward's arguments off `deterministic`
  // (runtime/Manifest.h): a backward without atomics, i.e. no kernel sums
  // dQ in dq_accum (a `deterministic` gradient, or sum-dq off).
  bool sumsDq = llvm::any_of(kernels.kernels, [](const NvidiaKernel &k) {
    return llvm::is_contained(k.args, "dq_accum");
  });
  bool hasBackward = llvm::any_of(kernels.kernels, [](const NvidiaKernel &k) {
    return k.kind != abi::kForward;
  });
  json::Object root{
      {"format", 1},
      {"spec", info.spec},
      {"target", info.target},
      {"element_type", info.elementType},
      {"head_dim", info.headDim},
      {"head_dim_v", info.headDimV},
      {"static_sizes", json::Object{{"batch", info.batch},
                                    {"heads_q", info.headsQ},
                                    {"heads_kv", info.headsKV},
                                    {"seq_q", info.seqQ},
                                    {"seq_k", info.seqK}}},
      {"scale", info.scale},
      {"causal", info.causal},
      {"bottom_right", info.bottomRight},
      {"window", pairOrNull(info.window)},
      {"softcap", info.softcap ? json::Value(*info.softcap) : nullptr},
      {"alibi", info.alibi},
      {"dropout_p", info.dropoutP},
      {"dropout_seed", info.dropoutSeed},
      {"seqlens_q", info.seqLensQ},
      {"seqlens_k", info.seqLensK},
      {"layout_block", pairOrNull(info.layoutBlock)},
      {"custom_mask", info.customMask},
      {"custom_score", info.customScore},
      {"deterministic", hasBackward && !sumsDq},
      {"kernels", std::move(kernelList)}};
  return llvm::formatv("{0:2}", json::Value(std::move(root))).str() + "\n";
}

llvm::Error writeKernelDirectory(const NvidiaKernels &kernels,
                                 const ManifestInfo &info, StringRef dir) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return makeError("cannot create " + dir + ": " + ec.message());
  auto pathOf = [&](StringRef file) {
    SmallString<256> path(dir);
    llvm::sys::path::append(path, file);
    return std::string(path);
  };
  for (const NvidiaKernel &kernel : kernels.kernels) {
    if (llvm::Error err = writeFile(pathOf(kernel.name + ".ptx"), kernel.ptx))
      return err;
    if (kernel.cubin)
      if (llvm::Error err =
              writeFile(pathOf(kernel.name + ".cubin"), *kernel.cubin))
        return err;
  }
  return writeFile(pathOf("flashc.json"), renderManifest(kernels, info));
}

} // namespace flashc::nvidia
