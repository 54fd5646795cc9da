//===- EngineLoopTest.cpp - many client threads, one engine thread --------===//
#include "runtime/engine/EngineLoop.h"
#include "FakeDevice.h"
#include "TestManifest.h"
#include "runtime/support/Error.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

using namespace llmc;
using namespace llmc::engine;
using namespace std::chrono_literals;

namespace {

struct Rig {
  schema::Manifest manifest = test::tinyManifest();
  test::FakeDevice device{manifest};
  std::unique_ptr<Engine> engine;
  Rig(int64_t budget, int64_t blocks) {
    manifest.maxBatchTokens = budget;
    manifest.maxSeqLen = 64;
    device.allocate(blocks);
    engine =
        std::make_unique<Engine>(manifest, device, nullptr, EngineConfig{});
  }
};

RequestSpec request(const std::string &id, std::vector<int32_t> prompt,
                    int64_t maxTokens) {
  RequestSpec s;
  s.id = id;
  s.prompt = std::move(prompt);
  s.stop.maxTokens = maxTokens;
  s.stop.ignoreEos = true;
  return s;
}

/// Reads a stream to its end; the tokens of sequence 0.
std::vector<int32_t> drain(RequestStream &stream,
                           std::optional<FinishReason> *finish = nullptr) {
  std::vector<int32_t> tokens;
  RequestEvent e;
  while (!stream.done()) {
    if (!stream.next(e, 5s))
      ADD_FAILURE() << stream.id() << ": no event for 5 s";
    for (const SeqDelta &d : e.deltas) {
      tokens.insert(tokens.end(), d.tokens.begin(), d.tokens.end());
      if (finish && d.finish)
        *finish = d.finish;
    }
  }
  return tokens;
}

std::vector<int32_t> expected(std::vector<int32_t> prompt, int64_t n) {
  std::vector<int32_t> out;
  while (static_cast<int64_t>(out.size()) < n) {
    int32_t t = test::FakeDevice::next(prompt, 8);
    out.push_back(t);
    prompt.push_back(t);
  }
  return out;
}

TEST(EngineLoop, ManyClientThreadsGetTheirOwnResults) {
  Rig rig(6, 24); // small: steps are shared and sequences get preempted
  EngineLoop loop(*rig.engine);
  std::atomic<int> wrong{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 16; ++c)
    clients.emplace_back([&, c] {
      for (int r = 0; r < 5; ++r) {
        std::vector<int32_t> prompt = {c % 8, r % 8, (c * r) % 8, 1};
        int64_t max = 1 + (c + r) % 9;
        auto stream = loop.submit(request(
            "c" + std::to_string(c) + "r" + std::to_string(r), prompt, max));
        if (drain(*stream) != expected(prompt, max))
          ++wrong;
      }
    });
  for (std::thread &t : clients)
    t.join();
  EXPECT_EQ(wrong, 0);
  // The loop counts a request out after the step that delivered its end.
  for (int i = 0; i < 100 && loop.inFlight() != 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(loop.inFlight(), 0u);
  MetricsSnapshot m = loop.metrics();
  EXPECT_EQ(m.requestsFinished, 80);
  EXPECT_EQ(m.kvBlocksFree, m.kvBlocksTotal);
}

TEST(EngineLoop, AClientWithItsResponseSeesItInTheMetrics) {
  // The snapshot is taken before the step's events reach their streams,
  // so once a request's last event is read, the metrics count it finished
  // and its blocks free (the server test read /metrics right after its
  // responses and saw blocks still in use when the loop thread lagged).
  Rig rig(8, 32);
  rig.device.stepDelay = 200us;
  EngineLoop loop(*rig.engine);
  for (int r = 0; r < 40; ++r) {
    auto stream =
        loop.submit(request("r" + std::to_string(r), {r % 8, 1, 2}, 1 + r % 4));
    drain(*stream);
    MetricsSnapshot m = loop.metrics();
    ASSERT_EQ(m.requestsFinished, r + 1) << "request " << r;
    ASSERT_EQ(m.kvBlocksFree, m.kvBlocksTotal) << "request " << r;
  }
}

TEST(EngineLoop, CancelFreesTheBlocksAndBadRequestsFailAtSubmit) {
  Rig rig(8, 32);
  rig.device.stepDelay = 2ms; // 60 tokens take 120 ms: time to cancel
  EngineLoop loop(*rig.engine);
  auto stream = loop.submit(request("long", {1, 2, 3}, 60));
  RequestEvent e;
  ASSERT_TRUE(stream->next(e, 5s)); // running
  stream->cancel();
  std::optional<FinishReason> finish;
  drain(*stream, &finish);
  EXPECT_EQ(finish, FinishReason::Abort);
  for (int i = 0; i < 100 && loop.metrics().kvBlocksFree != 32; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(loop.metrics().kvBlocksFree, 32);
  EXPECT_EQ(loop.metrics().requestsAborted, 1);
  EXPECT_THROW(loop.submit(request("bad", {}, 4)), rt::Error);
}

TEST(EngineLoop, ShutdownFinishesOrAbortsWhatIsInFlight) {
  Rig rig(8, 32);
  rig.device.stepDelay = 2ms;
  EngineLoop loop(*rig.engine);
  auto quick = loop.submit(request("quick", {1}, 3));
  drain(*quick);
  auto slow = loop.submit(request("slow", {1, 2}, 60));
  loop.shutdown(0ms);
  std::optional<FinishReason> finish;
  drain(*slow, &finish);
  EXPECT_TRUE(slow->done());
  EXPECT_THROW(loop.submit(request("late", {1}, 1)), rt::Error);
}

} // namespace
