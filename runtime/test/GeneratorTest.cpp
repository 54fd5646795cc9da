//===- GeneratorTest.cpp - the generator against a fake device ------------===//
#include "runtime/generate/Generator.h"
#include "FakeDevice.h"
#include "TestManifest.h"

#include <gtest/gtest.h>

using namespace llmc;
using namespace llmc::rt;

namespace {

/// What a correct engine generates after `prompt`: greedy over the fake
/// device's logits, `n` tokens.
std::vector<int32_t> expected(std::vector<int32_t> prompt, int64_t n,
                              int64_t vocab) {
  std::vector<int32_t> out;
  while (static_cast<int64_t>(out.size()) < n) {
    int32_t t = test::FakeDevice::next(prompt, vocab);
    out.push_back(t);
    prompt.push_back(t);
  }
  return out;
}

struct Rig {
  schema::Manifest manifest = test::tinyManifest();
  test::FakeDevice device{manifest};
  Rig(int64_t maxBatchTokens, int64_t blocks, int64_t maxSeqLen = 16) {
    manifest.maxBatchTokens = maxBatchTokens;
    manifest.maxSeqLen = maxSeqLen;
    device.allocate(blocks);
  }
};

TEST(Generator, GeneratesOnePrompt) {
  Rig s(8, 8);
  Generator gen(s.manifest, s.device);
  GenerateOptions opts;
  opts.maxNewTokens = 6;
  opts.ignoreEos = true;
  std::vector<int32_t> prompt = {1, 2, 3};
  std::vector<GenerateResult> r = gen.generateBatch({prompt}, opts);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].tokens, expected(prompt, 6, 8));
  EXPECT_EQ(r[0].stopReason, "max_tokens");
  EXPECT_EQ(s.device.steps, 6); // one prefill step, five decode steps
}

TEST(Generator, BatchesAndChunksPrefills) {
  // A 3-token budget: prompts of 5, 2 and 4 tokens are prefilled in
  // chunks that span sequences, then decoded together.
  Rig s(3, 16);
  Generator gen(s.manifest, s.device);
  GenerateOptions opts;
  opts.maxNewTokens = 4;
  opts.ignoreEos = true;
  std::vector<std::vector<int32_t>> prompts = {
      {1, 2, 3, 4, 5}, {6, 7}, {3, 3, 3, 3}};
  std::vector<int32_t> streamed;
  std::vector<GenerateResult> r =
      gen.generateBatch(prompts, opts, [&](size_t seq, int32_t) {
        streamed.push_back(static_cast<int32_t>(seq));
      });
  ASSERT_EQ(r.size(), 3u);
  for (size_t i = 0; i < prompts.size(); ++i)
    EXPECT_EQ(r[i].tokens, expected(prompts[i], 4, 8)) << "prompt " << i;
  EXPECT_LE(s.device.maxTokensInAStep, 3);
  EXPECT_EQ(streamed.size(), 12u);
}

TEST(Generator, StopsAtEosAndAtTheSequenceLimit) {
  Rig s(8, 8);
  std::vector<int32_t> prompt = {1, 2, 3};
  std::vector<int32_t> all = expected(prompt, 8, 8);
  // EOS: the third generated token.
  s.manifest.model = schema::Model();
  s.manifest.model->eosTokenIds = {all[2]};
  Generator gen(s.manifest, s.device);
  GenerateOptions opts;
  opts.maxNewTokens = 8;
  GenerateResult r = gen.generateBatch({prompt}, opts)[0];
  size_t firstEos = std::find(all.begin(), all.end(), all[2]) - all.begin();
  EXPECT_EQ(r.tokens,
            std::vector<int32_t>(all.begin(), all.begin() + firstEos + 1));
  EXPECT_EQ(r.stopReason, "eos");

  // The sequence limit: 6 positions. The token sampled at the last one
  // is the fourth new token; it is returned but never fed back.
  Rig t(8, 8, /*maxSeqLen=*/6);
  Generator limited(t.manifest, t.device);
  opts.ignoreEos = true;
  r = limited.generateBatch({prompt}, opts)[0];
  EXPECT_EQ(r.stopReason, "max_seq_len");
  EXPECT_EQ(r.tokens, std::vector<int32_t>(all.begin(), all.begin() + 4));
}

std::string generateError(Rig &s, std::vector<std::vector<int32_t>> prompts,
                          int64_t maxNew = 4) {
  Generator gen(s.manifest, s.device);
  GenerateOptions opts;
  opts.maxNewTokens = maxNew;
  opts.ignoreEos = true;
  try {
    gen.generateBatch(prompts, opts);
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

TEST(Generator, RefusesWhatCannotRun) {
  Rig s(8, 8);
  EXPECT_EQ(generateError(s, {}), "no prompt");
  EXPECT_EQ(generateError(s, {{}}), "the prompt is empty");
  EXPECT_EQ(generateError(s, {{1, 9}}),
            "prompt token id 9 is outside the vocabulary (0..7)");
  EXPECT_EQ(generateError(s, {std::vector<int32_t>(17, 1)}),
            "the prompt has 17 tokens but the artifact's --max-seq-len is 16");
  // Two blocks of 4 slots hold 8 tokens: a 6-token prompt and 4 new ones
  // do not fit.
  Rig small(8, 2);
  EXPECT_EQ(generateError(small, {{1, 2, 3, 4, 5, 6}}),
            "the KV cache is full (2 blocks)");
}

TEST(Generator, ZeroNewTokensRunsNoDecode) {
  Rig s(8, 8);
  Generator gen(s.manifest, s.device);
  GenerateOptions opts;
  opts.maxNewTokens = 0;
  GenerateResult r = gen.generateBatch({{1, 2}}, opts)[0];
  EXPECT_TRUE(r.tokens.empty());
  EXPECT_EQ(r.decodeSteps, 0);
}

} // namespace
