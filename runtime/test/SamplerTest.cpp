//===- SamplerTest.cpp - greedy and seeded sampling -----------------------===//
#include "runtime/sampling/Sampler.h"
#include "runtime/support/Error.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

using llmc::rt::Sampler;
using llmc::rt::SamplingParams;

TEST(Sampler, GreedyTakesTheFirstMaximum) {
  Sampler s(SamplingParams{});
  std::vector<float> logits{0.1f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(s.sample(logits.data(), 4), 1);
}

TEST(Sampler, SameSeedSameStream) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 42;
  std::vector<float> logits{1.0f, 1.1f, 0.9f, 1.05f, 0.2f};
  Sampler a(p), b(p);
  std::vector<int32_t> x, y;
  for (int i = 0; i < 50; ++i) {
    x.push_back(a.sample(logits.data(), 5));
    y.push_back(b.sample(logits.data(), 5));
  }
  EXPECT_EQ(x, y);
  p.seed = 43;
  Sampler c(p);
  std::vector<int32_t> z;
  for (int i = 0; i < 50; ++i)
    z.push_back(c.sample(logits.data(), 5));
  EXPECT_NE(x, z);
}

TEST(Sampler, TopKOneIsGreedy) {
  SamplingParams p;
  p.temperature = 5.0f;
  p.topK = 1;
  Sampler s(p);
  std::vector<float> logits{0.0f, 0.5f, 0.4f};
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(s.sample(logits.data(), 3), 1);
}

TEST(Sampler, TopPKeepsTheNucleus) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.topP = 0.5f;
  Sampler s(p);
  // Token 2 holds ~84% of the mass: the nucleus at 0.5 is token 2 alone.
  std::vector<float> logits{0.0f, 1.0f, 3.0f};
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(s.sample(logits.data(), 3), 2);
}

TEST(Sampler, FollowsTheDistribution) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 7;
  Sampler s(p);
  std::vector<float> logits{0.0f, std::log(3.0f)}; // 1:3
  std::map<int, int> counts;
  for (int i = 0; i < 4000; ++i)
    ++counts[s.sample(logits.data(), 2)];
  EXPECT_NEAR(counts[1] / 4000.0, 0.75, 0.03);
}

TEST(Sampler, RejectsBadParameters) {
  SamplingParams p;
  p.temperature = -1.0f;
  EXPECT_THROW(Sampler{p}, llmc::rt::Error);
  p = {};
  p.topP = 0.0f;
  EXPECT_THROW(Sampler{p}, llmc::rt::Error);
  p = {};
  p.topK = -2;
  EXPECT_THROW(Sampler{p}, llmc::rt::Error);
}
