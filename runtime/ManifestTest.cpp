//===- ManifestTest.cpp - flashc.json parsing and its diagnostics ---------===//

#include "runtime/Manifest.h"
#include "runtime/TestManifest.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <unistd.h>

using namespace flashc::runtime;
using namespace flashc::runtime::testing;

namespace {

Status parse(const ManifestText &m, Manifest &out) {
  return parseManifest(m.str(), "dir/flashc.json", out);
}

/// Parses \p m and expects an error containing \p message.
void expectError(const ManifestText &m, const std::string &message) {
  Manifest out;
  Status s = parse(m, out);
  ASSERT_FALSE(s.ok()) << "accepted: " << m.str();
  EXPECT_NE(s.message().find(message), std::string::npos)
      << "message: " << s.message() << "\nexpected to contain: " << message;
  EXPECT_EQ(s.message().rfind("dir/flashc.json: ", 0), 0u) << s.message();
}

TEST(Manifest, ParsesAValidManifest) {
  TestOptions o;
  o.seqLensQ = o.seqLensK = o.layout = o.dropout = true;
  ManifestText text = testManifest(o);
  text.top.set("window", "[256, 0]");
  text.top.set("softcap", "30.0");
  text.top.set("static_sizes", "{\"batch\": 2, \"heads_q\": 8, \"heads_kv\": "
                               "2, \"seq_q\": -1, \"seq_k\": 1000}");
  text.kernels[0].set("cubin", quoted("kernels.cubin"));
  text.top.set("flashc_version", quoted("ignored"));
  Manifest m;
  Status s = parse(text, m);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(m.target, "sm_90a");
  EXPECT_EQ(m.elementType, DType::BF16);
  EXPECT_EQ(m.headDim, 64);
  EXPECT_EQ(m.batch, 2);
  EXPECT_EQ(m.headsQ, 8);
  EXPECT_EQ(m.headsKV, 2);
  EXPECT_EQ(m.seqQ, kDynamicSize);
  EXPECT_EQ(m.seqK, 1000);
  EXPECT_DOUBLE_EQ(m.scale, 0.125);
  EXPECT_TRUE(m.causal);
  ASSERT_TRUE(m.window.has_value());
  EXPECT_EQ(m.window->first, 256);
  EXPECT_EQ(m.window->second, 0);
  ASSERT_TRUE(m.softcap.has_value());
  EXPECT_DOUBLE_EQ(*m.softcap, 30.0);
  EXPECT_DOUBLE_EQ(m.dropoutP, 0.1);
  EXPECT_EQ(m.dropoutSeed, 1234u);
  ASSERT_TRUE(m.layoutBlock.has_value());
  EXPECT_EQ(m.layoutBlock->first, 128);
  ASSERT_EQ(m.kernels.size(), 4u);
  EXPECT_TRUE(m.hasForward());
  EXPECT_TRUE(m.hasBackward());
  const KernelSpec *fwd = m.kernel(KernelKind::Forward);
  ASSERT_NE(fwd, nullptr);
  EXPECT_EQ(fwd->name, "attn_fwd");
  EXPECT_EQ(fwd->cubinFile, "kernels.cubin");
  EXPECT_EQ(fwd->threads, 128);
  EXPECT_EQ(fwd->sharedBytes, 32768);
  EXPECT_EQ(fwd->grid, GridKind::QueryBlocks);
  std::vector<ArgRole> args = {
      ArgRole::Q,        ArgRole::K,        ArgRole::V,
      ArgRole::O,        ArgRole::Lse,      ArgRole::SeqLensQ,
      ArgRole::SeqLensK, ArgRole::LayoutOffsets, ArgRole::LayoutBlocks,
      ArgRole::Seed,     ArgRole::Offset};
  EXPECT_EQ(fwd->args, args);
  EXPECT_EQ(m.kernel(KernelKind::BackwardDkDv)->grid, GridKind::KeyBlocks);
}

TEST(Manifest, ForwardOnlyAndBackwardOnly) {
  TestOptions o;
  o.backward = false;
  Manifest m;
  ASSERT_TRUE(parse(testManifest(o), m).ok());
  EXPECT_TRUE(m.hasForward());
  EXPECT_FALSE(m.hasBackward());
  o.backward = true;
  o.forward = false;
  ASSERT_TRUE(parse(testManifest(o), m).ok());
  EXPECT_FALSE(m.hasForward());
  EXPECT_TRUE(m.hasBackward());
}

TEST(Manifest, ExpectedArgsFollowTheKernelABI) {
  Manifest m;
  using R = ArgRole;
  EXPECT_EQ(expectedArgs(m, KernelKind::BackwardPrep),
            (std::vector<ArgRole>{R::O, R::DOut, R::Delta, R::DQAccum}));
  EXPECT_EQ(expectedArgs(m, KernelKind::BackwardDkDv),
            (std::vector<ArgRole>{R::Q, R::K, R::V, R::DOut, R::Lse,
                                  R::Delta, R::DK, R::DV, R::DQAccum}));
  m.seqLensK = true;
  m.dropoutP = 0.5;
  EXPECT_EQ(expectedArgs(m, KernelKind::BackwardDkDv),
            (std::vector<ArgRole>{R::Q, R::K, R::V, R::DOut, R::Lse,
                                  R::Delta, R::DK, R::DV, R::DQAccum,
                                  R::SeqLensK, R::Seed, R::Offset}));
  // bwd_prep and bwd_dq never read scores: no optional groups.
  EXPECT_EQ(expectedArgs(m, KernelKind::BackwardPrep).size(), 4u);
  EXPECT_EQ(expectedArgs(m, KernelKind::BackwardDq),
            (std::vector<ArgRole>{R::DQAccum, R::DQ}));
  // Deterministic: no dq_accum; bwd_dq recomputes the scores.
  m.deterministic = true;
  EXPECT_EQ(expectedArgs(m, KernelKind::BackwardPrep),
            (std::vector<ArgRole>{R::O, R::DOut, R::Delta}));
  EXPECT_EQ(expectedArgs(m, KernelKind::BackwardDq),
            (std::vector<ArgRole>{R::Q, R::K, R::V, R::DOut, R::Lse,
                                  R::Delta, R::DQ, R::SeqLensK, R::Seed,
                                  R::Offset}));
}

TEST(Manifest, SyntaxErrorNamesLineAndColumn) {
  Manifest m;
  Status s = parseManifest("{\n  \"format\": 1,\n  \"target\" \"sm_90\"\n}",
                           "x/flashc.json", m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("x/flashc.json: not valid JSON"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("line 3"), std::string::npos) << s.message();
}

TEST(Manifest, TopLevelMustBeAnObject) {
  Manifest m;
  Status s = parseManifest("[1, 2]", "f.json", m);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "f.json: expected a JSON object at the top level");
}

TEST(Manifest, RejectsWrongFormat) {
  ManifestText t = testManifest();
  t.top.set("format", "2");
  expectError(t, "format: this runtime reads format 1, got 2");
}

TEST(Manifest, RejectsMissingKeys) {
  for (const char *key :
       {"target", "element_type", "head_dim", "static_sizes", "scale",
        "causal", "window", "softcap", "dropout_p", "layout_block", "kernels",
        "deterministic"}) {
    ManifestText t = testManifest();
    t.top.erase(key);
    if (std::string(key) == "kernels")
      t.kernels.clear(), t.top.set("kernels", "[]");
    if (std::string(key) == "kernels")
      expectError(t, "kernels: expected at least one kernel");
    else
      expectError(t, std::string(key) + ": missing (required)");
  }
  ManifestText t = testManifest();
  t.kernels[0].erase("threads");
  expectError(t, "kernels[0].threads: missing (required)");
  t = testManifest();
  t.top.set("static_sizes", "{\"batch\": -1, \"heads_q\": 4, \"heads_kv\": "
                            "2, \"seq_q\": -1}");
  expectError(t, "static_sizes.seq_k: missing (required)");
}

TEST(Manifest, RejectsBadValues) {
  struct Case {
    const char *key, *value, *message;
  } cases[] = {
      {"target", "\"sm_70\"",
       "target: expected one of \"sm_80\", \"sm_90\", \"sm_90a\", got "
       "\"sm_70\""},
      {"element_type", "\"f8\"", "element_type: expected one of \"f16\", "
                                 "\"bf16\", \"f32\", got \"f8\""},
      {"head_dim", "512", "head_dim: expected an integer in [1, 256], got 512"},
      {"head_dim_v", "64.5",
       "head_dim_v: expected an integer in [1, 256], got 64.5"},
      {"scale", "\"big\"", "scale: expected a finite number, got \"big\""},
      {"causal", "1", "causal: expected true or false, got 1"},
      {"window", "[1]", "window: expected null or an array of two integers"},
      {"window", "[1, \"x\"]", "window[1]: expected an integer"},
      {"softcap", "-1", "softcap: expected null or a positive number, got -1"},
      {"dropout_p", "1.0", "dropout_p: expected a probability in [0, 1)"},
      {"dropout_seed", "-3",
       "dropout_seed: expected a non-negative integer, got -3"},
      {"layout_block", "[0, 64]",
       "layout_block[0]: expected an integer in [1, 2147483647], got 0"},
      {"kernels", "{}", "kernels: expected an array of kernels"},
  };
  for (const Case &c : cases) {
    ManifestText t = testManifest();
    if (std::string(c.key) == "kernels") {
      Manifest m;
      JsonObject top = t.top;
      top.set("kernels", c.value);
      Status s = parseManifest(top.str(), "dir/flashc.json", m);
      ASSERT_FALSE(s.ok());
      EXPECT_NE(s.message().find(c.message), std::string::npos) << s.message();
      continue;
    }
    t.top.set(c.key, c.value);
    expectError(t, c.message);
  }
}

TEST(Manifest, RejectsBadStaticSizes) {
  ManifestText t = testManifest();
  t.top.set("static_sizes", "{\"batch\": 0, \"heads_q\": 4, \"heads_kv\": 2, "
                            "\"seq_q\": -1, \"seq_k\": -1}");
  expectError(t, "static_sizes.batch: expected -1 (dynamic) or a positive "
                 "size, got 0");
  TestOptions o;
  o.headsQ = "6";
  o.headsKV = "4";
  expectError(testManifest(o), "static_sizes: heads_q (6) must be a multiple "
                               "of heads_kv (4)");
}

TEST(Manifest, RejectsBadKernels) {
  struct Case {
    const char *key, *value, *message;
  } cases[] = {
      {"kind", "\"bwd\"", "kernels[0].kind: expected one of \"fwd\", "
                          "\"bwd_prep\", \"bwd_dkdv\", \"bwd_dq\", got "
                          "\"bwd\""},
      {"name", "\"\"", "kernels[0].name: expected a non-empty string"},
      {"ptx", "3", "kernels[0].ptx: expected a non-empty string, got 3"},
      {"cubin", "\"\"", "kernels[0].cubin: expected a non-empty string"},
      {"threads", "2048",
       "kernels[0].threads: expected an integer in [1, 1024], got 2048"},
      {"block_q", "0", "kernels[0].block_q: expected an integer in [1, 1024]"},
      {"shared_bytes", "-1",
       "kernels[0].shared_bytes: expected an integer in [0, 2147483647]"},
      {"grid", "\"rows\"", "kernels[0].grid: expected one of "
                           "\"query_blocks\", \"key_blocks\", got \"rows\""},
      {"grid", "\"key_blocks\"",
       "kernels[0] (fwd).grid: expected \"query_blocks\" for this kind"},
      {"args", "\"q\"", "kernels[0].args: expected an array of role names"},
      {"args", "[\"q\", \"key\"]",
       "kernels[0].args[1]: unknown role \"key\" (known: q k v o lse dout "
       "delta dq dk dv dq_accum seqlens_q seqlens_k layout_offsets "
       "layout_blocks seed "
       "offset)"},
      {"args", "[\"q\", \"k\", \"v\", \"lse\", \"o\"]",
       "kernels[0] (fwd).args: expected [q, k, v, o, lse] for the options of "
       "this manifest, got [q, k, v, lse, o]"},
  };
  for (const Case &c : cases) {
    ManifestText t = testManifest();
    t.kernels[0].set(c.key, c.value);
    expectError(t, c.message);
  }
  // Kernels not an object.
  ManifestText t = testManifest();
  Manifest m;
  JsonObject top = t.top;
  top.set("kernels", "[42]");
  Status s = parseManifest(top.str(), "dir/flashc.json", m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("kernels[0]: expected an object, got 42"),
            std::string::npos)
      << s.message();
}

TEST(Manifest, ArgsMustMatchTheOptions) {
  // The spec has sequence lengths but the kernel does not take them.
  ManifestText t = testManifest();
  t.top.set("seqlens_q", "true");
  expectError(t, "kernels[0] (fwd).args: expected [q, k, v, o, lse, "
                 "seqlens_q] for the options of this manifest, got [q, k, v, "
                 "o, lse]");
  t = testManifest();
  t.top.set("dropout_p", "0.2");
  expectError(t, "expected [q, k, v, o, lse, seed, offset]");
}

TEST(Manifest, RejectsDuplicateAndMissingKernels) {
  ManifestText t = testManifest();
  t.kernels[2] = t.kernels[1]; // two bwd_prep, no bwd_dkdv
  expectError(t, "kernels[2] (bwd_prep): a second kernel of kind "
                 "\"bwd_prep\" (the first is kernels[1])");
  t = testManifest();
  t.kernels.pop_back(); // no bwd_dq
  expectError(t, "kernels: the backward pass needs all of bwd_prep, bwd_dkdv "
                 "and bwd_dq; missing bwd_dq");
}

TEST(Manifest, LayoutBlockMustBeAMultipleOfTheTiles) {
  TestOptions o;
  o.layout = true;
  ManifestText t = testManifest(o);
  t.top.set("layout_block", "[96, 128]");
  expectError(t, "kernels[0] (fwd): layout_block [96, 128] must be a "
                 "multiple of the kernel's tiles [block_q, block_k] = [64, "
                 "64]");
}

TEST(Manifest, LoadChecksTheFilesItNames) {
  char dirTemplate[] = "/tmp/flashc-manifest-XXXXXX";
  ASSERT_NE(mkdtemp(dirTemplate), nullptr);
  std::string dir = dirTemplate;
  Manifest m;
  Status s = loadManifest(dir, m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot read the manifest"), std::string::npos);

  std::ofstream(dir + "/flashc.json") << testManifest().str();
  s = loadManifest(dir, m);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), dir + "/flashc.json: kernels[0].ptx: file " + dir +
                             "/kernels.ptx does not exist");
  std::ofstream(dir + "/kernels.ptx") << "// ptx";
  s = loadManifest(dir, m);
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(m.kernels.size(), 4u);
  std::remove((dir + "/flashc.json").c_str());
  std::remove((dir + "/kernels.ptx").c_str());
  rmdir(dir.c_str());
}

} // namespace
