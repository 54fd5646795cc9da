//===- Communicator.h - collectives between the ranks of a job --*- C++ -*-===//
//
// What a parallel job needs from its transport, and nothing of how: MPI for
// CPU ranks (MpiCommunicator.cpp, Debian's OpenMPI), NCCL for GPUs. The
// collective algorithms are the library's, never ours. Every blocking call
// is watched: one that does not finish in the job's timeout ends the
// process with a message naming the rank and the call (the launcher then
// ends the whole job), so a dead or stuck peer never hangs the others.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_COMM_COMMUNICATOR_H
#define LLMC_RUNTIME_COMM_COMMUNICATOR_H

#include <cstddef>
#include <memory>
#include <string>

namespace llmc::rt {

class Communicator {
public:
  virtual ~Communicator();

  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Ranks on this machine (threads per rank default to its cores over
  /// them).
  virtual int localSize() const = 0;
  /// This rank's index among the ranks on its machine.
  virtual int localRank() const = 0;

  /// `out[i] = sum over ranks of in[i]`, `n` floats (`in == out` allowed).
  virtual void allReduceSum(const float *in, float *out, size_t n) = 0;
  /// `out` receives every rank's `n` floats, rank after rank.
  virtual void allGather(const float *in, float *out, size_t n) = 0;
  virtual void send(const void *data, size_t bytes, int peer, int tag = 0) = 0;
  virtual void recv(void *data, size_t bytes, int peer, int tag = 0) = 0;
  /// A receive posted now and finished by wait(): a peer's send to it
  /// completes even while this rank is busy with other messages.
  class Pending {
  public:
    virtual ~Pending();
    virtual void wait() = 0;
  };
  virtual std::unique_ptr<Pending> recvLater(void *data, size_t bytes, int peer,
                                             int tag = 0) = 0;
  /// The ranks with the same `color` as a communicator of their own, ranked
  /// by `key`. Every rank calls it, at the same point.
  virtual std::shared_ptr<Communicator> split(int color, int key) = 0;
  /// `bytes` of `data` from `root` to every rank.
  virtual void broadcast(void *data, size_t bytes, int root) = 0;
  /// Like broadcast, but a rank may wait for it indefinitely without
  /// spinning (a worker waiting for the next step of an idle server); every
  /// rank must use this form for the same message.
  virtual void broadcastWhenReady(void *data, size_t bytes, int root) = 0;
  virtual void barrier() = 0;
  /// A barrier without the timeout (ranks loading weights at their own
  /// pace), waiting without spinning.
  virtual void barrierWhenReady() = 0;
  /// Ends every rank of the job (after a message on this one).
  [[noreturn]] virtual void abort(int code) = 0;
};

/// Whether this process was started by a launcher that gives it a rank
/// (mpirun / mpiexec, srun, a PMI/PMIx launcher).
bool launchedWithRanks();

/// The MPI communicator of the job (MPI_Init on first use, finalized when
/// the last reference goes). `timeoutSeconds` bounds every blocking call
/// but broadcastWhenReady (0: no bound). Throws rt::Error when this
/// llm-run was built without MPI.
std::shared_ptr<Communicator> createMpiCommunicator(double timeoutSeconds);

} // namespace llmc::rt

#endif // LLMC_RUNTIME_COMM_COMMUNICATOR_H
