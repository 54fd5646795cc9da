//===- EngineLoop.cpp - the engine on its own thread ----------------------===//
#include "runtime/engine/EngineLoop.h"
#include "runtime/support/Error.h"

namespace llmc::engine {

void RequestStream::push(const RequestEvent &e) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.push_back(e);
    if (e.finished)
      ended_ = true;
  }
  ready_.notify_all();
}

bool RequestStream::next(RequestEvent &out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!ready_.wait_for(lock, timeout, [&] { return !events_.empty(); }))
    return false;
  out = std::move(events_.front());
  events_.pop_front();
  if (out.finished)
    readLast_ = true;
  return true;
}

bool RequestStream::done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return readLast_;
}

void RequestStream::cancel() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ended_)
      return;
  }
  loop_.abort(id_);
}

EngineLoop::EngineLoop(Engine &engine) : engine_(engine) {
  metrics_ = engine_.metrics();
  thread_ = std::thread([this] { run(); });
}

EngineLoop::~EngineLoop() { shutdown(std::chrono::milliseconds(0)); }

std::shared_ptr<RequestStream> EngineLoop::submit(RequestSpec spec) {
  engine_.validate(spec);
  std::shared_ptr<RequestStream> stream(new RequestStream(*this, spec.id));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!accepting_)
      rt::fail("the server is shutting down");
    adds_.emplace_back(std::move(spec), stream);
    ++inFlight_;
  }
  wake_.notify_all();
  return stream;
}

void EngineLoop::abort(const std::string &id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    aborts_.push_back(id);
  }
  wake_.notify_all();
}

MetricsSnapshot EngineLoop::metrics() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return metrics_;
}

size_t EngineLoop::inFlight() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return inFlight_;
}

void EngineLoop::run() {
  while (true) {
    std::deque<std::pair<RequestSpec, std::shared_ptr<RequestStream>>> adds;
    std::vector<std::string> aborts;
    bool abortAll;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] {
        return stop_ || abortAll_ || !adds_.empty() || !aborts_.empty() ||
               engine_.hasWork();
      });
      if (stop_ && !engine_.hasWork() && adds_.empty())
        break;
      adds.swap(adds_);
      aborts.swap(aborts_);
      abortAll = abortAll_;
    }
    for (auto &[spec, stream] : adds) {
      std::weak_ptr<RequestStream> weak = stream;
      // Events reach their streams after the step, once the metrics
      // snapshot includes it: a client that has its response and asks
      // for /metrics sees the blocks it freed.
      auto sink = [this, weak](const RequestEvent &e) {
        if (e.finished)
          ++ended_;
        pending_.emplace_back(weak, e);
      };
      try {
        engine_.add(std::move(spec), sink);
      } catch (const rt::Error &e) {
        // Validated at submit; a duplicate id is all that is left.
        RequestEvent failed;
        failed.finished = true;
        failed.error = e.what();
        stream->push(failed);
        ++ended_;
      }
    }
    for (const std::string &id : aborts)
      engine_.abort(id);
    if (abortAll)
      engine_.failAll("the server is shutting down");
    if (engine_.hasWork()) {
      try {
        engine_.step();
      } catch (const std::exception &e) {
        engine_.failAll(e.what());
      }
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      metrics_ = engine_.metrics();
      inFlight_ -= std::min(inFlight_, ended_);
      ended_ = 0;
    }
    for (auto &[weak, event] : pending_)
      if (auto stream = weak.lock())
        stream->push(event);
    pending_.clear();
    idle_.notify_all();
  }
}

void EngineLoop::shutdown(std::chrono::milliseconds grace) {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!thread_.joinable())
      return;
    accepting_ = false;
    idle_.wait_for(lock, grace, [&] { return inFlight_ == 0; });
    abortAll_ = true;
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

} // namespace llmc::engine
