//===- RunHarness.cpp - `flashc run`: compile, run, check -----------------===//

#include "tools/flashc/RunHarness.h"

#include "tools/flashc/FlopCount.h"
#include "tools/flashc/GradientSpec.h"
#include "tools/flashc/HostTensor.h"
#include "tools/flashc/ReferenceProblem.h"
#include "tools/flashc/RegionInterpreter.h"
#include "tools/flashc/SpecFile.h"

#include "dialect/AttnOps.h"
#include "passes/KernelABI.h"
#include "reference/Reference.h"
#include "runtime/BlockLayout.h"

#include "mlir/IR/BuiltinTypes.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <random>

using namespace mlir;

namespace flashc::tool {
namespace {
bool checkRerunIdentical(llvm::ArrayRef<HostTensor *> outputs,
                         llvm::function_ref<llvm::Error()> call,
                         llvm::raw_ostream &out);

/// Work beyond which the O(N^2) float64 reference takes too long to wait for
/// (multiply-adds; about ten seconds).
constexpr double kMaxReferenceWork = 1e10;

/// Below this, max|reference| counts as zero in the relative error.
constexpr double kTiny = 1e-30;
/// The scale an all-zero reference is judged at: that of the N(0, 1)
/// inputs. Such outputs (dQ of rows with a single key, whose softmax
/// gradient vanishes) are zero only by cancellation of O(1) terms, which
/// rounded inputs cannot reproduce exactly.
constexpr double kZeroReferenceScale = 1.0;

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// One size: the spec's static value, else the option, else \p fallback.
llvm::Expected<int64_t> resolveSize(llvm::StringRef name, llvm::StringRef flag,
                                    int64_t specSize,
                                    std::optional<int64_t> option,
                                    int64_t fallback) {
  if (option && *option < 1)
    return makeError("--" + flag + " must be at least 1, got " +
                     llvm::Twine(*option));
  if (!ShapedType::isDynamic(specSize)) {
    if (option && *option != specSize)
      return makeError("--" + flag + " " + llvm::Twine(*option) +
                       " contradicts the spec's static " + name + " = " +
                       llvm::Twine(specSize));
    return specSize;
  }
  return option ? *option : fallback;
}

/// A leading layout size: its static value (which must be 1 or \p full),
/// else \p full.
llvm::Expected<int64_t> resolveLayoutLead(llvm::StringRef name,
                                          llvm::StringRef fullName,
                                          int64_t layoutSize, int64_t full) {
  if (ShapedType::isDynamic(layoutSize))
    return full;
  if (layoutSize != 1 && layoutSize != full)
    return makeError("the layout's " + name + " = " + llvm::Twine(layoutSize) +
                     " must be 1 or " + fullName + " = " + llvm::Twine(full));
  return layoutSize;
}

/// Sequence lengths in [0, n]. With two or more batches, batch 0 is empty
/// or short and the last one full, so that empty rows, partial tiles and
/// full tiles are all exercised; a single batch takes any length.
std::vector<int32_t> randomSeqLens(std::mt19937_64 &rng, int64_t batch,
                                   int64_t n) {
  std::uniform_int_distribution<int64_t> any(0, n);
  std::uniform_int_distribution<int64_t> shortLen(0, std::min<int64_t>(n, 3));
  std::vector<int32_t> lens(static_cast<size_t>(batch));
  for (int32_t &len : lens)
    len = static_cast<int32_t>(any(rng));
  if (batch >= 2) {
    lens.front() = static_cast<int32_t>(shortLen(rng));
    lens.back() = static_cast<int32_t>(n);
  }
  return lens;
}

/// A standard-normal tensor rounded to its element type.
HostTensor randomTensor(std::mt19937_64 &rng, ElementKind kind,
                        llvm::ArrayRef<int64_t> shape) {
  HostTensor t(kind, shape);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> values(static_cast<size_t>(t.numElements()));
  for (double &x : values)
    x = normal(rng);
  t.assign(values);
  return t;
}

HostTensor int32Tensor(llvm::ArrayRef<int32_t> values,
                       llvm::ArrayRef<int64_t> shape) {
  HostTensor t(ElementKind::I32, shape);
  if (!values.empty())
    std::memcpy(t.data(), values.data(), values.size() * sizeof(int32_t));
  return t;
}

/// "[b=0, h=1, i=17, d=3]" for flat index \p index of a tensor of \p shape.
std::string indexString(int64_t index, llvm::ArrayRef<int64_t> shape,
                        llvm::ArrayRef<const char *> names) {
  llvm::SmallVector<int64_t, 4> coords(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    coords[d] = index % shape[d];
    index /= shape[d];
  }
  std::string s = "[";
  for (size_t d = 0; d < shape.size(); ++d)
    s += fmt::format("{}{}={}", d ? ", " : "", names[d], coords[d]);
  return s + "]";
}

/// Milliseconds of one call of \p body: its kernels' time where \p backend
/// measures it (the GPU's, without the copies), else the wall time.
template <typename F>
llvm::Expected<double> timeOnce(KernelBackend &backend, F body) {
  (void)backend.takeKernelMilliseconds();
  auto start = std::chrono::steady_clock::now();
  if (llvm::Error e = body())
    return std::move(e);
  auto end = std::chrono::steady_clock::now();
  if (std::optional<double> kernels = backend.takeKernelMilliseconds())
    return *kernels;
  return std::chrono::duration<double, std::milli>(end - start).count();
}

/// The fastest of \p first and a few more calls of \p body, within about
/// half a second, so that one cold call does not decide the time.
template <typename F>
llvm::Expected<double> bestTime(KernelBackend &backend, double first, F body) {
  double best = first, total = first;
  for (int run = 0; run < 10 && total < 500.0; ++run) {
    llvm::Expected<double> ms = timeOnce(backend, body);
    if (!ms)
      return ms.takeError();
    best = std::min(best, *ms);
    total += *ms;
  }
  return best;
}

/// What runSpec keeps while it goes.
class Run {
public:
  Run(SpecFile &spec, const RunOptions &opts, llvm::raw_ostream &out,
      llvm::raw_ostream &err)
      : spec(spec), opts(opts), out(out), err(err) {}

  int execute();

private:
  int fail(const llvm::Twine &message, int code = kExitFailure) {
    out.flush();
    err << "flashc run: error: " << message << "\n";
    return code;
  }
  int fail(llvm::Error error, int code = kExitFailure) {
    return fail(llvm::toString(std::move(error)), code);
  }

  /// Prints one comparison line (and details of a failure); returns whether
  /// it passed.
  bool report(llvm::StringRef name, const HostTensor &got,
              const std::vector<double> &expected,
              llvm::ArrayRef<const char *> indexNames);

  void appendOptionalArgs(llvm::SmallVectorImpl<KernelArg> &args,
                          bool transposedLayout);
  llvm::Error requireKernel(llvm::StringRef kind);

  SpecFile &spec;
  const RunOptions &opts;
  llvm::raw_ostream &out, &err;

  attn::AttentionConfig config;
  ConcreteShape shape;
  ElementKind elementKind = ElementKind::F32;
  double tolerance = 0.0;
  std::unique_ptr<KernelBackend> backend;
  reference::Problem problem;

  std::optional<HostTensor> seqLensQ, seqLensK;
  std::optional<HostTensor> layoutOffsets, layoutBlocks;
  std::optional<HostTensor> layoutTOffsets, layoutTBlocks;
};

bool Run::report(llvm::StringRef name, const HostTensor &got,
                 const std::vector<double> &expected,
                 llvm::ArrayRef<const char *> indexNames) {
  std::vector<double> values = got.toDoubles();
  Comparison c = compareOutputs(values, expected);
  bool ok = c.passed(tolerance);
  out << fmt::format("  {:<6} max abs err {:.3e}  rel err {:.3e}  "
                     "(tolerance {:.1e})  {}{}\n",
                     name.str(), c.maxAbsError, c.relativeError, tolerance,
                     ok ? "ok" : "FAIL",
                     c.zeroReference ? " (reference all zero: error "
                                       "relative to 1)"
                                     : "");
  if (ok)
    return true;
  if (c.sizeMismatch)
    out << fmt::format("         {} values, expected {}\n", values.size(),
                       expected.size());
  if (c.nanCount)
    out << fmt::format("         {} NaN values, the first at {}\n", c.nanCount,
                       indexString(c.firstNan, got.shape(), indexNames));
  if (c.infMismatches) {
    int64_t at = c.firstInfMismatch;
    out << fmt::format(
        "         {} infinities do not match, the first at {}: got {}, "
        "expected {}\n",
        c.infMismatches, indexString(at, got.shape(), indexNames), values[at],
        expected[at]);
  }
  if (c.worst >= 0 && c.relativeError > tolerance)
    out << fmt::format("         largest error at {}: got {}, expected {}\n",
                       indexString(c.worst, got.shape(), indexNames),
                       values[c.worst], expected[c.worst]);
  return false;
}

llvm::Error Run::requireKernel(llvm::StringRef kind) {
  if (backend->hasKernel(kind))
    return llvm::Error::success();
  return makeError("the " + backend->name() + " backend compiled no '" + kind +
                   "' kernel for this spec");
}

/// The optional groups of passes/KernelABI.h, in order: seqlens_q,
/// seqlens_k, the layout lists (row or transposed form), seed and offset.
void Run::appendOptionalArgs(llvm::SmallVectorImpl<KernelArg> &args,
                             bool transposedLayout) {
  if (seqLensQ)
    args.push_back(seqLensQ->memref());
  if (seqLensK)
    args.push_back(seqLensK->memref());
  if (config.hasLayout) {
    HostTensor &offsets = transposedLayout ? *layoutTOffsets : *layoutOffsets;
    HostTensor &blocks = transposedLayout ? *layoutTBlocks : *layoutBlocks;
    args.push_back(offsets.memref());
    args.push_back(blocks.memref());
  }
  if (config.hasDropout()) {
    args.push_back(static_cast<int64_t>(problem.seed));
    args.push_back(static_cast<int64_t>(problem.offset));
  }
}

int Run::execute() {
  config = spec.config();
  bool gradSpec = spec.isGradient();
  bool checkGrad = opts.grad || gradSpec;
  Operation *op = spec.attentionOp();
  if (opts.deterministic)
    makeGradientsDeterministic(spec.module());
  Value layoutValue = gradSpec ? cast<attn::AttentionGradOp>(op).getLayout()
                               : cast<attn::AttentionOp>(op).getLayout();

  std::optional<ElementKind> kind = elementKindOf(config.elementType);
  if (!kind || *kind == ElementKind::I32)
    return fail("unsupported element type");
  elementKind = *kind;
  llvm::Expected<ConcreteShape> resolved =
      resolveShape(config, layoutValue ? layoutValue.getType() : Type(), opts);
  if (!resolved)
    return fail(resolved.takeError());
  shape = *resolved;
  tolerance =
      opts.tolerance ? *opts.tolerance : defaultTolerance(config.elementType);
  if (!(tolerance >= 0.0) || !std::isfinite(tolerance))
    return fail("--tolerance must be a finite non-negative number");
  if (!(opts.density >= 0.0 && opts.density <= 1.0))
    return fail("--density must be in [0, 1]");

  // The reference is O(N^2) in float64: refuse what it cannot finish.
  double work = static_cast<double>(shape.batch) * shape.headsQ * shape.seqQ *
                shape.seqK * (shape.headDim + shape.headDimV) *
                (checkGrad ? 3.5 : 1.0);
  if (work > kMaxReferenceWork)
    return fail(fmt::format(
        "the problem is too large for the float64 reference check ({:.3g} "
        "multiply-adds, at most {:.0e}); choose smaller sizes with "
        "--batch/--heads/--seqlen-q/--seqlen-k",
        work, kMaxReferenceWork));

  uint64_t seed;
  if (opts.seed) {
    seed = *opts.seed;
  } else {
    std::random_device device;
    seed = (static_cast<uint64_t>(device()) << 32) ^ device();
  }
  std::mt19937_64 rng(seed);

  std::string where = spec.functionName().empty()
                          ? std::string()
                          : " in @" + spec.functionName();
  out << fmt::format("flashc run: {} ({}{})\n", spec.path().str(),
                     op->getName().getStringRef().str(), where);
  // No --backend: the GPU when there is one flashc can run on.
  std::string whyNotGpu;
  llvm::Expected<std::unique_ptr<KernelBackend>> created =
      opts.backend.empty() ? createDefaultBackend(whyNotGpu)
                           : createKernelBackend(opts.backend);
  if (!created)
    return fail(created.takeError(), kExitUnavailable);
  backend = std::move(*created);
  out << fmt::format("  backend {}, seed {} (repeat with --seed {})\n",
                     backend->name().str(), seed, seed);
  if (!whyNotGpu.empty())
    out << fmt::format("          (no GPU: {})\n", whyNotGpu);
  out << fmt::format("  shape   B={} Hq={} Hkv={} Nq={} Nk={} D={} Dv={} {}\n",
                     shape.batch, shape.headsQ, shape.headsKV, shape.seqQ,
                     shape.seqK, shape.headDim, shape.headDimV,
                     elementKindName(elementKind).str());

  // Compile first: there is no point in a reference nobody compares with.
  // --grad on a forward spec compiles its gradient alongside.
  OwningOpRef<ModuleOp> withGradient;
  if (checkGrad && !gradSpec) {
    llvm::Expected<OwningOpRef<ModuleOp>> module =
        withGradientFunction(spec.module());
    if (!module)
      return fail(module.takeError());
    withGradient = std::move(*module);
    if (opts.deterministic)
      makeGradientsDeterministic(*withGradient);
  }
  if (llvm::Error e =
          backend->prepare(withGradient ? *withGradient : spec.module(), shape))
    return fail(std::move(e));
  if (std::string device = backend->describe(); !device.empty())
    out << fmt::format("  device  {}\n", device);

  llvm::Expected<RegionCallbacks> regions =
      makeRegionCallbacks(config.mask, config.score);
  if (!regions)
    return fail(regions.takeError());
  problem = makeReferenceProblem(config, shape, *regions);

  // What varies per run: sequence lengths, layout, dropout offset.
  auto printLens = [&](llvm::StringRef name, llvm::ArrayRef<int32_t> lens) {
    std::string list;
    for (int32_t len : lens)
      list += (list.empty() ? "" : " ") + std::to_string(len);
    out << fmt::format("  {:<7} {}\n", name.str(), list);
  };
  if (config.hasSeqLensQ) {
    problem.seqLensQ = randomSeqLens(rng, shape.batch, shape.seqQ);
    seqLensQ = int32Tensor(problem.seqLensQ, {shape.batch});
    printLens("seqlens_q", problem.seqLensQ);
  }
  if (config.hasSeqLensK) {
    problem.seqLensK = randomSeqLens(rng, shape.batch, shape.seqK);
    seqLensK = int32Tensor(problem.seqLensK, {shape.batch});
    printLens("seqlens_k", problem.seqLensK);
  }
  if (config.hasLayout) {
    int64_t mq = ceilDiv(shape.seqQ, config.layoutBlockQ);
    int64_t mk = ceilDiv(shape.seqK, config.layoutBlockK);
    std::bernoulli_distribution keep(opts.density);
    problem.layout.resize(
        static_cast<size_t>(shape.layoutBatch * shape.layoutHeads * mq * mk));
    int64_t kept = 0;
    for (uint8_t &x : problem.layout) {
      x = keep(rng) ? 1 : 0;
      kept += x;
    }
    runtime::DenseLayoutView view;
    view.data = problem.layout.data();
    view.elementType = runtime::LayoutElementType::UInt8;
    view.numElements = static_cast<int64_t>(problem.layout.size());
    view.batch = shape.layoutBatch;
    view.heads = shape.layoutHeads;
    view.rows = mq;
    view.cols = mk;
    runtime::LayoutProblem lp{shape.batch,         shape.headsQ,
                              shape.seqQ,          shape.seqK,
                              config.layoutBlockQ, config.layoutBlockK};
    runtime::BlockLists rows, cols;
    runtime::Status status = runtime::checkLayoutShape(view, lp);
    if (status)
      status = runtime::buildRowLists(view, rows);
    if (status)
      status = runtime::buildColumnLists(view, cols);
    if (!status)
      return fail(status.message());
    auto lead = [](const runtime::BlockLists &l) {
      return llvm::SmallVector<int64_t, 4>{l.batch, l.heads, l.numLists() + 1};
    };
    layoutOffsets = int32Tensor(rows.offsets, lead(rows));
    layoutBlocks = int32Tensor(rows.blocks, {rows.numKept()});
    layoutTOffsets = int32Tensor(cols.offsets, lead(cols));
    layoutTBlocks = int32Tensor(cols.blocks, {cols.numKept()});
    out << fmt::format("  layout  [{}, {}, {}, {}] block [{}, {}], "
                       "{} of {} blocks kept (density {})\n",
                       shape.layoutBatch, shape.layoutHeads, mq, mk,
                       config.layoutBlockQ, config.layoutBlockK, kept,
                       problem.layout.size(), opts.density);
  }
  if (config.hasDropout()) {
    problem.offset = std::uniform_int_distribution<uint64_t>(
        0, std::numeric_limits<uint32_t>::max())(rng);
    out << fmt::format("  dropout p = {}, seed {}, offset {}\n",
                       config.dropoutP, problem.seed, problem.offset);
  }

  const int64_t b = shape.batch, hq = shape.headsQ, hkv = shape.headsKV;
  const int64_t nq = shape.seqQ, nk = shape.seqK;
  const int64_t d = shape.headDim, dv = shape.headDimV;
  HostTensor q = randomTensor(rng, elementKind, {b, hq, nq, d});
  HostTensor k = randomTensor(rng, elementKind, {b, hkv, nk, d});
  HostTensor v = randomTensor(rng, elementKind, {b, hkv, nk, dv});
  std::vector<double> qd = q.toDoubles(), kd = k.toDoubles(),
                      vd = v.toDoubles();
  static const char *const rowNames[] = {"b", "h", "i", "d"};
  static const char *const keyNames[] = {"b", "h", "j", "d"};

  FlopProblem flopProblem{b,
                          hq,
                          nq,
                          nk,
                          d,
                          dv,
                          config.causal,
                          config.bottomRight,
                          config.windowLeft,
                          config.windowRight};
  double forwardFlopCount = forwardFlops(flopProblem);
  auto printTime = [&](llvm::StringRef what, double ms, double flops) {
    out << fmt::format("  time    {:.4g} ms ({}), {:.4g} TFLOP/s\n", ms,
                       what.str(), ms > 0 ? flops / (ms * 1e-3) / 1e12 : 0.0);
  };

  // The reference forward pass: checks the forward kernel, and gives the
  // backward kernels of an attention_grad spec their O and LSE.
  reference::ForwardResult expected;
  try {
    expected = reference::forward(problem, qd, kd, vd);
  } catch (const std::exception &e) {
    return fail(llvm::Twine("reference: ") + e.what());
  }
  if (std::string e = regions->runtimeError ? regions->runtimeError() : "";
      !e.empty())
    return fail(e);

  bool passed = true;
  HostTensor o(elementKind, {b, hq, nq, dv});
  HostTensor lse(ElementKind::F32, {b, hq, nq});
  if (!gradSpec) {
    if (llvm::Error e = requireKernel(abi::kForward))
      return fail(std::move(e));
    o.poison();
    lse.poison();
    llvm::SmallVector<KernelArg> args = {q.memref(), k.memref(), v.memref(),
                                         o.memref(), lse.memref()};
    appendOptionalArgs(args, /*transposedLayout=*/false);
    auto call = [&] { return backend->call(abi::kForward, args); };
    llvm::Expected<double> ms = timeOnce(*backend, call);
    if (!ms)
      return fail(ms.takeError());
    out << "forward:\n";
    passed &= report("O", o, expected.out, rowNames);
    passed &= report("LSE", lse, expected.lse, rowNames);
    passed &= checkRerunIdentical({&o, &lse}, call, out);
    // Time again only once the outputs are judged: reruns overwrite them.
    llvm::Expected<double> best = bestTime(*backend, *ms, call);
    if (!best)
      return fail(best.takeError());
    printTime("fwd", *best, forwardFlopCount);
  } else {
    // An attention_grad spec gets O and LSE as its forward pass would have
    // produced them: the reference's, O rounded to the element type.
    o.assign(expected.out);
    std::vector<float> lseValues(expected.lse.begin(), expected.lse.end());
    std::memcpy(lse.data(), lseValues.data(), lseValues.size() * 4);
  }

  if (checkGrad) {
    // The backward's arguments: with dq_accum where the kernels sum dQ in
    // it, else recomputing it in bwd_dq (passes/KernelABI.h).
    bool sumsDq = backend->sumsDqInScratch();
    for (llvm::StringRef kind :
         {abi::kBackwardPrep, abi::kBackwardDkDv, abi::kBackwardDq})
      if (llvm::Error e = requireKernel(kind))
        return fail(std::move(e));
    HostTensor dout = randomTensor(rng, elementKind, {b, hq, nq, dv});
    std::vector<double> doutd = dout.toDoubles(), od = o.toDoubles();
    HostTensor delta(ElementKind::F32, {b, hq, nq});
    HostTensor dq(elementKind, {b, hq, nq, d});
    HostTensor dk(elementKind, {b, hkv, nk, d});
    HostTensor dvT(elementKind, {b, hkv, nk, dv});
    // Poisoned too: bwd_prep must zero it before bwd_dkdv adds into it.
    HostTensor dqAccum(ElementKind::F32, {sumsDq ? b : 0, hq, nq, d});
    for (HostTensor *t : {&delta, &dq, &dk, &dvT, &dqAccum})
      t->poison();

    // delta = rowsum(dout * o), of the o the kernels are given.
    std::vector<double> expectedDelta(static_cast<size_t>(b * hq * nq));
    for (size_t row = 0; row < expectedDelta.size(); ++row) {
      double sum = 0.0;
      for (int64_t c = 0; c < dv; ++c)
        sum += doutd[row * dv + c] * od[row * dv + c];
      expectedDelta[row] = sum;
    }
    reference::BackwardResult grads;
    try {
      // D from the O the kernels are handed (rounded to the element type),
      // as the kernels compute it: where the exact dS cancels to zero the
      // kernels' dS is rounding residue of O, not an error.
      grads = reference::backward(problem, qd, kd, vd, doutd, &expectedDelta);
    } catch (const std::exception &e) {
      return fail(llvm::Twine("reference: ") + e.what());
    }
    if (std::string e = regions->runtimeError ? regions->runtimeError() : "";
        !e.empty())
      return fail(e);

    llvm::SmallVector<KernelArg> prepArgs = {o.memref(), dout.memref(),
                                             delta.memref()};
    llvm::SmallVector<KernelArg> dkdvArgs = {
        q.memref(),   k.memref(),     v.memref(),  dout.memref(),
        lse.memref(), delta.memref(), dk.memref(), dvT.memref()};
    llvm::SmallVector<KernelArg> dqArgs;
    if (!sumsDq) {
      dqArgs = {q.memref(),   k.memref(),     v.memref(), dout.memref(),
                lse.memref(), delta.memref(), dq.memref()};
      appendOptionalArgs(dqArgs, /*transposedLayout=*/false);
    } else {
      prepArgs.push_back(dqAccum.memref());
      dkdvArgs.push_back(dqAccum.memref());
      dqArgs = {dqAccum.memref(), dq.memref()};
    }
    appendOptionalArgs(dkdvArgs, /*transposedLayout=*/true);
    auto call = [&]() -> llvm::Error {
      if (llvm::Error e = backend->call(abi::kBackwardPrep, prepArgs))
        return e;
      if (llvm::Error e = backend->call(abi::kBackwardDkDv, dkdvArgs))
        return e;
      return backend->call(abi::kBackwardDq, dqArgs);
    };
    llvm::Expected<double> ms = timeOnce(*backend, call);
    if (!ms)
      return fail(ms.takeError());
    out << "backward:\n";
    passed &= report("delta", delta, expectedDelta, rowNames);
    passed &= report("dQ", dq, grads.dq, rowNames);
    passed &= report("dK", dk, grads.dk, keyNames);
    passed &= report("dV", dvT, grads.dv, keyNames);
    // dQ summed with atomics may differ in its last bits from run to run;
    // otherwise it must not.
    llvm::SmallVector<HostTensor *> rerun = {&delta, &dk, &dvT};
    if (backend->isDeterministic())
      rerun.push_back(&dq);
    else
      out << "  rerun   dQ summed by atomics: not compared bitwise\n";
    passed &= checkRerunIdentical(rerun, call, out);
    llvm::Expected<double> best = bestTime(*backend, *ms, call);
    if (!best)
      return fail(best.takeError());
    printTime("bwd_prep + bwd_dkdv + bwd_dq", *best,
              kBackwardFlopRatio * forwardFlopCount);
  }

  out << (passed ? "PASS\n" : "FAIL\n");
  return passed ? kExitSuccess : kExitFailure;
}

/// Reruns \p call on poisoned \p outputs and checks every byte comes back
/// the same: kernels must not depend on scheduling or on what the outputs
/// held before (the backward pass's deterministic mode, and no reads of
/// unwritten memory). Prints one line; returns whether it held.
bool checkRerunIdentical(llvm::ArrayRef<HostTensor *> outputs,
                         llvm::function_ref<llvm::Error()> call,
                         llvm::raw_ostream &out) {
  std::vector<std::vector<char>> first;
  for (HostTensor *t : outputs) {
    size_t bytes = t->numElements() * elementBytes(t->kind());
    const char *p = static_cast<const char *>(t->data());
    first.emplace_back(p, p + bytes);
    t->poison();
  }
  if (llvm::Error e = call()) {
    out << "  rerun   failed: " << llvm::toString(std::move(e)) << "\n";
    return false;
  }
  for (auto [t, bytes] : llvm::zip(outputs, first))
    if (std::memcmp(t->data(), bytes.data(), bytes.size()) != 0) {
      out << "  rerun   outputs differ bitwise from the first run  FAIL\n";
      return false;
    }
  out << "  rerun   bitwise identical\n";
  return true;
}

} // namespace

llvm::Expected<ConcreteShape> resolveShape(const attn::AttentionConfig &config,
                                           Type layoutType,
                                           const RunOptions &opts) {
  const attn::AttentionShape &s = config.shape;
  ConcreteShape shape;
  auto take = [](llvm::Expected<int64_t> value, int64_t &into) -> llvm::Error {
    if (!value)
      return value.takeError();
    into = *value;
    return llvm::Error::success();
  };
  if (llvm::Error e =
          take(resolveSize("B", "batch", s.batch, opts.batch, kDefaultBatch),
               shape.batch))
    return std::move(e);

  // Hkv known up front (static or given) picks a default Hq it divides.
  std::optional<int64_t> knownKV = !ShapedType::isDynamic(s.headsKV)
                                       ? std::optional<int64_t>(s.headsKV)
                                       : opts.headsKV;
  int64_t defaultHeads = kDefaultHeads;
  if (knownKV && *knownKV >= 1 && kDefaultHeads % *knownKV != 0)
    defaultHeads = *knownKV;
  if (llvm::Error e =
          take(resolveSize("Hq", "heads", s.headsQ, opts.headsQ, defaultHeads),
               shape.headsQ))
    return std::move(e);
  if (llvm::Error e = take(
          resolveSize("Hkv", "heads-kv", s.headsKV, opts.headsKV, shape.headsQ),
          shape.headsKV))
    return std::move(e);
  if (shape.headsQ % shape.headsKV != 0)
    return makeError("query heads Hq = " + llvm::Twine(shape.headsQ) +
                     " must be a multiple of key/value heads Hkv = " +
                     llvm::Twine(shape.headsKV) +
                     " (set them with --heads and --heads-kv)");
  if (llvm::Error e =
          take(resolveSize("Nq", "seqlen-q", s.seqQ, opts.seqQ, kDefaultSeqLen),
               shape.seqQ))
    return std::move(e);
  if (llvm::Error e =
          take(resolveSize("Nk", "seqlen-k", s.seqK, opts.seqK, kDefaultSeqLen),
               shape.seqK))
    return std::move(e);
  shape.headDim = s.headDim;
  shape.headDimV = s.headDimV;
  if (shape.seqQ > std::numeric_limits<int32_t>::max() ||
      shape.seqK > std::numeric_limits<int32_t>::max())
    return makeError("sequence lengths must fit in i32 (seqlens and layout "
                     "indices are i32)");

  if (config.hasLayout) {
    auto type = dyn_cast_or_null<RankedTensorType>(layoutType);
    if (!type || type.getRank() != 4)
      return makeError("the layout operand must be a rank-4 tensor");
    if (llvm::Error e =
            take(resolveLayoutLead("LB", "B", type.getDimSize(0), shape.batch),
                 shape.layoutBatch))
      return std::move(e);
    if (llvm::Error e = take(
            resolveLayoutLead("LH", "Hq", type.getDimSize(1), shape.headsQ),
            shape.layoutHeads))
      return std::move(e);
    int64_t mq = ceilDiv(shape.seqQ, config.layoutBlockQ);
    int64_t mk = ceilDiv(shape.seqK, config.layoutBlockK);
    auto check = [&](llvm::StringRef name, int64_t got, int64_t want,
                     llvm::StringRef n, int64_t seq, int64_t block,
                     llvm::StringRef flag) -> llvm::Error {
      if (ShapedType::isDynamic(got) || got == want)
        return llvm::Error::success();
      return makeError("the layout's static " + name + " = " +
                       llvm::Twine(got) + " does not match ceil(" + n + " / " +
                       llvm::Twine(block) + ") = " + llvm::Twine(want) +
                       " for " + n + " = " + llvm::Twine(seq) + " (set " + n +
                       " with --" + flag + ")");
    };
    if (llvm::Error e = check("MQ", type.getDimSize(2), mq, "Nq", shape.seqQ,
                              config.layoutBlockQ, "seqlen-q"))
      return std::move(e);
    if (llvm::Error e = check("MK", type.getDimSize(3), mk, "Nk", shape.seqK,
                              config.layoutBlockK, "seqlen-k"))
      return std::move(e);
  }
  return shape;
}

double defaultTolerance(Type elementType) {
  return elementType.isF32() ? 1e-5 : 1e-2;
}

Comparison compareOutputs(const std::vector<double> &got,
                          const std::vector<double> &expected) {
  Comparison c;
  for (size_t i = 0; i < got.size() && i < expected.size(); ++i) {
    double x = got[i], want = expected[i];
    if (std::isnan(x) || std::isnan(want)) {
      if (c.nanCount++ == 0)
        c.firstNan = static_cast<int64_t>(i);
      continue;
    }
    if (std::isinf(x) || std::isinf(want)) {
      if (x != want && c.infMismatches++ == 0)
        c.firstInfMismatch = static_cast<int64_t>(i);
      continue;
    }
    c.maxAbsReference = std::max(c.maxAbsReference, std::fabs(want));
    double error = std::fabs(x - want);
    if (error > c.maxAbsError || c.worst < 0) {
      c.maxAbsError = std::max(c.maxAbsError, error);
      c.worst = static_cast<int64_t>(i);
    }
  }
  // Cannot happen for buffers the harness sizes; never pass it silently.
  c.sizeMismatch = got.size() != expected.size();
  c.zeroReference = c.maxAbsReference < kTiny;
  c.relativeError = c.maxAbsError /
                    (c.zeroReference ? kZeroReferenceScale : c.maxAbsReference);
  return c;
}

int runSpec(SpecFile &spec, const RunOptions &opts, llvm::raw_ostream &out,
            llvm::raw_ostream &err) {
  Run run(spec, opts, out, err);
  int code = run.execute();
  out.flush();
  return code;
}

} // namespace flashc::tool
