//===- Session.cpp - an artifact loaded into an engine --------------------===//
#include "Session.h"
#include "runtime/support/Error.h"
#include "runtime/weights/SafeTensors.h"
#include "runtime/weights/WeightBinder.h"

#include <filesystem>
#include <iostream>
#include <unistd.h>

namespace llmc::tools {

namespace fs = std::filesystem;

std::unique_ptr<rt::Tokenizer> loadTokenizer(const rt::Artifact &artifact) {
  for (const std::string &f : artifact.manifest().tokenizerFiles)
    if (f == "tokenizer.json")
      return rt::Tokenizer::fromFile(
          (fs::path(artifact.directory()) / f).string());
  return nullptr;
}

namespace {

/// "loading weights: 45% (2.2 of 4.9 GB)" on a terminal, after the first
/// second.
class Progress {
public:
  explicit Progress(std::string what)
      : what_(std::move(what)), tty_(isatty(STDERR_FILENO)),
        start_(std::chrono::steady_clock::now()) {}
  void operator()(int64_t done, int64_t total) {
    if (!tty_ || total <= 0)
      return;
    double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
            .count();
    if (s < 1.0 && !shown_)
      return;
    shown_ = true;
    std::cerr << fmt::format("\r{}: {:3.0f}% ({:.1f} of {:.1f} GB, {:.1f} s)",
                             what_, 100.0 * done / total, done / 1e9,
                             total / 1e9, s)
              << std::flush;
  }
  ~Progress() {
    if (shown_)
      std::cerr << std::endl;
  }

private:
  std::string what_;
  bool tty_, shown_ = false;
  std::chrono::steady_clock::time_point start_;
};

} // namespace

Session::Session(const std::string &artifactDir, EngineOptions options)
    : artifact(artifactDir), options_(std::move(options)),
      start_(std::chrono::steady_clock::now()) {
  const schema::Manifest &m = artifact.manifest();
  tokenizer = loadTokenizer(artifact);
  options_.config.scheduler.policy = sched::parsePolicy(options_.policy);
  options_.config.prefixCaching = !options_.noPrefixCaching;
  rt::DeviceOptions deviceOptions;
  deviceOptions.threads = options_.threads;
  deviceOptions.gpu = options_.gpu;
  device = rt::createDevice(artifact, deviceOptions);
  if (options_.swapSpace > 0 && !device->hasSeparateMemory())
    std::cerr << "llm-run: note: --swap-space is ignored: the "
              << schema::nameOf(m.target)
              << " device keeps the KV cache in host memory; preempted "
                 "sequences are recomputed\n";
  options_.pool.maxSeqs = options_.config.scheduler.maxSeqs;
  // A GPU's memory is the engine's alone: take most of what is free.
  if (device->hasSeparateMemory() && !options_.pool.memoryGiB &&
      !options_.pool.blocks)
    options_.pool.fraction = 0.9;
  pool = engine::sizeKvPool(m, device->memoryAvailable(), options_.pool);
  device->allocate(pool.blocks);
  std::cerr << "llm-run: KV cache: " << pool.describe(m) << "\n";
  engine = std::make_unique<engine::Engine>(m, *device, tokenizer.get(),
                                            options_.config);
}

void Session::loadWeights(const std::string &weightsDir) {
  {
    // The checkpoint stays mapped only while it is converted.
    rt::SafeTensors checkpoint = rt::SafeTensors::openDirectory(weightsDir);
    Progress progress("llm-run: loading weights");
    rt::BindOptions bind;
    bind.threads = options_.threads;
    bind.progress = std::ref(progress);
    device->loadWeights(rt::bindWeights(artifact.manifest(), checkpoint, bind));
  }
  loadSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
          .count();
}

} // namespace llmc::tools
