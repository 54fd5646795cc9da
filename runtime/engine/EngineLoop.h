//===- EngineLoop.h - the engine on its own thread --------------*- C++ -*-===//
//
// Runs an Engine on one thread for many clients (the server, the batch
// runner): submit() checks a request and queues it, returning a stream the
// client reads the request's events from; abort() (or closing the stream)
// ends it at the next step. The loop steps while there is work and sleeps
// when there is none. A failed step ends every request in flight with the
// error, and the loop goes on.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_ENGINE_ENGINELOOP_H
#define LLMC_RUNTIME_ENGINE_ENGINELOOP_H

#include "runtime/engine/Engine.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace llmc::engine {

class EngineLoop;

/// One request's events, in order, as the engine produces them.
class RequestStream {
public:
  /// Waits up to `timeout` for the next event. False on timeout, or when
  /// the stream has ended and everything was read.
  bool next(RequestEvent &out, std::chrono::milliseconds timeout);
  /// True once the last event was read.
  bool done() const;
  /// Ends the request (client gone); harmless when it already ended.
  void cancel();
  const std::string &id() const { return id_; }

private:
  friend class EngineLoop;
  RequestStream(EngineLoop &loop, std::string id)
      : loop_(loop), id_(std::move(id)) {}
  void push(const RequestEvent &e);

  EngineLoop &loop_;
  std::string id_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<RequestEvent> events_;
  bool ended_ = false, readLast_ = false;
};

class EngineLoop {
public:
  explicit EngineLoop(Engine &engine);
  ~EngineLoop();
  EngineLoop(const EngineLoop &) = delete;
  EngineLoop &operator=(const EngineLoop &) = delete;

  /// Checks and queues a request (throws rt::Error, naming the field, for
  /// one the engine cannot run, and when the loop no longer accepts).
  std::shared_ptr<RequestStream> submit(RequestSpec spec);
  void abort(const std::string &id);
  /// Metrics as of the last step.
  MetricsSnapshot metrics() const;
  /// Requests queued or running.
  size_t inFlight() const;

  /// Stops taking requests; waits up to `grace` for those in flight to
  /// finish, then aborts the rest, and stops the thread.
  void shutdown(std::chrono::milliseconds grace);

private:
  void run();

  Engine &engine_;
  mutable std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<std::pair<RequestSpec, std::shared_ptr<RequestStream>>> adds_;
  std::vector<std::string> aborts_;
  MetricsSnapshot metrics_;
  size_t inFlight_ = 0;
  size_t ended_ = 0; // requests ended this iteration (loop thread only)
  /// This iteration's events, pushed after the metrics snapshot (loop
  /// thread only).
  std::vector<std::pair<std::weak_ptr<RequestStream>, RequestEvent>> pending_;
  bool accepting_ = true, stop_ = false, abortAll_ = false;
  std::thread thread_;
};

} // namespace llmc::engine

#endif // LLMC_RUNTIME_ENGINE_ENGINELOOP_H
