//===- HttpServer.h - OpenAI-compatible HTTP over the engine ----*- C++ -*-===//
//
// cpp-httplib (Debian's libcpp-httplib) serving:
//   POST /v1/completions, /v1/chat/completions (JSON, or server-sent events
//        with "stream": true, ending in "data: [DONE]")
//   GET  /v1/models, /health, /metrics (Prometheus text), / (a chat page)
// Every connection has a thread from a pool sized for many concurrent
// streams; a stream whose client goes away is cancelled, freeing its KV
// blocks at the next step. With an API key, /v1/ needs
// "Authorization: Bearer KEY".
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_SERVER_HTTPSERVER_H
#define LLMC_RUNTIME_SERVER_HTTPSERVER_H

#include "runtime/engine/EngineLoop.h"
#include "runtime/server/OpenAI.h"

#include <atomic>
#include <memory>
#include <string>

namespace httplib {
class Server;
}

namespace llmc::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;    // 0: any free port
  std::string apiKey; // empty: no key needed
  int threads = 512;  // connections served at once
  size_t maxBodyBytes = size_t(32) << 20;
  double requestTimeout = 0; // seconds a request may run; 0: no limit
};

class HttpServer {
public:
  HttpServer(engine::EngineLoop &loop, const ServedModel &model,
             ServerOptions options);
  ~HttpServer();

  /// Binds the listening socket; returns the port. Throws rt::Error when
  /// the address cannot be bound.
  int bind();
  /// Serves until stop(); returns when every connection is done.
  void serve();
  /// Stops accepting connections (safe from another thread).
  void stop();

private:
  void routes();

  engine::EngineLoop &loop_;
  const ServedModel &model_;
  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<uint64_t> nextId_{0};
  std::atomic<int64_t> httpRequests_{0};
  int listenSocket_ = -1;
};

/// The engine's metrics in the Prometheus text format.
std::string prometheusText(const engine::MetricsSnapshot &m,
                           const std::string &model);

/// The chat page served at / (runtime/server/chat.html, built in).
extern const char *const kChatPage;

} // namespace llmc::server

#endif // LLMC_RUNTIME_SERVER_HTTPSERVER_H
