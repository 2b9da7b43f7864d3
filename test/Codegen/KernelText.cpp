//===- KernelText.cpp - hand-written tiled attention kernels --------------===//

#include "KernelText.h"

#include <cmath>
#include <cstdio>
#include <map>

namespace flashc::test {
namespace {

/// Replaces every ${NAME} in \p text by vars[NAME].
std::string render(std::string text,
                   const std::map<std::string, std::string> &vars) {
  for (const auto &[name, value] : vars) {
    std::string key = "${" + name + "}";
    for (size_t at = text.find(key); at != std::string::npos;
         at = text.find(key, at + value.size()))
      text.replace(at, key.size(), value);
  }
  return text;
}

/// A float literal MLIR parses as a float (always with '.' or 'e').
std::string floatLiteral(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.17e", value);
  return buffer;
}

std::string memref(const std::string &shape, const std::string &element) {
  return "memref<" + shape + "x" + element + ">";
}

/// The variables every kernel uses.
std::map<std::string, std::string> variables(const KernelConfig &c) {
  std::string t = c.elementType;
  std::string br = std::to_string(c.blockQ), bc = std::to_string(c.blockK);
  std::string d = std::to_string(c.headDim), dv = std::to_string(c.headDimV);
  std::map<std::string, std::string> v = {
      {"QT",
       "memref<?x?x?x" + d + "x" + t + ", strided<[?, ?, ?, 1], offset: ?>>"},
      {"VT",
       "memref<?x?x?x" + dv + "x" + t + ", strided<[?, ?, ?, 1], offset: ?>>"},
      {"LT", "memref<?x?x?xf32, strided<[?, ?, 1], offset: ?>>"},
      {"BR", br},
      {"BC", bc},
      {"QTILE", memref(br + "x" + d, t)},
      {"KTILE", memref(bc + "x" + d, t)},
      {"VTILE", memref(bc + "x" + dv, t)},
      {"OTILE", memref(br + "x" + dv, t)},
      {"STILE", memref(br + "x" + bc, "f32")},
      {"ROWS", memref(br, "f32")},
      {"ACC", memref(br + "x" + dv, "f32")},
      {"DQACC", memref(br + "x" + d, "f32")},
      {"DKACC", memref(bc + "x" + d, "f32")},
      {"DVACC", memref(bc + "x" + dv, "f32")},
      {"SCALE", floatLiteral(c.scale)},
  };

  bool dropout = c.dropoutP > 0.0;
  v["DROPOUT_ARGS"] = dropout ? ", %seed: i64, %offset: i64" : "";
  v["INFO"] = "attn.kernel_info = {block_q = " + br +
              " : i64, block_k = " + bc + " : i64" +
              (dropout ? ", dropout" : "") + "}";
  v["SHIFT"] = c.bottomRight ? "%shift = arith.subi %nk, %nq : index"
                             : "%shift = arith.constant 0 : index";

  // score_mod / score_grad clauses: softcap, alibi, the custom region.
  std::string modifiers;
  if (c.softcap)
    modifiers += " softcap(" + floatLiteral(*c.softcap) + ")";
  if (c.alibi)
    modifiers += " alibi";
  if (!c.customScore.empty())
    modifiers += " score {\n^bb0(%rs: f32, %rb: index, %rh: index, %ri: "
                 "index, %rj: index):\n" +
                 c.customScore + "\n  attn.yield %score : f32\n}";
  v["MODIFIERS"] = modifiers;

  std::string mask;
  if (c.causal)
    mask += " causal";
  if (c.window)
    mask += " window(" + std::to_string(c.window->first) + ", " +
            std::to_string(c.window->second) + ")";
  if (!c.customMask.empty())
    mask += " mask {\n^bb0(%rb: index, %rh: index, %ri: index, %rj: index):\n" +
            c.customMask + "\n  attn.yield %keep : i1\n}";
  v["MASK"] = mask;
  v["PROB"] = floatLiteral(c.dropoutP);
  return v;
}

/// Text present only with dropout: ${DROPOUT(...)} is not a thing, so the
/// callers splice it in with this.
std::string ifDropout(const KernelConfig &c, const std::string &text) {
  return c.dropoutP > 0.0 ? text : "";
}

const char *kPrologue = R"(
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %cbq = arith.constant ${BR} : index
  %cbk = arith.constant ${BC} : index
  %nb = memref.dim %q, %c0 : ${QT}
  %nh = memref.dim %q, %c1 : ${QT}
  %nq = memref.dim %q, %c2 : ${QT}
  %nhk = memref.dim %k, %c1 : ${QT}
  %nk = memref.dim %k, %c2 : ${QT}
  %mq = arith.ceildivui %nq, %cbq : index
  %mk = arith.ceildivui %nk, %cbk : index
  %group = arith.divui %nh, %nhk : index
  ${SHIFT}
)";

/// S = scale Q K^T with its modifiers and mask, for the tiles in scope
/// (%qt, %kt, %st) at (%b, %h, %q0, %k0).
const char *kScores = R"(
      attn.tile.matmul %qt, %kt, %st transpose_b alpha(${SCALE}) : ${QTILE}, ${KTILE}, ${STILE}
      attn.tile.score_mod %st at [%b, %h, %q0, %k0] shift %shift heads %nh${MODIFIERS} : ${STILE}
      attn.tile.mask %st at [%b, %h, %q0, %k0] shift %shift bounds [%nq, %nk]${MASK} : ${STILE}
)";

} // namespace

std::string forwardKernel(const KernelConfig &c) {
  std::string text = std::string(R"(
func.func @attn_fwd(%q: ${QT}, %k: ${QT}, %v: ${VT}, %o: ${VT}, %lse: ${LT}${DROPOUT_ARGS})
    attributes {attn.kernel_kind = "fwd", ${INFO}} {)") +
                     kPrologue + R"(
  scf.forall (%b, %h, %qb) in (%nb, %nh, %mq) {
   // The CTA body in its own allocation scope, as the tiling passes emit it.
   memref.alloca_scope {
    %hk = arith.divui %h, %group : index
    %q0 = arith.muli %qb, %cbq : index
    %qrows = arith.subi %nq, %q0 : index
    %qt = memref.alloca() : ${QTILE}
    %kt = memref.alloca() : ${KTILE}
    %vt = memref.alloca() : ${VTILE}
    %st = memref.alloca() : ${STILE}
    %mt = memref.alloca() : ${ROWS}
    %lt = memref.alloca() : ${ROWS}
    %acc = memref.alloca() : ${ACC}
    %lset = memref.alloca() : ${ROWS}
    attn.tile.load %q[%b, %h, %q0] rows %qrows into %qt : ${QT} -> ${QTILE}
    attn.tile.fill %mt, 0xFF800000 : ${ROWS}
    attn.tile.fill %lt, 0.0 : ${ROWS}
    attn.tile.fill %acc, 0.0 : ${ACC}
    scf.for %kb = %c0 to %mk step %c1 {
      %k0 = arith.muli %kb, %cbk : index
      %krows = arith.subi %nk, %k0 : index
      attn.tile.load %k[%b, %hk, %k0] rows %krows into %kt : ${QT} -> ${KTILE}
      attn.tile.load %v[%b, %hk, %k0] rows %krows into %vt : ${VT} -> ${VTILE}
)" + kScores + R"(
      attn.tile.softmax_update %st, %mt, %lt, %acc : ${STILE}, ${ROWS}, ${ROWS}, ${ACC}
)" + ifDropout(c, R"(
      attn.tile.dropout %st at [%b, %h, %q0, %k0] heads %nh seed %seed offset %offset prob(${PROB}) : ${STILE}
)") + R"(
      attn.tile.matmul %st, %vt, %acc accumulate : ${STILE}, ${VTILE}, ${ACC}
    }
    attn.tile.finalize %acc, %mt, %lt, %lset : ${ACC}, ${ROWS}, ${ROWS}, ${ROWS}
    attn.tile.store %acc into %o[%b, %h, %q0] rows %qrows : ${ACC} -> ${VT}
    attn.tile.store %lset into %lse[%b, %h, %q0] rows %qrows : ${ROWS} -> ${LT}
   }
  }
  return
}
)";
  return render(text, variables(c));
}

std::string backwardKernels(const KernelConfig &c) {
  // delta = rowsum(dO * O)
  std::string prep = R"(
func.func @attn_bwd_prep(%o: ${VT}, %dout: ${VT}, %delta: ${LT})
    attributes {attn.kernel_kind = "bwd_prep", ${INFO}} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %cbq = arith.constant ${BR} : index
  %nb = memref.dim %o, %c0 : ${VT}
  %nh = memref.dim %o, %c1 : ${VT}
  %nq = memref.dim %o, %c2 : ${VT}
  %mq = arith.ceildivui %nq, %cbq : index
  scf.forall (%b, %h, %qb) in (%nb, %nh, %mq) {
    %q0 = arith.muli %qb, %cbq : index
    %qrows = arith.subi %nq, %q0 : index
    %ot = memref.alloca() : ${OTILE}
    %dot = memref.alloca() : ${OTILE}
    %dt = memref.alloca() : ${ROWS}
    attn.tile.load %o[%b, %h, %q0] rows %qrows into %ot : ${VT} -> ${OTILE}
    attn.tile.load %dout[%b, %h, %q0] rows %qrows into %dot : ${VT} -> ${OTILE}
    attn.tile.row_dot %dot, %ot, %dt : ${OTILE}, ${OTILE}, ${ROWS}
    attn.tile.store %dt into %delta[%b, %h, %q0] rows %qrows : ${ROWS} -> ${LT}
  }
  return
}
)";

  // P = exp(S - LSE) recomputed; dP = dO V^T (dropped like P); dS =
  // P (dP - D) times the modifiers' derivative. Leaves dS in %dpt.
  std::string gradient = std::string(kScores) + R"(
      attn.tile.exp_lse %st, %lset : ${STILE}, ${ROWS}
      attn.tile.matmul %dot, %vt, %dpt transpose_b : ${OTILE}, ${VTILE}, ${STILE}
)" + ifDropout(c, R"(
      attn.tile.dropout %dpt at [%b, %h, %q0, %k0] heads %nh seed %seed offset %offset prob(${PROB}) : ${STILE}
)") + R"(
      attn.tile.softmax_grad %st, %dpt, %dt : ${STILE}, ${STILE}, ${ROWS}
      attn.tile.score_grad %dpt, %rawt at [%b, %h, %q0, %k0] shift %shift heads %nh${MODIFIERS} : ${STILE}, ${STILE}
)";
  // The raw scores are copied out between the product and the modifiers.
  gradient.replace(gradient.find("      attn.tile.score_mod"), 0,
                   "      attn.tile.copy %st, %rawt : ${STILE}, ${STILE}\n");

  std::string dkdv = std::string(R"(
func.func @attn_bwd_dkdv(%q: ${QT}, %k: ${QT}, %v: ${VT}, %dout: ${VT}, %lse: ${LT}, %delta: ${LT}, %dk: ${QT}, %dv: ${VT}${DROPOUT_ARGS})
    attributes {attn.kernel_kind = "bwd_dkdv", ${INFO}} {)") +
                     kPrologue + R"(
  scf.forall (%b, %hk, %kb) in (%nb, %nhk, %mk) {
    %k0 = arith.muli %kb, %cbk : index
    %krows = arith.subi %nk, %k0 : index
    %kt = memref.alloca() : ${KTILE}
    %vt = memref.alloca() : ${VTILE}
    %qt = memref.alloca() : ${QTILE}
    %dot = memref.alloca() : ${OTILE}
    %lset = memref.alloca() : ${ROWS}
    %dt = memref.alloca() : ${ROWS}
    %st = memref.alloca() : ${STILE}
    %rawt = memref.alloca() : ${STILE}
    %pdt = memref.alloca() : ${STILE}
    %dpt = memref.alloca() : ${STILE}
    %dkacc = memref.alloca() : ${DKACC}
    %dvacc = memref.alloca() : ${DVACC}
    attn.tile.load %k[%b, %hk, %k0] rows %krows into %kt : ${QT} -> ${KTILE}
    attn.tile.load %v[%b, %hk, %k0] rows %krows into %vt : ${VT} -> ${VTILE}
    attn.tile.fill %dkacc, 0.0 : ${DKACC}
    attn.tile.fill %dvacc, 0.0 : ${DVACC}
    %h0 = arith.muli %hk, %group : index
    scf.for %g = %c0 to %group step %c1 {
     %h = arith.addi %h0, %g : index
     scf.for %qb = %c0 to %mq step %c1 {
      %q0 = arith.muli %qb, %cbq : index
      %qrows = arith.subi %nq, %q0 : index
      attn.tile.load %q[%b, %h, %q0] rows %qrows into %qt : ${QT} -> ${QTILE}
      attn.tile.load %dout[%b, %h, %q0] rows %qrows into %dot : ${VT} -> ${OTILE}
      attn.tile.load %lse[%b, %h, %q0] rows %qrows into %lset : ${LT} -> ${ROWS}
      attn.tile.load %delta[%b, %h, %q0] rows %qrows into %dt : ${LT} -> ${ROWS}
)" + gradient.substr(0, gradient.find("      attn.tile.matmul %dot")) +
                     R"(
      attn.tile.copy %st, %pdt : ${STILE}, ${STILE}
)" + ifDropout(c, R"(
      attn.tile.dropout %pdt at [%b, %h, %q0, %k0] heads %nh seed %seed offset %offset prob(${PROB}) : ${STILE}
)") + R"(
      attn.tile.matmul %pdt, %dot, %dvacc transpose_a accumulate : ${STILE}, ${OTILE}, ${DVACC}
)" + gradient.substr(gradient.find("      attn.tile.matmul %dot")) +
                     R"(
      attn.tile.matmul %dpt, %qt, %dkacc transpose_a accumulate alpha(${SCALE}) : ${STILE}, ${QTILE}, ${DKACC}
     }
    }
    attn.tile.store %dkacc into %dk[%b, %hk, %k0] rows %krows : ${DKACC} -> ${QT}
    attn.tile.store %dvacc into %dv[%b, %hk, %k0] rows %krows : ${DVACC} -> ${VT}
  }
  return
}
)";

  std::string dq = std::string(R"(
func.func @attn_bwd_dq(%q: ${QT}, %k: ${QT}, %v: ${VT}, %dout: ${VT}, %lse: ${LT}, %delta: ${LT}, %dq: ${QT}${DROPOUT_ARGS})
    attributes {attn.kernel_kind = "bwd_dq", ${INFO}} {)") +
                   kPrologue + R"(
  scf.forall (%b, %h, %qb) in (%nb, %nh, %mq) {
    %hk = arith.divui %h, %group : index
    %q0 = arith.muli %qb, %cbq : index
    %qrows = arith.subi %nq, %q0 : index
    %qt = memref.alloca() : ${QTILE}
    %dot = memref.alloca() : ${OTILE}
    %lset = memref.alloca() : ${ROWS}
    %dt = memref.alloca() : ${ROWS}
    %kt = memref.alloca() : ${KTILE}
    %vt = memref.alloca() : ${VTILE}
    %st = memref.alloca() : ${STILE}
    %rawt = memref.alloca() : ${STILE}
    %dpt = memref.alloca() : ${STILE}
    %dqacc = memref.alloca() : ${DQACC}
    attn.tile.load %q[%b, %h, %q0] rows %qrows into %qt : ${QT} -> ${QTILE}
    attn.tile.load %dout[%b, %h, %q0] rows %qrows into %dot : ${VT} -> ${OTILE}
    attn.tile.load %lse[%b, %h, %q0] rows %qrows into %lset : ${LT} -> ${ROWS}
    attn.tile.load %delta[%b, %h, %q0] rows %qrows into %dt : ${LT} -> ${ROWS}
    attn.tile.fill %dqacc, 0.0 : ${DQACC}
    scf.for %kb = %c0 to %mk step %c1 {
      %k0 = arith.muli %kb, %cbk : index
      %krows = arith.subi %nk, %k0 : index
      attn.tile.load %k[%b, %hk, %k0] rows %krows into %kt : ${QT} -> ${KTILE}
      attn.tile.load %v[%b, %hk, %k0] rows %krows into %vt : ${VT} -> ${VTILE}
)" + gradient + R"(
      attn.tile.matmul %dpt, %kt, %dqacc accumulate alpha(${SCALE}) : ${STILE}, ${KTILE}, ${DQACC}
    }
    attn.tile.store %dqacc into %dq[%b, %h, %q0] rows %qrows : ${DQACC} -> ${QT}
  }
  return
}
)";
  return render(prep + dkdv + dq, variables(c));
}

std::string dropoutMaskKernel(const KernelConfig &c) {
  std::string text = R"(
func.func @attn_dropout_mask(%k: memref<?x?x?x1xf32, strided<[?, ?, ?, 1], offset: ?>>,
    %out: memref<?x?x?x${BC}xf32, strided<[?, ?, ?, 1], offset: ?>>${DROPOUT_ARGS})
    attributes {attn.kernel_kind = "test", ${INFO}} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %cbq = arith.constant ${BR} : index
  %cbk = arith.constant ${BC} : index
  %nb = memref.dim %k, %c0 : memref<?x?x?x1xf32, strided<[?, ?, ?, 1], offset: ?>>
  %nh = memref.dim %k, %c1 : memref<?x?x?x1xf32, strided<[?, ?, ?, 1], offset: ?>>
  %nk = memref.dim %k, %c2 : memref<?x?x?x1xf32, strided<[?, ?, ?, 1], offset: ?>>
  %nq = memref.dim %out, %c2 : memref<?x?x?x${BC}xf32, strided<[?, ?, ?, 1], offset: ?>>
  %mq = arith.ceildivui %nq, %cbq : index
  %mk = arith.ceildivui %nk, %cbk : index
  scf.forall (%b, %h, %qb, %kb) in (%nb, %nh, %mq, %mk) {
    %q0 = arith.muli %qb, %cbq : index
    %k0 = arith.muli %kb, %cbk : index
    %qrows = arith.subi %nq, %q0 : index
    %slab0 = arith.muli %h, %mk : index
    %slab = arith.addi %slab0, %kb : index
    %pt = memref.alloca() : ${STILE}
    attn.tile.fill %pt, 1.0 : ${STILE}
    attn.tile.dropout %pt at [%b, %h, %q0, %k0] heads %nh seed %seed offset %offset prob(${PROB}) : ${STILE}
    attn.tile.store %pt into %out[%b, %slab, %q0] rows %qrows : ${STILE} -> memref<?x?x?x${BC}xf32, strided<[?, ?, ?, 1], offset: ?>>
  }
  return
}
)";
  return render(text, variables(c));
}

} // namespace flashc::test
