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
  deviceOptions.timeoutSeconds = options_.collectiveTimeout;
  if (options_.ranks) {
    deviceOptions.comm = options_.ranks->comms().tensor;
    deviceOptions.world = options_.ranks->comms().world;
  }
  device = rt::createDevice(artifact, deviceOptions);
  if (options_.ranks)
    device = std::make_unique<rt::RankGroupDevice>(std::move(device),
                                                   options_.ranks, m.vocabSize);
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

rt::AlignedBuffer readWeights(const schema::Manifest &m,
                              const std::string &weightsDir, int threads) {
  // The checkpoint stays mapped only while it is converted; a rank reads
  // (maps) only the rows and columns of its shards.
  rt::SafeTensors checkpoint = rt::SafeTensors::openDirectory(weightsDir);
  std::string who =
      m.ranks.empty() ? std::string() : fmt::format(" (rank {})", m.rank);
  rt::AlignedBuffer packed;
  {
    Progress progress("llm-run: loading weights" + who);
    rt::BindOptions bind;
    bind.threads = threads;
    bind.progress = std::ref(progress);
    packed = rt::bindWeights(m, checkpoint, bind);
  }
  if (!m.ranks.empty()) {
    int64_t all = 0;
    for (const schema::RankPart &p : m.ranks)
      all += p.weightsBytes;
    std::cerr << fmt::format(
        "llm-run: rank {} of {} (tp {}, pp {}): {:.1f} "
        "MB of weights ({:.0f}% of all ranks' {:.1f} "
        "MB)\n",
        m.rank, m.worldSize(), m.tp, m.pp, m.weightsBytes / 1e6,
        100.0 * m.weightsBytes / std::max<int64_t>(all, 1), all / 1e6);
  }
  return packed;
}

void Session::loadWeights(const std::string &weightsDir) {
  device->loadWeights(
      readWeights(artifact.manifest(), weightsDir, options_.threads));
  loadSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
          .count();
}

int runRank(const std::string &artifactDir, const std::string &weightsDir,
            const EngineOptions &options, const rt::RankComms &comms,
            const rt::RankLayout &layout) {
  rt::Artifact artifact(artifactDir, comms.world->rank());
  rt::DeviceOptions deviceOptions;
  deviceOptions.threads = options.threads;
  deviceOptions.gpu = options.gpu;
  deviceOptions.timeoutSeconds = options.collectiveTimeout;
  deviceOptions.comm = comms.tensor;
  deviceOptions.world = comms.world;
  std::unique_ptr<rt::Device> device =
      rt::createDevice(artifact, deviceOptions);
  rt::serveRank(*device, *comms.world, layout, [&] {
    return readWeights(artifact.manifest(), weightsDir, options.threads);
  });
  return 0;
}

} // namespace llmc::tools
