//===- ReferenceBackend.cpp - the reference behind the kernel ABI ---------===//
//
// A backend for testing `flashc run` itself, selected by the hidden
// `--backend testing-reference` (or `testing-faulty`). Each "kernel" decodes
// its arguments exactly as passes/KernelABI.h states them (count, order,
// sizes, strides, the compressed layout lists, which it expands and checks
// with runtime/BlockLayout), computes the outputs with the float64
// reference, and writes them rounded to the element type. The faulty variant
// then corrupts one element of O and leaves one LSE and one dQ row unwritten,
// so that the harness's failure paths can be tested without a broken
// compiler.
//
//===----------------------------------------------------------------------===//

#include "tools/flashc/GradientSpec.h"
#include "tools/flashc/HostTensor.h"
#include "tools/flashc/KernelBackend.h"
#include "tools/flashc/ReferenceProblem.h"
#include "tools/flashc/RegionInterpreter.h"

#include "dialect/AttnOps.h"
#include "passes/KernelABI.h"
#include "reference/Reference.h"
#include "runtime/BlockLayout.h"

#include "mlir/IR/BuiltinTypes.h"

#include <exception>

using namespace mlir;

namespace flashc::tool {
namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string sizesString(llvm::ArrayRef<int64_t> sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i)
    s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

/// Visits every element of \p m in row-major order of its sizes, with the
/// element's offset from m.data.
template <typename F> void forEachElement(const MemRefArg &m, F visit) {
  int64_t total = 1;
  for (int64_t s : m.sizes)
    total *= s;
  llvm::SmallVector<int64_t, 4> coords(m.sizes.size(), 0);
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t offset = m.offset;
    for (size_t d = 0; d < coords.size(); ++d)
      offset += coords[d] * m.strides[d];
    visit(flat, offset);
    for (size_t d = coords.size(); d-- > 0;) {
      if (++coords[d] < m.sizes[d])
        break;
      coords[d] = 0;
    }
  }
}

std::vector<double> readTensor(const MemRefArg &m, ElementKind kind) {
  std::vector<double> values;
  forEachElement(m, [&](int64_t, int64_t offset) {
    values.push_back(loadElement(m.data, offset, kind));
  });
  return values;
}

/// Writes \p values; \p skip (flat index) says which elements to leave.
template <typename Skip>
void writeTensor(const MemRefArg &m, ElementKind kind,
                 const std::vector<double> &values, Skip skip) {
  forEachElement(m, [&](int64_t flat, int64_t offset) {
    if (!skip(flat))
      storeElement(m.data, offset, kind, values[flat]);
  });
}

void writeTensor(const MemRefArg &m, ElementKind kind,
                 const std::vector<double> &values) {
  writeTensor(m, kind, values, [](int64_t) { return false; });
}

/// Reads the arguments of one call in ABI order, checking each.
class ArgReader {
public:
  ArgReader(llvm::StringRef kernel, llvm::ArrayRef<KernelArg> args)
      : kernel(kernel), args(args) {}

  llvm::Expected<MemRefArg> memref(llvm::StringRef name,
                                   llvm::ArrayRef<int64_t> sizes) {
    if (next >= args.size())
      return makeError(llvm::Twine(kernel) + ": missing argument '" + name +
                       "'");
    const auto *m = std::get_if<MemRefArg>(&args[next++]);
    if (!m)
      return makeError(llvm::Twine(kernel) + ": argument '" + name +
                       "' must be a memref, got a scalar");
    if (!m->data)
      return makeError(llvm::Twine(kernel) + ": argument '" + name +
                       "' has no data");
    if (m->strides.size() != m->sizes.size() ||
        llvm::ArrayRef<int64_t>(m->sizes) != sizes)
      return makeError(llvm::Twine(kernel) + ": argument '" + name +
                       "' has sizes " + sizesString(m->sizes) + ", expected " +
                       sizesString(sizes));
    if (!sizes.empty() && m->strides.back() != 1)
      return makeError(llvm::Twine(kernel) + ": argument '" + name +
                       "' must have a contiguous last dimension");
    return *m;
  }

  /// A 1-D memref of any size (the kept blocks of a layout).
  llvm::Expected<MemRefArg> vector(llvm::StringRef name) {
    if (next >= args.size())
      return makeError(llvm::Twine(kernel) + ": missing argument '" + name +
                       "'");
    const auto *m = std::get_if<MemRefArg>(&args[next]);
    if (!m || m->sizes.size() != 1)
      return makeError(llvm::Twine(kernel) + ": argument '" + name +
                       "' must be a 1-D memref");
    return memref(name, m->sizes);
  }

  llvm::Expected<int64_t> scalar(llvm::StringRef name) {
    if (next >= args.size())
      return makeError(llvm::Twine(kernel) + ": missing argument '" + name +
                       "'");
    const auto *x = std::get_if<int64_t>(&args[next++]);
    if (!x)
      return makeError(llvm::Twine(kernel) + ": argument '" + name +
                       "' must be an i64 scalar, got a memref");
    return *x;
  }

  llvm::Error finish() {
    if (next != args.size())
      return makeError(llvm::Twine(kernel) + ": " + llvm::Twine(args.size()) +
                       " arguments, expected " + llvm::Twine(next));
    return llvm::Error::success();
  }

private:
  std::string kernel;
  llvm::ArrayRef<KernelArg> args;
  size_t next = 0;
};

class ReferenceBackend : public KernelBackend {
public:
  explicit ReferenceBackend(bool faulty) : faulty(faulty) {}

  llvm::StringRef name() const override {
    return faulty ? "testing-faulty" : "testing-reference";
  }

  llvm::Error prepare(ModuleOp specModule,
                      const ConcreteShape &concrete) override {
    Operation *op = nullptr;
    specModule.walk([&](Operation *inner) {
      // The first one: the spec's own, before any added gradient function.
      if (!op && isa<attn::AttentionOp, attn::AttentionGradOp>(inner))
        op = inner;
    });
    if (!op)
      return makeError("no attention op in the module");
    config = isa<attn::AttentionOp>(op)
                 ? attn::getAttentionConfig(cast<attn::AttentionOp>(op))
                 : attn::getAttentionConfig(cast<attn::AttentionGradOp>(op));
    deterministic = hasDeterministicGradient(specModule);
    std::optional<ElementKind> kind = elementKindOf(config.elementType);
    if (!kind)
      return makeError("unsupported element type");
    elementKind = *kind;
    llvm::Expected<RegionCallbacks> callbacks =
        makeRegionCallbacks(config.mask, config.score);
    if (!callbacks)
      return callbacks.takeError();
    regions = std::move(*callbacks);
    shape = concrete;
    return llvm::Error::success();
  }

  bool hasKernel(llvm::StringRef) const override { return true; }

  bool sumsDqInScratch() const override { return !deterministic; }

  llvm::Error call(llvm::StringRef kind,
                   llvm::ArrayRef<KernelArg> args) override {
    try {
      if (kind == abi::kForward)
        return forward(args);
      if (kind == abi::kBackwardPrep)
        return backwardPrep(args);
      if (kind == abi::kBackwardDkDv)
        return backwardDkDv(args);
      if (kind == abi::kBackwardDq)
        return backwardDq(args);
    } catch (const std::exception &e) {
      return makeError(llvm::Twine("reference: ") + e.what());
    }
    return makeError("no kernel of kind '" + kind + "'");
  }

private:
  /// Reads q, k, v (always first) into \p p's inputs.
  llvm::Error readInputs(ArgReader &reader, std::vector<double> &q,
                         std::vector<double> &k, std::vector<double> &v) {
    const ConcreteShape &s = shape;
    auto mq = reader.memref("q", {s.batch, s.headsQ, s.seqQ, s.headDim});
    if (!mq)
      return mq.takeError();
    auto mk = reader.memref("k", {s.batch, s.headsKV, s.seqK, s.headDim});
    if (!mk)
      return mk.takeError();
    auto mv = reader.memref("v", {s.batch, s.headsKV, s.seqK, s.headDimV});
    if (!mv)
      return mv.takeError();
    q = readTensor(*mq, elementKind);
    k = readTensor(*mk, elementKind);
    v = readTensor(*mv, elementKind);
    return llvm::Error::success();
  }

  /// Reads the optional argument groups into \p p.
  llvm::Error readOptional(ArgReader &reader, reference::Problem &p,
                           bool transposed) {
    auto lens = [&](llvm::StringRef name,
                    std::vector<int32_t> &into) -> llvm::Error {
      auto m = reader.memref(name, {shape.batch});
      if (!m)
        return m.takeError();
      for (double x : readTensor(*m, ElementKind::I32))
        into.push_back(static_cast<int32_t>(x));
      return llvm::Error::success();
    };
    if (config.hasSeqLensQ)
      if (llvm::Error e = lens("seqlens_q", p.seqLensQ))
        return e;
    if (config.hasSeqLensK)
      if (llvm::Error e = lens("seqlens_k", p.seqLensK))
        return e;
    if (config.hasLayout) {
      runtime::BlockLists lists;
      lists.orientation = transposed ? runtime::ListOrientation::Columns
                                     : runtime::ListOrientation::Rows;
      lists.batch = shape.layoutBatch;
      lists.heads = shape.layoutHeads;
      lists.rows = (shape.seqQ + config.layoutBlockQ - 1) / config.layoutBlockQ;
      lists.cols = (shape.seqK + config.layoutBlockK - 1) / config.layoutBlockK;
      llvm::StringRef prefix = transposed ? "layout_t" : "layout";
      auto offsets =
          reader.memref((prefix + "_offsets").str(),
                        {lists.batch, lists.heads, lists.numLists() + 1});
      if (!offsets)
        return offsets.takeError();
      auto blocks = reader.vector((prefix + "_blocks").str());
      if (!blocks)
        return blocks.takeError();
      for (double x : readTensor(*offsets, ElementKind::I32))
        lists.offsets.push_back(static_cast<int32_t>(x));
      for (double x : readTensor(*blocks, ElementKind::I32))
        lists.blocks.push_back(static_cast<int32_t>(x));
      if (runtime::Status s = runtime::expandBlockLists(lists, p.layout); !s)
        return makeError(s.message());
    }
    if (config.hasDropout()) {
      auto seed = reader.scalar("seed");
      if (!seed)
        return seed.takeError();
      auto offset = reader.scalar("offset");
      if (!offset)
        return offset.takeError();
      p.seed = static_cast<uint64_t>(*seed);
      p.offset = static_cast<uint64_t>(*offset);
    }
    return reader.finish();
  }

  llvm::Error forward(llvm::ArrayRef<KernelArg> args) {
    const ConcreteShape &s = shape;
    ArgReader reader("fwd", args);
    std::vector<double> q, k, v;
    if (llvm::Error e = readInputs(reader, q, k, v))
      return e;
    auto o = reader.memref("o", {s.batch, s.headsQ, s.seqQ, s.headDimV});
    if (!o)
      return o.takeError();
    auto lse = reader.memref("lse", {s.batch, s.headsQ, s.seqQ});
    if (!lse)
      return lse.takeError();
    reference::Problem p = makeReferenceProblem(config, shape, regions);
    if (llvm::Error e = readOptional(reader, p, /*transposed=*/false))
      return e;
    reference::ForwardResult r = reference::forward(p, q, k, v);
    if (faulty)
      r.out[0] += 0.25;
    writeTensor(*o, elementKind, r.out);
    int64_t last = static_cast<int64_t>(r.lse.size()) - 1;
    writeTensor(*lse, ElementKind::F32, r.lse,
                [&](int64_t i) { return faulty && i == last; });
    return llvm::Error::success();
  }

  llvm::Error backwardPrep(llvm::ArrayRef<KernelArg> args) {
    const ConcreteShape &s = shape;
    ArgReader reader("bwd_prep", args);
    auto o = reader.memref("o", {s.batch, s.headsQ, s.seqQ, s.headDimV});
    if (!o)
      return o.takeError();
    auto dout = reader.memref("dout", {s.batch, s.headsQ, s.seqQ, s.headDimV});
    if (!dout)
      return dout.takeError();
    auto delta = reader.memref("delta", {s.batch, s.headsQ, s.seqQ});
    if (!delta)
      return delta.takeError();
    std::optional<MemRefArg> accum;
    if (!deterministic) {
      auto m = reader.memref("dq_accum", gradientShape("dq_accum"));
      if (!m)
        return m.takeError();
      accum = *m;
    }
    if (llvm::Error e = reader.finish())
      return e;
    if (accum)
      writeTensor(*accum, ElementKind::F32,
                  std::vector<double>(static_cast<size_t>(
                      s.batch * s.headsQ * s.seqQ * s.headDim)));
    std::vector<double> od = readTensor(*o, elementKind);
    std::vector<double> dd = readTensor(*dout, elementKind);
    std::vector<double> rows(static_cast<size_t>(s.batch * s.headsQ * s.seqQ));
    for (size_t r = 0; r < rows.size(); ++r)
      for (int64_t c = 0; c < s.headDimV; ++c)
        rows[r] += od[r * s.headDimV + c] * dd[r * s.headDimV + c];
    writeTensor(*delta, ElementKind::F32, rows);
    return llvm::Error::success();
  }

  /// The sizes of backward output \p name: dq, dq_accum, dk or dv.
  llvm::SmallVector<int64_t, 4> gradientShape(llvm::StringRef name) const {
    const ConcreteShape &s = shape;
    if (name == "dk")
      return {s.batch, s.headsKV, s.seqK, s.headDim};
    if (name == "dv")
      return {s.batch, s.headsKV, s.seqK, s.headDimV};
    return {s.batch, s.headsQ, s.seqQ, s.headDim}; // dq, dq_accum
  }

  /// Reads the arguments every score-reading backward kernel starts with
  /// (q, k, v, dout, lse, delta) and returns the reference's gradients.
  llvm::Expected<reference::BackwardResult>
  gradients(ArgReader &reader, llvm::ArrayRef<llvm::StringRef> outputs,
            llvm::SmallVectorImpl<MemRefArg> &outs, bool transposed) {
    const ConcreteShape &s = shape;
    std::vector<double> q, k, v;
    if (llvm::Error e = readInputs(reader, q, k, v))
      return std::move(e);
    auto dout = reader.memref("dout", {s.batch, s.headsQ, s.seqQ, s.headDimV});
    if (!dout)
      return dout.takeError();
    for (llvm::StringRef name : {"lse", "delta"})
      if (auto m = reader.memref(name, {s.batch, s.headsQ, s.seqQ}); !m)
        return m.takeError();
    for (llvm::StringRef name : outputs) {
      auto m = reader.memref(name, gradientShape(name));
      if (!m)
        return m.takeError();
      outs.push_back(*m);
    }
    reference::Problem p = makeReferenceProblem(config, shape, regions);
    if (llvm::Error e = readOptional(reader, p, transposed))
      return std::move(e);
    return reference::backward(p, q, k, v, readTensor(*dout, elementKind));
  }

  /// dK and dV, and (unless deterministic) dQ added into dq_accum.
  llvm::Error backwardDkDv(llvm::ArrayRef<KernelArg> args) {
    ArgReader reader(abi::kBackwardDkDv, args);
    llvm::SmallVector<llvm::StringRef, 3> names = {"dk", "dv"};
    if (!deterministic)
      names.push_back("dq_accum");
    llvm::SmallVector<MemRefArg, 3> outs;
    llvm::Expected<reference::BackwardResult> r =
        gradients(reader, names, outs, /*transposed=*/true);
    if (!r)
      return r.takeError();
    writeTensor(outs[0], elementKind, r->dk);
    writeTensor(outs[1], elementKind, r->dv);
    if (!deterministic) {
      std::vector<double> sum = readTensor(outs[2], ElementKind::F32);
      for (size_t i = 0; i < sum.size(); ++i)
        sum[i] += r->dq[i];
      writeTensor(outs[2], ElementKind::F32, sum);
    }
    return llvm::Error::success();
  }

  /// dQ = dq_accum; deterministic: dQ from the scores again.
  llvm::Error backwardDq(llvm::ArrayRef<KernelArg> args) {
    const ConcreteShape &s = shape;
    ArgReader reader(abi::kBackwardDq, args);
    std::vector<double> values;
    std::optional<MemRefArg> dq;
    if (deterministic) {
      llvm::SmallVector<MemRefArg, 1> outs;
      llvm::Expected<reference::BackwardResult> r =
          gradients(reader, {"dq"}, outs, /*transposed=*/false);
      if (!r)
        return r.takeError();
      values = std::move(r->dq);
      dq = outs[0];
    } else {
      auto accum = reader.memref("dq_accum", gradientShape("dq_accum"));
      if (!accum)
        return accum.takeError();
      auto m = reader.memref("dq", gradientShape("dq"));
      if (!m)
        return m.takeError();
      if (llvm::Error e = reader.finish())
        return e;
      values = readTensor(*accum, ElementKind::F32);
      dq = *m;
    }
    // The faulty variant leaves the last row of dQ unwritten.
    int64_t lastRow = static_cast<int64_t>(values.size()) - s.headDim;
    writeTensor(*dq, elementKind, values,
                [&](int64_t i) { return faulty && i >= lastRow; });
    return llvm::Error::success();
  }

  bool faulty;
  attn::AttentionConfig config;
  /// The gradient's ABI has no dq_accum (passes/KernelABI.h).
  bool deterministic = false;
  ElementKind elementKind = ElementKind::F32;
  RegionCallbacks regions;
  ConcreteShape shape;
};

} // namespace

std::unique_ptr<KernelBackend> createReferenceBackend(bool faulty) {
  return std::make_unique<ReferenceBackend>(faulty);
}

} // namespace flashc::tool
