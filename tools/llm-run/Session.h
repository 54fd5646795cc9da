//===- Session.h - an artifact loaded into an engine ------------*- C++ -*-===//
//
// What every llm-run mode does first: read the artifact and its tokenizer,
// create the device, size and allocate the KV pool, build the engine; all
// before the weights, so that requests can be checked against it first.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_TOOLS_LLMRUN_SESSION_H
#define LLMC_TOOLS_LLMRUN_SESSION_H

#include "runtime/artifact/Artifact.h"
#include "runtime/comm/RankGroup.h"
#include "runtime/engine/Engine.h"
#include "runtime/engine/KvPool.h"
#include "runtime/hal/Device.h"
#include "runtime/tokenizer/Tokenizer.h"

#include <chrono>
#include <memory>
#include <string>

namespace llmc::tools {

struct EngineOptions {
  int threads = 1;
  int gpu = 0; // the CUDA device, for cuda artifacts
  /// Parallel artifacts: seconds a collective may wait for the other ranks.
  double collectiveTimeout = 300;
  engine::EngineConfig config;
  engine::KvPoolOptions pool;
  std::string policy = "fcfs";
  bool noPrefixCaching = false;
  double swapSpace = 0;
  /// A parallel artifact: rank 0's end of the ranks (null for one rank).
  std::shared_ptr<rt::RankGroup> ranks;
};

class Session {
public:
  Session(const std::string &artifactDir, EngineOptions options);
  /// Reads and converts the weights (progress on a terminal).
  void loadWeights(const std::string &weightsDir);

  rt::Artifact artifact;
  std::unique_ptr<rt::Tokenizer> tokenizer; // null without tokenizer.json
  std::unique_ptr<rt::Device> device;
  engine::KvPool pool;
  std::unique_ptr<engine::Engine> engine;
  /// Seconds from the start to the weights loaded.
  double loadSeconds = 0;

private:
  EngineOptions options_;
  std::chrono::steady_clock::time_point start_;
};

/// The packed weights of `m` (one rank's shards) read from `weightsDir`,
/// with progress on a terminal and a line saying how many bytes this rank
/// holds.
rt::AlignedBuffer readWeights(const schema::Manifest &m,
                              const std::string &weightsDir, int threads);

/// A rank other than 0 of a parallel artifact: serves rank 0's commands.
int runRank(const std::string &artifactDir, const std::string &weightsDir,
            const EngineOptions &options, const rt::RankComms &comms,
            const rt::RankLayout &layout);

/// The artifact's tokenizer.json, or null.
std::unique_ptr<rt::Tokenizer> loadTokenizer(const rt::Artifact &artifact);

} // namespace llmc::tools

#endif // LLMC_TOOLS_LLMRUN_SESSION_H
