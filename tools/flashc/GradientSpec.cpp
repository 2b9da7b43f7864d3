//===- GradientSpec.cpp - a forward spec's gradient, for --grad -----------===//

#include "tools/flashc/GradientSpec.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;

namespace flashc::tool {

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<OwningOpRef<ModuleOp>> withGradientFunction(ModuleOp spec) {
  OwningOpRef<ModuleOp> module = spec.clone();
  attn::AttentionOp fwd;
  module->walk([&](attn::AttentionOp op) { fwd = op; });
  if (!fwd)
    return makeError("the spec has no attn.attention op to differentiate");

  // Arguments: q, k, v, o, lse, dout, then the optional operands.
  SmallVector<Value> optional;
  for (Value v : {fwd.getSeqlensQ(), fwd.getSeqlensK(), fwd.getLayout()})
    if (v)
      optional.push_back(v);
  SmallVector<Type> argTypes = {
      fwd.getQuery().getType(), fwd.getKey().getType(),
      fwd.getValue().getType(), fwd.getOut().getType(),
      fwd.getLse().getType(),   fwd.getOut().getType()};
  for (Value v : optional)
    argTypes.push_back(v.getType());
  SmallVector<Type> resultTypes = {fwd.getQuery().getType(),
                                   fwd.getKey().getType(),
                                   fwd.getValue().getType()};

  auto parent = fwd->getParentOfType<func::FuncOp>();
  std::string name = (parent ? parent.getName() : StringRef("spec")).str();
  name += "_grad";
  OpBuilder builder(module->getContext());
  Location loc = fwd.getLoc();
  auto fn = func::FuncOp::create(
      loc, name, builder.getFunctionType(argTypes, resultTypes));
  // Appended to the module; a name clash gets a fresh name.
  SymbolTable(module->getOperation()).insert(fn);
  Block *entry = fn.addEntryBlock();
  builder.setInsertionPointToStart(entry);

  auto arg = [&](unsigned i) { return entry->getArgument(i); };
  unsigned next = 6;
  auto optionalArg = [&](Value forward) -> Value {
    return forward ? arg(next++) : Value();
  };
  Value seqlensQ = optionalArg(fwd.getSeqlensQ());
  Value seqlensK = optionalArg(fwd.getSeqlensK());
  Value layout = optionalArg(fwd.getLayout());
  auto grad = attn::AttentionGradOp::create(
      builder, loc, resultTypes[0], resultTypes[1], resultTypes[2], arg(0),
      arg(1), arg(2), arg(3), arg(4), arg(5), seqlensQ, seqlensK, layout,
      fwd.getScaleAttr(), fwd.getCausalAttr(), fwd.getAlignmentAttr(),
      fwd.getWindowLeftAttr(), fwd.getWindowRightAttr(), fwd.getSoftcapAttr(),
      fwd.getAlibiAttr(), fwd.getDropoutPAttr(), fwd.getDropoutSeedAttr(),
      fwd.getLayoutBlockAttr(), /*deterministic=*/UnitAttr());
  IRMapping mapping;
  fwd.getMask().cloneInto(&grad.getMask(), mapping);
  fwd.getScore().cloneInto(&grad.getScore(), mapping);
  func::ReturnOp::create(builder, loc, grad.getResults());

  if (failed(verify(fn)))
    return makeError("the gradient of this spec does not verify (see the "
                     "errors above): custom score regions must be "
                     "differentiable for --grad");
  return std::move(module);
}

void makeGradientsDeterministic(ModuleOp module) {
  module.walk([](attn::AttentionGradOp grad) { grad.setDeterministic(true); });
}

bool hasDeterministicGradient(ModuleOp module) {
  bool found = false;
  module.walk([&](attn::AttentionGradOp grad) {
    found |= grad.getDeterministic();
  });
  return found;
}

} // namespace flashc::tool
