//===- llm-run.cpp - run an llmc artifact ---------------------------------===//
//
//   llm-run ART --weights DIR --prompt TEXT ...      generate, then exit
//   llm-run ART --weights DIR serve [--port N]       OpenAI-compatible HTTP
//   llm-run ART --weights DIR batch IN.jsonl -o OUT  offline batch
//   llm-run ART chat-template --messages M.json      render the chat template
//
// Every mode runs the same engine (continuous batching, paged KV cache,
// prefix caching); engine options go before or after the mode.
//
//===----------------------------------------------------------------------===//
#include "Modes.h"
#include "runtime/support/Error.h"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <system_error>
#include <thread>
#include <unistd.h>

using namespace llmc;
using namespace llmc::tools;

namespace {

/// A parallel artifact started without a launcher: its ranks, on this
/// machine, under Open MPI's mpirun (which also ends them all when one
/// fails). Does not return.
int spawnRanks(int64_t world, int argc, char **argv) {
  std::vector<std::string> args = {"mpirun", "-np", std::to_string(world),
                                   "--bind-to", "none"};
  if (geteuid() == 0)
    args.push_back("--allow-run-as-root");
  if (world > static_cast<int64_t>(std::thread::hardware_concurrency()))
    args.push_back("--oversubscribe");
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  args.push_back(n > 0 ? std::string(self, n) : std::string(argv[0]));
  for (int i = 1; i < argc; ++i)
    args.push_back(argv[i]);
  std::vector<char *> cargs;
  for (std::string &a : args)
    cargs.push_back(a.data());
  cargs.push_back(nullptr);
  std::cerr << "llm-run: starting " << world << " ranks with mpirun\n";
  execvp("mpirun", cargs.data());
  rt::fail("the artifact has {} ranks and llm-run was started without a "
           "launcher, but mpirun could not be run ({}); install openmpi-bin "
           "or start it with mpirun -np {} / srun -n {}",
           world, std::strerror(errno), world, world);
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"llm-run: run an llmc artifact: generate for prompts, serve "
               "the OpenAI API, or run a batch file"};
  app.fallthrough();
  std::string artifactDir, weightsDir;
  app.add_option("artifact", artifactDir, "artifact directory (llmc -o)")
      ->required();
  app.add_option("--weights", weightsDir,
                 "model directory with the safetensors weights");

  // The engine.
  EngineOptions eo;
  eo.threads =
      static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  app.add_option("--threads", eo.threads, "threads per step")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--gpu", eo.gpu,
                 "CUDA device index (cuda artifacts; default: 0, or the "
                 "rank's index on its machine for a parallel artifact)")
      ->check(CLI::Range(0, 1023))
      ->capture_default_str();
  app.add_option("--max-batch-tokens", eo.config.scheduler.maxBatchTokens,
                 "tokens per step (at most the artifact's)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30))
      ->capture_default_str();
  app.add_option("--max-seqs", eo.config.scheduler.maxSeqs,
                 "sequences running at once")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20))
      ->capture_default_str();
  app.add_option("--policy", eo.policy, "scheduling: fcfs or mlfq")
      ->check(CLI::IsMember({"fcfs", "mlfq"}))
      ->capture_default_str();
  app.add_flag("--no-prefix-caching", eo.noPrefixCaching,
               "do not reuse the KV of common prompt prefixes");
  app.add_option("--kv-memory", eo.pool.memoryGiB,
                 "GiB for the KV cache (default: half the memory left after "
                 "the weights, at most --max-seqs full-length sequences)");
  app.add_option("--kv-blocks", eo.pool.blocks,
                 "KV cache blocks (overrides --kv-memory)");
  double &collectiveTimeout = eo.collectiveTimeout;
  app.add_option("--collective-timeout", collectiveTimeout,
                 "parallel artifacts: seconds a collective may wait for the "
                 "other ranks before the job is ended (0: no limit)")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  int64_t microBatches = 0;
  app.add_option("--micro-batches", microBatches,
                 "pipeline-parallel artifacts: micro-batches a step is split "
                 "into so the stages overlap (default: one per 64 tokens, at "
                 "most --pp: decode steps stay whole; at most one per "
                 "sequence)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  app.add_option("--swap-space", eo.swapSpace,
                 "GiB of host memory for the KV of preempted sequences, on "
                 "devices with memory of their own");

  // Generate (no mode).
  GenerateArgs ga;
  auto *p = app.add_option("--prompt", ga.prompts,
                           "prompt text; repeat for several prompts, run "
                           "together");
  auto *pi = app.add_option("--prompt-ids", ga.promptIds,
                            "prompt as token ids, e.g. \"1 2 3\"; "
                            "repeatable");
  p->excludes(pi);
  app.add_option("--max-tokens", ga.maxTokens,
                 "new tokens at most (capped by the artifact's max_seq_len)")
      ->capture_default_str();
  app.add_option("--n", ga.n, "sequences per prompt")->capture_default_str();
  app.add_option("--temperature", ga.sampling.temperature, "0: greedy")
      ->capture_default_str();
  app.add_option("--top-k", ga.sampling.topK, "0 or -1: off")
      ->capture_default_str();
  app.add_option("--top-p", ga.sampling.topP, "1: off")->capture_default_str();
  app.add_option("--min-p", ga.sampling.minP, "0: off")->capture_default_str();
  app.add_option("--repetition-penalty", ga.sampling.repetitionPenalty,
                 "1: off; > 1 discourages tokens of the prompt and output")
      ->capture_default_str();
  app.add_option("--presence-penalty", ga.sampling.presencePenalty,
                 "subtracted from tokens already generated")
      ->capture_default_str();
  app.add_option("--frequency-penalty", ga.sampling.frequencyPenalty,
                 "subtracted per occurrence in the output")
      ->capture_default_str();
  app.add_option("--seed", ga.seed,
                 "sampling seed (prompt i samples with seed + i)")
      ->capture_default_str();
  app.add_option("--stop", ga.stops, "stop string (repeatable)");
  app.add_option("--stop-token-id", ga.stopTokenIds,
                 "stop token id (repeatable)");
  app.add_option("--logprobs", ga.logprobs,
                 "return the logprob of each new token and its N most likely "
                 "alternatives (json)");
  app.add_flag("--ignore-eos", ga.ignoreEos, "do not stop at EOS");
  app.add_option("--format", ga.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--dump-logits", ga.dumpLogits,
                 "write the logits of each new token to FILE.npy");

  // serve
  ServeArgs sa;
  CLI::App *serve = app.add_subcommand(
      "serve", "serve the OpenAI API: /v1/completions, /v1/chat/completions, "
               "/v1/models, /health, /metrics, and a chat page at /");
  serve->add_option("--host", sa.server.host, "address to listen on")
      ->capture_default_str();
  serve->add_option("--port", sa.server.port, "port (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  serve->add_option("--api-key", sa.server.apiKey,
                    "require 'Authorization: Bearer KEY' on /v1/");
  serve->add_option("--served-model-name", sa.servedModelName,
                    "the model's name in the API (default: the artifact's "
                    "directory name)");
  serve->add_option("--chat-template", sa.chatTemplate,
                    "a Jinja chat template file instead of the model's");
  serve
      ->add_option("--http-threads", sa.server.threads,
                   "connections served at once")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  serve
      ->add_option("--request-timeout", sa.server.requestTimeout,
                   "seconds a request may run before it is cancelled (0: "
                   "no limit)")
      ->capture_default_str();
  serve
      ->add_option("--shutdown-grace", sa.shutdownGrace,
                   "seconds requests in flight get to finish after SIGTERM")
      ->capture_default_str();

  // batch
  BatchArgs ba;
  CLI::App *batch = app.add_subcommand(
      "batch", "run the requests of a JSONL file (OpenAI batch lines or "
               "request bodies), results in input order");
  batch->add_option("input", ba.input, "requests, one JSON object per line")
      ->required();
  batch
      ->add_option("-o,--output", ba.output,
                   "results; continued if it holds some already")
      ->required();
  batch->add_flag("--restart", ba.restart,
                  "start the output over instead of continuing it");
  batch->add_option("--served-model-name", ba.servedModelName,
                    "the model name requests may give");
  batch->add_option("--chat-template", ba.chatTemplate,
                    "a Jinja chat template file instead of the model's");

  // chat-template
  std::string messages, templatePath;
  bool noGenerationPrompt = false;
  CLI::App *chat = app.add_subcommand(
      "chat-template", "print the prompt the chat template makes of "
                       "messages (no weights needed)");
  chat->add_option("--messages", messages,
                   "JSON: a list of messages, or {\"conversations\": [...]}")
      ->required();
  chat->add_option("--chat-template", templatePath,
                   "a Jinja template file instead of the model's");
  chat->add_flag("--no-generation-prompt", noGenerationPrompt,
                 "render without add_generation_prompt");

  CLI11_PARSE(app, argc, argv);

  std::shared_ptr<rt::Communicator> comm;
  try {
    if (*chat)
      return runChatTemplate(artifactDir, templatePath, messages,
                             !noGenerationPrompt);
    if (weightsDir.empty())
      rt::fail("--weights DIR is required (the model directory with the "
               "safetensors weights)");
    // A parallel artifact: one process per rank, from a launcher or
    // spawned here; rank 0 goes on below, the others serve it.
    schema::Manifest manifest = rt::Artifact(artifactDir).manifest();
    int64_t world = manifest.worldSize();
    if (world > 1 && !rt::launchedWithRanks())
      return spawnRanks(world, argc, argv);
    if (rt::launchedWithRanks()) {
      comm = rt::createMpiCommunicator(collectiveTimeout);
      if (comm->size() != world)
        rt::fail("{}: the artifact has {} rank(s) (llmc --tp/--pp) but the "
                 "job has {} (mpirun -np / srun -n)",
                 artifactDir, world, comm->size());
      if (world > 1) {
        // One GPU per rank on a machine, unless --gpu says otherwise.
        if (!app.count("--gpu"))
          eo.gpu = comm->localRank();
        if (!app.count("--threads"))
          eo.threads = std::max(
              1, static_cast<int>(std::thread::hardware_concurrency()) /
                     comm->localSize());
        rt::RankLayout layout{manifest.tp, manifest.pp, microBatches};
        rt::RankComms comms = rt::splitRanks(comm, layout);
        if (comm->rank() != 0)
          return runRank(artifactDir, weightsDir, eo, comms, layout);
        eo.ranks = std::make_shared<rt::RankGroup>(comms, layout);
      }
    }
    if (*serve)
      return runServe(artifactDir, weightsDir, eo, sa);
    if (*batch)
      return runBatch(artifactDir, weightsDir, eo, ba);
    return runGenerate(artifactDir, weightsDir, eo, ga);
  } catch (const rt::Error &e) {
    std::cerr << "llm-run: error"
              << (comm && comm->size() > 1
                      ? " (rank " + std::to_string(comm->rank()) + ")"
                      : std::string())
              << ": " << e.what() << std::endl;
    // The other ranks wait for rank 0 or meet this one in a collective:
    // end them all.
    if (comm && comm->size() > 1)
      comm->abort(1);
    return 1;
  } catch (const std::bad_alloc &) {
    std::cerr << "llm-run: error: out of memory (a small allocation failed; "
                 "the machine has no memory left)"
              << std::endl;
    if (comm && comm->size() > 1)
      comm->abort(1);
    return 1;
  } catch (const std::system_error &e) {
    // Threads that cannot be started, files that cannot be opened.
    std::cerr << "llm-run: error: " << e.what() << " (" << e.code().message()
              << ")" << std::endl;
    if (comm && comm->size() > 1)
      comm->abort(1);
    return 1;
  } catch (const std::exception &e) {
    std::cerr << "llm-run: error: " << e.what() << std::endl;
    if (comm && comm->size() > 1)
      comm->abort(1);
    return 1;
  }
}
