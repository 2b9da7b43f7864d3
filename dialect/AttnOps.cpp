//===- AttnOps.cpp - spec-level attn ops and their verifiers --------------===//
//
// Every diagnostic names the operand, result or clause at fault and says what
// was expected, in the user's terms ([B, Hq, Nq, D] and so on).
//
//===----------------------------------------------------------------------===//

#include "dialect/AttnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>

using namespace mlir;
using namespace flashc::attn;

#define GET_OP_CLASSES
#include "dialect/AttnOps.cpp.inc"

/// Largest head dimension any backend supports.
static constexpr int64_t kMaxHeadDim = 256;

namespace {
/// A named tensor operand or result, for diagnostics.
struct Named {
  StringRef name;
  Value value;
  RankedTensorType type() const {
    return cast<RankedTensorType>(value.getType());
  }
};
} // namespace

static std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? "?" : std::to_string(d);
}

static bool isAttentionElementType(Type t) {
  return t.isF16() || t.isBF16() || t.isF32();
}

/// Two sizes agree when equal or when either is dynamic.
static bool compatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

static LogicalResult expectRank(Operation *op, const Named &t, int64_t rank,
                                StringRef layout) {
  if (t.type().getRank() != rank)
    return op->emitOpError() << "'" << t.name << "' must be a rank-" << rank
                             << " tensor " << layout << ", got "
                             << t.type();
  return success();
}

/// `what` of `a` (dimension `da`) must agree with that of `b` (dimension db).
static LogicalResult expectSameDim(Operation *op, StringRef what,
                                   const Named &a, unsigned da,
                                   const Named &b, unsigned db) {
  int64_t x = a.type().getDimSize(da), y = b.type().getDimSize(db);
  if (!compatible(x, y))
    return op->emitOpError()
           << what << " of '" << a.name << "' (" << x << ") does not match "
           << what << " of '" << b.name << "' (" << y << ")";
  return success();
}

/// `t` must have exactly `shape` (dynamic sizes match dynamic sizes only where
/// the inputs are dynamic too) and element type `elt`.
static LogicalResult expectType(Operation *op, const Named &t,
                                ArrayRef<int64_t> shape, Type elt,
                                StringRef layout) {
  auto expected = RankedTensorType::get(shape, elt);
  if (t.type() != expected)
    return op->emitOpError() << "'" << t.name << "' must have type "
                             << expected << " " << layout << ", got "
                             << t.type();
  return success();
}

namespace {
/// Shapes read off Q, K and V once they are known to be well-formed.
struct Dims {
  int64_t b, hq, nq, d, hkv, nk, dv;
  Type elt;
};
} // namespace

/// Checks Q, K, V against each other and returns their dimensions.
static FailureOr<Dims> verifyInputs(Operation *op, Value q, Value k,
                                    Value v) {
  Named nq{"query", q}, nk{"key", k}, nv{"value", v};
  if (failed(expectRank(op, nq, 4, "[B, Hq, Nq, D]")) ||
      failed(expectRank(op, nk, 4, "[B, Hkv, Nk, D]")) ||
      failed(expectRank(op, nv, 4, "[B, Hkv, Nk, Dv]")))
    return failure();
  Type elt = nq.type().getElementType();
  if (!isAttentionElementType(elt))
    return op->emitOpError()
           << "'query' element type must be f16, bf16 or f32, got " << elt;
  for (const Named &t : {nk, nv})
    if (t.type().getElementType() != elt)
      return op->emitOpError()
             << "'" << t.name << "' element type "
             << t.type().getElementType()
             << " does not match 'query' element type " << elt;
  if (failed(expectSameDim(op, "batch size B", nk, 0, nq, 0)) ||
      failed(expectSameDim(op, "batch size B", nv, 0, nq, 0)) ||
      failed(expectSameDim(op, "head dimension D", nk, 3, nq, 3)) ||
      failed(expectSameDim(op, "head count Hkv", nv, 1, nk, 1)) ||
      failed(expectSameDim(op, "sequence length Nk", nv, 2, nk, 2)))
    return failure();

  Dims dims{nq.type().getDimSize(0), nq.type().getDimSize(1),
            nq.type().getDimSize(2), nq.type().getDimSize(3),
            nk.type().getDimSize(1), nk.type().getDimSize(2),
            nv.type().getDimSize(3), elt};
  for (auto [name, size] : {std::pair<StringRef, int64_t>{"D", dims.d},
                            std::pair<StringRef, int64_t>{"Dv", dims.dv}}) {
    if (ShapedType::isDynamic(size))
      return op->emitOpError()
             << "head dimension " << name << " must be static, got '?'";
    if (size < 1 || size > kMaxHeadDim)
      return op->emitOpError() << "head dimension " << name << " = " << size
                               << " is outside the supported range [1, "
                               << kMaxHeadDim << "]";
  }
  for (auto [name, size] :
       {std::pair<StringRef, int64_t>{"B", dims.b},
        std::pair<StringRef, int64_t>{"Hq", dims.hq},
        std::pair<StringRef, int64_t>{"Hkv", dims.hkv},
        std::pair<StringRef, int64_t>{"Nq", dims.nq},
        std::pair<StringRef, int64_t>{"Nk", dims.nk}})
    if (!ShapedType::isDynamic(size) && size < 1)
      return op->emitOpError()
             << "size " << name << " must be at least 1, got " << size;
  if (!ShapedType::isDynamic(dims.hq) && !ShapedType::isDynamic(dims.hkv) &&
      dims.hq % dims.hkv != 0)
    return op->emitOpError()
           << "query heads Hq = " << dims.hq
           << " must be a multiple of key/value heads Hkv = " << dims.hkv;
  return dims;
}

/// Checks the clauses shared by the forward op and its gradient.
template <typename OpT>
static LogicalResult verifyClauses(OpT op, const Dims &dims) {
  Operation *o = op.getOperation();
  auto positiveFinite = [&](StringRef clause, double x) -> LogicalResult {
    if (!(std::isfinite(x) && x > 0))
      return op.emitOpError() << "'" << clause
                              << "' must be a positive finite number, got "
                              << x;
    return success();
  };
  if (auto scale = op.getScale())
    if (failed(positiveFinite("scale", scale->convertToDouble())))
      return failure();
  if (auto softcap = op.getSoftcap())
    if (failed(positiveFinite("softcap", softcap->convertToDouble())))
      return failure();

  if (op.getWindowLeft().has_value() != op.getWindowRight().has_value())
    return op.emitOpError(
        "'window' needs both bounds: window(left, right)");
  if (op.getWindowLeft()) {
    // The generated getters return I64Attr values as uint64_t; read them
    // signed, or a negative bound would pass as a huge one.
    int64_t left = op.getWindowLeftAttr().getInt();
    int64_t right = op.getWindowRightAttr().getInt();
    if (left < 0 || right < 0)
      return op.emitOpError()
             << "'window' bounds must be non-negative, got window(" << left
             << ", " << right << ")";
  }

  if (op.getDropoutP().has_value() != op.getDropoutSeed().has_value())
    return op.emitOpError("'dropout' needs a probability and a seed: "
                          "dropout(p, seed s)");
  if (auto p = op.getDropoutP()) {
    double x = p->convertToDouble();
    if (!(x >= 0.0 && x < 1.0))
      return op.emitOpError()
             << "'dropout' probability must be in [0, 1), got " << x;
  }

  // Per-batch sequence lengths: one i32 per batch entry.
  for (auto [name, value] :
       {std::pair<StringRef, Value>{"seqlens_q", op.getSeqlensQ()},
        std::pair<StringRef, Value>{"seqlens_k", op.getSeqlensK()}}) {
    if (!value)
      continue;
    auto t = cast<RankedTensorType>(value.getType());
    if (t.getRank() != 1 || !t.getElementType().isSignlessInteger(32) ||
        !compatible(t.getDimSize(0), dims.b))
      return op.emitOpError()
             << "'" << name << "' must be a rank-1 tensor of i32 with B = "
             << dimStr(dims.b) << " elements, got " << t;
  }

  // Block-sparsity layout [1 or B, 1 or Hq, ceil(Nq/bq), ceil(Nk/bk)].
  auto block = op.getLayoutBlock();
  if (!op.getLayout()) {
    if (block)
      return op.emitOpError("'block' sizes given without a 'layout' operand");
  } else {
    if (!block || block->size() != 2)
      return op.emitOpError(
          "'layout' needs two block sizes: layout(%l : type, block [bq, bk])");
    for (int64_t size : *block)
      if (size < 16 || size % 16 != 0)
        return op.emitOpError()
               << "layout block sizes must be positive multiples of 16, got ["
               << (*block)[0] << ", " << (*block)[1] << "]";
    auto t = cast<RankedTensorType>(op.getLayout().getType());
    if (t.getRank() != 4 || !t.getElementType().isSignlessInteger())
      return op.emitOpError()
             << "'layout' must be a rank-4 tensor of integers "
                "[1 or B, 1 or Hq, ceil(Nq/bq), ceil(Nk/bk)], got "
             << t;
    // n / d rounded up, without forming n + d - 1 (block sizes may be as
    // large as INT64_MAX - 15).
    auto ceilDiv = [](int64_t n, int64_t d) {
      return ShapedType::isDynamic(n) ? n : n / d + (n % d != 0);
    };
    int64_t mq = ceilDiv(dims.nq, (*block)[0]);
    int64_t mk = ceilDiv(dims.nk, (*block)[1]);
    auto broadcastOk = [](int64_t got, int64_t full) {
      return got == 1 || compatible(got, full);
    };
    if (!broadcastOk(t.getDimSize(0), dims.b) ||
        !broadcastOk(t.getDimSize(1), dims.hq) ||
        !compatible(t.getDimSize(2), mq) || !compatible(t.getDimSize(3), mk))
      return op.emitOpError()
             << "'layout' must have shape [1 or " << dimStr(dims.b)
             << ", 1 or " << dimStr(dims.hq) << ", " << dimStr(mq) << ", "
             << dimStr(mk) << "] for block [" << (*block)[0] << ", "
             << (*block)[1] << "], got " << t;
  }
  (void)o;
  return success();
}

/// A custom region must be one block with the given arguments, yield one
/// value of `yieldType`, read nothing from outside and have no side effects.
static LogicalResult verifyCustomRegion(Operation *op, Region &region,
                                        StringRef name,
                                        ArrayRef<Type> argTypes,
                                        StringRef argDoc, Type yieldType) {
  if (region.empty())
    return success();
  if (!region.hasOneBlock())
    return op->emitOpError() << "'" << name
                             << "' region must have exactly one block";
  Block &block = region.front();
  if (block.getArgumentTypes() != TypeRange(argTypes))
    return op->emitOpError() << "'" << name << "' region must take "
                             << argDoc;
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield || yield.getValues().size() != 1 ||
      yield.getValues()[0].getType() != yieldType)
    return op->emitOpError() << "'" << name
                             << "' region must end with 'attn.yield' of one "
                             << yieldType;
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(region, captured);
  if (!captured.empty())
    return op->emitOpError()
           << "'" << name
           << "' region must not use values defined outside it; pass "
              "everything through its arguments";
  for (Operation &inner : block.without_terminator()) {
    if (!isMemoryEffectFree(&inner))
      return inner.emitOpError()
             << "has side effects and cannot appear in the '" << name
             << "' region of '" << op->getName() << "'";
    // Backends evaluate the region once per score element, inside the
    // kernel's loops: scalar arith and math are what they can lower. (A
    // side-effect-free tensor op, or a whole attn.attention, used to pass
    // here and then fail to lower or, nested in a mask, take the place of
    // the spec's own kernel.)
    if (!isa_and_nonnull<arith::ArithDialect, math::MathDialect>(
            inner.getDialect()))
      return inner.emitOpError()
             << "cannot appear in the '" << name << "' region of '"
             << op->getName()
             << "': custom regions may use only arith and math ops";
  }
  return success();
}

template <typename OpT> static LogicalResult verifyRegions(OpT op) {
  MLIRContext *ctx = op.getContext();
  Type index = IndexType::get(ctx);
  Type f32 = Float32Type::get(ctx);
  Type i1 = IntegerType::get(ctx, 1);
  if (failed(verifyCustomRegion(op, op.getMask(), "mask",
                                {index, index, index, index},
                                "(%b: index, %h: index, %i: index, %j: index)",
                                i1)))
    return failure();
  return verifyCustomRegion(
      op, op.getScore(), "score", {f32, index, index, index, index},
      "(%s: f32, %b: index, %h: index, %i: index, %j: index)", f32);
}

template <typename OpT> static double scaleOrDefault(OpT op) {
  if (auto scale = op.getScale())
    return scale->convertToDouble();
  auto q = cast<RankedTensorType>(op.getQuery().getType());
  return 1.0 / std::sqrt(static_cast<double>(q.getDimSize(3)));
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

double AttentionOp::getScaleOrDefault() { return scaleOrDefault(*this); }

LogicalResult AttentionOp::verify() {
  FailureOr<Dims> dims = verifyInputs(*this, getQuery(), getKey(), getValue());
  if (failed(dims) || failed(verifyClauses(*this, *dims)))
    return failure();
  Type f32 = Float32Type::get(getContext());
  if (failed(expectType(*this, {"out", getOut()},
                        {dims->b, dims->hq, dims->nq, dims->dv}, dims->elt,
                        "([B, Hq, Nq, Dv])")) ||
      failed(expectType(*this, {"lse", getLse()},
                        {dims->b, dims->hq, dims->nq}, f32, "([B, Hq, Nq])")))
    return failure();
  return success();
}

LogicalResult AttentionOp::verifyRegions() {
  return ::verifyRegions(*this);
}

//===----------------------------------------------------------------------===//
// AttentionGradOp
//===----------------------------------------------------------------------===//

double AttentionGradOp::getScaleOrDefault() { return scaleOrDefault(*this); }

/// Ops whose derivative flashc knows, for custom score regions in the
/// backward pass. Index arithmetic and comparisons carry no derivative.
static bool isDifferentiable(Operation *op) {
  if (op->getDialect() && op->getDialect()->getNamespace() == "arith") {
    // Float ops flashc differentiates, and anything without float results.
    if (isa<arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::DivFOp,
            arith::NegFOp, arith::MaximumFOp, arith::MinimumFOp,
            arith::MaxNumFOp, arith::MinNumFOp, arith::SelectOp,
            arith::ConstantOp, arith::SIToFPOp, arith::UIToFPOp>(op))
      return true;
    return llvm::none_of(op->getResultTypes(),
                         [](Type t) { return isa<FloatType>(t); });
  }
  return isa<math::TanhOp, math::ExpOp, math::Exp2Op, math::LogOp,
             math::SqrtOp, math::AbsFOp, math::SinOp, math::CosOp,
             math::PowFOp, math::RsqrtOp>(op);
}

LogicalResult AttentionGradOp::verify() {
  FailureOr<Dims> dims = verifyInputs(*this, getQuery(), getKey(), getValue());
  if (failed(dims) || failed(verifyClauses(*this, *dims)))
    return failure();
  Type f32 = Float32Type::get(getContext());
  SmallVector<int64_t> outShape{dims->b, dims->hq, dims->nq, dims->dv};
  if (failed(expectType(*this, {"out", getOut()}, outShape, dims->elt,
                        "([B, Hq, Nq, Dv])")) ||
      failed(expectType(*this, {"lse", getLse()},
                        {dims->b, dims->hq, dims->nq}, f32,
                        "([B, Hq, Nq])")) ||
      failed(expectType(*this, {"dout", getDout()}, outShape, dims->elt,
                        "(like 'out')")))
    return failure();
  for (auto [name, grad, input] :
       {std::tuple<StringRef, Value, Value>{"dquery", getDquery(), getQuery()},
        std::tuple<StringRef, Value, Value>{"dkey", getDkey(), getKey()},
        std::tuple<StringRef, Value, Value>{"dvalue", getDvalue(),
                                            getValue()}})
    if (grad.getType() != input.getType())
      return emitOpError() << "'" << name << "' must have the type of its "
                           << "input, " << input.getType() << ", got "
                           << grad.getType();
  return success();
}

LogicalResult AttentionGradOp::verifyRegions() {
  if (failed(::verifyRegions(*this)))
    return failure();
  if (getScore().empty())
    return success();
  for (Operation &inner : getScore().front().without_terminator())
    if (!isDifferentiable(&inner))
      return inner.emitOpError()
             << "cannot be differentiated: the 'score' region of "
                "'attn.attention_grad' may use only arith ops without float "
                "results, arith.addf/subf/mulf/divf/negf/maximumf/minimumf/"
                "maxnumf/minnumf/select/constant/sitofp/uitofp and "
                "math.tanh/exp/exp2/log/sqrt/rsqrt/absf/sin/cos/powf";
  return success();
}
