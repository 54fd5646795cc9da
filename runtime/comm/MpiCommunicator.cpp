//===- MpiCommunicator.cpp - the communicator over MPI --------------------===//
#include "runtime/comm/Communicator.h"
#include "runtime/support/Error.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>
#include <unistd.h>

#ifdef LLMC_WITH_MPI
// The C API only (Open MPI's deprecated C++ bindings need their library).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace llmc::rt {

Communicator::~Communicator() = default;
Communicator::Pending::~Pending() = default;

bool launchedWithRanks() {
  for (const char *v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK",
                        "MV2_COMM_WORLD_SIZE", "SLURM_PROCID"})
    if (std::getenv(v))
      return true;
  return false;
}

#ifdef LLMC_WITH_MPI

namespace {

/// Ends the process when a watched call runs past the timeout.
class Watchdog {
public:
  Watchdog(double seconds, int rank) : seconds_(seconds), rank_(rank) {
    if (seconds_ > 0)
      thread_ = std::thread([this] { loop(); });
  }
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable())
      thread_.join();
  }
  void begin(const char *what) {
    std::lock_guard<std::mutex> l(mu_);
    what_ = what;
    since_ = std::chrono::steady_clock::now();
  }
  void end() {
    std::lock_guard<std::mutex> l(mu_);
    what_ = nullptr;
  }

private:
  void loop() {
    std::unique_lock<std::mutex> l(mu_);
    while (!stop_) {
      cv_.wait_for(l, std::chrono::milliseconds(200));
      if (!what_)
        continue;
      double s = std::chrono::duration<double>(
                     std::chrono::steady_clock::now() - since_)
                     .count();
      if (s > seconds_) {
        std::cerr << "llm-run: rank " << rank_ << ": " << what_
                  << " did not complete in " << seconds_
                  << " s (another rank stopped or is stuck); ending the job"
                  << std::endl;
        // Not MPI_Abort: this is not the thread that called MPI. The
        // launcher ends the other ranks when one exits without finalizing.
        _exit(3);
      }
    }
  }

  double seconds_;
  int rank_;
  std::mutex mu_;
  std::condition_variable cv_;
  const char *what_ = nullptr;
  std::chrono::steady_clock::time_point since_;
  bool stop_ = false;
  std::thread thread_;
};

void check(int rc, const char *what) {
  if (rc != MPI_SUCCESS) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    fail("MPI {} failed: {}", what, std::string(msg, len));
  }
}

/// MPI itself, once per process: initialized by the first communicator,
/// finalized after the last, with the watchdog every blocking call reports
/// to.
class MpiProcess {
public:
  explicit MpiProcess(double timeoutSeconds) {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided),
          "init");
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    watchdog = std::make_unique<Watchdog>(timeoutSeconds, rank);
  }
  ~MpiProcess() {
    watchdog.reset();
    MPI_Finalize();
  }
  std::unique_ptr<Watchdog> watchdog;
};

class MpiCommunicator : public Communicator {
public:
  MpiCommunicator(std::shared_ptr<MpiProcess> process, MPI_Comm comm)
      : process_(std::move(process)), comm_(comm) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    MPI_Comm local;
    check(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL,
                              &local),
          "split");
    MPI_Comm_size(local, &localSize_);
    MPI_Comm_rank(local, &localRank_);
    MPI_Comm_free(&local);
  }
  ~MpiCommunicator() override {
    if (comm_ != MPI_COMM_WORLD)
      MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int localSize() const override { return localSize_; }
  int localRank() const override { return localRank_; }

  void allReduceSum(const float *in, float *out, size_t n) override {
    Watch w(*this, "all_reduce");
    check(MPI_Allreduce(in == out ? MPI_IN_PLACE : in, out, count(n), MPI_FLOAT,
                        MPI_SUM, comm_),
          "all_reduce");
  }
  void allGather(const float *in, float *out, size_t n) override {
    Watch w(*this, "all_gather");
    check(
        MPI_Allgather(in, count(n), MPI_FLOAT, out, count(n), MPI_FLOAT, comm_),
        "all_gather");
  }
  void send(const void *data, size_t bytes, int peer, int tag) override {
    Watch w(*this, "send");
    check(MPI_Send(data, count(bytes), MPI_BYTE, peer, tag, comm_), "send");
  }
  void recv(void *data, size_t bytes, int peer, int tag) override {
    Watch w(*this, "recv");
    check(MPI_Recv(data, count(bytes), MPI_BYTE, peer, tag, comm_,
                   MPI_STATUS_IGNORE),
          "recv");
  }
  std::unique_ptr<Pending> recvLater(void *data, size_t bytes, int peer,
                                     int tag) override {
    auto p = std::make_unique<PendingRecv>(*this);
    check(MPI_Irecv(data, count(bytes), MPI_BYTE, peer, tag, comm_, &p->req),
          "recv");
    return p;
  }
  std::shared_ptr<Communicator> split(int color, int key) override {
    MPI_Comm sub;
    check(MPI_Comm_split(comm_, color, key, &sub), "split");
    return std::make_shared<MpiCommunicator>(process_, sub);
  }
  void broadcast(void *data, size_t bytes, int root) override {
    Watch w(*this, "broadcast");
    check(MPI_Bcast(data, count(bytes), MPI_BYTE, root, comm_), "broadcast");
  }
  void broadcastWhenReady(void *data, size_t bytes, int root) override {
    MPI_Request req;
    check(MPI_Ibcast(data, count(bytes), MPI_BYTE, root, comm_, &req),
          "broadcast");
    wait(req, "broadcast");
  }
  void barrierWhenReady() override {
    MPI_Request req;
    check(MPI_Ibarrier(comm_, &req), "barrier");
    wait(req, "barrier");
  }
  /// Polls `req` with growing sleeps: a waiting rank costs no CPU.
  static void wait(MPI_Request &req, const char *what) {
    int done = 0;
    for (int sleepUs = 10;; sleepUs = std::min(sleepUs * 2, 2000)) {
      check(MPI_Test(&req, &done, MPI_STATUS_IGNORE), what);
      if (done)
        return;
      std::this_thread::sleep_for(std::chrono::microseconds(sleepUs));
    }
  }
  void barrier() override {
    Watch w(*this, "barrier");
    check(MPI_Barrier(comm_), "barrier");
  }
  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

private:
  struct Watch {
    Watch(MpiCommunicator &c, const char *what) : c(c) {
      c.process_->watchdog->begin(what);
    }
    ~Watch() { c.process_->watchdog->end(); }
    MpiCommunicator &c;
  };
  struct PendingRecv : Pending {
    explicit PendingRecv(MpiCommunicator &c) : c(c) {}
    ~PendingRecv() override {
      if (req != MPI_REQUEST_NULL) {
        MPI_Cancel(&req);
        MPI_Request_free(&req);
      }
    }
    void wait() override {
      Watch w(c, "recv");
      check(MPI_Wait(&req, MPI_STATUS_IGNORE), "recv");
    }
    MpiCommunicator &c;
    MPI_Request req = MPI_REQUEST_NULL;
  };
  static int count(size_t n) {
    if (n > static_cast<size_t>(INT32_MAX))
      fail("a message of {} elements is past MPI's int count", n);
    return static_cast<int>(n);
  }

  std::shared_ptr<MpiProcess> process_;
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1, localSize_ = 1, localRank_ = 0;
};

} // namespace

std::shared_ptr<Communicator> createMpiCommunicator(double timeoutSeconds) {
  return std::make_shared<MpiCommunicator>(
      std::make_shared<MpiProcess>(timeoutSeconds), MPI_COMM_WORLD);
}

#else

std::shared_ptr<Communicator> createMpiCommunicator(double) {
  fail("this llm-run was built without MPI (install libopenmpi-dev and "
       "rebuild) and cannot run a parallel artifact");
}

#endif

} // namespace llmc::rt
