//===- TestManifest.h - manifests for the runtime's unit tests --*- C++ -*-===//
//
// Builds flashc.json text key by key, so that each test can start from a
// valid manifest and break exactly one thing.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHC_RUNTIME_TESTMANIFEST_H
#define FLASHC_RUNTIME_TESTMANIFEST_H

#include "runtime/Manifest.h"

#include <map>
#include <string>
#include <vector>

namespace flashc::runtime::testing {

/// Keys and raw JSON values; `str()` renders the object.
struct JsonObject {
  std::vector<std::pair<std::string, std::string>> entries;

  void set(const std::string &key, const std::string &raw) {
    for (auto &e : entries)
      if (e.first == key) {
        e.second = raw;
        return;
      }
    entries.push_back({key, raw});
  }
  void erase(const std::string &key) {
    for (size_t i = 0; i < entries.size(); ++i)
      if (entries[i].first == key) {
        entries.erase(entries.begin() + static_cast<long>(i));
        return;
      }
  }
  std::string str() const {
    std::string s = "{";
    for (size_t i = 0; i < entries.size(); ++i)
      s += (i ? ", " : "") + ("\"" + entries[i].first + "\": ") +
           entries[i].second;
    return s + "}";
  }
};

struct ManifestText {
  JsonObject top;
  std::vector<JsonObject> kernels;

  std::string str() const {
    JsonObject all = top;
    std::string list = "[";
    for (size_t i = 0; i < kernels.size(); ++i)
      list += (i ? ", " : "") + kernels[i].str();
    all.set("kernels", list + "]");
    return all.str();
  }
};

inline std::string quoted(const std::string &s) { return "\"" + s + "\""; }

inline std::string argsJson(const std::vector<ArgRole> &roles) {
  std::string s = "[";
  for (size_t i = 0; i < roles.size(); ++i)
    s += (i ? ", " : "") + quoted(argRoleName(roles[i]));
  return s + "]";
}

/// Options of a test manifest.
struct TestOptions {
  bool forward = true, backward = true;
  bool seqLensQ = false, seqLensK = false, layout = false, dropout = false;
  bool deterministic = false;
  std::string elementType = "bf16";
  int64_t headDim = 64, headDimV = 64;
  std::string batch = "-1", headsQ = "4", headsKV = "2", seqQ = "-1",
              seqK = "-1";
};

/// A valid manifest: kernels "fwd" (if forward) and the three backward
/// kernels (if backward), tiles 64 x 64, 128 threads, 32 KiB of shared
/// memory, layout blocks of [128, 128].
inline ManifestText testManifest(const TestOptions &o = TestOptions()) {
  ManifestText m;
  JsonObject &t = m.top;
  t.set("format", "1");
  t.set("spec", quoted("test.mlir"));
  t.set("target", quoted("sm_90a"));
  t.set("element_type", quoted(o.elementType));
  t.set("head_dim", std::to_string(o.headDim));
  t.set("head_dim_v", std::to_string(o.headDimV));
  t.set("static_sizes", "{\"batch\": " + o.batch + ", \"heads_q\": " +
                            o.headsQ + ", \"heads_kv\": " + o.headsKV +
                            ", \"seq_q\": " + o.seqQ + ", \"seq_k\": " +
                            o.seqK + "}");
  t.set("scale", "0.125");
  t.set("causal", "true");
  t.set("bottom_right", "false");
  t.set("window", "null");
  t.set("softcap", "null");
  t.set("alibi", "false");
  t.set("dropout_p", o.dropout ? "0.1" : "0.0");
  t.set("dropout_seed", "1234");
  t.set("seqlens_q", o.seqLensQ ? "true" : "false");
  t.set("seqlens_k", o.seqLensK ? "true" : "false");
  t.set("layout_block", o.layout ? "[128, 128]" : "null");
  t.set("custom_mask", "false");
  t.set("custom_score", "false");
  t.set("deterministic", o.deterministic ? "true" : "false");

  Manifest flags;
  flags.seqLensQ = o.seqLensQ;
  flags.seqLensK = o.seqLensK;
  if (o.layout)
    flags.layoutBlock = std::make_pair(int64_t(128), int64_t(128));
  flags.dropoutP = o.dropout ? 0.1 : 0.0;
  flags.deterministic = o.deterministic;
  auto kernel = [&](KernelKind kind, const char *grid) {
    JsonObject k;
    k.set("kind", quoted(kernelKindName(kind)));
    k.set("name", quoted(std::string("attn_") + kernelKindName(kind)));
    k.set("ptx", quoted("kernels.ptx"));
    k.set("block_q", "64");
    k.set("block_k", "64");
    k.set("threads", "128");
    k.set("shared_bytes", "32768");
    k.set("grid", quoted(grid));
    k.set("args", argsJson(expectedArgs(flags, kind)));
    m.kernels.push_back(k);
  };
  if (o.forward)
    kernel(KernelKind::Forward, "query_blocks");
  if (o.backward) {
    kernel(KernelKind::BackwardPrep, "query_blocks");
    kernel(KernelKind::BackwardDkDv, "key_blocks");
    kernel(KernelKind::BackwardDq, "query_blocks");
  }
  return m;
}

} // namespace flashc::runtime::testing

#endif // FLASHC_RUNTIME_TESTMANIFEST_H
