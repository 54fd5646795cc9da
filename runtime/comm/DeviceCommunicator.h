//===- DeviceCommunicator.h - collectives on GPU memory ----------*- C++
//-*-===//
//
// What a GPU rank's device needs from its transport: collectives and
// point-to-point sends on device memory, enqueued on the device's stream
// (NCCL). The control messages (rank 0's commands, the step's inputs, the
// logits back to rank 0) stay on the host Communicator (MPI), which also
// carries NCCL's bootstrap: rank 0 of the group makes the unique id and
// broadcasts it.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_COMM_DEVICECOMMUNICATOR_H
#define LLMC_RUNTIME_COMM_DEVICECOMMUNICATOR_H

#include "runtime/comm/Communicator.h"

#include <cstdint>
#include <memory>

namespace llmc::rt {

class DeviceCommunicator {
public:
  virtual ~DeviceCommunicator();

  virtual int rank() const = 0;
  virtual int size() const = 0;

  /// Device addresses; each call returns once enqueued on `stream` (a
  /// CUstream).
  virtual void allReduceSum(uint64_t in, uint64_t out, size_t n,
                            void *stream) = 0;
  /// `out` receives every rank's `n` floats, rank after rank.
  virtual void allGather(uint64_t in, uint64_t out, size_t n, void *stream) = 0;
  virtual void send(uint64_t data, size_t bytes, int peer, void *stream) = 0;
  virtual void recv(uint64_t data, size_t bytes, int peer, void *stream) = 0;
  virtual void broadcast(uint64_t data, size_t bytes, int root,
                         void *stream) = 0;
  /// Throws rt::Error when an enqueued operation failed (a peer died, a
  /// network error).
  virtual void checkAsyncError() = 0;
  /// Ends the communicator's pending operations (after a timeout), so the
  /// stream can finish.
  virtual void abort() = 0;
};

/// An NCCL communicator over the ranks of `bootstrap` (any size, 1
/// included), on the calling thread's current CUDA device: rank 0 makes the
/// unique id, `bootstrap` broadcasts it, every rank joins. libnccl.so.2 is
/// opened at run time; throws rt::Error saying why when it cannot be, or
/// when this llm-run was built without NCCL's header.
std::unique_ptr<DeviceCommunicator>
createNcclCommunicator(Communicator &bootstrap);

} // namespace llmc::rt

#endif // LLMC_RUNTIME_COMM_DEVICECOMMUNICATOR_H
