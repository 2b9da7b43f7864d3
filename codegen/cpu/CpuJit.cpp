//===- CpuJit.cpp - run tiled attn kernels in process on the CPU ----------===//

#include "codegen/cpu/CpuJit.h"
#include "codegen/cpu/CpuPipeline.h"
#include "passes/KernelABI.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <mutex>
#include <string>

using namespace mlir;

namespace flashc::cpu {
namespace {

/// What invoke() checks an argument against: one parameter of a kernel.
struct Parameter {
  /// The parameter's type as printed, for messages.
  std::string typeText;
  bool isMemRef = false;
  int64_t rank = 0;
  /// Static sizes, strides and offset of the memref type (kDynamic where
  /// the type leaves them open).
  SmallVector<int64_t, 4> shape, strides;
  int64_t offset = 0;
  /// For a scalar: whether it is the i64 the ABI passes (seed, offset).
  bool isI64 = false;
};

struct KernelSignature {
  SmallVector<Parameter> params;
};

KernelSignature signatureOf(func::FuncOp func) {
  KernelSignature signature;
  for (Type type : func.getArgumentTypes()) {
    Parameter param;
    llvm::raw_string_ostream(param.typeText) << type;
    if (auto memref = dyn_cast<MemRefType>(type)) {
      param.isMemRef = true;
      param.rank = memref.getRank();
      llvm::append_range(param.shape, memref.getShape());
      if (failed(memref.getStridesAndOffset(param.strides, param.offset))) {
        param.strides.assign(param.rank, ShapedType::kDynamic);
        param.offset = ShapedType::kDynamic;
      }
    } else {
      param.isI64 = type.isInteger(64);
    }
    signature.params.push_back(std::move(param));
  }
  return signature;
}

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string listOf(ArrayRef<int64_t> values) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "[";
  llvm::interleaveComma(values, os);
  os << "]";
  return text;
}

/// Checks one argument against its parameter; an empty string means it
/// fits, otherwise it says what does not.
std::string mismatch(const Parameter &param, const KernelArg &arg) {
  if (!param.isMemRef && !param.isI64)
    return "the CPU JIT can only pass memrefs and i64 scalars";
  const auto *memref = std::get_if<MemRefArg>(&arg);
  if (!param.isMemRef)
    return memref ? "expected an i64 scalar, got a memref" : "";
  if (!memref)
    return "expected a memref of rank " + std::to_string(param.rank) +
           ", got an i64 scalar";
  int64_t rank = static_cast<int64_t>(memref->sizes.size());
  if (rank != param.rank ||
      static_cast<int64_t>(memref->strides.size()) != param.rank)
    return llvm::formatv("expected a memref of rank {0}, got {1} sizes and {2} "
                         "strides",
                         param.rank, memref->sizes.size(),
                         memref->strides.size())
        .str();
  if (!memref->data)
    return "the data pointer is null";
  for (int64_t d = 0; d < rank; ++d) {
    if (memref->sizes[d] < 0)
      return llvm::formatv("size {0} is negative ({1})", d, memref->sizes[d])
          .str();
    if (!ShapedType::isDynamic(param.shape[d]) &&
        memref->sizes[d] != param.shape[d])
      return llvm::formatv("size {0} must be {1}, as the kernel's type says; "
                           "got sizes {2}",
                           d, param.shape[d], listOf(memref->sizes))
          .str();
    if (!ShapedType::isDynamic(param.strides[d]) &&
        memref->strides[d] != param.strides[d])
      return llvm::formatv("stride {0} must be {1}, as the kernel's type "
                           "says; got strides {2}",
                           d, param.strides[d], listOf(memref->strides))
          .str();
  }
  if (!ShapedType::isDynamic(param.offset) && memref->offset != param.offset)
    return llvm::formatv("offset must be {0}, got {1}", param.offset,
                         memref->offset)
        .str();
  return "";
}

/// Collects every diagnostic of a context as text while alive.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(MLIRContext *context)
      : handler(context, [this](Diagnostic &diag) {
          append(diag);
          return success();
        }) {}
  std::string take() { return std::move(text); }

private:
  void append(Diagnostic &diag) {
    llvm::raw_string_ostream os(text);
    os << diag.getLocation() << ": ";
    switch (diag.getSeverity()) {
    case DiagnosticSeverity::Error:
      os << "error: ";
      break;
    case DiagnosticSeverity::Warning:
      os << "warning: ";
      break;
    case DiagnosticSeverity::Note:
      os << "note: ";
      break;
    case DiagnosticSeverity::Remark:
      os << "remark: ";
      break;
    }
    os << diag << "\n";
    for (Diagnostic &note : diag.getNotes())
      append(note);
  }

  std::string text;
  ScopedDiagnosticHandler handler;
};

void initializeNativeTargetOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

constexpr llvm::StringLiteral kCInterfacePrefix = "_mlir_ciface_";

} // namespace

struct CpuKernelModule::Impl {
  llvm::StringMap<KernelSignature> kernels;
  /// ExecutionEngineOptions holds the transformer by reference and the JIT
  /// calls it whenever it materializes code: it lives as long as the engine
  /// (declared first, destroyed last).
  std::function<llvm::Error(llvm::Module *)> transformer;
  std::unique_ptr<ExecutionEngine> engine;
};

CpuKernelModule::CpuKernelModule(std::unique_ptr<Impl> impl)
    : impl(std::move(impl)) {}

CpuKernelModule::~CpuKernelModule() = default;

llvm::Expected<std::unique_ptr<CpuKernelModule>>
CpuKernelModule::compile(ModuleOp module) {
  auto impl = std::make_unique<Impl>();
  for (auto func : module.getOps<func::FuncOp>())
    if (func->hasAttr(abi::kKernelKindAttr))
      impl->kernels[func.getSymName()] = signatureOf(func);
  if (impl->kernels.empty())
    return makeError("flashc cpu jit: the module has no kernel function (a "
                     "func.func with " +
                     abi::kKernelKindAttr + ")");

  MLIRContext *context = module.getContext();
  registerBuiltinDialectTranslation(*context);
  registerLLVMDialectTranslation(*context);

  OwningOpRef<ModuleOp> lowered(module.clone());
  {
    DiagnosticCollector diagnostics(context);
    PassManager pm(context);
    codegen::cpu::buildCpuLoweringPipeline(pm);
    if (failed(verify(*lowered)) || failed(pm.run(*lowered)))
      return makeError("flashc cpu jit: lowering to LLVM failed:\n" +
                       diagnostics.take());
  }

  initializeNativeTargetOnce();
  auto machineBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!machineBuilder)
    return machineBuilder.takeError();
  auto machine = machineBuilder->createTargetMachine();
  if (!machine)
    return machine.takeError();
  impl->transformer =
      makeOptimizingTransformer(/*optLevel=*/3,
                                /*sizeLevel=*/0, machine->get());
  ExecutionEngineOptions options;
  options.transformer = impl->transformer;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  options.enablePerfNotificationListener = false;
  {
    DiagnosticCollector diagnostics(context);
    auto engine =
        ExecutionEngine::create(*lowered, options, std::move(*machine));
    if (!engine)
      return makeError("flashc cpu jit: " + llvm::toString(engine.takeError()) +
                       "\n" + diagnostics.take());
    impl->engine = std::move(*engine);
  }
  // Compile every kernel now, so that a JIT failure shows up here rather
  // than at the first call.
  for (const auto &kernel : impl->kernels) {
    auto entry =
        impl->engine->lookupPacked((kCInterfacePrefix + kernel.getKey()).str());
    if (!entry)
      return makeError("flashc cpu jit: kernel '" + kernel.getKey() +
                       "': " + llvm::toString(entry.takeError()));
  }
  return std::unique_ptr<CpuKernelModule>(new CpuKernelModule(std::move(impl)));
}

llvm::Error CpuKernelModule::invoke(llvm::StringRef name,
                                    llvm::ArrayRef<KernelArg> args) {
  auto found = impl->kernels.find(name);
  if (found == impl->kernels.end()) {
    std::string known;
    llvm::raw_string_ostream os(known);
    llvm::interleaveComma(impl->kernels.keys(), os);
    return makeError("flashc cpu jit: no kernel named '" + name +
                     "' (the module has: " + known + ")");
  }
  const KernelSignature &signature = found->second;
  if (args.size() != signature.params.size())
    return makeError(llvm::formatv("flashc cpu jit: kernel '{0}' takes {1} "
                                   "arguments, got {2}",
                                   name, signature.params.size(), args.size())
                         .str());
  for (auto [index, param, arg] : llvm::enumerate(signature.params, args)) {
    std::string problem = mismatch(param, arg);
    if (!problem.empty())
      return makeError(llvm::formatv("flashc cpu jit: kernel '{0}' argument "
                                     "{1} ({2}): {3}",
                                     name, index, param.typeText, problem)
                           .str());
  }

  // Each memref goes to the C interface as a pointer to its descriptor
  // {allocated, aligned, offset, sizes[R], strides[R]}; invokePacked wants
  // the address of every argument.
  // Reserved up front: the descriptors must not move once pointed to.
  SmallVector<SmallVector<int64_t, 11>> descriptors;
  descriptors.reserve(args.size());
  SmallVector<void *> descriptorPointers(args.size(), nullptr);
  SmallVector<int64_t> scalars(args.size(), 0);
  SmallVector<void *> packed;
  for (auto [index, arg] : llvm::enumerate(args)) {
    if (const auto *memref = std::get_if<MemRefArg>(&arg)) {
      SmallVector<int64_t, 11> &descriptor = descriptors.emplace_back();
      auto pointer = reinterpret_cast<intptr_t>(memref->data);
      descriptor.push_back(pointer);
      descriptor.push_back(pointer);
      descriptor.push_back(memref->offset);
      llvm::append_range(descriptor, memref->sizes);
      llvm::append_range(descriptor, memref->strides);
      descriptorPointers[index] = descriptor.data();
      packed.push_back(&descriptorPointers[index]);
    } else {
      scalars[index] = std::get<int64_t>(arg);
      packed.push_back(&scalars[index]);
    }
  }
  return impl->engine->invokePacked((kCInterfacePrefix + name).str(), packed);
}

} // namespace flashc::cpu
