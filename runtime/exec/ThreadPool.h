//===- ThreadPool.h - the step's worker threads and barrier -----*- C++ -*-===//
//
// The compiled step runs on every thread of the pool at once; each kernel
// takes its share of the work and ends with `llmc_barrier()`, which the
// step library calls back into (the executable exports it).
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_EXEC_THREADPOOL_H
#define LLMC_RUNTIME_EXEC_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

extern "C" void llmc_barrier();

namespace llmc::rt {

/// A reusable spinning barrier for a fixed number of threads.
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

  /// Runs `fn(threadIndex)` on every thread, with llmc_barrier() bound to
  /// this pool's barrier, and returns when all are done.
  void run(const std::function<void(int)> &fn);

private:
  void work(int index);

  int threads_;
  SpinBarrier barrier_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)> *job_ = nullptr;
  uint64_t jobId_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

} // namespace llmc::rt

#endif // LLMC_RUNTIME_EXEC_THREADPOOL_H
