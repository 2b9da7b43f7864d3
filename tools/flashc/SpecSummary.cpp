//===- SpecSummary.cpp - what `flashc verify` prints ----------------------===//

#include "tools/flashc/SpecSummary.h"

#include "tools/flashc/FlopCount.h"
#include "tools/flashc/SpecFile.h"

#include "dialect/AttnOps.h"
#include "mlir/IR/BuiltinTypes.h"

#include <fmt/format.h>

#include <cmath>

using namespace mlir;

namespace flashc::tool {

std::string sizeString(int64_t value) {
  return ShapedType::isDynamic(value) ? "?" : std::to_string(value);
}

std::string flopString(double flops) {
  // Past 2^53 a double no longer holds every integer: say so by printing
  // only the scientific form.
  if (flops >= 0x1p53)
    return fmt::format("{:.3e} FLOP", flops);
  static const char *const units[] = {"", "K", "M", "G", "T", "P"};
  int unit = 0;
  double scaled = flops;
  while (scaled >= 1000.0 && unit < 5) {
    scaled /= 1000.0;
    ++unit;
  }
  return fmt::format("{:.0f} ({:.3g} {}FLOP)", flops, scaled, units[unit]);
}

static std::string typeString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

/// Number of ops in a custom region, its terminator excluded.
static size_t regionOpCount(Region *region) {
  size_t count = 0;
  region->walk([&](Operation *op) {
    if (!op->hasTrait<OpTrait::IsTerminator>())
      ++count;
  });
  return count;
}

void printSpecSummary(llvm::raw_ostream &os, const SpecFile &spec) {
  attn::AttentionConfig c = spec.config();
  Operation *op = spec.attentionOp();
  auto line = [&](llvm::StringRef key, const std::string &value) {
    os << fmt::format("{:<16}{}\n", (key + ":").str(), value);
  };

  std::string where = spec.functionName().empty()
                          ? std::string()
                          : " in @" + spec.functionName();
  line("op", op->getName().getStringRef().str() + where);
  const attn::AttentionShape &s = c.shape;
  line("shape", fmt::format("B={} Hq={} Hkv={} Nq={} Nk={} D={} Dv={}",
                            sizeString(s.batch), sizeString(s.headsQ),
                            sizeString(s.headsKV), sizeString(s.seqQ),
                            sizeString(s.seqK), sizeString(s.headDim),
                            sizeString(s.headDimV)));
  line("element type", typeString(c.elementType));

  bool defaultScale = !op->hasAttr("scale");
  line("scale", fmt::format("{}{}", c.scale,
                            defaultScale ? " (default 1/sqrt(D))" : ""));

  // Masks and score modifiers, in the order the semantics apply them.
  size_t present = 0;
  auto feature = [&](llvm::StringRef key, const std::string &value) {
    line(key, value);
    ++present;
  };
  if (c.causal)
    feature("causal",
            c.bottomRight ? "bottom_right aligned" : "top_left aligned");
  if (c.hasWindow())
    feature("window",
            fmt::format("left {}, right {}{}", *c.windowLeft, *c.windowRight,
                        c.bottomRight ? " (bottom_right aligned)" : ""));
  if (c.softcap)
    feature("softcap", fmt::format("{}", *c.softcap));
  if (c.alibi)
    feature("alibi", "slope_h = 2^(-8(h+1)/Hq)");
  if (c.hasSeqLensQ || c.hasSeqLensK) {
    std::string which = c.hasSeqLensQ ? "seqlens_q" : "";
    if (c.hasSeqLensK)
      which += which.empty() ? "seqlens_k" : ", seqlens_k";
    feature("padding", which);
  }
  if (c.hasLayout) {
    Value layout = isa<attn::AttentionOp>(op)
                       ? cast<attn::AttentionOp>(op).getLayout()
                       : cast<attn::AttentionGradOp>(op).getLayout();
    feature("layout",
            fmt::format("block [{}, {}], {}", c.layoutBlockQ, c.layoutBlockK,
                        typeString(layout.getType())));
  }
  if (c.mask)
    feature("mask",
            fmt::format("custom region ({} ops)", regionOpCount(c.mask)));
  if (c.score)
    feature("score",
            fmt::format("custom region ({} ops)", regionOpCount(c.score)));
  if (c.hasDropout() || op->hasAttr("dropout_p"))
    feature("dropout",
            fmt::format("p = {}, seed {}", c.dropoutP, c.dropoutSeed));
  if (present == 0)
    line("masks", "none");
  if (auto grad = dyn_cast<attn::AttentionGradOp>(op);
      grad && grad.getDeterministic())
    line("deterministic", "yes");

  std::optional<FlopProblem> flops = flopProblemOf(c);
  if (!flops) {
    line("flops", "n/a (dynamic sizes)");
    return;
  }
  double forward = forwardFlops(*flops);
  if (spec.isGradient())
    line("flops", flopString(kBackwardFlopRatio * forward) +
                      ", backward = 2.5 x forward " + flopString(forward));
  else
    line("flops", flopString(forward) + ", forward");
}

} // namespace flashc::tool
