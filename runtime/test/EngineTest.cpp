//===- EngineTest.cpp - the engine against a fake device ------------------===//
#include "runtime/engine/Engine.h"
#include "FakeDevice.h"
#include "TestManifest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

using namespace llmc;
using namespace llmc::engine;

namespace {

/// What a correct engine generates greedily after `prompt`: `n` tokens of
/// the fake device's model.
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

/// A request's events, put together.
struct Result {
  std::map<int64_t, std::vector<int32_t>> tokens;
  std::map<int64_t, FinishReason> finish;
  std::map<int64_t, std::vector<rt::Logprobs>> logprobs;
  std::optional<std::vector<std::optional<rt::Logprobs>>> promptLogprobs;
  std::optional<std::string> error;
  bool finished = false;
  int events = 0;
  int64_t completionTokens = 0;
};

struct Rig {
  schema::Manifest manifest = test::tinyManifest();
  test::FakeDevice device{manifest};
  std::unique_ptr<Engine> engine;
  std::map<std::string, Result> results;

  Rig(int64_t budget, int64_t blocks, int64_t maxSeqLen = 64,
      EngineConfig config = {}) {
    manifest.maxBatchTokens = budget;
    manifest.maxSeqLen = maxSeqLen;
    device.allocate(blocks);
    engine = std::make_unique<Engine>(manifest, device, nullptr, config);
  }

  Sink sinkFor(const std::string &id) {
    return [this, id](const RequestEvent &e) {
      Result &r = results[id];
      EXPECT_FALSE(r.finished) << id << ": an event after the last";
      ++r.events;
      for (const SeqDelta &d : e.deltas) {
        auto &t = r.tokens[d.index];
        t.insert(t.end(), d.tokens.begin(), d.tokens.end());
        auto &l = r.logprobs[d.index];
        l.insert(l.end(), d.logprobs.begin(), d.logprobs.end());
        if (d.finish) {
          EXPECT_FALSE(r.finish.count(d.index)) << id << ": finished twice";
          r.finish[d.index] = *d.finish;
        }
      }
      if (e.promptLogprobs)
        r.promptLogprobs = e.promptLogprobs;
      r.error = e.error;
      r.finished = e.finished;
      r.completionTokens = e.completionTokens;
    };
  }

  void add(const std::string &id, std::vector<int32_t> prompt,
           int64_t maxTokens, int64_t n = 1, rt::SamplingParams sampling = {}) {
    RequestSpec spec;
    spec.id = id;
    spec.prompt = std::move(prompt);
    spec.stop.maxTokens = maxTokens;
    spec.stop.ignoreEos = true;
    spec.n = n;
    spec.sampling = sampling;
    engine->add(std::move(spec), sinkFor(id));
  }

  void runToEnd(int limit = 10000) {
    int steps = 0;
    while (engine->hasWork()) {
      ASSERT_TRUE(engine->step()) << "work left but nothing ran";
      ASSERT_LT(++steps, limit);
    }
    EXPECT_EQ(engine->kvCache().numFreeBlocks(), engine->kvCache().numBlocks())
        << "blocks leaked";
  }
};

TEST(Engine, GeneratesOneRequest) {
  Rig rig(8, 8);
  std::vector<int32_t> prompt = {1, 2, 3};
  rig.add("a", prompt, 6);
  rig.runToEnd();
  Result &r = rig.results["a"];
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.tokens[0], expected(prompt, 6, 8));
  EXPECT_EQ(r.finish[0], FinishReason::Length);
  EXPECT_EQ(r.completionTokens, 6);
  EXPECT_EQ(rig.device.steps, 6); // one prefill step, five decodes
  MetricsSnapshot m = rig.engine->metrics();
  EXPECT_EQ(m.generationTokens, 6);
  EXPECT_EQ(m.promptTokens, 3);
  EXPECT_EQ(m.timeToFirstToken.count, 1);
  EXPECT_EQ(m.interTokenLatency.count, 5);
  EXPECT_EQ(m.requestsFinished, 1);
  EXPECT_EQ(m.decodeSteps, 5);
}

TEST(Engine, NonFiniteLogitsFailTheStepNamingIt) {
  for (float bad : {std::nanf(""), INFINITY, -INFINITY}) {
    Rig rig(8, 8);
    rig.device.poisonStep = 3;
    rig.device.poison = bad;
    rig.add("req-7", {1, 2, 3}, 6);
    EXPECT_TRUE(rig.engine->step());
    EXPECT_TRUE(rig.engine->step());
    try {
      rig.engine->step();
      ADD_FAILURE() << "a step with " << bad << " logits sampled a token";
    } catch (const rt::Error &e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find("step 3: the logits of request 'req-7' at position 4"),
                std::string::npos)
          << msg;
    }
    // No token came from the poisoned row.
    EXPECT_EQ(rig.results["req-7"].tokens[0].size(), 2u);
  }
}

/// Mixed lengths, a small budget and sequences joining while others run:
/// every result equals the request run alone.
TEST(Engine, ContinuousBatchingMatchesRunningAlone) {
  Rig rig(5, 64);
  std::mt19937 rng(7);
  std::map<std::string, std::pair<std::vector<int32_t>, int64_t>> want;
  int next = 0;
  for (int step = 0; step < 400 && (next < 30 || rig.engine->hasWork());
       ++step) {
    if (next < 30 && rng() % 3 == 0) {
      std::vector<int32_t> prompt(1 + rng() % 12);
      for (int32_t &t : prompt)
        t = static_cast<int32_t>(rng() % 8);
      int64_t max = 1 + rng() % 10;
      std::string id = "r" + std::to_string(next++);
      want[id] = {prompt, max};
      rig.add(id, prompt, max);
    }
    rig.engine->step();
  }
  rig.runToEnd();
  ASSERT_EQ(rig.results.size(), 30u);
  for (auto &[id, w] : want) {
    EXPECT_TRUE(rig.results[id].finished) << id;
    EXPECT_EQ(rig.results[id].tokens[0], expected(w.first, w.second, 8)) << id;
  }
  EXPECT_LE(rig.device.maxTokensInAStep, 5);
}

TEST(Engine, PreemptsWhenThePoolIsShortAndStillMatches) {
  // 6 blocks of 4 tokens; each request needs up to 3 blocks alone.
  Rig rig(16, 6);
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 8; ++i) {
    prompts.push_back({i % 8, (i * 3) % 8, 1, 2, 5});
    rig.add("p" + std::to_string(i), prompts.back(), 6);
  }
  rig.runToEnd();
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(rig.results["p" + std::to_string(i)].tokens[0],
              expected(prompts[i], 6, 8))
        << i;
  EXPECT_GT(rig.engine->metrics().preemptions, 0);
}

TEST(Engine, ReusesCachedPrefixes) {
  Rig rig(64, 32);
  std::vector<int32_t> prompt = {1, 2, 3, 4, 5, 6, 7, 1, 2, 3};
  rig.add("a", prompt, 3);
  rig.runToEnd();
  rig.add("b", prompt, 3);
  rig.runToEnd();
  EXPECT_EQ(rig.results["b"].tokens[0], rig.results["a"].tokens[0]);
  MetricsSnapshot m = rig.engine->metrics();
  EXPECT_EQ(m.prefixQueriedTokens, 20);
  EXPECT_EQ(m.prefixHitTokens, 8);
  EngineConfig off;
  off.prefixCaching = false;
  Rig plain(64, 32, 64, off);
  plain.add("a", prompt, 3);
  plain.runToEnd();
  plain.add("b", prompt, 3);
  plain.runToEnd();
  EXPECT_EQ(plain.engine->metrics().prefixHitTokens, 0);
}

TEST(Engine, NSequencesShareThePromptAndSampleApart) {
  Rig rig(64, 32);
  std::vector<int32_t> prompt = {3, 1, 4, 1, 5, 2};
  // Greedy: n identical sequences, the prompt computed once.
  rig.add("g", prompt, 5, /*n=*/3);
  rig.runToEnd();
  Result &g = rig.results["g"];
  ASSERT_EQ(g.tokens.size(), 3u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(g.tokens[i], expected(prompt, 5, 8)) << i;
  EXPECT_EQ(g.completionTokens, 15);
  // The prompt once, then 4 fed-back tokens per sequence.
  EXPECT_EQ(rig.device.tokensComputed, 6 + 3 * 4);
  EXPECT_EQ(rig.engine->metrics().promptTokens, 6);

  // Seeded sampling: reproducible whatever else runs in the same steps.
  rt::SamplingParams s;
  s.temperature = 1.0f;
  s.seed = 11;
  rig.add("s1", prompt, 8, 4, s);
  rig.runToEnd();
  rig.add("noise1", {1, 1, 1}, 9);
  rig.add("s2", prompt, 8, 4, s);
  rig.add("noise2", {2, 7}, 4, 2);
  rig.runToEnd();
  Result &a = rig.results["s1"], &b = rig.results["s2"];
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(a.tokens[i], b.tokens[i]) << i;
  // ... and the sequences differ from each other.
  EXPECT_NE(a.tokens[0], a.tokens[1]);
}

TEST(Engine, PromptLogprobsForEcho) {
  Rig rig(4, 16); // a budget of 4: the prompt is computed in chunks
  std::vector<int32_t> prompt = {1, 2, 3, 4, 5, 6, 7};
  RequestSpec spec;
  spec.id = "e";
  spec.prompt = prompt;
  spec.stop.maxTokens = 1;
  spec.promptLogprobs = 1;
  spec.sampling.logprobs = 2;
  rig.engine->add(spec, rig.sinkFor("e"));
  rig.runToEnd();
  Result &r = rig.results["e"];
  ASSERT_TRUE(r.promptLogprobs);
  ASSERT_EQ(r.promptLogprobs->size(), prompt.size());
  EXPECT_FALSE((*r.promptLogprobs)[0]);
  // One-hot logits of 1 over 8 tokens: the predicted token has log(e /
  // (e + 7)), the others log(1 / (e + 7)).
  double hit = std::log(std::exp(1.0) / (std::exp(1.0) + 7)),
         miss = std::log(1 / (std::exp(1.0) + 7));
  for (size_t i = 1; i < prompt.size(); ++i) {
    const auto &lp = (*r.promptLogprobs)[i];
    ASSERT_TRUE(lp) << i;
    std::vector<int32_t> ctx(prompt.begin(), prompt.begin() + i);
    int32_t predicted = test::FakeDevice::next(ctx, 8);
    EXPECT_EQ(lp->chosen.token, prompt[i]);
    EXPECT_NEAR(lp->chosen.logprob, prompt[i] == predicted ? hit : miss, 1e-5)
        << i;
    ASSERT_EQ(lp->top.size(), 1u);
    EXPECT_EQ(lp->top[0].token, predicted);
  }
  ASSERT_EQ(r.logprobs[0].size(), 1u);
  EXPECT_EQ(r.logprobs[0][0].top.size(), 2u);
  EXPECT_NEAR(r.logprobs[0][0].chosen.logprob, hit, 1e-5);

  // max_tokens 0 with echo: prompt logprobs, no new token.
  spec.id = "e0";
  spec.stop.maxTokens = 0;
  spec.n = 2;
  rig.engine->add(spec, rig.sinkFor("e0"));
  rig.runToEnd();
  Result &z = rig.results["e0"];
  EXPECT_TRUE(z.finished);
  EXPECT_TRUE(z.tokens[0].empty());
  EXPECT_EQ(z.finish.size(), 2u);
  ASSERT_TRUE(z.promptLogprobs);
  EXPECT_EQ(*z.promptLogprobs, *r.promptLogprobs);
}

TEST(Engine, StopsAtEosUnlessIgnored) {
  Rig rig(8, 8);
  std::vector<int32_t> prompt = {1, 2, 3};
  std::vector<int32_t> all = expected(prompt, 8, 8);
  rig.manifest.model = schema::Model();
  rig.manifest.model->eosTokenIds = {all[2]};
  Engine engine(rig.manifest, rig.device, nullptr, {});
  RequestSpec spec;
  spec.id = "a";
  spec.prompt = prompt;
  spec.stop.maxTokens = 8;
  engine.add(spec, rig.sinkFor("a"));
  while (engine.step()) {
  }
  size_t firstEos = std::find(all.begin(), all.end(), all[2]) - all.begin();
  EXPECT_EQ(rig.results["a"].tokens[0],
            std::vector<int32_t>(all.begin(), all.begin() + firstEos + 1));
  EXPECT_EQ(rig.results["a"].finish[0], FinishReason::Stop);
}

TEST(Engine, AbortFreesTheBlocksAtOnce) {
  Rig rig(8, 16);
  rig.add("a", {1, 2, 3, 4, 5}, 50, 2);
  rig.add("b", {1, 2}, 50);
  for (int i = 0; i < 4; ++i)
    rig.engine->step();
  EXPECT_LT(rig.engine->kvCache().numFreeBlocks(), 16);
  rig.engine->abort("a");
  rig.engine->abort("a"); // gone: ignored
  EXPECT_TRUE(rig.results["a"].finished);
  EXPECT_EQ(rig.results["a"].finish.size(), 2u);
  EXPECT_EQ(rig.results["a"].finish[1], FinishReason::Abort);
  rig.engine->abort("b");
  EXPECT_FALSE(rig.engine->hasWork());
  EXPECT_EQ(rig.engine->kvCache().numFreeBlocks(), 16);
  EXPECT_EQ(rig.engine->metrics().requestsAborted, 2);
}

TEST(Engine, ASinkThatThrowsEndsItsRequest) {
  Rig rig(8, 16);
  RequestSpec spec;
  spec.id = "gone";
  spec.prompt = {1, 2};
  spec.stop.maxTokens = 50;
  int calls = 0;
  rig.engine->add(spec, [&](const RequestEvent &) {
    if (++calls == 2)
      throw std::runtime_error("client disconnected");
  });
  rig.runToEnd();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(rig.engine->metrics().requestsAborted, 1);
}

TEST(Engine, FailAllEndsEveryRequestWithTheError) {
  Rig rig(8, 16);
  rig.add("a", {1, 2}, 5);
  rig.add("b", {3}, 5);
  rig.engine->step();
  rig.engine->failAll("the device failed");
  EXPECT_FALSE(rig.engine->hasWork());
  EXPECT_EQ(rig.results["a"].error, "the device failed");
  EXPECT_TRUE(rig.results["b"].finished);
  EXPECT_EQ(rig.engine->kvCache().numFreeBlocks(), 16);
}

std::string addError(Rig &rig, RequestSpec spec) {
  try {
    rig.engine->add(std::move(spec), nullptr);
  } catch (const rt::Error &e) {
    return e.what();
  }
  return "";
}

TEST(Engine, RefusesWhatCannotRunBeforeRunningAnything) {
  Rig rig(8, 3, /*maxSeqLen=*/16);
  RequestSpec ok;
  ok.id = "x";
  ok.prompt = {1, 2};
  ok.stop.maxTokens = 4;
  RequestSpec s = ok;
  s.prompt = {};
  EXPECT_EQ(addError(rig, s), "the prompt is empty");
  s = ok;
  s.prompt = {1, 9};
  EXPECT_EQ(addError(rig, s),
            "prompt token id 9 is outside the vocabulary (0..7)");
  s = ok;
  s.prompt.assign(14, 1);
  s.stop.maxTokens = 3;
  EXPECT_EQ(addError(rig, s),
            "the prompt has 14 tokens and max_tokens is 3: more than the "
            "model's context of 16 tokens (max_seq_len)");
  s = ok;
  s.prompt.assign(9, 1);
  s.stop.maxTokens = 4;
  // 3 blocks of 4 slots: 9 + 3 fit (the last token needs no slot), 10 + 3
  // do not.
  EXPECT_EQ(addError(rig, s), "");
  s.id = "y";
  s.prompt.assign(10, 1);
  EXPECT_EQ(addError(rig, s),
            "the request needs KV for up to 13 tokens (10 prompt + 4 "
            "max_tokens) but the KV pool holds 12 tokens (3 blocks of 4)");
  s = ok;
  s.n = 0;
  EXPECT_EQ(addError(rig, s), "n must be in [1, 128], got 0");
  s = ok;
  s.stop.maxTokens = -1;
  EXPECT_EQ(addError(rig, s), "max_tokens must be >= 0, got -1");
  s = ok;
  s.sampling.topP = 2;
  EXPECT_EQ(addError(rig, s), "top_p must be in (0, 1], got 2");
  s = ok;
  s.stop.strings = {"x"};
  EXPECT_EQ(addError(rig, s),
            "stop strings need text, and the artifact has no tokenizer");
  s = ok;
  s.id = "x"; // already running (added above)
  EXPECT_EQ(addError(rig, s), "a request with id 'x' is already running");
  EXPECT_EQ(rig.device.steps, 0);
}

} // namespace
