//===- HttpServer.cpp - OpenAI-compatible HTTP over the engine ------------===//
#include "runtime/server/HttpServer.h"
#include "runtime/support/Error.h"

#include <httplib.h>

#include <chrono>
#include <sys/socket.h>
#include <thread>

namespace llmc::server {

using namespace std::chrono_literals;

namespace {

void sendJson(httplib::Response &res, int status, const json &body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json");
}

void sendError(httplib::Response &res, const ApiError &e) {
  sendJson(res, e.status, e.body());
}

/// The streams of one HTTP request (one per prompt) and what was built.
struct Exchange {
  ParsedRequest req;
  std::vector<std::shared_ptr<engine::RequestStream>> streams;
  std::unique_ptr<ResponseBuilder> builder;
  std::deque<std::string> pending; // SSE lines not yet written
  bool doneSent = false;
  std::chrono::steady_clock::time_point deadline =
      std::chrono::steady_clock::time_point::max();
  bool timedOut = false;

  /// Cancels the request once its time is up (--request-timeout).
  void checkDeadline() {
    if (!timedOut && !allRead() &&
        std::chrono::steady_clock::now() > deadline) {
      timedOut = true;
      cancel();
    }
  }

  void cancel() {
    for (auto &s : streams)
      s->cancel();
  }
  bool allRead() const {
    for (const auto &s : streams)
      if (!s->done())
        return false;
    return true;
  }
  /// Takes the events that are ready (waiting up to `wait` when none is).
  /// Returns the stream chunks they make.
  void poll(std::chrono::milliseconds wait) {
    bool got = false;
    for (size_t i = 0; i < streams.size(); ++i) {
      engine::RequestEvent e;
      while (!streams[i]->done() && streams[i]->next(e, 0ms)) {
        got = true;
        for (json &chunk : builder->add(i, e))
          pending.push_back(
              "data: " +
              chunk.dump(-1, ' ', false, json::error_handler_t::replace) +
              "\n\n");
      }
    }
    if (got)
      return;
    for (size_t i = 0; i < streams.size(); ++i)
      if (!streams[i]->done()) {
        engine::RequestEvent e;
        if (streams[i]->next(e, wait))
          for (json &chunk : builder->add(i, e))
            pending.push_back(
                "data: " +
                chunk.dump(-1, ' ', false, json::error_handler_t::replace) +
                "\n\n");
        return;
      }
  }
};

} // namespace

HttpServer::HttpServer(engine::EngineLoop &loop, const ServedModel &model,
                       ServerOptions options)
    : loop_(loop), model_(model), options_(std::move(options)),
      http_(std::make_unique<httplib::Server>()) {
  int threads = std::max(1, options_.threads);
  http_->new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  // Remember the listening socket, to give it a real backlog after bind
  // (cpp-httplib listens with a backlog of 5: a burst of connections
  // before the accept loop runs would be reset).
  http_->set_socket_options([this](socket_t sock) {
    httplib::default_socket_options(sock);
    listenSocket_ = static_cast<int>(sock);
  });
  http_->set_payload_max_length(options_.maxBodyBytes);
  http_->set_keep_alive_max_count(1000);
  http_->set_read_timeout(60, 0);
  http_->set_write_timeout(60, 0);
  routes();
}

HttpServer::~HttpServer() = default;

int HttpServer::bind() {
  int port =
      options_.port == 0
          ? http_->bind_to_any_port(options_.host)
          : (http_->bind_to_port(options_.host, options_.port) ? options_.port
                                                               : -1);
  if (port < 0)
    rt::fail("cannot listen on {}:{} (in use, or not an address of this "
             "machine)",
             options_.host, options_.port);
  if (listenSocket_ >= 0)
    ::listen(listenSocket_, SOMAXCONN);
  return port;
}

void HttpServer::serve() { http_->listen_after_bind(); }

void HttpServer::stop() { http_->stop(); }

void HttpServer::routes() {
  auto authorized = [this](const httplib::Request &req,
                           httplib::Response &res) {
    if (options_.apiKey.empty())
      return true;
    if (req.get_header_value("Authorization") == "Bearer " + options_.apiKey)
      return true;
    sendError(res, ApiError(401,
                            "Invalid or missing API key (send "
                            "'Authorization: Bearer KEY')",
                            std::nullopt, "invalid_request_error",
                            "invalid_api_key"));
    return false;
  };

  auto generate = [this, authorized](bool chat) {
    return [this, authorized, chat](const httplib::Request &req,
                                    httplib::Response &res) {
      ++httpRequests_;
      if (!authorized(req, res))
        return;
      auto ex = std::make_shared<Exchange>();
      try {
        json body;
        try {
          body = json::parse(req.body);
        } catch (const json::exception &e) {
          throw ApiError(400, std::string("the body is not valid JSON: ") +
                                  e.what());
        }
        ex->req =
            chat ? parseChat(body, model_) : parseCompletion(body, model_);
        std::string id =
            fmt::format("{}-{:x}", chat ? "chatcmpl" : "cmpl", nextId_++);
        ex->builder =
            std::make_unique<ResponseBuilder>(ex->req, model_, id, unixTime());
        if (options_.requestTimeout > 0)
          ex->deadline = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(static_cast<int64_t>(
                             options_.requestTimeout * 1000));
        for (size_t i = 0; i < ex->req.specs.size(); ++i) {
          engine::RequestSpec spec = ex->req.specs[i];
          spec.id = id + "-" + std::to_string(i);
          try {
            ex->streams.push_back(loop_.submit(std::move(spec)));
          } catch (const rt::Error &e) {
            ex->cancel();
            std::string msg = e.what();
            bool closing = msg == "the server is shutting down";
            throw ApiError(closing ? 503 : 400, msg, std::nullopt,
                           closing ? "server_error" : "invalid_request_error");
          }
        }
      } catch (const ApiError &e) {
        sendError(res, e);
        return;
      } catch (const rt::Error &e) {
        sendError(res, ApiError(400, e.what()));
        return;
      }

      if (!ex->req.stream) {
        while (!ex->allRead()) {
          ex->poll(100ms);
          ex->checkDeadline();
        }
        if (ex->timedOut) {
          sendError(res, ApiError(504,
                                  "the request ran longer than the server's "
                                  "--request-timeout and was cancelled",
                                  std::nullopt, "server_error", "timeout"));
          return;
        }
        if (ex->builder->error()) {
          sendError(res, ApiError(500, *ex->builder->error(), std::nullopt,
                                  "server_error"));
          return;
        }
        sendJson(res, 200, ex->builder->response());
        return;
      }
      res.set_header("Cache-Control", "no-cache");
      res.set_chunked_content_provider(
          "text/event-stream",
          [ex](size_t, httplib::DataSink &sink) {
            while (ex->pending.empty() && !ex->allRead()) {
              ex->poll(50ms);
              ex->checkDeadline();
            }
            while (!ex->pending.empty()) {
              const std::string &line = ex->pending.front();
              if (!sink.write(line.data(), line.size()))
                return false; // the client is gone
              ex->pending.pop_front();
            }
            if (!ex->allRead())
              return sink.is_writable();
            if (const auto &err = ex->builder->error()) {
              std::string line =
                  "data: " +
                  ApiError(500, *err, std::nullopt, "server_error")
                      .body()
                      .dump() +
                  "\n\n";
              sink.write(line.data(), line.size());
            } else if (auto usage = ex->builder->usageChunk()) {
              std::string line = "data: " + usage->dump() + "\n\n";
              sink.write(line.data(), line.size());
            }
            static const std::string done = "data: [DONE]\n\n";
            sink.write(done.data(), done.size());
            ex->doneSent = true;
            sink.done();
            return true;
          },
          [ex](bool success) {
            if (!success || !ex->doneSent)
              ex->cancel();
          });
    };
  };
  http_->Post("/v1/completions", generate(false));
  http_->Post("/v1/chat/completions", generate(true));

  http_->Get("/v1/models", [this, authorized](const httplib::Request &req,
                                              httplib::Response &res) {
    ++httpRequests_;
    if (!authorized(req, res))
      return;
    json model{{"id", model_.name},
               {"object", "model"},
               {"created", unixTime()},
               {"owned_by", "llmc"},
               {"max_model_len", model_.manifest->maxSeqLen}};
    sendJson(res, 200,
             json{{"object", "list"}, {"data", json::array({model})}});
  });
  http_->Get("/health",
             [this](const httplib::Request &, httplib::Response &res) {
               ++httpRequests_;
               sendJson(res, 200, json{{"status", "ok"}});
             });
  http_->Get("/metrics",
             [this](const httplib::Request &, httplib::Response &res) {
               ++httpRequests_;
               res.set_content(prometheusText(loop_.metrics(), model_.name),
                               "text/plain; version=0.0.4");
             });
  http_->Get("/", [this](const httplib::Request &, httplib::Response &res) {
    ++httpRequests_;
    res.set_content(kChatPage, "text/html; charset=utf-8");
  });

  http_->set_error_handler(
      [](const httplib::Request &req, httplib::Response &res) {
        if (!res.body.empty())
          return;
        std::string msg = res.status == 404
                              ? "no route for " + req.method + " " + req.path
                          : res.status == 413 ? "the request body is too large"
                          : res.status == 405 ? "method not allowed"
                                              : "bad request";
        sendJson(res, res.status, ApiError(res.status, msg).body());
      });
  http_->set_exception_handler([](const httplib::Request &,
                                  httplib::Response &res,
                                  std::exception_ptr ep) {
    std::string msg = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception &e) {
      msg = e.what();
    } catch (...) {
    }
    sendJson(res, 500, ApiError(500, msg, std::nullopt, "server_error").body());
  });
}

std::string prometheusText(const engine::MetricsSnapshot &m,
                           const std::string &model) {
  std::string out;
  std::string label = "{model_name=\"" + model + "\"}";
  auto metric = [&](const char *name, const char *type, const char *help,
                    double value) {
    out += fmt::format("# HELP llmc_{} {}\n# TYPE llmc_{} {}\nllmc_{}{} {}\n",
                       name, help, name, type, name, label, value);
  };
  auto histogram = [&](const char *name, const char *help,
                       const engine::Histogram &h) {
    out += fmt::format("# HELP llmc_{} {}\n# TYPE llmc_{} histogram\n", name,
                       help, name);
    int64_t cumulative = 0;
    for (size_t k = 0; k < h.buckets.size(); ++k) {
      cumulative += h.buckets[k];
      std::string le =
          k < h.bounds.size() ? fmt::format("{}", h.bounds[k]) : "+Inf";
      out += fmt::format("llmc_{}_bucket{{model_name=\"{}\",le=\"{}\"}} {}\n",
                         name, model, le, cumulative);
    }
    out += fmt::format("llmc_{}_sum{} {}\nllmc_{}_count{} {}\n", name, label,
                       h.sum, name, label, h.count);
  };
  metric("num_requests_running", "gauge", "Sequences running (holding KV).",
         static_cast<double>(m.running));
  metric("num_requests_waiting", "gauge", "Sequences waiting to run.",
         static_cast<double>(m.waiting));
  metric("num_requests_preempted", "gauge",
         "Waiting sequences that were preempted.",
         static_cast<double>(m.preempted));
  metric("preemptions_total", "counter", "Preemptions so far.",
         static_cast<double>(m.preemptions));
  metric("kv_cache_blocks_used", "gauge", "KV cache blocks in use.",
         static_cast<double>(m.kvBlocksTotal - m.kvBlocksFree));
  metric("kv_cache_blocks_free", "gauge",
         "KV cache blocks free (cached prefixes included).",
         static_cast<double>(m.kvBlocksFree));
  metric("kv_cache_usage_perc", "gauge", "Fraction of KV cache blocks in use.",
         m.kvBlocksTotal
             ? static_cast<double>(m.kvBlocksTotal - m.kvBlocksFree) /
                   m.kvBlocksTotal
             : 0.0);
  metric("prefix_cache_queries_total", "counter",
         "Prompt tokens looked up in the prefix cache.",
         static_cast<double>(m.prefixQueriedTokens));
  metric("prefix_cache_hits_total", "counter",
         "Prompt tokens found in the prefix cache.",
         static_cast<double>(m.prefixHitTokens));
  metric("prefix_cache_hit_rate", "gauge",
         "Prompt tokens found in the prefix cache / looked up.",
         m.prefixQueriedTokens
             ? static_cast<double>(m.prefixHitTokens) / m.prefixQueriedTokens
             : 0.0);
  metric("prompt_tokens_total", "counter", "Prompt tokens of requests.",
         static_cast<double>(m.promptTokens));
  metric("generation_tokens_total", "counter", "Tokens generated.",
         static_cast<double>(m.generationTokens));
  metric("request_success_total", "counter",
         "Requests that ended with stop or length.",
         static_cast<double>(m.requestsFinished));
  metric("request_aborted_total", "counter",
         "Requests cancelled (client gone, shutdown).",
         static_cast<double>(m.requestsAborted));
  metric("request_failed_total", "counter", "Requests a failed step ended.",
         static_cast<double>(m.requestsFailed));
  metric("engine_steps_total", "counter", "Engine steps run.",
         static_cast<double>(m.steps));
  histogram("time_to_first_token_seconds", "Time to the first token.",
            m.timeToFirstToken);
  histogram("inter_token_latency_seconds",
            "Time between consecutive tokens of a sequence.",
            m.interTokenLatency);
  histogram("e2e_request_latency_seconds", "Request latency.",
            m.requestLatency);
  return out;
}

} // namespace llmc::server
