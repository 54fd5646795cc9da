//===- ArtifactSchemaTest.cpp - manifest.json written and read back -------===//
//
// The compiler writes manifest.json with schema::toJson and the runtime
// reads it with schema::fromJson: everything a manifest can hold survives
// the round trip, and a damaged field is named when read.
//
//===----------------------------------------------------------------------===//
#include "TestManifest.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/support/Error.h"
#include "schema/ArtifactJson.h"

#include <gtest/gtest.h>

#include <functional>

using namespace llmc;
using namespace llmc::schema;

namespace {

/// A manifest with every optional part filled.
Manifest fullManifest() {
  Manifest m = test::tinyManifest();
  Model model;
  model.architecture = "LlamaForCausalLM";
  model.dtype = "bfloat16";
  model.hiddenSize = 2;
  model.numLayers = 1;
  model.numHeads = 1;
  model.numKvHeads = 1;
  model.headDim = 2;
  model.vocabSize = 8;
  model.maxPositionEmbeddings = 16;
  model.eosTokenIds = {0, 7};
  model.bosTokenId = 1;
  m.model = model;
  m.configJson = R"({"hidden_size":2,"model_type":"llama"})";
  m.program.fingerprint = "0123456789abcdef";
  m.tokenizerFiles = {"tokenizer.json"};
  WeightRecipe q, k, qk;
  q.name = "q";
  q.sources = {"m.q", "q"};
  q.transform = WeightTransform::Transpose;
  q.shape = {2, 2};
  q.shard = Shard{1, 1, 2};
  k.name = "k";
  k.sources = {"k"};
  k.shape = {2, 2};
  qk.name = "q+k";
  qk.transform = WeightTransform::Concat;
  qk.shape = {4, 2};
  qk.parts = {q, k};
  qk.offset = 64;
  m.weights.push_back(qk);
  m.weightsBytes = 128;
  m.plan[1].layer = 0;
  m.plan[0].extent = Extent{3, StepDim::Tokens};
  return m;
}

TEST(ArtifactSchema, RoundTripsEveryField) {
  Manifest m = fullManifest();
  std::string text = toJsonText(m);
  Manifest back = fromJsonText(text, "manifest.json");
  EXPECT_EQ(back, m);
  // And the text is stable: writing what was read gives the same bytes.
  EXPECT_EQ(toJsonText(back), text);
}

TEST(ArtifactSchema, RoundTripsACudaManifest) {
  Manifest m = fullManifest();
  m.target = Target::Cuda;
  m.cpu.clear();
  m.arch = "sm_90a";
  m.program.library = "kernels.ptx";
  m.program.abiVersion = kCudaKernelAbiVersion;
  m.program.cubins = {Cubin{"sm_90a", "kernels.sm_90a.cubin", "00ff"}};
  for (PlanEntry &e : m.plan)
    e.threads = 128;
  std::string text = toJsonText(m);
  EXPECT_EQ(fromJsonText(text, "manifest.json"), m);
  nlohmann::ordered_json j = toJson(m);
  EXPECT_EQ(j["arch"], "sm_90a");
  EXPECT_FALSE(j.contains("cpu"));
  EXPECT_EQ(j["program"]["cubins"][0]["file"], "kernels.sm_90a.cubin");
  EXPECT_EQ(j["plan"][0]["threads"], 128);
  // A format 2 (cpu) manifest still reads.
  nlohmann::ordered_json old = toJson(fullManifest());
  old["format_version"] = 2;
  EXPECT_EQ(fromJson(old, "m.json").cpu, fullManifest().cpu);
  // Threads per block are checked.
  j["plan"][0]["threads"] = 100;
  try {
    fromJson(j, "m.json");
    FAIL() << "100 threads per block accepted";
  } catch (const schema::Error &e) {
    EXPECT_EQ(std::string(e.what()),
              "m.json: field 'plan[0].threads': threads per block must be a "
              "multiple of 32 up to 1024, got 100");
  }
}

TEST(ArtifactSchema, SpellsEnumsAndExtentsByName) {
  nlohmann::ordered_json j = toJson(fullManifest());
  EXPECT_EQ(j["format"], "llmc-artifact");
  EXPECT_EQ(j["format_version"], kFormatVersion);
  EXPECT_EQ(j["plan"][0]["extent"]["dim"], "tokens");
  EXPECT_EQ(j["plan"][0]["extent"]["scale"], 3);
  EXPECT_EQ(j["plan"][1]["extent"], "tokens");
  EXPECT_EQ(j["plan"][2]["extent"], 8);
  EXPECT_EQ(j["plan"][2]["args"][1]["input"], "block_tables");
  EXPECT_EQ(j["plan"][2]["args"][1]["shape"],
            nlohmann::ordered_json::parse(R"(["seqs", "max_blocks"])"));
  EXPECT_EQ(j["plan"][2]["args"][0]["space"], "kv");
  EXPECT_EQ(j["weights"]["tensors"][1]["transform"], "concat");
  EXPECT_EQ(j["weights"]["tensors"][1]["parts"][0]["shard"]["axis"], 1);
}

std::string readError(const std::string &text) {
  try {
    fromJsonText(text, "m.json");
  } catch (const schema::Error &e) {
    return e.what();
  }
  return "";
}

/// The manifest's JSON with one edit applied.
std::string edited(const std::function<void(nlohmann::ordered_json &)> &edit) {
  nlohmann::ordered_json j = toJson(fullManifest());
  edit(j);
  return j.dump();
}

TEST(ArtifactSchema, TheBindingDigestCoversWhatTheProgramDependsOn) {
  Manifest m = fullManifest();
  std::string d = bindingDigest(m);
  EXPECT_EQ(d.size(), 16u);
  // Unchanged through manifest.json, and by what only describes the files.
  EXPECT_EQ(bindingDigest(fromJsonText(toJsonText(m), "m.json")), d);
  Manifest files = m;
  files.program.fingerprint = "0123456789abcdef";
  files.tokenizerFiles = {"tokenizer.json"};
  files.fileFingerprints = {{"tokenizer.json", "00"}};
  files.configJson = R"({"hidden_size": 8})";
  EXPECT_EQ(bindingDigest(files), d);
  // Changed by every size the kernels were built for.
  std::vector<std::function<void(Manifest &)>> edits = {
      [](Manifest &x) { x.maxSeqLen += 1; },
      [](Manifest &x) { x.maxBatchTokens *= 2; },
      [](Manifest &x) { x.arenaBytes += 64; },
      [](Manifest &x) { x.vocabSize += 1; },
      [](Manifest &x) { x.kvCaches[0].blockSize *= 2; },
      [](Manifest &x) { x.weights[0].offset += 64; },
      [](Manifest &x) { x.plan[0].args[0].offset += 64; },
      [](Manifest &x) { x.program.kernels[0] = "other"; },
      [](Manifest &x) { x.formatVersion = 4; },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    Manifest e = m;
    edits[i](e);
    EXPECT_NE(bindingDigest(e), d) << "edit " << i;
  }
}

TEST(ArtifactSchema, NamesTheBrokenField) {
  EXPECT_EQ(readError("[1, 2]"), "m.json: expected a JSON object");
  EXPECT_EQ(readError("{"), "m.json: not valid JSON (corrupt artifact?)");
  EXPECT_EQ(readError(edited([](auto &j) { j["format"] = "other"; })),
            "m.json: field 'format': not an llmc artifact");
  EXPECT_EQ(
      readError(edited([](auto &j) { j["format_version"] = 1; })),
      "m.json: field 'format_version': artifact format 1 but this llm-run "
      "reads formats 2 to 6; recompile the model with a matching llmc");
  EXPECT_EQ(readError(edited([](auto &j) { j["target"] = "tpu"; })),
            "m.json: field 'target': unknown target 'tpu'");
  EXPECT_EQ(
      readError(edited([](auto &j) { j["limits"].erase("max_seq_len"); })),
      "m.json: field 'limits.max_seq_len': missing");
  EXPECT_EQ(readError(edited([](auto &j) { j["arena_bytes"] = "big"; })),
            "m.json: field 'arena_bytes': expected an integer");
  EXPECT_EQ(readError(edited([](auto &j) { j["vocab_size"] = 0; })),
            "m.json: field 'vocab_size': must be at least 1, got 0");
  EXPECT_EQ(
      readError(
          edited([](auto &j) { j["plan"][2]["args"][0]["space"] = "gpu"; })),
      "m.json: field 'plan[2].args[0].space': unknown buffer space 'gpu'");
  EXPECT_EQ(readError(edited(
                [](auto &j) { j["plan"][0]["args"][1]["shape"][0] = "rows"; })),
            "m.json: field 'plan[0].args[1].shape': unknown step dimension "
            "'rows'");
  EXPECT_EQ(
      readError(edited([](auto &j) { j["plan"][0]["kind"] = "broadcast"; })),
      "m.json: field 'plan[0].kind': unknown plan entry kind "
      "'broadcast'");
  EXPECT_EQ(readError(edited([](auto &j) {
              j["weights"]["tensors"][1]["parts"][1]["shape"][1] = 3;
            })),
            "m.json: field 'weights.tensors[1].parts[1].shape': does not "
            "stack along dimension 0 into q+k");
  EXPECT_EQ(readError(edited([](auto &j) {
              j["weights"]["tensors"][1]["shard"] = {
                  {"axis", 0}, {"index", 0}, {"count", 2}};
            })),
            "m.json: field 'weights.tensors[1].shard': a concat is not "
            "sharded; its parts are");
  EXPECT_EQ(readError(edited([](auto &j) {
              j["weights"]["tensors"][0]["sources"] =
                  nlohmann::ordered_json::array();
            })),
            "m.json: field 'weights.tensors[0].sources': is empty");
  EXPECT_EQ(readError(edited([](auto &j) {
              j["weights"]["tensors"][1]["parts"][0]["shard"]["index"] = 2;
            })),
            "m.json: field 'weights.tensors[1].parts[0].shard.index': must be "
            "below count");
}

TEST(ArtifactSchema, FingerprintIsFnv1a64) {
  // The published FNV-1a 64 test vectors.
  EXPECT_EQ(fingerprint("", 0), "cbf29ce484222325");
  EXPECT_EQ(fingerprint("a", 1), "af63dc4c8601ec8c");
  EXPECT_EQ(fingerprint("foobar", 6), "85944171f73967e8");
}

TEST(ArtifactSchema, KernelSymbolsCarryThePrefix) {
  EXPECT_EQ(kernelSymbol("linear_3"), "llmc_kernel_linear_3");
}

} // namespace
