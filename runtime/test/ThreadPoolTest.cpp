//===- ThreadPoolTest.cpp - the CPU device's threads and barrier ----------===//
#include "runtime/hal/cpu/ThreadPool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>

using namespace llmc::rt;

namespace {

TEST(ThreadPool, RunsEveryThreadOncePerJob) {
  ThreadPool pool(3);
  ASSERT_EQ(pool.size(), 3);
  for (int job = 0; job < 50; ++job) {
    std::vector<int> seen(3, 0);
    pool.run([&](int tid) { seen[tid] += 1; });
    EXPECT_EQ(seen, (std::vector<int>{1, 1, 1})) << "job " << job;
  }
}

TEST(ThreadPool, AtLeastOneThread) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), 1);
  int calls = 0;
  pool.run([&](int tid) {
    EXPECT_EQ(tid, 0);
    ++calls;
  });
  EXPECT_EQ(calls, 1);
}

TEST(ThreadPool, BarrierSeparatesPhases) {
  // Each phase reads what every thread wrote in the one before: without the
  // barrier some thread would see a stale count.
  constexpr int kThreads = 4, kPhases = 200;
  ThreadPool pool(kThreads);
  SpinBarrier barrier(kThreads);
  std::atomic<int> counter{0};
  std::atomic<int> wrong{0};
  pool.run([&](int) {
    for (int phase = 0; phase < kPhases; ++phase) {
      counter.fetch_add(1);
      barrier.wait();
      if (counter.load() != (phase + 1) * kThreads)
        wrong.fetch_add(1);
      barrier.wait();
    }
  });
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(counter.load(), kThreads * kPhases);
}

TEST(ThreadPool, SharesCoverTheWorkExactlyOnce) {
  for (int threads : {1, 2, 3, 7})
    for (int64_t n : {0, 1, 5, 12, 100}) {
      std::set<int64_t> covered;
      int64_t total = 0;
      int64_t prevEnd = 0;
      for (int t = 0; t < threads; ++t) {
        auto [b, e] = shareOf(n, t, threads);
        EXPECT_EQ(b, prevEnd);
        EXPECT_LE(b, e);
        prevEnd = e;
        total += e - b;
      }
      EXPECT_EQ(prevEnd, n);
      EXPECT_EQ(total, n);
    }
}

} // namespace
