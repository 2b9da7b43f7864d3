//===- Manifest.cpp - the kernel directory written by flashc compile ------===//
//
// The one file of the runtime that includes nlohmann/json. It is built with
// exceptions so that a syntax error can be caught and reported; nothing
// escapes this file: every accessor checks the JSON type before reading.
//
//===----------------------------------------------------------------------===//

#include "runtime/Manifest.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <sys/stat.h>

namespace flashc::runtime {

const char *dtypeName(DType type) {
  switch (type) {
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::F32:
    return "f32";
  case DType::I32:
    return "i32";
  }
  return "?";
}

int64_t dtypeSize(DType type) {
  switch (type) {
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::F32:
  case DType::I32:
    return 4;
  }
  return 0;
}

const char *kernelKindName(KernelKind kind) {
  switch (kind) {
  case KernelKind::Forward:
    return "fwd";
  case KernelKind::BackwardPrep:
    return "bwd_prep";
  case KernelKind::BackwardDkDv:
    return "bwd_dkdv";
  case KernelKind::BackwardDq:
    return "bwd_dq";
  }
  return "?";
}

static constexpr ArgRole kAllRoles[] = {
    ArgRole::Q,         ArgRole::K,        ArgRole::V,
    ArgRole::O,         ArgRole::Lse,      ArgRole::DOut,
    ArgRole::Delta,     ArgRole::DQ,       ArgRole::DK,
    ArgRole::DV,        ArgRole::DQAccum,        ArgRole::SeqLensQ, ArgRole::SeqLensK,
    ArgRole::LayoutOffsets, ArgRole::LayoutBlocks, ArgRole::Seed,
    ArgRole::Offset};

const char *argRoleName(ArgRole role) {
  switch (role) {
  case ArgRole::Q:
    return "q";
  case ArgRole::K:
    return "k";
  case ArgRole::V:
    return "v";
  case ArgRole::O:
    return "o";
  case ArgRole::Lse:
    return "lse";
  case ArgRole::DOut:
    return "dout";
  case ArgRole::Delta:
    return "delta";
  case ArgRole::DQ:
    return "dq";
  case ArgRole::DK:
    return "dk";
  case ArgRole::DV:
    return "dv";
  case ArgRole::DQAccum:
    return "dq_accum";
  case ArgRole::SeqLensQ:
    return "seqlens_q";
  case ArgRole::SeqLensK:
    return "seqlens_k";
  case ArgRole::LayoutOffsets:
    return "layout_offsets";
  case ArgRole::LayoutBlocks:
    return "layout_blocks";
  case ArgRole::Seed:
    return "seed";
  case ArgRole::Offset:
    return "offset";
  }
  return "?";
}

int argRoleRank(ArgRole role) {
  switch (role) {
  case ArgRole::Q:
  case ArgRole::K:
  case ArgRole::V:
  case ArgRole::O:
  case ArgRole::DOut:
  case ArgRole::DQ:
  case ArgRole::DK:
  case ArgRole::DV:
  case ArgRole::DQAccum:
    return 4;
  case ArgRole::Lse:
  case ArgRole::Delta:
  case ArgRole::LayoutOffsets:
    return 3;
  case ArgRole::SeqLensQ:
  case ArgRole::SeqLensK:
  case ArgRole::LayoutBlocks:
    return 1;
  case ArgRole::Seed:
  case ArgRole::Offset:
    return 0;
  }
  return 0;
}

bool KernelSpec::takes(ArgRole role) const {
  for (ArgRole r : args)
    if (r == role)
      return true;
  return false;
}

const KernelSpec *Manifest::kernel(KernelKind kind) const {
  for (const KernelSpec &k : kernels)
    if (k.kind == kind)
      return &k;
  return nullptr;
}

std::vector<ArgRole> expectedArgs(const Manifest &m, KernelKind kind) {
  using R = ArgRole;
  std::vector<ArgRole> args;
  switch (kind) {
  case KernelKind::Forward:
    args = {R::Q, R::K, R::V, R::O, R::Lse};
    break;
  case KernelKind::BackwardPrep:
    if (m.deterministic)
      return {R::O, R::DOut, R::Delta};
    return {R::O, R::DOut, R::Delta, R::DQAccum};
  case KernelKind::BackwardDkDv:
    args = {R::Q, R::K, R::V, R::DOut, R::Lse, R::Delta, R::DK, R::DV};
    if (!m.deterministic)
      args.push_back(R::DQAccum);
    break;
  case KernelKind::BackwardDq:
    if (!m.deterministic)
      return {R::DQAccum, R::DQ};
    args = {R::Q, R::K, R::V, R::DOut, R::Lse, R::Delta, R::DQ};
    break;
  }
  // The optional groups of every kernel that reads scores.
  if (m.seqLensQ)
    args.push_back(R::SeqLensQ);
  if (m.seqLensK)
    args.push_back(R::SeqLensK);
  if (m.hasLayout()) {
    args.push_back(R::LayoutOffsets);
    args.push_back(R::LayoutBlocks);
  }
  if (m.hasDropout()) {
    args.push_back(R::Seed);
    args.push_back(R::Offset);
  }
  return args;
}

namespace {

using nlohmann::json;

std::string jsonText(const json &value) {
  std::string text = value.dump();
  if (text.size() > 60)
    text = text.substr(0, 57) + "...";
  return text;
}

std::string rolesText(const std::vector<ArgRole> &roles) {
  std::string text = "[";
  for (size_t i = 0; i < roles.size(); ++i)
    text += (i ? ", " : "") + std::string(argRoleName(roles[i]));
  return text + "]";
}

/// Reads typed fields of one JSON object; the first failure is kept in
/// `status` and later reads do nothing, so a parser reads straight through.
class ObjectReader {
public:
  ObjectReader(const json &object, std::string path, Status &status)
      : object(object), path(std::move(path)), status(status) {}

  /// The value at \p key, or null (after recording an error) when missing.
  const json *get(const char *key) {
    if (!status)
      return nullptr;
    auto it = object.find(key);
    if (it == object.end()) {
      fail(key, "missing (required)");
      return nullptr;
    }
    return &*it;
  }

  bool has(const char *key) const { return object.contains(key); }

  void fail(const char *key, const std::string &what) {
    if (status)
      status = Status::error(name(key) + ": " + what);
  }

  std::string name(const char *key) const {
    return path.empty() ? std::string(key) : path + "." + key;
  }

  void readBool(const char *key, bool &out) {
    if (const json *v = get(key)) {
      if (!v->is_boolean())
        return fail(key, "expected true or false, got " + jsonText(*v));
      out = v->get<bool>();
    }
  }

  void readInt(const char *key, int64_t min, int64_t max, int64_t &out) {
    if (const json *v = get(key))
      readIntValue(*v, name(key), min, max, out);
  }

  void readIntValue(const json &v, const std::string &what, int64_t min,
                    int64_t max, int64_t &out) {
    if (!status)
      return;
    bool isInt = v.is_number_integer();
    bool inRange = false;
    if (isInt && v.is_number_unsigned()) {
      uint64_t u = v.get<uint64_t>();
      inRange = u <= static_cast<uint64_t>(max) &&
                static_cast<int64_t>(u) >= min;
    }
    else if (isInt)
      inRange = v.get<int64_t>() >= min && v.get<int64_t>() <= max;
    if (!isInt || !inRange) {
      status = Status::error(what + ": expected an integer in [" +
                             std::to_string(min) + ", " + std::to_string(max) +
                             "], got " + jsonText(v));
      return;
    }
    out = v.is_number_unsigned() ? static_cast<int64_t>(v.get<uint64_t>())
                                 : v.get<int64_t>();
  }

  void readNumber(const char *key, double &out) {
    if (const json *v = get(key)) {
      if (!v->is_number() || !std::isfinite(v->get<double>()))
        return fail(key, "expected a finite number, got " + jsonText(*v));
      out = v->get<double>();
    }
  }

  void readString(const char *key, std::string &out, bool nonEmpty) {
    if (const json *v = get(key)) {
      if (!v->is_string() || (nonEmpty && v->get<std::string>().empty()))
        return fail(key, std::string("expected a ") +
                             (nonEmpty ? "non-empty " : "") + "string, got " +
                             jsonText(*v));
      out = v->get<std::string>();
    }
  }

  /// Reads a string that must be one of \p choices; returns its index.
  int readChoice(const char *key, const std::vector<const char *> &choices) {
    const json *v = get(key);
    if (!v)
      return -1;
    std::string list;
    for (size_t i = 0; i < choices.size(); ++i) {
      list += std::string(i ? ", " : "") + "\"" + choices[i] + "\"";
      if (v->is_string() && v->get<std::string>() == choices[i])
        return static_cast<int>(i);
    }
    fail(key, "expected one of " + list + ", got " + jsonText(*v));
    return -1;
  }

  /// Reads null or a pair [a, b] of integers in [min, max].
  void readIntPair(const char *key, int64_t min, int64_t max,
                   std::optional<std::pair<int64_t, int64_t>> &out) {
    const json *v = get(key);
    if (!v)
      return;
    out.reset();
    if (v->is_null())
      return;
    if (!v->is_array() || v->size() != 2)
      return fail(key, "expected null or an array of two integers, got " +
                           jsonText(*v));
    int64_t a = 0, b = 0;
    readIntValue((*v)[0], name(key) + "[0]", min, max, a);
    readIntValue((*v)[1], name(key) + "[1]", min, max, b);
    if (status)
      out = std::make_pair(a, b);
  }

private:
  const json &object;
  std::string path;
  Status &status;
};

constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();

void readKernel(const json &value, size_t index, Manifest &m,
                Status &status) {
  std::string path = "kernels[" + std::to_string(index) + "]";
  if (!value.is_object()) {
    status = Status::error(path + ": expected an object, got " +
                           jsonText(value));
    return;
  }
  ObjectReader r(value, path, status);
  KernelSpec k;
  int kind = r.readChoice("kind", {"fwd", "bwd_prep", "bwd_dkdv", "bwd_dq"});
  if (kind >= 0)
    k.kind = static_cast<KernelKind>(kind);
  r.readString("name", k.name, /*nonEmpty=*/true);
  r.readString("ptx", k.ptxFile, /*nonEmpty=*/true);
  if (r.has("cubin"))
    r.readString("cubin", k.cubinFile, /*nonEmpty=*/true);
  r.readInt("block_q", 1, 1024, k.blockQ);
  r.readInt("block_k", 1, 1024, k.blockK);
  r.readInt("threads", 1, 1024, k.threads);
  r.readInt("shared_bytes", 0, kMaxInt32, k.sharedBytes);
  int grid = r.readChoice("grid", {"query_blocks", "key_blocks"});
  if (grid >= 0)
    k.grid = static_cast<GridKind>(grid);
  if (const json *args = r.get("args")) {
    if (!args->is_array())
      return r.fail("args", "expected an array of role names, got " +
                                jsonText(*args));
    for (size_t i = 0; i < args->size(); ++i) {
      const json &a = (*args)[i];
      bool found = false;
      for (ArgRole role : kAllRoles)
        if (a.is_string() && a.get<std::string>() == argRoleName(role)) {
          k.args.push_back(role);
          found = true;
        }
      if (!found) {
        std::string known;
        for (ArgRole role : kAllRoles)
          known += std::string(known.empty() ? "" : " ") + argRoleName(role);
        status = Status::error(path + ".args[" + std::to_string(i) +
                               "]: unknown role " + jsonText(a) +
                               " (known: " + known + ")");
        return;
      }
    }
  }
  if (status)
    m.kernels.push_back(std::move(k));
}

/// Checks what no single key can: kernels against the options and each
/// other.
Status checkConsistency(const Manifest &m) {
  if (m.kernels.empty())
    return Status::error("kernels: expected at least one kernel");
  for (size_t i = 0; i < m.kernels.size(); ++i) {
    const KernelSpec &k = m.kernels[i];
    std::string path = "kernels[" + std::to_string(i) + "] (" +
                       kernelKindName(k.kind) + ")";
    for (size_t j = 0; j < i; ++j)
      if (m.kernels[j].kind == k.kind)
        return Status::error(path + ": a second kernel of kind \"" +
                             kernelKindName(k.kind) + "\" (the first is kernels[" +
                             std::to_string(j) + "])");
    std::vector<ArgRole> expected = expectedArgs(m, k.kind);
    if (k.args != expected)
      return Status::error(path + ".args: expected " + rolesText(expected) +
                           " for the options of this manifest, got " +
                           rolesText(k.args));
    GridKind grid = k.kind == KernelKind::BackwardDkDv ? GridKind::KeyBlocks
                                                        : GridKind::QueryBlocks;
    if (k.grid != grid)
      return Status::error(path + ".grid: expected \"" +
                           (grid == GridKind::KeyBlocks ? "key_blocks"
                                                        : "query_blocks") +
                           "\" for this kind");
    if (m.layoutBlock && k.takes(ArgRole::LayoutOffsets) &&
        (m.layoutBlock->first % k.blockQ != 0 ||
         m.layoutBlock->second % k.blockK != 0))
      return Status::error(
          path + ": layout_block [" + std::to_string(m.layoutBlock->first) +
          ", " + std::to_string(m.layoutBlock->second) +
          "] must be a multiple of the kernel's tiles [block_q, block_k] = [" +
          std::to_string(k.blockQ) + ", " + std::to_string(k.blockK) + "]");
  }
  bool prep = m.kernel(KernelKind::BackwardPrep) != nullptr;
  bool dkdv = m.kernel(KernelKind::BackwardDkDv) != nullptr;
  bool dq = m.kernel(KernelKind::BackwardDq) != nullptr;
  if ((prep || dkdv || dq) && !(prep && dkdv && dq))
    return Status::error(std::string("kernels: the backward pass needs all "
                                     "of bwd_prep, bwd_dkdv and bwd_dq; "
                                     "missing ") +
                         (!prep ? "bwd_prep" : !dkdv ? "bwd_dkdv" : "bwd_dq"));
  if (m.headsQ != kDynamicSize && m.headsKV != kDynamicSize &&
      m.headsQ % m.headsKV != 0)
    return Status::error("static_sizes: heads_q (" + std::to_string(m.headsQ) +
                         ") must be a multiple of heads_kv (" +
                         std::to_string(m.headsKV) + ")");
  return Status::success();
}

} // namespace

Status parseManifest(const std::string &text, const std::string &source,
                     Manifest &out) {
  out = Manifest();
  auto withSource = [&](const Status &s) {
    return Status::error(source + ": " + s.message());
  };
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception &e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line L,
    // column C: ..."; keep the part after the bracketed id.
    std::string what = e.what();
    size_t close = what.find("] ");
    return Status::error(source + ": not valid JSON: " +
                         (close == std::string::npos ? what
                                                     : what.substr(close + 2)));
  }
  if (!root.is_object())
    return Status::error(source + ": expected a JSON object at the top level");

  Status status;
  ObjectReader r(root, "", status);
  Manifest m;
  if (const json *format = r.get("format")) {
    if (!format->is_number_integer() ||
        format->get<int64_t>() != kManifestFormat)
      return Status::error(source + ": format: this runtime reads format " +
                           std::to_string(kManifestFormat) + ", got " +
                           jsonText(*format));
  }
  r.readString("spec", m.spec, /*nonEmpty=*/false);
  int target = r.readChoice("target", {"sm_80", "sm_90", "sm_90a"});
  if (target >= 0)
    m.target = std::vector<const char *>{"sm_80", "sm_90", "sm_90a"}[target];
  int elt = r.readChoice("element_type", {"f16", "bf16", "f32"});
  if (elt >= 0)
    m.elementType = static_cast<DType>(elt);
  r.readInt("head_dim", 1, 256, m.headDim);
  r.readInt("head_dim_v", 1, 256, m.headDimV);
  if (const json *sizes = r.get("static_sizes")) {
    if (!sizes->is_object())
      r.fail("static_sizes", "expected an object, got " + jsonText(*sizes));
    else {
      ObjectReader s(*sizes, "static_sizes", status);
      // -1 marks a dynamic size; 0 is never valid.
      auto readSize = [&](const char *key, int64_t &size) {
        s.readInt(key, -1, kMaxInt32, size);
        if (status && size == 0)
          s.fail(key, "expected -1 (dynamic) or a positive size, got 0");
      };
      readSize("batch", m.batch);
      readSize("heads_q", m.headsQ);
      readSize("heads_kv", m.headsKV);
      readSize("seq_q", m.seqQ);
      readSize("seq_k", m.seqK);
    }
  }
  r.readNumber("scale", m.scale);
  r.readBool("causal", m.causal);
  r.readBool("bottom_right", m.bottomRight);
  r.readIntPair("window", -1, kMaxInt32, m.window);
  if (const json *cap = r.get("softcap")) {
    if (!cap->is_null()) {
      if (!cap->is_number() || !(cap->get<double>() > 0) ||
          !std::isfinite(cap->get<double>()))
        r.fail("softcap", "expected null or a positive number, got " +
                              jsonText(*cap));
      else
        m.softcap = cap->get<double>();
    }
  }
  r.readBool("alibi", m.alibi);
  r.readNumber("dropout_p", m.dropoutP);
  if (status && !(m.dropoutP >= 0.0 && m.dropoutP < 1.0))
    r.fail("dropout_p",
           "expected a probability in [0, 1), got " + jsonText(root["dropout_p"]));
  if (const json *seed = r.get("dropout_seed")) {
    if (!seed->is_number_integer() ||
        (!seed->is_number_unsigned() && seed->get<int64_t>() < 0))
      r.fail("dropout_seed",
             "expected a non-negative integer, got " + jsonText(*seed));
    else
      m.dropoutSeed = seed->get<uint64_t>();
  }
  r.readBool("seqlens_q", m.seqLensQ);
  r.readBool("seqlens_k", m.seqLensK);
  r.readIntPair("layout_block", 1, kMaxInt32, m.layoutBlock);
  r.readBool("custom_mask", m.customMask);
  r.readBool("custom_score", m.customScore);
  r.readBool("deterministic", m.deterministic);
  if (const json *kernels = r.get("kernels")) {
    if (!kernels->is_array())
      r.fail("kernels", "expected an array of kernels, got " +
                            jsonText(*kernels));
    else
      for (size_t i = 0; i < kernels->size() && status; ++i)
        readKernel((*kernels)[i], i, m, status);
  }
  if (!status)
    return withSource(status);
  if (Status s = checkConsistency(m); !s)
    return withSource(s);
  out = std::move(m);
  return Status::success();
}

static bool isRegularFile(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Status loadManifest(const std::string &directory, Manifest &out) {
  out = Manifest();
  std::string path = directory + "/" + kManifestFileName;
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return Status::error(path + ": cannot read the manifest (is " + directory +
                         " a directory written by `flashc compile`?)");
  std::stringstream text;
  text << file.rdbuf();
  Manifest m;
  if (Status s = parseManifest(text.str(), path, m); !s)
    return s;
  for (size_t i = 0; i < m.kernels.size(); ++i) {
    const KernelSpec &k = m.kernels[i];
    for (const std::string *file : {&k.ptxFile, &k.cubinFile}) {
      if (file->empty())
        continue;
      std::string full = directory + "/" + *file;
      if (!isRegularFile(full))
        return Status::error(path + ": kernels[" + std::to_string(i) + "]." +
                             (file == &k.ptxFile ? "ptx" : "cubin") +
                             ": file " + full + " does not exist");
    }
  }
  out = std::move(m);
  return Status::success();
}

} // namespace flashc::runtime
