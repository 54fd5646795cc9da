//===- ArtifactTest.cpp - the loader's checks of a manifest and its files -===//
#include "runtime/artifact/Artifact.h"
#include "TestManifest.h"
#include "runtime/hal/cpu/CpuDevice.h"
#include "runtime/support/Error.h"
#include "schema/ArtifactJson.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace llmc;
using namespace llmc::schema;
namespace fs = std::filesystem;

namespace {

std::string planError(const Manifest &m) {
  try {
    rt::checkPlan(m, "m.json");
  } catch (const rt::Error &e) {
    return e.what();
  }
  return "";
}

TEST(Artifact, AcceptsAConsistentPlan) {
  EXPECT_EQ(planError(test::tinyManifest()), "");
}

TEST(Artifact, RefusesBuffersOutsideTheirSpace) {
  Manifest m = test::tinyManifest();
  m.plan[0].args[2].offset = 64; // arena [tokens, 2] at 64 of 64 bytes
  EXPECT_EQ(planError(m),
            "m.json: plan[0]: argument 2 (arena [tokens, 2]): offset 64 + 64 "
            "bytes lies outside the 64 bytes of the space");
  m = test::tinyManifest();
  m.plan[0].args[0].offset = 64; // the table [8, 2] reaches byte 128
  EXPECT_EQ(planError(m),
            "m.json: plan[0]: argument 0 (weights [8, 2]): offset 64 + 64 "
            "bytes lies outside the 64 bytes of the space");
  m = test::tinyManifest();
  m.plan[0].args[2].offset = 4;
  EXPECT_EQ(planError(m), "m.json: plan[0]: argument 2 (arena [tokens, 2]): "
                          "offset 4 is not 64-byte aligned");
}

TEST(Artifact, RefusesBuffersOfTheWrongShape) {
  Manifest m = test::tinyManifest();
  m.plan[1].args[0].cache = 2;
  EXPECT_EQ(planError(m), "m.json: plan[1]: argument 0 (kv [kv_blocks, 4, "
                          "1, 2]): no such KV cache");
  m = test::tinyManifest();
  m.plan[1].args[0].shape[1] = Dim::of(8);
  EXPECT_EQ(planError(m), "m.json: plan[1]: argument 0 (kv [kv_blocks, 8, 1, "
                          "2]): does not match the cache's layout "
                          "[kv_blocks, 4, 1, 2]");
  m = test::tinyManifest();
  m.plan[2].args[1].shape = {Dim::of(StepDim::Tokens)};
  EXPECT_EQ(planError(m), "m.json: plan[2]: argument 1 (input [tokens]): step "
                          "input 'block_tables' is i32 [seqs, max_blocks]");
  m = test::tinyManifest();
  m.plan[2].args[5].shape[1] = Dim::of(9);
  EXPECT_EQ(planError(m), "m.json: plan[2]: argument 5 (output [logits_rows, "
                          "9]): the logits are f32 [logits_rows, 8]");
  m = test::tinyManifest();
  m.plan[0].args[2].shape[0] = Dim::of(StepDim::Seqs);
  EXPECT_EQ(planError(m), "m.json: plan[0]: argument 2 (arena [seqs, 2]): "
                          "only step inputs and KV caches vary with sequences "
                          "and blocks");
  m = test::tinyManifest();
  m.plan[0].args[0].shape[0] = Dim::of(StepDim::Tokens);
  EXPECT_NE(planError(m).find("weights have static shapes"), std::string::npos);
}

TEST(Artifact, RefusesUnknownKernelsAndEmptyWork) {
  Manifest m = test::tinyManifest();
  m.plan[1].kernel = "other";
  EXPECT_EQ(planError(m),
            "m.json: plan[1]: kernel 'other' is not in program.kernels");
  m = test::tinyManifest();
  m.plan[2].extent = Extent{0, std::nullopt};
  EXPECT_EQ(planError(m), "m.json: plan[2]: a launch needs at least one work "
                          "item per step size");
  m = test::tinyManifest();
  m.weights[0].offset = 32;
  EXPECT_EQ(planError(m),
            "m.json: weight 'table' lies outside weights.bytes or is "
            "unaligned");
  // Overlapping recipes, and shapes whose element count would overflow.
  m = test::tinyManifest();
  m.weightsBytes = 4096;
  m.weights.push_back(m.weights[0]);
  m.weights.back().name = "copy";
  EXPECT_EQ(planError(m),
            "m.json: weights 'table' and 'copy' overlap in the weight buffer");
  m.weights.back().offset = 1024;
  EXPECT_EQ(planError(m), "");
  m.weights.back().shape = {int64_t(1) << 40, int64_t(1) << 40};
  EXPECT_EQ(planError(m), "m.json: weight 'copy': shape of more elements "
                          "than any tensor can hold");
  m = test::tinyManifest();
  m.kvCaches[1].blockSize = 8;
  EXPECT_EQ(planError(m), "m.json: field 'kv.caches': every cache must be f32, "
                          "f16 or bf16 with one block size");
  m = test::tinyManifest();
  m.kvCaches[0].dtype = schema::DType::I32;
  EXPECT_EQ(planError(m), "m.json: field 'kv.caches': every cache must be f32, "
                          "f16 or bf16 with one block size");
}

TEST(Artifact, ChecksPipelineSendsAndReceives) {
  // Rank 0 of pp 2: it may send to stage 1, never receive from stage -1.
  Manifest m = test::tinyManifest();
  m.pp = 2;
  m.ranks = {RankPart{}, RankPart{}};
  PlanEntry send;
  send.kind = EntryKind::Send;
  send.peer = 1;
  send.args = {m.plan[0].args[2]};
  m.plan.push_back(send);
  EXPECT_EQ(planError(m), "");
  m.plan.back().peer = 0;
  EXPECT_EQ(planError(m), "m.json: plan[3]: a send with stage 0 from stage 0 "
                          "of pp 2 (a stage sends to the next and receives "
                          "from the one before)");
  m.plan.back().kind = EntryKind::Recv;
  m.plan.back().peer = 1;
  EXPECT_NE(planError(m).find("a recv with stage 1 from stage 0"),
            std::string::npos);
  // Stage 1 receives from stage 0, into the arena only.
  m.rank = 1;
  m.plan.back().peer = 0;
  EXPECT_EQ(planError(m), "");
  m.plan.back().args[0] = m.plan[2].args[5]; // the logits
  EXPECT_EQ(planError(m), "m.json: plan[3]: a recv takes one arena buffer");
  // Without pipeline stages there is nothing to send to.
  m = test::tinyManifest();
  m.plan.push_back(send);
  EXPECT_NE(planError(m).find("of pp 1"), std::string::npos);
}

/// An artifact directory with `m`'s manifest and a program file of `lib`.
std::string writeArtifact(const std::string &name, Manifest m,
                          const std::string &lib, bool fingerprintIt = true) {
  fs::path dir = fs::path(::testing::TempDir()) / name;
  fs::create_directories(dir);
  if (fingerprintIt)
    m.program.fingerprint = fingerprint(lib.data(), lib.size());
  std::ofstream(dir / "libkernels.so", std::ios::binary) << lib;
  std::ofstream(dir / "manifest.json") << toJsonText(m);
  return dir.string();
}

std::string loadError(const std::string &dir) {
  try {
    rt::Artifact artifact(dir);
  } catch (const rt::Error &e) {
    return e.what();
  }
  return "";
}

TEST(Artifact, LoadsAndChecksTheProgramFingerprint) {
  std::string dir = writeArtifact("ok.llmc", test::tinyManifest(), "kernels");
  rt::Artifact artifact(dir);
  EXPECT_EQ(artifact.manifest().plan.size(), 3u);
  EXPECT_EQ(artifact.programPath(), (fs::path(dir) / "libkernels.so").string());

  Manifest m = test::tinyManifest();
  m.program.fingerprint = "0000000000000000";
  std::string bad = writeArtifact("bad.llmc", m, "kernels", false);
  EXPECT_EQ(loadError(bad), (fs::path(bad) / "libkernels.so").string() +
                                ": corrupt or replaced: fingerprint " +
                                fingerprint("kernels", 7) +
                                " does not match the manifest's "
                                "0000000000000000");
}

TEST(Artifact, RefusesWhatIsNotAnArtifact) {
  EXPECT_EQ(loadError("/nonexistent.llmc"),
            "/nonexistent.llmc: not an artifact directory (llmc -o writes "
            "one)");
  fs::path empty = fs::path(::testing::TempDir()) / "empty.llmc";
  fs::create_directories(empty);
  EXPECT_EQ(loadError(empty.string()), (empty / "manifest.json").string() +
                                           ": missing (not an llmc artifact?)");
  Manifest m = test::tinyManifest();
  m.program.library = "../elsewhere.so";
  std::string dir = writeArtifact("escape.llmc", m, "x");
  EXPECT_NE(loadError(dir).find("is not a file name in the artifact"),
            std::string::npos);
}

TEST(Artifact, AProgramMustNameItsManifest) {
  std::string dir = writeArtifact("binding.llmc", test::tinyManifest(), "x");
  rt::Artifact artifact(dir);
  auto bindingError = [&](const std::string &digest) {
    try {
      artifact.checkBinding(digest);
    } catch (const rt::Error &e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(bindingError(artifact.bindingDigest()), "");
  // A program of an llmc before format 5 names none: recompile.
  EXPECT_NE(bindingError("").find("names no manifest (built by an older "
                                  "llmc); recompile the model with this llmc"),
            std::string::npos);
  EXPECT_NE(bindingError("0123456789abcdef")
                .find("the program was built for manifest 0123456789abcdef "
                      "and this one is " +
                      artifact.bindingDigest()),
            std::string::npos);
}

TEST(Artifact, TheCpuDeviceChecksTheKernelAbi) {
  // The loader reads any kernel ABI; the device that calls the kernels
  // refuses one it does not speak, before loading the library.
  Manifest m = test::tinyManifest();
  m.program.abiVersion = 7;
  std::string dir = writeArtifact("abi.llmc", m, "not a library");
  rt::Artifact artifact(dir);
  try {
    rt::createCpuDevice(artifact, 1);
    FAIL() << "a device for kernel ABI 7";
  } catch (const rt::Error &e) {
    EXPECT_EQ(std::string(e.what()),
              dir + "/manifest.json: field 'program.abi_version': kernel ABI "
                    "7 but this llm-run calls ABI 1");
  }
  // With its ABI, the junk library is refused by the dynamic loader.
  dir = writeArtifact("junk.llmc", test::tinyManifest(), "not a library");
  rt::Artifact junk(dir);
  try {
    rt::createCpuDevice(junk, 1);
    FAIL() << "loaded a junk library";
  } catch (const rt::Error &e) {
    EXPECT_NE(std::string(e.what()).find("libkernels.so: cannot load"),
              std::string::npos)
        << e.what();
  }
}

} // namespace
