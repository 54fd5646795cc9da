//===- llm-run.cpp - run an llmc artifact ---------------------------------===//
//
// Generates for prompts given on the command line, on the serving engine:
// every prompt is a request, all run together with continuous batching.
//
//===----------------------------------------------------------------------===//
#include "runtime/artifact/Artifact.h"
#include "runtime/engine/Engine.h"
#include "runtime/engine/KvPool.h"
#include "runtime/hal/Device.h"
#include "runtime/support/Error.h"
#include "runtime/support/Npy.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "runtime/weights/SafeTensors.h"
#include "runtime/weights/WeightBinder.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace llmc;
using namespace llmc::rt;
using engine::FinishReason;

namespace {

std::vector<int32_t> parseIds(const std::string &text) {
  std::vector<int32_t> ids;
  std::istringstream in(text);
  std::string tok;
  while (in >> tok) {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(tok, &used);
    } catch (const std::exception &) {
      used = 0;
    }
    if (used != tok.size() || v < 0 || v > INT32_MAX)
      fail("--prompt-ids: '{}' is not a token id", tok);
    ids.push_back(static_cast<int32_t>(v));
  }
  return ids;
}

std::unique_ptr<Tokenizer> loadTokenizer(const Artifact &artifact) {
  for (const std::string &f : artifact.manifest().tokenizerFiles)
    if (f == "tokenizer.json")
      return Tokenizer::fromFile((fs::path(artifact.directory()) / f).string());
  return nullptr;
}

/// One choice of one prompt, as the events built it.
struct Choice {
  std::vector<int32_t> tokens;
  std::string text;
  std::vector<Logprobs> logprobs;
  std::vector<float> logits;
  std::optional<FinishReason> finish;
  std::optional<std::string> stopString;
  std::optional<int32_t> stopToken;
};

nlohmann::json logprobsJson(const Logprobs &lp) {
  nlohmann::json top = nlohmann::json::array();
  for (const TokenLogprob &t : lp.top)
    top.push_back({{"token_id", t.token}, {"logprob", t.logprob}});
  return {{"token_id", lp.chosen.token},
          {"logprob", lp.chosen.logprob},
          {"top", top}};
}

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

int main(int argc, char **argv) {
  CLI::App app{"llm-run: generate text with an llmc artifact"};
  std::string artifactDir, weightsDir, format = "text", dumpLogits,
                                       policy = "fcfs";
  std::vector<std::string> prompts, promptIds, stops;
  std::vector<int32_t> stopTokenIds;
  int64_t maxTokens = 32, n = 1, logprobs = -1;
  SamplingParams sampling;
  uint64_t seed = 0;
  bool ignoreEos = false, noPrefixCaching = false;
  engine::EngineConfig config;
  app.add_option("artifact", artifactDir, "artifact directory (llmc -o)")
      ->required();
  app.add_option("--weights", weightsDir,
                 "model directory with the safetensors weights")
      ->required();
  auto *p = app.add_option("--prompt", prompts,
                           "prompt text; repeat for several prompts, run "
                           "together");
  auto *pi = app.add_option("--prompt-ids", promptIds,
                            "prompt as token ids, e.g. \"1 2 3\"; "
                            "repeatable");
  p->excludes(pi);
  app.add_option("--max-tokens", maxTokens,
                 "new tokens at most (capped by the artifact's max_seq_len)")
      ->capture_default_str();
  app.add_option("--n", n, "sequences per prompt")->capture_default_str();
  app.add_option("--temperature", sampling.temperature, "0: greedy")
      ->capture_default_str();
  app.add_option("--top-k", sampling.topK, "0 or -1: off")
      ->capture_default_str();
  app.add_option("--top-p", sampling.topP, "1: off")->capture_default_str();
  app.add_option("--min-p", sampling.minP, "0: off")->capture_default_str();
  app.add_option("--repetition-penalty", sampling.repetitionPenalty,
                 "1: off; > 1 discourages tokens of the prompt and output")
      ->capture_default_str();
  app.add_option("--presence-penalty", sampling.presencePenalty,
                 "subtracted from tokens already generated")
      ->capture_default_str();
  app.add_option("--frequency-penalty", sampling.frequencyPenalty,
                 "subtracted per occurrence in the output")
      ->capture_default_str();
  app.add_option("--seed", seed,
                 "sampling seed (prompt i samples with seed + i)")
      ->capture_default_str();
  app.add_option("--stop", stops, "stop string (repeatable)");
  app.add_option("--stop-token-id", stopTokenIds, "stop token id (repeatable)");
  app.add_option("--logprobs", logprobs,
                 "return the logprob of each new token and its N most likely "
                 "alternatives (json)");
  app.add_flag("--ignore-eos", ignoreEos, "do not stop at EOS");
  int threads =
      static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  app.add_option("--threads", threads, "threads per step")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--max-batch-tokens", config.scheduler.maxBatchTokens,
                 "tokens per step (at most the artifact's)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30))
      ->capture_default_str();
  app.add_option("--max-seqs", config.scheduler.maxSeqs,
                 "sequences running at once")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20))
      ->capture_default_str();
  app.add_option("--policy", policy, "scheduling: fcfs or mlfq")
      ->check(CLI::IsMember({"fcfs", "mlfq"}))
      ->capture_default_str();
  app.add_flag("--no-prefix-caching", noPrefixCaching,
               "do not reuse the KV of common prompt prefixes");
  engine::KvPoolOptions pool;
  app.add_option("--kv-memory", pool.memoryGiB,
                 "GiB for the KV cache (default: half the memory left after "
                 "the weights, at most --max-seqs full-length sequences)");
  app.add_option("--kv-blocks", pool.blocks,
                 "KV cache blocks (overrides "
                 "--kv-memory)");
  double swapSpace = 0;
  app.add_option("--swap-space", swapSpace,
                 "GiB of host memory for the KV of preempted sequences, on "
                 "devices with memory of their own");
  app.add_option("--format", format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--dump-logits", dumpLogits,
                 "write the logits of each new token to FILE.npy");
  CLI11_PARSE(app, argc, argv);

  try {
    if (prompts.empty() && promptIds.empty())
      fail("give the prompt with --prompt TEXT or --prompt-ids \"1 2 3\"");
    auto loadStart = std::chrono::steady_clock::now();
    Artifact artifact(artifactDir);
    const Manifest &m = artifact.manifest();
    std::unique_ptr<Tokenizer> tokenizer = loadTokenizer(artifact);
    std::vector<std::vector<int32_t>> batch;
    for (const std::string &text : promptIds)
      batch.push_back(parseIds(text));
    for (const std::string &text : prompts) {
      if (!tokenizer)
        fail("{}: the artifact has no tokenizer.json; use --prompt-ids",
             artifactDir);
      batch.push_back(tokenizer->encode(text));
    }
    bool single = batch.size() == 1 && n == 1;
    if (!single && !dumpLogits.empty())
      fail("--dump-logits takes a single prompt and --n 1");
    config.scheduler.policy = sched::parsePolicy(policy);
    config.prefixCaching = !noPrefixCaching;

    std::vector<engine::RequestSpec> specs;
    for (size_t i = 0; i < batch.size(); ++i) {
      engine::RequestSpec spec;
      spec.id = std::to_string(i);
      spec.prompt = batch[i];
      spec.sampling = sampling;
      spec.sampling.seed = seed + i;
      spec.sampling.logprobs = logprobs;
      spec.stop.strings = stops;
      spec.stop.stopTokenIds = stopTokenIds;
      spec.stop.ignoreEos = ignoreEos;
      int64_t room = m.maxSeqLen - static_cast<int64_t>(batch[i].size());
      spec.stop.maxTokens = room > 0 ? std::min(maxTokens, room) : maxTokens;
      spec.n = n;
      spec.detokenize = tokenizer != nullptr;
      spec.returnLogits = !dumpLogits.empty();
      specs.push_back(std::move(spec));
    }

    // Everything that can be checked without the weights, before them.
    DeviceOptions deviceOptions;
    deviceOptions.threads = threads;
    std::unique_ptr<Device> device = createDevice(artifact, deviceOptions);
    if (swapSpace > 0 && !device->hasSeparateMemory())
      std::cerr << "llm-run: note: --swap-space is ignored: the "
                << schema::nameOf(m.target)
                << " device keeps the KV cache in host memory; preempted "
                   "sequences are recomputed\n";
    pool.maxSeqs = config.scheduler.maxSeqs;
    engine::KvPool kvPool =
        engine::sizeKvPool(m, device->memoryAvailable(), pool);
    device->allocate(kvPool.blocks);
    std::cerr << "llm-run: KV cache: " << kvPool.describe(m) << "\n";
    engine::Engine engine(m, *device, tokenizer.get(), config);
    for (const engine::RequestSpec &spec : specs)
      engine.validate(spec);

    {
      // The checkpoint stays mapped only while it is converted.
      SafeTensors checkpoint = SafeTensors::openDirectory(weightsDir);
      Progress progress("llm-run: loading weights");
      BindOptions bind;
      bind.threads = threads;
      bind.progress = std::ref(progress);
      device->loadWeights(bindWeights(m, checkpoint, bind));
    }
    double loadSeconds = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - loadStart)
                             .count();

    // A single prompt in text mode streams; several print when done.
    bool stream = format == "text" && single;
    std::vector<std::map<int64_t, Choice>> results(batch.size());
    size_t streamed = 0;
    for (size_t i = 0; i < specs.size(); ++i) {
      engine.add(specs[i], [&, i](const engine::RequestEvent &e) {
        for (const engine::SeqDelta &d : e.deltas) {
          Choice &c = results[i][d.index];
          c.tokens.insert(c.tokens.end(), d.tokens.begin(), d.tokens.end());
          c.text += d.text;
          c.logprobs.insert(c.logprobs.end(), d.logprobs.begin(),
                            d.logprobs.end());
          c.logits.insert(c.logits.end(), d.logits.begin(), d.logits.end());
          if (d.finish) {
            c.finish = d.finish;
            c.stopString = d.stopString;
            c.stopToken = d.stopToken;
          }
          if (stream) {
            if (tokenizer)
              std::cout << d.text;
            else
              for (int32_t t : d.tokens)
                std::cout << (streamed++ ? " " : "") << t;
            std::cout << std::flush;
          }
        }
      });
    }
    while (engine.hasWork())
      engine.step();

    auto idsText = [](const std::vector<int32_t> &ids) {
      std::string out;
      for (int32_t t : ids)
        out += (out.empty() ? "" : " ") + std::to_string(t);
      return out;
    };
    engine::MetricsSnapshot metrics = engine.metrics();
    if (stream) {
      std::cout << std::endl;
    } else if (format == "text") {
      for (const auto &choices : results)
        for (const auto &[index, c] : choices)
          std::cout << (tokenizer ? c.text : idsText(c.tokens)) << "\n";
      std::cout << std::flush;
    } else {
      nlohmann::json all = nlohmann::json::array();
      for (size_t i = 0; i < results.size(); ++i) {
        auto choiceJson = [&](const Choice &c) {
          nlohmann::json out;
          out["token_ids"] = c.tokens;
          out["text"] = c.text;
          out["finish_reason"] = c.finish ? engine::nameOf(*c.finish) : "abort";
          if (c.stopString)
            out["stop_reason"] = *c.stopString;
          else if (c.stopToken)
            out["stop_reason"] = *c.stopToken;
          if (logprobs >= 0) {
            out["logprobs"] = nlohmann::json::array();
            for (const Logprobs &lp : c.logprobs)
              out["logprobs"].push_back(logprobsJson(lp));
          }
          return out;
        };
        nlohmann::json out = choiceJson(results[i][0]);
        out["prompt_ids"] = batch[i];
        if (n > 1) {
          out["choices"] = nlohmann::json::array();
          for (const auto &[index, c] : results[i])
            out["choices"].push_back(choiceJson(c));
        }
        out["timing"] = {{"load_s", loadSeconds},
                         {"prefill_s", metrics.prefillSeconds},
                         {"decode_s", metrics.decodeSeconds},
                         {"decode_steps", metrics.decodeSteps}};
        all.push_back(std::move(out));
      }
      std::cout << (batch.size() == 1 ? all[0] : all)
                       .dump(-1, ' ', false,
                             nlohmann::json::error_handler_t::replace)
                << std::endl;
    }
    if (!dumpLogits.empty()) {
      const Choice &c = results[0][0];
      writeNpy(dumpLogits, c.logits.data(),
               static_cast<int64_t>(c.tokens.size()), m.vocabSize);
    }
  } catch (const Error &e) {
    std::cerr << "llm-run: error: " << e.what() << std::endl;
    return 1;
  } catch (const std::bad_alloc &) {
    std::cerr << "llm-run: error: out of memory" << std::endl;
    return 1;
  }
  return 0;
}
