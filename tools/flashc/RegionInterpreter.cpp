//===- RegionInterpreter.cpp - evaluate custom mask/score regions ---------===//
//
// Integer values are kept as int64 sign-extended from their width (index is
// 64 bits, i1 true is -1), so that every op reads one canonical form; ops
// that care about unsignedness zero-extend on the spot. Floats are doubles
// with a dual part (the derivative with respect to the score argument).
//
//===----------------------------------------------------------------------===//

#include "tools/flashc/RegionInterpreter.h"

#include "dialect/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/Region.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <limits>
#include <mutex>
#include <vector>

using namespace mlir;

namespace flashc::tool {
namespace detail {

/// One value slot during evaluation.
struct Cell {
  int64_t i = 0;  ///< Integers and index, sign-extended from their width.
  double v = 0.0; ///< Floats.
  double d = 0.0; ///< d(value)/d(score argument).
};

/// Why an evaluation went wrong; the first message wins.
struct EvalState {
  const char *error = nullptr;
};

using Step = std::function<void(Cell *cells, EvalState &state)>;

/// The first evaluation error, shared by every copy of an interpreter.
struct ErrorRecord {
  std::mutex mutex;
  std::string message;
};

struct RegionProgram {
  std::string name; ///< "mask" or "score", for messages.
  unsigned numSlots = 0;
  unsigned numArgs = 0;
  unsigned result = 0;
  std::vector<Step> steps;
  std::shared_ptr<ErrorRecord> errors = std::make_shared<ErrorRecord>();

  /// Runs the steps on \p args; returns the yielded cell, or a zero cell
  /// after recording an error.
  Cell run(llvm::ArrayRef<Cell> args) const {
    llvm::SmallVector<Cell, 32> cells(numSlots);
    for (unsigned a = 0; a < numArgs; ++a)
      cells[a] = args[a];
    EvalState state;
    for (const Step &step : steps) {
      step(cells.data(), state);
      if (state.error) {
        record(state.error, args);
        return Cell();
      }
    }
    return cells[result];
  }

  void record(const char *error, llvm::ArrayRef<Cell> args) const {
    std::lock_guard<std::mutex> lock(errors->mutex);
    if (!errors->message.empty())
      return;
    std::string message;
    llvm::raw_string_ostream os(message);
    os << "custom " << name << " region: " << error << " at ";
    if (name == "score")
      os << "(s = " << args[0].v << ", b = " << args[1].i
         << ", h = " << args[2].i << ", i = " << args[3].i
         << ", j = " << args[4].i << ")";
    else
      os << "(b = " << args[0].i << ", h = " << args[1].i
         << ", i = " << args[2].i << ", j = " << args[3].i << ")";
    errors->message = std::move(message);
  }
};

} // namespace detail

using detail::Cell;
using detail::EvalState;
using detail::RegionProgram;
using detail::Step;

namespace {

constexpr double kLn2 = 0.69314718055994530942;
constexpr double kLn10 = 2.30258509299404568402;
constexpr double kTwoOverSqrtPi = 1.12837916709551257390;

/// Sign-extends the low \p width bits of \p x.
int64_t sext(uint64_t x, unsigned width) {
  if (width >= 64)
    return static_cast<int64_t>(x);
  unsigned shift = 64 - width;
  return static_cast<int64_t>(x << shift) >> shift;
}

/// Zero-extends the low \p width bits of \p x.
uint64_t zext(int64_t x, unsigned width) {
  if (width >= 64)
    return static_cast<uint64_t>(x);
  return static_cast<uint64_t>(x) & ((uint64_t(1) << width) - 1);
}

int64_t minSigned(unsigned width) {
  return sext(uint64_t(1) << (width - 1), width);
}

/// "file:line:col: " of \p loc, or "" when it has none.
std::string locationPrefix(Location loc) {
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return (file.getFilename().getValue() + ":" + llvm::Twine(file.getLine()) +
            ":" + llvm::Twine(file.getColumn()) + ": ")
        .str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (std::string s = locationPrefix(inner); !s.empty())
        return s;
  if (auto name = dyn_cast<NameLoc>(loc))
    return locationPrefix(name.getChildLoc());
  return "";
}

/// Translates one region into a RegionProgram.
class Translator {
public:
  explicit Translator(RegionProgram &program) : program(program) {}

  llvm::Error addArgument(Value arg) {
    if (llvm::Error e = define(arg, nullptr))
      return e;
    ++program.numArgs;
    return llvm::Error::success();
  }

  llvm::Error translate(Operation &op);

private:
  /// Width of an integer or index slot, 0 for a float slot.
  struct Kind {
    unsigned width = 0;
    bool isFloat() const { return width == 0; }
  };

  llvm::Error unsupported(Operation &op, const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   llvm::Twine(locationPrefix(op.getLoc())) +
                                       "custom " + program.name +
                                       " region: unsupported op '" +
                                       op.getName().getStringRef() + "'" + why);
  }

  llvm::Error define(Value v, Operation *op) {
    Type t = v.getType();
    Kind kind;
    if (isa<IndexType>(t)) {
      kind.width = 64;
    } else if (auto i = dyn_cast<IntegerType>(t)) {
      if (i.getWidth() > 64 || i.getWidth() == 0)
        return typeError(t, op);
      kind.width = i.getWidth();
    } else if (!isa<FloatType>(t)) {
      return typeError(t, op);
    }
    slots[v] = program.numSlots++;
    kinds.push_back(kind);
    return llvm::Error::success();
  }

  llvm::Error typeError(Type t, Operation *op) {
    std::string s;
    llvm::raw_string_ostream os(s);
    if (op)
      os << locationPrefix(op->getLoc());
    os << "custom " << program.name << " region: unsupported type " << t;
    if (op)
      os << " of '" << op->getName() << "'";
    os << " (flashc run interprets index, integer and float scalars)";
    return llvm::createStringError(llvm::inconvertibleErrorCode(), s);
  }

  unsigned slot(Value v) const { return slots.lookup(v); }
  Kind kindOf(Value v) const { return kinds[slot(v)]; }

  /// One-result op with integer operands: f(a, b, width) -> int64.
  template <typename F> void intBinary(Operation &op, F f) {
    unsigned a = slot(op.getOperand(0)), b = slot(op.getOperand(1));
    unsigned r = slot(op.getResult(0));
    unsigned w = kindOf(op.getResult(0)).width;
    program.steps.push_back([=](Cell *c, EvalState &s) {
      c[r].i = sext(static_cast<uint64_t>(f(c[a].i, c[b].i, w, s)), w);
    });
  }

  /// One-result float op of one operand: f(x) -> value, f'(x).
  template <typename F> void floatUnary(Operation &op, F f) {
    unsigned a = slot(op.getOperand(0)), r = slot(op.getResult(0));
    program.steps.push_back([=](Cell *c, EvalState &) {
      auto [value, slope] = f(c[a].v);
      c[r].v = value;
      c[r].d = slope * c[a].d;
    });
  }

  /// One-result float op of two operands computing the whole dual result.
  template <typename F> void floatBinary(Operation &op, F f) {
    unsigned a = slot(op.getOperand(0)), b = slot(op.getOperand(1));
    unsigned r = slot(op.getResult(0));
    program.steps.push_back(
        [=](Cell *c, EvalState &) { c[r] = f(c[a], c[b]); });
  }

  /// A cell copied from one of two operands by a predicate on them.
  template <typename F> void pick(Operation &op, F takeFirst) {
    floatBinary(op, [=](const Cell &x, const Cell &y) {
      return takeFirst(x.v, y.v) ? x : y;
    });
  }

  bool translateConstant(arith::ConstantOp op);
  void translateCmpI(arith::CmpIOp op);
  void translateCmpF(arith::CmpFOp op);
  void translateCast(Operation &op, bool zeroExtend);

  RegionProgram &program;
  llvm::DenseMap<Value, unsigned> slots;
  std::vector<Kind> kinds;
};

/// Returns false for constants that are not scalar integers or floats.
bool Translator::translateConstant(arith::ConstantOp op) {
  unsigned r = slot(op.getResult());
  Attribute value = op.getValue();
  if (auto i = dyn_cast<IntegerAttr>(value)) {
    int64_t x = sext(i.getValue().getZExtValue(), kindOf(op.getResult()).width);
    program.steps.push_back([=](Cell *c, EvalState &) { c[r].i = x; });
    return true;
  }
  if (auto f = dyn_cast<FloatAttr>(value)) {
    double x = f.getValueAsDouble();
    program.steps.push_back([=](Cell *c, EvalState &) {
      c[r].v = x;
      c[r].d = 0.0;
    });
    return true;
  }
  return false;
}

void Translator::translateCmpI(arith::CmpIOp op) {
  unsigned a = slot(op.getLhs()), b = slot(op.getRhs());
  unsigned r = slot(op.getResult());
  unsigned w = kindOf(op.getLhs()).width;
  arith::CmpIPredicate pred = op.getPredicate();
  program.steps.push_back([=](Cell *c, EvalState &) {
    int64_t x = c[a].i, y = c[b].i;
    uint64_t ux = zext(x, w), uy = zext(y, w);
    bool t = false;
    switch (pred) {
    case arith::CmpIPredicate::eq:
      t = x == y;
      break;
    case arith::CmpIPredicate::ne:
      t = x != y;
      break;
    case arith::CmpIPredicate::slt:
      t = x < y;
      break;
    case arith::CmpIPredicate::sle:
      t = x <= y;
      break;
    case arith::CmpIPredicate::sgt:
      t = x > y;
      break;
    case arith::CmpIPredicate::sge:
      t = x >= y;
      break;
    case arith::CmpIPredicate::ult:
      t = ux < uy;
      break;
    case arith::CmpIPredicate::ule:
      t = ux <= uy;
      break;
    case arith::CmpIPredicate::ugt:
      t = ux > uy;
      break;
    case arith::CmpIPredicate::uge:
      t = ux >= uy;
      break;
    }
    c[r].i = t ? -1 : 0;
  });
}

void Translator::translateCmpF(arith::CmpFOp op) {
  unsigned a = slot(op.getLhs()), b = slot(op.getRhs());
  unsigned r = slot(op.getResult());
  arith::CmpFPredicate pred = op.getPredicate();
  program.steps.push_back([=](Cell *c, EvalState &) {
    double x = c[a].v, y = c[b].v;
    bool unordered = std::isnan(x) || std::isnan(y);
    bool t = false;
    using P = arith::CmpFPredicate;
    switch (pred) {
    case P::AlwaysFalse:
      t = false;
      break;
    case P::OEQ:
      t = !unordered && x == y;
      break;
    case P::OGT:
      t = !unordered && x > y;
      break;
    case P::OGE:
      t = !unordered && x >= y;
      break;
    case P::OLT:
      t = !unordered && x < y;
      break;
    case P::OLE:
      t = !unordered && x <= y;
      break;
    case P::ONE:
      t = !unordered && x != y;
      break;
    case P::ORD:
      t = !unordered;
      break;
    case P::UEQ:
      t = unordered || x == y;
      break;
    case P::UGT:
      t = unordered || x > y;
      break;
    case P::UGE:
      t = unordered || x >= y;
      break;
    case P::ULT:
      t = unordered || x < y;
      break;
    case P::ULE:
      t = unordered || x <= y;
      break;
    case P::UNE:
      t = unordered || x != y;
      break;
    case P::UNO:
      t = unordered;
      break;
    case P::AlwaysTrue:
      t = true;
      break;
    }
    c[r].i = t ? -1 : 0;
  });
}

/// index_cast, index_castui, extsi, extui, trunci: re-read the source bits
/// at the result's width, zero- or sign-extending the source first.
void Translator::translateCast(Operation &op, bool zeroExtend) {
  unsigned a = slot(op.getOperand(0)), r = slot(op.getResult(0));
  unsigned from = kindOf(op.getOperand(0)).width;
  unsigned to = kindOf(op.getResult(0)).width;
  program.steps.push_back([=](Cell *c, EvalState &) {
    uint64_t bits =
        zeroExtend ? zext(c[a].i, from) : static_cast<uint64_t>(c[a].i);
    c[r].i = sext(bits, to);
  });
}

llvm::Error Translator::translate(Operation &op) {
  if (auto yield = dyn_cast<flashc::attn::YieldOp>(op)) {
    if (yield.getValues().size() != 1)
      return unsupported(op, " with other than one value");
    program.result = slot(yield.getValues()[0]);
    return llvm::Error::success();
  }
  if (op.getNumRegions() != 0)
    return unsupported(op, " (ops with regions are not interpreted)");
  if (op.getNumResults() != 1)
    return unsupported(op, " (only ops with one result are interpreted)");
  for (Value operand : op.getOperands())
    if (!slots.count(operand))
      return unsupported(op, " (operand defined outside the region)");
  if (llvm::Error e = define(op.getResult(0), &op))
    return e;

  using D = std::pair<double, double>; // value, derivative of the op
  bool handled = true;
  llvm::TypeSwitch<Operation *>(&op)
      .Case([&](arith::ConstantOp c) { handled = translateConstant(c); })
      // Integer and index arithmetic.
      .Case([&](arith::AddIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned, EvalState &) {
          return static_cast<uint64_t>(x) + static_cast<uint64_t>(y);
        });
      })
      .Case([&](arith::SubIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned, EvalState &) {
          return static_cast<uint64_t>(x) - static_cast<uint64_t>(y);
        });
      })
      .Case([&](arith::MulIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned, EvalState &) {
          return static_cast<uint64_t>(x) * static_cast<uint64_t>(y);
        });
      })
      .Case([&](arith::DivSIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned w, EvalState &s) {
          if (y == 0)
            return (s.error = "arith.divsi by zero", int64_t(0));
          if (x == minSigned(w) && y == -1)
            return (s.error = "arith.divsi overflows", int64_t(0));
          return x / y;
        });
      })
      .Case([&](arith::DivUIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned w, EvalState &s) {
          if (y == 0)
            return (s.error = "arith.divui by zero", uint64_t(0));
          return zext(x, w) / zext(y, w);
        });
      })
      .Case([&](arith::RemSIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned w, EvalState &s) {
          if (y == 0)
            return (s.error = "arith.remsi by zero", int64_t(0));
          if (x == minSigned(w) && y == -1)
            return int64_t(0);
          return x % y;
        });
      })
      .Case([&](arith::RemUIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned w, EvalState &s) {
          if (y == 0)
            return (s.error = "arith.remui by zero", uint64_t(0));
          return zext(x, w) % zext(y, w);
        });
      })
      .Case([&](arith::FloorDivSIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned w, EvalState &s) {
          if (y == 0)
            return (s.error = "arith.floordivsi by zero", int64_t(0));
          if (x == minSigned(w) && y == -1)
            return (s.error = "arith.floordivsi overflows", int64_t(0));
          int64_t q = x / y;
          if (x % y != 0 && ((x < 0) != (y < 0)))
            --q;
          return q;
        });
      })
      .Case([&](arith::CeilDivSIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned w, EvalState &s) {
          if (y == 0)
            return (s.error = "arith.ceildivsi by zero", int64_t(0));
          if (x == minSigned(w) && y == -1)
            return (s.error = "arith.ceildivsi overflows", int64_t(0));
          int64_t q = x / y;
          if (x % y != 0 && ((x < 0) == (y < 0)))
            ++q;
          return q;
        });
      })
      .Case([&](arith::CeilDivUIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned w, EvalState &s) {
          if (y == 0)
            return (s.error = "arith.ceildivui by zero", uint64_t(0));
          uint64_t ux = zext(x, w), uy = zext(y, w);
          return ux / uy + (ux % uy != 0);
        });
      })
      .Case([&](arith::MaxSIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned, EvalState &) {
          return std::max(x, y);
        });
      })
      .Case([&](arith::MinSIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned, EvalState &) {
          return std::min(x, y);
        });
      })
      .Case([&](arith::MaxUIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned w, EvalState &) {
          return std::max(zext(x, w), zext(y, w));
        });
      })
      .Case([&](arith::MinUIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned w, EvalState &) {
          return std::min(zext(x, w), zext(y, w));
        });
      })
      .Case([&](arith::AndIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned, EvalState &) {
          return x & y;
        });
      })
      .Case([&](arith::OrIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned, EvalState &) {
          return x | y;
        });
      })
      .Case([&](arith::XOrIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned, EvalState &) {
          return x ^ y;
        });
      })
      .Case([&](arith::ShLIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned w, EvalState &s) {
          uint64_t amount = zext(y, w);
          if (amount >= w)
            return (s.error = "arith.shli by the bit width or more",
                    uint64_t(0));
          return static_cast<uint64_t>(x) << amount;
        });
      })
      .Case([&](arith::ShRSIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned w, EvalState &s) {
          uint64_t amount = zext(y, w);
          if (amount >= w)
            return (s.error = "arith.shrsi by the bit width or more",
                    int64_t(0));
          return x >> amount;
        });
      })
      .Case([&](arith::ShRUIOp) {
        intBinary(op, [](int64_t x, int64_t y, unsigned w, EvalState &s) {
          uint64_t amount = zext(y, w);
          if (amount >= w)
            return (s.error = "arith.shrui by the bit width or more",
                    uint64_t(0));
          return zext(x, w) >> amount;
        });
      })
      .Case([&](arith::CmpIOp c) { translateCmpI(c); })
      .Case([&](arith::CmpFOp c) { translateCmpF(c); })
      .Case([&](arith::SelectOp sel) {
        unsigned cond = slot(sel.getCondition());
        unsigned t = slot(sel.getTrueValue()), f = slot(sel.getFalseValue());
        unsigned r = slot(sel.getResult());
        program.steps.push_back(
            [=](Cell *c, EvalState &) { c[r] = c[cond].i ? c[t] : c[f]; });
      })
      // Casts between integer widths and index.
      .Case([&](arith::IndexCastOp) { translateCast(op, false); })
      .Case([&](arith::IndexCastUIOp) { translateCast(op, true); })
      .Case([&](arith::ExtSIOp) { translateCast(op, false); })
      .Case([&](arith::ExtUIOp) { translateCast(op, true); })
      .Case([&](arith::TruncIOp) { translateCast(op, false); })
      // Integer <-> float.
      .Case([&](arith::SIToFPOp) {
        unsigned a = slot(op.getOperand(0)), r = slot(op.getResult(0));
        program.steps.push_back([=](Cell *c, EvalState &) {
          c[r].v = static_cast<double>(c[a].i);
          c[r].d = 0.0;
        });
      })
      .Case([&](arith::UIToFPOp) {
        unsigned a = slot(op.getOperand(0)), r = slot(op.getResult(0));
        unsigned w = kindOf(op.getOperand(0)).width;
        program.steps.push_back([=](Cell *c, EvalState &) {
          c[r].v = static_cast<double>(zext(c[a].i, w));
          c[r].d = 0.0;
        });
      })
      .Case([&](arith::FPToSIOp) {
        unsigned a = slot(op.getOperand(0)), r = slot(op.getResult(0));
        unsigned w = kindOf(op.getResult(0)).width;
        program.steps.push_back([=](Cell *c, EvalState &s) {
          double x = std::trunc(c[a].v);
          double lo = -std::ldexp(1.0, static_cast<int>(w) - 1);
          if (!(x >= lo && x < -lo)) {
            s.error = "arith.fptosi of a value out of range";
            return;
          }
          c[r].i = static_cast<int64_t>(x);
        });
      })
      // Floats: value and derivative.
      .Case([&](arith::AddFOp) {
        floatBinary(op, [](const Cell &x, const Cell &y) {
          return Cell{0, x.v + y.v, x.d + y.d};
        });
      })
      .Case([&](arith::SubFOp) {
        floatBinary(op, [](const Cell &x, const Cell &y) {
          return Cell{0, x.v - y.v, x.d - y.d};
        });
      })
      .Case([&](arith::MulFOp) {
        floatBinary(op, [](const Cell &x, const Cell &y) {
          return Cell{0, x.v * y.v, x.d * y.v + x.v * y.d};
        });
      })
      .Case([&](arith::DivFOp) {
        floatBinary(op, [](const Cell &x, const Cell &y) {
          double q = x.v / y.v;
          return Cell{0, q, (x.d - q * y.d) / y.v};
        });
      })
      .Case([&](arith::RemFOp) {
        floatBinary(op, [](const Cell &x, const Cell &y) {
          double r = std::fmod(x.v, y.v);
          return Cell{0, r, x.d - std::trunc(x.v / y.v) * y.d};
        });
      })
      .Case([&](arith::NegFOp) {
        floatUnary(op, [](double x) { return D{-x, -1.0}; });
      })
      .Case([&](arith::MaximumFOp) {
        floatBinary(op, [](const Cell &x, const Cell &y) {
          if (std::isnan(x.v) || std::isnan(y.v))
            return Cell{0, std::numeric_limits<double>::quiet_NaN(), 0.0};
          if (x.v == y.v) // +0 beats -0.
            return std::signbit(x.v) ? y : x;
          return x.v > y.v ? x : y;
        });
      })
      .Case([&](arith::MinimumFOp) {
        floatBinary(op, [](const Cell &x, const Cell &y) {
          if (std::isnan(x.v) || std::isnan(y.v))
            return Cell{0, std::numeric_limits<double>::quiet_NaN(), 0.0};
          if (x.v == y.v) // -0 beats +0.
            return std::signbit(x.v) ? x : y;
          return x.v < y.v ? x : y;
        });
      })
      .Case([&](arith::MaxNumFOp) {
        pick(op, [](double x, double y) { return std::isnan(y) || x >= y; });
      })
      .Case([&](arith::MinNumFOp) {
        pick(op, [](double x, double y) { return std::isnan(y) || x <= y; });
      })
      // Precision changes keep the double value: the interpreter does not
      // model rounding, as documented.
      .Case([&](arith::ExtFOp) {
        floatUnary(op, [](double x) { return D{x, 1.0}; });
      })
      .Case([&](arith::TruncFOp) {
        floatUnary(op, [](double x) { return D{x, 1.0}; });
      })
      // math.
      .Case([&](math::TanhOp) {
        floatUnary(op, [](double x) {
          double t = std::tanh(x);
          return D{t, 1.0 - t * t};
        });
      })
      .Case([&](math::ExpOp) {
        floatUnary(op, [](double x) {
          double e = std::exp(x);
          return D{e, e};
        });
      })
      .Case([&](math::Exp2Op) {
        floatUnary(op, [](double x) {
          double e = std::exp2(x);
          return D{e, kLn2 * e};
        });
      })
      .Case([&](math::ExpM1Op) {
        floatUnary(op, [](double x) { return D{std::expm1(x), std::exp(x)}; });
      })
      .Case([&](math::LogOp) {
        floatUnary(op, [](double x) { return D{std::log(x), 1.0 / x}; });
      })
      .Case([&](math::Log2Op) {
        floatUnary(op, [](double x) {
          return D{std::log2(x), 1.0 / (x * kLn2)};
        });
      })
      .Case([&](math::Log10Op) {
        floatUnary(op, [](double x) {
          return D{std::log10(x), 1.0 / (x * kLn10)};
        });
      })
      .Case([&](math::Log1pOp) {
        floatUnary(op, [](double x) {
          return D{std::log1p(x), 1.0 / (1.0 + x)};
        });
      })
      .Case([&](math::SqrtOp) {
        floatUnary(op, [](double x) {
          double r = std::sqrt(x);
          return D{r, 0.5 / r};
        });
      })
      .Case([&](math::RsqrtOp) {
        floatUnary(op, [](double x) {
          double r = 1.0 / std::sqrt(x);
          return D{r, -0.5 * r * r * r};
        });
      })
      .Case([&](math::AbsFOp) {
        floatUnary(op, [](double x) {
          return D{std::fabs(x), x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0)};
        });
      })
      .Case([&](math::SinOp) {
        floatUnary(op, [](double x) { return D{std::sin(x), std::cos(x)}; });
      })
      .Case([&](math::CosOp) {
        floatUnary(op, [](double x) { return D{std::cos(x), -std::sin(x)}; });
      })
      .Case([&](math::TanOp) {
        floatUnary(op, [](double x) {
          double t = std::tan(x);
          return D{t, 1.0 + t * t};
        });
      })
      .Case([&](math::AtanOp) {
        floatUnary(op, [](double x) {
          return D{std::atan(x), 1.0 / (1.0 + x * x)};
        });
      })
      .Case([&](math::ErfOp) {
        floatUnary(op, [](double x) {
          return D{std::erf(x), kTwoOverSqrtPi * std::exp(-x * x)};
        });
      })
      .Case([&](math::FloorOp) {
        floatUnary(op, [](double x) { return D{std::floor(x), 0.0}; });
      })
      .Case([&](math::CeilOp) {
        floatUnary(op, [](double x) { return D{std::ceil(x), 0.0}; });
      })
      .Case([&](math::TruncOp) {
        floatUnary(op, [](double x) { return D{std::trunc(x), 0.0}; });
      })
      .Case([&](math::PowFOp) {
        floatBinary(op, [](const Cell &x, const Cell &y) {
          double r = std::pow(x.v, y.v);
          // d(x^y) = y x^(y-1) dx + x^y ln(x) dy; the second term only
          // where y actually varies, so constant exponents of x <= 0 work.
          double d = x.d == 0.0 ? 0.0 : y.v * std::pow(x.v, y.v - 1.0) * x.d;
          if (y.d != 0.0)
            d += r * std::log(x.v) * y.d;
          return Cell{0, r, d};
        });
      })
      .Case([&](math::CopySignOp) {
        floatBinary(op, [](const Cell &x, const Cell &y) {
          double r = std::copysign(x.v, y.v);
          bool flipped = std::signbit(r) != std::signbit(x.v);
          return Cell{0, r, flipped ? -x.d : x.d};
        });
      })
      .Case([&](math::FmaOp) {
        unsigned a = slot(op.getOperand(0)), b = slot(op.getOperand(1));
        unsigned z = slot(op.getOperand(2)), r = slot(op.getResult(0));
        program.steps.push_back([=](Cell *c, EvalState &) {
          c[r].v = std::fma(c[a].v, c[b].v, c[z].v);
          c[r].d = c[a].d * c[b].v + c[a].v * c[b].d + c[z].d;
        });
      })
      .Case([&](math::AbsIOp) {
        unsigned a = slot(op.getOperand(0)), r = slot(op.getResult(0));
        unsigned w = kindOf(op.getResult(0)).width;
        program.steps.push_back([=](Cell *c, EvalState &) {
          c[r].i =
              sext(static_cast<uint64_t>(
                       c[a].i < 0 ? -static_cast<uint64_t>(c[a].i) : c[a].i),
                   w);
        });
      })
      .Default([&](Operation *) { handled = false; });
  if (!handled)
    return unsupported(op, " (flashc run interprets arith and math ops on "
                           "scalars only)");
  return llvm::Error::success();
}

llvm::Expected<RegionInterpreter>
translateRegion(Region &region, llvm::StringRef name, unsigned numArgs) {
  auto program = std::make_shared<RegionProgram>();
  program->name = name.str();
  if (!region.hasOneBlock())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "custom " + name +
                                       " region: expected exactly one block");
  Block &block = region.front();
  if (block.getNumArguments() != numArgs)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "custom " + name + " region: expected " + llvm::Twine(numArgs) +
            " arguments, got " + llvm::Twine(block.getNumArguments()));
  Translator translator(*program);
  for (BlockArgument arg : block.getArguments())
    if (llvm::Error e = translator.addArgument(arg))
      return std::move(e);
  bool yielded = false;
  for (Operation &op : block) {
    if (llvm::Error e = translator.translate(op))
      return std::move(e);
    yielded |= isa<flashc::attn::YieldOp>(op);
  }
  if (!yielded)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "custom " + name +
                                       " region: no attn.yield terminator");
  return RegionInterpreter::fromProgram(std::move(program));
}

} // namespace

RegionInterpreter
RegionInterpreter::fromProgram(std::shared_ptr<const RegionProgram> program) {
  return RegionInterpreter(std::move(program));
}

llvm::Expected<RegionInterpreter> RegionInterpreter::forMask(Region &region) {
  return translateRegion(region, "mask", 4);
}

llvm::Expected<RegionInterpreter> RegionInterpreter::forScore(Region &region) {
  return translateRegion(region, "score", 5);
}

static Cell indexCell(int64_t x) { return Cell{x, 0.0, 0.0}; }

bool RegionInterpreter::mask(int64_t b, int64_t h, int64_t i, int64_t j) const {
  Cell args[] = {indexCell(b), indexCell(h), indexCell(i), indexCell(j)};
  return program->run(args).i != 0;
}

DualValue RegionInterpreter::scoreWithDerivative(double s, int64_t b, int64_t h,
                                                 int64_t i, int64_t j) const {
  Cell args[] = {Cell{0, s, 1.0}, indexCell(b), indexCell(h), indexCell(i),
                 indexCell(j)};
  Cell r = program->run(args);
  return DualValue{r.v, r.d};
}

double RegionInterpreter::score(double s, int64_t b, int64_t h, int64_t i,
                                int64_t j) const {
  return scoreWithDerivative(s, b, h, i, j).value;
}

std::string RegionInterpreter::runtimeError() const {
  std::lock_guard<std::mutex> lock(program->errors->mutex);
  return program->errors->message;
}

llvm::Expected<RegionCallbacks> makeRegionCallbacks(Region *mask,
                                                    Region *score) {
  RegionCallbacks callbacks;
  std::vector<RegionInterpreter> all;
  if (mask) {
    auto interp = RegionInterpreter::forMask(*mask);
    if (!interp)
      return interp.takeError();
    RegionInterpreter m = *interp;
    callbacks.mask = [m](int64_t b, int64_t h, int64_t i, int64_t j) {
      return m.mask(b, h, i, j);
    };
    all.push_back(m);
  }
  if (score) {
    auto interp = RegionInterpreter::forScore(*score);
    if (!interp)
      return interp.takeError();
    RegionInterpreter f = *interp;
    callbacks.score = [f](double s, int64_t b, int64_t h, int64_t i,
                          int64_t j) { return f.score(s, b, h, i, j); };
    callbacks.scoreGrad = [f](double s, int64_t b, int64_t h, int64_t i,
                              int64_t j) {
      return f.scoreWithDerivative(s, b, h, i, j).derivative;
    };
    all.push_back(f);
  }
  callbacks.runtimeError = [all]() -> std::string {
    for (const RegionInterpreter &r : all)
      if (std::string e = r.runtimeError(); !e.empty())
        return e;
    return "";
  };
  return callbacks;
}

} // namespace flashc::tool
