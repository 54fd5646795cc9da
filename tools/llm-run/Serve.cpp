//===- Serve.cpp - llm-run serve: the OpenAI-compatible server ------------===//
#include "Modes.h"
#include "runtime/engine/EngineLoop.h"
#include "runtime/support/Error.h"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <pthread.h>
#include <thread>

namespace llmc::tools {

namespace fs = std::filesystem;

namespace {

std::string modelName(const std::string &artifactDir,
                      const std::string &given) {
  if (!given.empty())
    return given;
  fs::path dir = fs::path(artifactDir).lexically_normal();
  std::string name = dir.filename();
  if (name.empty())
    name = dir.parent_path().filename();
  if (name.size() > 5 && name.substr(name.size() - 5) == ".llmc")
    name.resize(name.size() - 5);
  return name.empty() ? "llmc" : name;
}

} // namespace

std::unique_ptr<Front> makeFront(const Session &session,
                                 const std::string &artifactDir,
                                 const std::string &servedName,
                                 const std::string &chatTemplate) {
  auto front = std::make_unique<Front>();
  front->chat = server::ChatTemplate::load(artifactDir, chatTemplate);
  front->model.name = modelName(artifactDir, servedName);
  front->model.manifest = &session.artifact.manifest();
  front->model.tokenizer = session.tokenizer.get();
  front->model.chatTemplate = front->chat.get();
  return front;
}

int runServe(const std::string &artifactDir, const std::string &weightsDir,
             const EngineOptions &engineOptions, const ServeArgs &args) {
  // SIGINT and SIGTERM go to one thread that shuts the server down; every
  // other thread (the engine, the connections) inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Session session(artifactDir, engineOptions);
  std::unique_ptr<Front> front =
      makeFront(session, artifactDir, args.servedModelName, args.chatTemplate);
  const server::ServedModel &model = front->model;
  if (!front->chat)
    std::cerr << "llm-run: note: the model has no chat template: "
                 "/v1/chat/completions answers 400 (--chat-template FILE "
                 "gives one)\n";
  session.loadWeights(weightsDir);

  engine::EngineLoop loop(*session.engine);
  server::HttpServer http(loop, model, args.server);
  int port = http.bind();
  std::cerr << fmt::format("llm-run: serving '{}' on http://{}:{} (loaded in "
                           "{:.2f} s)\n",
                           model.name, args.server.host, port,
                           session.loadSeconds)
            << std::flush;

  std::atomic<bool> signaled{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    signaled = true;
    std::cerr << "llm-run: " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
              << ": no new connections; finishing the requests in flight\n";
    http.stop();
    loop.shutdown(std::chrono::milliseconds(
        static_cast<int64_t>(args.shutdownGrace * 1000)));
  });
  http.serve();
  // serve() returns once the listener is closed and every connection has
  // ended; the waiter then finishes the engine.
  if (!signaled)
    pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  std::cerr << "llm-run: stopped\n";
  return 0;
}

} // namespace llmc::tools
