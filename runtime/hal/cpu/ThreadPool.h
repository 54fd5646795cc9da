//===- ThreadPool.h - the CPU device's worker threads -----------*- C++ -*-===//
#ifndef LLMC_RUNTIME_HAL_CPU_THREADPOOL_H
#define LLMC_RUNTIME_HAL_CPU_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace llmc::rt {

/// A reusable spinning barrier for a fixed number of threads: the CPU
/// device's barrier between launches.
class SpinBarrier {
public:
  explicit SpinBarrier(int threads) : threads_(threads) {}
  void wait();

private:
  const int threads_;
  std::atomic<int> arrived_{0};
  std::atomic<uint64_t> generation_{0};
};

class ThreadPool {
public:
  /// `threads` >= 1 (the caller is thread 0).
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int size() const { return threads_; }

  /// Runs `fn(threadIndex)` on every thread at once and returns when all
  /// are done.
  void run(const std::function<void(int)> &fn);

private:
  void work(int index);

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)> *job_ = nullptr;
  uint64_t jobId_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

/// Thread `index` of `threads`'s share [begin, end) of `n` work items.
inline std::pair<int64_t, int64_t> shareOf(int64_t n, int index, int threads) {
  return {n * index / threads, n * (index + 1) / threads};
}

} // namespace llmc::rt

#endif // LLMC_RUNTIME_HAL_CPU_THREADPOOL_H
