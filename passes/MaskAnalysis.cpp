//===- MaskAnalysis.cpp - linear constraints implied by masks -------------===//

#include "passes/MaskAnalysis.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/FormatVariadic.h"

#include <optional>

using namespace mlir;

namespace flashc {

std::string LinearConstraint::str() const {
  std::string s;
  auto term = [&](int64_t c, StringRef name) {
    if (c == 0)
      return;
    if (!s.empty())
      s += c < 0 ? " - " : " + ";
    else if (c < 0)
      s += "-";
    int64_t a = c < 0 ? -c : c;
    if (a != 1 || name.empty())
      s += std::to_string(a) + (name.empty() ? "" : "*");
    s += name.str();
  };
  term(ci, "i");
  term(cj, "j");
  term(cshift, "shift");
  term(c0, "");
  if (s.empty())
    s = "0";
  return s + " >= 0";
}

namespace {
/// An affine expression ci*i + cj*j + c0 over the mask's index arguments.
struct Affine {
  int64_t ci = 0, cj = 0, c0 = 0;
};
} // namespace

// The region's integer arithmetic wraps at 2^64, the analysis reasons about
// exact integers: the two agree while no value of the region wraps. Every
// value the analysis accepts is an Affine within these bounds, so with
// |i|, |j| < 2^40 (no memory holds a sequence of 2^40 tokens) it stays below
// 3 * 2^60 < 2^63, and so do the block bounds the tiling passes compute from
// the constraints. Anything larger is left to the region itself.
static constexpr int64_t kMaxCoefficient = int64_t(1) << 20;
static constexpr int64_t kMaxConstant = int64_t(1) << 60;

/// ci*i + cj*j + c0, or nullopt when a part did not fit int64 (nullopt
/// already) or is outside the bounds above.
static std::optional<Affine> bounded(std::optional<int64_t> ci,
                                     std::optional<int64_t> cj,
                                     std::optional<int64_t> c0) {
  auto within = [](std::optional<int64_t> x, int64_t bound) {
    return x && *x >= -bound && *x <= bound;
  };
  if (!within(ci, kMaxCoefficient) || !within(cj, kMaxCoefficient) ||
      !within(c0, kMaxConstant))
    return std::nullopt;
  return Affine{*ci, *cj, *c0};
}

/// Evaluates `v` as an affine expression of the region arguments i and j
/// (arguments 2 and 3); nullopt when it depends on anything else (b, h), is
/// not affine, is computed in fewer than 64 bits (where it would wrap much
/// sooner) or leaves the bounds above.
static std::optional<Affine> asAffine(Value v, Block &block) {
  if (!v.getType().isIndex() && !v.getType().isSignlessInteger(64))
    return std::nullopt;
  if (v == block.getArgument(2))
    return Affine{1, 0, 0};
  if (v == block.getArgument(3))
    return Affine{0, 1, 0};
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  if (auto cst = dyn_cast<arith::ConstantOp>(def)) {
    if (auto i = dyn_cast<IntegerAttr>(cst.getValue()))
      return bounded(0, 0, i.getValue().trySExtValue());
    return std::nullopt;
  }
  if (isa<arith::IndexCastOp, arith::ExtSIOp>(def))
    return asAffine(def->getOperand(0), block);
  auto binary = [&](auto combine) -> std::optional<Affine> {
    auto a = asAffine(def->getOperand(0), block);
    auto b = asAffine(def->getOperand(1), block);
    if (!a || !b)
      return std::nullopt;
    return combine(*a, *b);
  };
  if (isa<arith::AddIOp>(def))
    return binary([](Affine a, Affine b) {
      return bounded(llvm::checkedAdd(a.ci, b.ci), llvm::checkedAdd(a.cj, b.cj),
                     llvm::checkedAdd(a.c0, b.c0));
    });
  if (isa<arith::SubIOp>(def))
    return binary([](Affine a, Affine b) {
      return bounded(llvm::checkedSub(a.ci, b.ci), llvm::checkedSub(a.cj, b.cj),
                     llvm::checkedSub(a.c0, b.c0));
    });
  if (isa<arith::MulIOp>(def))
    return binary([](Affine a, Affine b) -> std::optional<Affine> {
      if (b.ci == 0 && b.cj == 0)
        std::swap(a, b);
      if (a.ci != 0 || a.cj != 0)
        return std::nullopt; // quadratic
      return bounded(llvm::checkedMul(a.c0, b.ci), llvm::checkedMul(a.c0, b.cj),
                     llvm::checkedMul(a.c0, b.c0));
    });
  return std::nullopt;
}

/// Appends the constraints of an i1 value that is a conjunction of affine
/// comparisons; returns false when some part is not of that form.
static bool collect(Value v, Block &block,
                    SmallVectorImpl<LinearConstraint> &out) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return false;
  if (auto andOp = dyn_cast<arith::AndIOp>(def)) {
    bool lhs = collect(andOp.getLhs(), block, out);
    bool rhs = collect(andOp.getRhs(), block, out);
    return lhs && rhs;
  }
  if (auto cst = dyn_cast<arith::ConstantOp>(def))
    if (auto b = dyn_cast<BoolAttr>(cst.getValue()); b && b.getValue())
      return true;
  auto cmp = dyn_cast<arith::CmpIOp>(def);
  if (!cmp)
    return false;
  auto a = asAffine(cmp.getLhs(), block);
  auto b = asAffine(cmp.getRhs(), block);
  if (!a || !b)
    return false;
  // d = a - b; each predicate becomes d + k >= 0 or its negation.
  LinearConstraint d{a->ci - b->ci, a->cj - b->cj, a->c0 - b->c0, 0};
  LinearConstraint neg{-d.ci, -d.cj, -d.c0, 0};
  switch (cmp.getPredicate()) {
  case arith::CmpIPredicate::sge:
    out.push_back(d);
    return true;
  case arith::CmpIPredicate::sgt:
    out.push_back({d.ci, d.cj, d.c0 - 1, 0});
    return true;
  case arith::CmpIPredicate::sle:
    out.push_back(neg);
    return true;
  case arith::CmpIPredicate::slt:
    out.push_back({neg.ci, neg.cj, neg.c0 - 1, 0});
    return true;
  case arith::CmpIPredicate::eq:
    out.push_back(d);
    out.push_back(neg);
    return true;
  default:
    return false;
  }
}

MaskAnalysis analyzeMaskRegion(Region &mask) {
  MaskAnalysis result;
  Block &block = mask.front();
  Value kept = block.getTerminator()->getOperand(0);
  result.exact = collect(kept, block, result.constraints);
  return result;
}

MaskAnalysis analyzeMasks(const attn::AttentionConfig &config) {
  MaskAnalysis result;
  if (config.causal) // j <= i + shift
    result.constraints.push_back({1, -1, 0, 1});
  if (config.hasWindow()) {
    // i + shift - left <= j <= i + shift + right
    result.constraints.push_back({-1, 1, *config.windowLeft, -1});
    result.constraints.push_back({1, -1, *config.windowRight, 1});
  }
  if (config.mask) {
    MaskAnalysis custom = analyzeMaskRegion(*config.mask);
    result.constraints.append(custom.constraints);
    result.exact = custom.exact;
  }
  return result;
}

} // namespace flashc

//===----------------------------------------------------------------------===//
// attn-analyze-masks
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "mlir/IR/BuiltinOps.h"

namespace flashc {

#define GEN_PASS_DEF_ATTNANALYZEMASKSPASS
#include "passes/Passes.h.inc"

namespace {
struct AttnAnalyzeMasksPass
    : impl::AttnAnalyzeMasksPassBase<AttnAnalyzeMasksPass> {
  void runOnOperation() override {
    getOperation().walk([](Operation *op) {
      attn::AttentionConfig config;
      if (auto fwd = dyn_cast<attn::AttentionOp>(op))
        config = attn::getAttentionConfig(fwd);
      else if (auto bwd = dyn_cast<attn::AttentionGradOp>(op))
        config = attn::getAttentionConfig(bwd);
      else
        return;
      MaskAnalysis analysis = analyzeMasks(config);
      Builder b(op->getContext());
      SmallVector<Attribute> strs;
      for (const LinearConstraint &c : analysis.constraints)
        strs.push_back(b.getStringAttr(c.str()));
      op->setAttr("attn.mask_constraints", b.getArrayAttr(strs));
      op->setAttr("attn.mask_exact", b.getBoolAttr(analysis.exact));
    });
  }
};
} // namespace

} // namespace flashc
