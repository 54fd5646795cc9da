//===- SchedulerTest.cpp - budgets, chunked prefill, preemption, policies -===//
#include "runtime/sched/Scheduler.h"
#include "runtime/support/Error.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

using namespace llmc;
using namespace llmc::sched;

namespace {

/// A scheduler over its own KV cache manager, with the engine's part played
/// by hand: each sequence wants `maxNew` tokens, and a step that samples
/// appends one (token id = position, so prefixes of different prompts
/// differ only where their prompts do).
struct Harness {
  Harness(int32_t blocks, int32_t bs, SchedulerConfig config,
          bool prefixCaching = false)
      : kv(blocks, bs, prefixCaching), sched(config, kv) {}

  Sequence &add(SeqId id, int64_t promptLen, int64_t maxNew,
                int32_t first = 1) {
    auto s = std::make_unique<Sequence>();
    s->id = id;
    s->arrival = id;
    for (int64_t i = 0; i < promptLen; ++i)
      s->tokens.push_back(first + static_cast<int32_t>(i));
    s->promptLen = promptLen;
    want[id] = maxNew;
    return sched.add(std::move(s));
  }

  /// Runs one step; returns what was scheduled as (id, count) pairs.
  std::vector<std::pair<SeqId, int64_t>> step() {
    SchedulerOutput out = sched.schedule();
    std::vector<std::pair<SeqId, int64_t>> got;
    int64_t tokens = 0;
    for (const ScheduledSeq &s : out.seqs) {
      got.push_back({s.seq->id, s.count});
      tokens += s.count;
    }
    EXPECT_EQ(tokens, out.numTokens);
    EXPECT_LE(tokens, sched.config().maxBatchTokens);
    sched.update(out);
    for (const ScheduledSeq &s : out.seqs) {
      if (!s.sample)
        continue;
      Sequence &seq = *s.seq;
      if (seq.numOutput() + 1 >= want[seq.id]) {
        finished.push_back(seq.id);
        sched.finish(seq.id, SeqStatus::Finished);
      } else {
        seq.tokens.push_back(static_cast<int32_t>(seq.tokens.size()) + 1000);
      }
    }
    sched.verify();
    preempted.insert(preempted.end(), out.preempted.begin(),
                     out.preempted.end());
    return got;
  }

  kv::KvCacheManager kv;
  Scheduler sched;
  std::map<SeqId, int64_t> want;
  std::vector<SeqId> finished, preempted;
};

using Step = std::vector<std::pair<SeqId, int64_t>>;

SchedulerConfig fcfs(int64_t budget, int64_t maxSeqs = 256) {
  SchedulerConfig c;
  c.maxBatchTokens = budget;
  c.maxSeqs = maxSeqs;
  c.watermark = 0;
  return c;
}

TEST(Scheduler, ChunksLongPromptsWithinTheBudget) {
  Harness h(64, 16, fcfs(16));
  h.add(1, 40, 3);
  h.add(2, 5, 3);
  EXPECT_EQ(h.step(), (Step{{1, 16}}));
  EXPECT_EQ(h.step(), (Step{{1, 16}}));
  // The last 8 of the long prompt, and the short one beside it.
  EXPECT_EQ(h.step(), (Step{{1, 8}, {2, 5}}));
  EXPECT_EQ(h.step(), (Step{{1, 1}, {2, 1}}));
}

TEST(Scheduler, DecodesGoBeforePrefillChunks) {
  Harness h(64, 16, fcfs(8));
  h.add(1, 2, 10);
  EXPECT_EQ(h.step(), (Step{{1, 2}}));
  // Sequence 2 arrives later with a long prompt: 1 decodes every step while
  // 2 is prefilled in chunks of what is left.
  h.add(2, 30, 2);
  EXPECT_EQ(h.step(), (Step{{1, 1}, {2, 7}}));
  EXPECT_EQ(h.step(), (Step{{1, 1}, {2, 7}}));
  // 3 arrives meanwhile; it is admitted when the budget leaves room.
  h.add(3, 1, 10);
  EXPECT_EQ(h.step(), (Step{{1, 1}, {2, 7}}));
  EXPECT_EQ(h.step(), (Step{{1, 1}, {2, 7}}));
  EXPECT_EQ(h.step(), (Step{{1, 1}, {2, 2}, {3, 1}}));
  EXPECT_EQ(h.step(), (Step{{1, 1}, {2, 1}, {3, 1}}));
}

TEST(Scheduler, RespectsMaxSeqs) {
  Harness h(64, 16, fcfs(64, 2));
  h.add(1, 3, 2);
  h.add(2, 3, 2);
  h.add(3, 3, 2);
  EXPECT_EQ(h.step(), (Step{{1, 3}, {2, 3}}));
  EXPECT_EQ(h.sched.numWaiting(), 1u);
  EXPECT_EQ(h.step(), (Step{{1, 1}, {2, 1}}));
  EXPECT_EQ(h.step(), (Step{{3, 3}}));
}

TEST(Scheduler, AdmissionKeepsTheWatermarkUnlessIdle) {
  SchedulerConfig c = fcfs(64);
  c.watermark = 0.25; // 2 of 8 blocks
  Harness h(8, 4, c);
  h.add(1, 24, 2); // 6 blocks: admitted, nothing else runs
  EXPECT_EQ(h.step(), (Step{{1, 24}}));
  h.add(2, 1, 2); // would leave 1 < 2 free
  EXPECT_EQ(h.step(), (Step{{1, 1}}));
  EXPECT_EQ(h.sched.numWaiting(), 1u);
  EXPECT_EQ(h.step(), (Step{{2, 1}})); // 1 finished, the pool is free
}

TEST(Scheduler, PreemptsTheLatestArrivalAndResumesIt) {
  // 4 blocks of 2: two sequences of 3 prompt tokens (2 blocks each) fill
  // the pool; the first decode that needs a third block preempts 2.
  Harness h(4, 2, fcfs(64));
  h.add(1, 3, 4);
  h.add(2, 3, 4);
  EXPECT_EQ(h.step(), (Step{{1, 3}, {2, 3}}));
  EXPECT_EQ(h.step(), (Step{{1, 1}, {2, 1}})); // positions 3 fit
  EXPECT_EQ(h.step(), (Step{{1, 1}}));         // 1 needs a block: 2 goes
  ASSERT_EQ(h.preempted, (std::vector<SeqId>{2}));
  Sequence *two = h.sched.get(2);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->status, SeqStatus::Preempted);
  EXPECT_EQ(two->numComputed, 0);
  EXPECT_EQ(h.sched.numPreempted(), 1u);
  EXPECT_FALSE(h.kv.contains(2));
  EXPECT_EQ(h.step(), (Step{{1, 1}}));
  // 1 is done; 2 recomputes its prompt and the token it had generated.
  EXPECT_EQ(h.finished, (std::vector<SeqId>{1}));
  EXPECT_EQ(h.step(), (Step{{2, 5}}));
  EXPECT_EQ(h.sched.stats().preemptions, 1);
}

TEST(Scheduler, AdmissionTakesTheCachedPrefix) {
  Harness h(16, 4, fcfs(64), /*prefixCaching=*/true);
  h.add(1, 10, 1);
  EXPECT_EQ(h.step(), (Step{{1, 10}}));
  h.add(2, 10, 1); // the same prompt: 8 tokens cached
  EXPECT_EQ(h.step(), (Step{{2, 2}}));
  EXPECT_EQ(h.sched.stats().prefixQueriedTokens, 20);
  EXPECT_EQ(h.sched.stats().prefixHitTokens, 8);
  // Prompt logprobs need every row computed: no cache.
  Sequence &three = h.add(3, 10, 1);
  three.promptLogits = true;
  EXPECT_EQ(h.step(), (Step{{3, 10}}));
}

TEST(Scheduler, ForkedChildrenRunBesideTheirParent) {
  Harness h(16, 4, fcfs(64));
  h.add(1, 6, 3);
  h.add(5, 2, 3);
  EXPECT_EQ(h.step(), (Step{{1, 6}, {5, 2}}));
  // The engine forks 1 after its prompt: the child shares its KV.
  h.kv.fork(1, 2);
  auto child = std::make_unique<Sequence>(*h.sched.get(1));
  child->id = 2;
  h.want[2] = 3;
  h.sched.addForked(std::move(child), 1);
  h.sched.verify();
  EXPECT_EQ(h.step(), (Step{{1, 1}, {2, 1}, {5, 1}}));
  EXPECT_THROW(h.sched.addForked(std::make_unique<Sequence>(), 9),
               std::invalid_argument);
}

TEST(Scheduler, AbortFreesEverything) {
  Harness h(8, 4, fcfs(64));
  h.add(1, 9, 5);
  h.add(2, 4, 5);
  h.step();
  h.sched.finish(1, SeqStatus::Aborted);
  h.sched.finish(2, SeqStatus::Aborted);
  h.sched.finish(2, SeqStatus::Aborted); // twice is harmless
  EXPECT_FALSE(h.sched.hasWork());
  EXPECT_EQ(h.kv.numFreeBlocks(), 8);
  EXPECT_TRUE(h.step().empty());
}

SchedulerConfig mlfq(int64_t budget, int64_t maxSeqs) {
  SchedulerConfig c = fcfs(budget, maxSeqs);
  c.policy = Policy::Mlfq;
  c.mlfqLevels = 3;
  c.mlfqQuantum = 2;
  c.mlfqPromptTokens = 4;
  c.mlfqStarvationSteps = 1000;
  return c;
}

TEST(Scheduler, MlfqSkipJoinsAndDemotes) {
  Harness h(64, 4, mlfq(64, 8));
  EXPECT_EQ(h.add(1, 3, 20).level, 0);
  EXPECT_EQ(h.add(2, 8, 20).level, 1);
  EXPECT_EQ(h.add(3, 100, 20).level, 2); // the last level takes the rest
  h.step();
  h.step(); // two steps at level 0: demoted
  EXPECT_EQ(h.sched.get(1)->level, 1);
  for (int i = 0; i < 4; ++i)
    h.step(); // level 1's quantum is 4 steps
  EXPECT_EQ(h.sched.get(1)->level, 2);
  EXPECT_EQ(h.sched.get(3)->level, 2); // the last level keeps it
}

TEST(Scheduler, MlfqShortJobsOvertakeLongOnes) {
  // One seat: a long job runs; a short one arriving later takes the seat at
  // the next step boundary and finishes first; the long one resumes.
  Harness h(64, 4, mlfq(64, 1));
  h.add(1, 3, 30);
  for (int i = 0; i < 8; ++i)
    h.step(); // 1 sinks to level 2
  EXPECT_EQ(h.sched.get(1)->level, 2);
  h.add(2, 3, 3);
  EXPECT_EQ(h.step(), (Step{{2, 3}}));
  EXPECT_EQ(h.preempted, (std::vector<SeqId>{1}));
  h.step();
  h.step();
  EXPECT_EQ(h.finished, (std::vector<SeqId>{2}));
  Step resumed = h.step();
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0].first, 1);
}

TEST(Scheduler, MlfqPromotesTheStarving) {
  SchedulerConfig c = mlfq(1, 1);
  c.mlfqStarvationSteps = 5;
  Harness h(64, 4, c);
  h.add(1, 100, 3); // level 2, never runs while 2 holds the one token
  h.add(2, 1, 1000);
  for (int i = 0; i < 6 && h.sched.get(1)->numComputed == 0; ++i)
    h.step();
  EXPECT_EQ(h.sched.get(1)->level, 0);
}

TEST(Scheduler, RejectsABadConfig) {
  kv::KvCacheManager kv(4, 4, false);
  SchedulerConfig c;
  c.maxSeqs = 0;
  EXPECT_THROW(Scheduler(c, kv), rt::Error);
  c = {};
  c.watermark = 1.0;
  EXPECT_THROW(Scheduler(c, kv), rt::Error);
  EXPECT_EQ(parsePolicy("mlfq"), Policy::Mlfq);
  EXPECT_THROW(parsePolicy("lifo"), rt::Error);
}

/// Random arrivals of random lengths into a small pool, under both
/// policies: every sequence finishes (none starves, none is lost), every
/// step keeps the budget and the scheduler's invariants, and the pool ends
/// empty.
TEST(Scheduler, RandomWorkloadsAllFinish) {
  int64_t preemptions = 0;
  for (Policy policy : {Policy::Fcfs, Policy::Mlfq})
    for (uint32_t seed = 1; seed <= 30; ++seed) {
      std::mt19937 rng(seed);
      auto pick = [&](int lo, int hi) {
        return std::uniform_int_distribution<int>(lo, hi)(rng);
      };
      SchedulerConfig c = fcfs(pick(4, 40), pick(1, 8));
      c.policy = policy;
      c.watermark = pick(0, 1) * 0.1;
      c.mlfqQuantum = pick(1, 4);
      c.mlfqPromptTokens = pick(2, 16);
      c.mlfqStarvationSteps = pick(5, 50);
      int32_t bs = pick(1, 4), blocks = pick(12, 24);
      Harness h(blocks, bs, c, /*prefixCaching=*/seed % 2);
      int total = pick(5, 30);
      SeqId next = 0;
      int steps = 0;
      while (static_cast<int>(h.finished.size()) < total) {
        if (next < total && pick(0, 2) == 0) {
          // Each fits the pool alone, as the engine's admission ensures.
          int64_t prompt = pick(1, blocks * bs / 2);
          int64_t room = blocks * bs - prompt;
          h.add(next, prompt,
                pick(1, static_cast<int>(std::min<int64_t>(room, 20))),
                pick(0, 1));
          ++next;
        }
        h.step();
        if (::testing::Test::HasFailure())
          return;
        ASSERT_LT(++steps, 20000) << "seed " << seed << ": no progress";
      }
      EXPECT_FALSE(h.sched.hasWork());
      EXPECT_EQ(h.kv.numFreeBlocks(), blocks);
      preemptions += static_cast<int64_t>(h.preempted.size());
    }
  EXPECT_GT(preemptions, 50); // the pool was small enough to matter
}

} // namespace
