//===- NcclCommunicator.cpp - GPU collectives over NCCL -------------------===//
//
// NCCL is opened with dlopen (like the CUDA driver), so llm-run starts on
// machines without it; only its header is needed at build time. The
// algorithms are NCCL's; this file only bootstraps a communicator and maps
// the calls.
//
//===----------------------------------------------------------------------===//
#include "runtime/comm/DeviceCommunicator.h"
#include "runtime/support/Error.h"

#ifdef LLMC_WITH_NCCL
#include <dlfcn.h>
#include <nccl.h>
#endif

namespace llmc::rt {

DeviceCommunicator::~DeviceCommunicator() = default;

#ifdef LLMC_WITH_NCCL

namespace {

/// The NCCL functions llm-run calls, resolved from libnccl.so.2.
struct Nccl {
#define LLMC_NCCL_FNS(X)                                                       \
  X(ncclGetUniqueId)                                                           \
  X(ncclCommInitRank)                                                          \
  X(ncclCommDestroy)                                                           \
  X(ncclCommAbort)                                                             \
  X(ncclCommGetAsyncError)                                                     \
  X(ncclGetErrorString)                                                        \
  X(ncclAllReduce)                                                             \
  X(ncclAllGather)                                                             \
  X(ncclBroadcast)                                                             \
  X(ncclSend)                                                                  \
  X(ncclRecv)
#define LLMC_NCCL_MEMBER(name) decltype(&::name) name = nullptr;
  LLMC_NCCL_FNS(LLMC_NCCL_MEMBER)
#undef LLMC_NCCL_MEMBER

  static const Nccl &get() {
    static const Nccl nccl = load();
    return nccl;
  }

  void check(ncclResult_t r, const char *what, int rank) const {
    if (r != ncclSuccess && r != ncclInProgress)
      fail("rank {}: NCCL {} failed: {} (NCCL error {})", rank, what,
           ncclGetErrorString(r), static_cast<int>(r));
  }

private:
  static Nccl load() {
    void *lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      std::string why = dlerror();
      fail("a parallel cuda artifact needs NCCL and libnccl.so.2 cannot be "
           "opened ({}); install NCCL (libnccl2) or put it on "
           "LD_LIBRARY_PATH",
           why);
    }
    Nccl n;
#define LLMC_NCCL_LOAD(name)                                                   \
  n.name = reinterpret_cast<decltype(n.name)>(dlsym(lib, #name));              \
  if (!n.name)                                                                 \
    fail("libnccl.so.2 has no {} (NCCL older than 2.7?)", #name);
    LLMC_NCCL_FNS(LLMC_NCCL_LOAD)
#undef LLMC_NCCL_LOAD
    return n;
  }
};

class NcclCommunicator : public DeviceCommunicator {
public:
  explicit NcclCommunicator(Communicator &bootstrap)
      : n_(Nccl::get()), rank_(bootstrap.rank()), size_(bootstrap.size()) {
    ncclUniqueId id{};
    if (rank_ == 0)
      n_.check(n_.ncclGetUniqueId(&id), "unique id", rank_);
    bootstrap.broadcast(&id, sizeof id, 0);
    n_.check(n_.ncclCommInitRank(&comm_, size_, id, rank_), "init", rank_);
  }
  ~NcclCommunicator() override {
    if (comm_)
      n_.ncclCommDestroy(comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void allReduceSum(uint64_t in, uint64_t out, size_t n,
                    void *stream) override {
    n_.check(n_.ncclAllReduce(ptr(in), ptr(out), n, ncclFloat32, ncclSum, comm_,
                              s(stream)),
             "all_reduce", rank_);
  }
  void allGather(uint64_t in, uint64_t out, size_t n, void *stream) override {
    n_.check(
        n_.ncclAllGather(ptr(in), ptr(out), n, ncclFloat32, comm_, s(stream)),
        "all_gather", rank_);
  }
  void send(uint64_t data, size_t bytes, int peer, void *stream) override {
    n_.check(n_.ncclSend(ptr(data), bytes, ncclUint8, peer, comm_, s(stream)),
             "send", rank_);
  }
  void recv(uint64_t data, size_t bytes, int peer, void *stream) override {
    n_.check(n_.ncclRecv(ptr(data), bytes, ncclUint8, peer, comm_, s(stream)),
             "recv", rank_);
  }
  void broadcast(uint64_t data, size_t bytes, int root, void *stream) override {
    n_.check(n_.ncclBroadcast(ptr(data), ptr(data), bytes, ncclUint8, root,
                              comm_, s(stream)),
             "broadcast", rank_);
  }
  void checkAsyncError() override {
    ncclResult_t async = ncclSuccess;
    n_.check(n_.ncclCommGetAsyncError(comm_, &async), "error query", rank_);
    n_.check(async, "collective", rank_);
  }
  void abort() override {
    if (comm_)
      n_.ncclCommAbort(comm_);
    comm_ = nullptr;
  }

private:
  static void *ptr(uint64_t p) { return reinterpret_cast<void *>(p); }
  static cudaStream_t s(void *stream) {
    return static_cast<cudaStream_t>(stream);
  }

  const Nccl &n_;
  int rank_, size_;
  ncclComm_t comm_ = nullptr;
};

} // namespace

std::unique_ptr<DeviceCommunicator>
createNcclCommunicator(Communicator &bootstrap) {
  return std::make_unique<NcclCommunicator>(bootstrap);
}

#else

std::unique_ptr<DeviceCommunicator> createNcclCommunicator(Communicator &) {
  fail("this llm-run was built without NCCL's header (nccl.h) and cannot "
       "run a parallel cuda artifact");
}

#endif

} // namespace llmc::rt
