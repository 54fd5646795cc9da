//===- SamplerTest.cpp - penalties, samplers, streams, logprobs -----------===//
#include "runtime/sampling/Sampler.h"
#include "runtime/support/Error.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

using llmc::rt::Sampler;
using llmc::rt::SamplingParams;
using llmc::rt::TokenHistory;

namespace {

std::vector<int32_t> draw(Sampler &s, const std::vector<float> &logits, int n,
                          const TokenHistory &h = TokenHistory()) {
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i)
    out.push_back(
        s.sample(logits.data(), static_cast<int64_t>(logits.size()), h).token);
  return out;
}

std::string errorOf(const SamplingParams &p) {
  try {
    llmc::rt::validate(p);
  } catch (const llmc::rt::Error &e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(Sampler, GreedyTakesTheFirstMaximum) {
  Sampler s(SamplingParams{});
  std::vector<float> logits{0.1f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(s.sample(logits.data(), 4).token, 1);
  EXPECT_FALSE(s.sample(logits.data(), 4).logprobs);
}

TEST(Sampler, TinyTemperaturesAreGreedy) {
  // Dividing by 1e-30 overflows every logit: the draw must still be the
  // most likely token, never the least likely.
  std::vector<float> logits{0.5f, 7.0f, -3.0f, 6.9f};
  for (float t : {1e-45f, 1e-38f, 1e-30f, 5e-6f}) {
    SamplingParams p;
    p.temperature = t;
    p.seed = 3;
    Sampler s(p);
    EXPECT_EQ(draw(s, logits, 20, {}), std::vector<int32_t>(20, 1)) << t;
  }
}

TEST(Sampler, SameSeedSameStream) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 42;
  std::vector<float> logits{1.0f, 1.1f, 0.9f, 1.05f, 0.2f};
  Sampler a(p), b(p);
  std::vector<int32_t> x = draw(a, logits, 50), y = draw(b, logits, 50);
  EXPECT_EQ(x, y);
  p.seed = 43;
  Sampler c(p);
  EXPECT_NE(x, draw(c, logits, 50));
  // The n sequences of one seeded request: distinct, reproducible streams.
  p.seed = 42;
  Sampler s1(p, 1), s1again(p, 1), s2(p, 2);
  std::vector<int32_t> z1 = draw(s1, logits, 50);
  EXPECT_EQ(z1, draw(s1again, logits, 50));
  EXPECT_NE(z1, x);
  EXPECT_NE(z1, draw(s2, logits, 50));
  // Without a seed, two samplers draw different streams.
  p.seed.reset();
  Sampler r1(p), r2(p);
  EXPECT_NE(draw(r1, logits, 50), draw(r2, logits, 50));
}

TEST(Sampler, TopKOneIsGreedy) {
  SamplingParams p;
  p.temperature = 5.0f;
  p.topK = 1;
  Sampler s(p);
  std::vector<float> logits{0.0f, 0.5f, 0.4f};
  for (int32_t t : draw(s, logits, 20))
    EXPECT_EQ(t, 1);
}

TEST(Sampler, TopPKeepsTheNucleus) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.topP = 0.5f;
  Sampler s(p);
  // Token 2 holds ~84% of the mass: the nucleus at 0.5 is token 2 alone.
  std::vector<float> logits{0.0f, 1.0f, 3.0f};
  for (int32_t t : draw(s, logits, 50))
    EXPECT_EQ(t, 2);
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.minP = 0.25f;
  p.seed = 3;
  Sampler s(p);
  // Probabilities ~ 0.49, 0.40, 0.11 (< 0.25 * 0.49): token 2 never drawn,
  // both others are.
  std::vector<float> logits{std::log(0.49f), std::log(0.40f), std::log(0.11f)};
  std::map<int32_t, int> seen;
  for (int32_t t : draw(s, logits, 400))
    ++seen[t];
  EXPECT_EQ(seen.count(2), 0u);
  EXPECT_GT(seen[0], 100);
  EXPECT_GT(seen[1], 100);
}

TEST(Sampler, PenaltiesFollowVllm) {
  // Greedy after penalties: the pick tells which penalty applied.
  std::vector<float> logits{2.0f, 1.9f, -1.0f, -1.05f};
  TokenHistory h;
  h.addPrompt({0});
  SamplingParams p;
  p.repetitionPenalty = 1.1f; // 2.0 / 1.1 < 1.9
  Sampler rep(p);
  EXPECT_EQ(rep.sample(logits.data(), 4, h).token, 1);
  // Negative logits are multiplied: -1.0 * 1.1 < -1.05.
  std::vector<float> neg{-1.0f, -1.05f};
  TokenHistory h0;
  h0.addOutput(0);
  EXPECT_EQ(rep.sample(neg.data(), 2, h0).token, 1);
  // Presence and frequency look at the output only, never the prompt.
  p = {};
  p.presencePenalty = 0.5f;
  Sampler pres(p);
  EXPECT_EQ(pres.sample(logits.data(), 4, h).token, 0);
  TokenHistory out;
  out.addOutput(0);
  EXPECT_EQ(pres.sample(logits.data(), 4, out).token, 1);
  p = {};
  p.frequencyPenalty = 0.06f; // two occurrences: 2.0 - 0.12 < 1.9
  Sampler freq(p);
  EXPECT_EQ(freq.sample(logits.data(), 4, out).token, 0);
  out.addOutput(0);
  EXPECT_EQ(freq.sample(logits.data(), 4, out).token, 1);
  // The logits themselves are left alone.
  EXPECT_EQ(logits[0], 2.0f);
}

TEST(Sampler, LogprobsAreTheModelsDistribution) {
  SamplingParams p;
  p.logprobs = 2;
  p.repetitionPenalty = 2.0f; // does not change the reported logprobs
  Sampler s(p);
  std::vector<float> logits{std::log(0.5f), std::log(0.2f), std::log(0.3f)};
  TokenHistory h;
  h.addOutput(0);
  llmc::rt::Sample r = s.sample(logits.data(), 3, h);
  ASSERT_TRUE(r.logprobs);
  EXPECT_EQ(r.token, 2); // penalized: 2 * log 0.5 < log 0.3
  EXPECT_EQ(r.logprobs->chosen.token, r.token);
  EXPECT_NEAR(r.logprobs->chosen.logprob, std::log(0.3), 1e-5);
  ASSERT_EQ(r.logprobs->top.size(), 2u);
  EXPECT_EQ(r.logprobs->top[0].token, 0);
  EXPECT_NEAR(r.logprobs->top[0].logprob, std::log(0.5), 1e-5);
  EXPECT_EQ(r.logprobs->top[1].token, 2);
  // logprobs 0: the chosen token only.
  llmc::rt::Logprobs none = llmc::rt::logprobsOf(logits.data(), 3, 1, 0);
  EXPECT_TRUE(none.top.empty());
  EXPECT_NEAR(none.chosen.logprob, std::log(0.2), 1e-5);
}

TEST(Sampler, FollowsTheDistribution) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 7;
  Sampler s(p);
  std::vector<float> logits{0.0f, std::log(3.0f)}; // 1:3
  std::map<int, int> counts;
  for (int32_t t : draw(s, logits, 4000))
    ++counts[t];
  EXPECT_NEAR(counts[1] / 4000.0, 0.75, 0.03);
}

TEST(Sampler, RejectsBadParametersNamingTheField) {
  SamplingParams p;
  p.temperature = -1.0f;
  EXPECT_THROW(Sampler{p}, llmc::rt::Error);
  EXPECT_EQ(errorOf(p), "temperature must be a finite number >= 0, got -1");
  p = {};
  p.topP = 0.0f;
  EXPECT_NE(errorOf(p).find("top_p"), std::string::npos);
  p = {};
  p.topK = -2;
  EXPECT_NE(errorOf(p).find("top_k"), std::string::npos);
  p.topK = -1;
  EXPECT_EQ(errorOf(p), "");
  p = {};
  p.minP = 1.5f;
  EXPECT_NE(errorOf(p).find("min_p"), std::string::npos);
  p = {};
  p.repetitionPenalty = 0.0f;
  EXPECT_NE(errorOf(p).find("repetition_penalty"), std::string::npos);
  p = {};
  p.presencePenalty = std::nanf("");
  EXPECT_NE(errorOf(p).find("presence_penalty"), std::string::npos);
  p = {};
  p.frequencyPenalty = 2.5f;
  EXPECT_NE(errorOf(p).find("frequency_penalty"), std::string::npos);
  p = {};
  p.logprobs = 21;
  EXPECT_NE(errorOf(p).find("logprobs"), std::string::npos);
}
