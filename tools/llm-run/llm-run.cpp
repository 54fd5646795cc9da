//===- llm-run.cpp - run an llmc artifact ---------------------------------===//
#include "runtime/artifact/Artifact.h"
#include "runtime/generate/Generator.h"
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
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using namespace llmc::rt;

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

/// The longest prefix of `text` that ends on a whole character, so that a
/// stream never shows half of a multi-byte character.
size_t stableLength(const std::string &text) {
  static const std::string kReplacement = "\xef\xbf\xbd";
  size_t n = text.size();
  while (n >= 3 && text.compare(n - 3, 3, kReplacement) == 0)
    n -= 3;
  return n;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"llm-run: generate text with an llmc artifact"};
  std::string artifactDir, weightsDir, format = "text", dumpLogits;
  std::vector<std::string> prompts, promptIds;
  int64_t maxTokens = 32;
  SamplingParams sampling;
  bool ignoreEos = false;
  app.add_option("artifact", artifactDir, "artifact directory (llmc -o)")
      ->required();
  app.add_option("--weights", weightsDir,
                 "model directory with the safetensors weights")
      ->required();
  auto *p = app.add_option("--prompt", prompts,
                           "prompt text; repeat to generate for several "
                           "prompts in the same steps");
  auto *pi = app.add_option("--prompt-ids", promptIds,
                            "prompt as token ids, e.g. \"1 2 3\"; "
                            "repeatable");
  p->excludes(pi);
  app.add_option("--max-tokens", maxTokens, "new tokens at most")
      ->capture_default_str();
  app.add_option("--temperature", sampling.temperature, "0: greedy")
      ->capture_default_str();
  app.add_option("--top-k", sampling.topK, "0: off")->capture_default_str();
  app.add_option("--top-p", sampling.topP, "1: off")->capture_default_str();
  app.add_option("--seed", sampling.seed, "sampling seed")
      ->capture_default_str();
  app.add_flag("--ignore-eos", ignoreEos, "do not stop at EOS");
  int threads =
      static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  app.add_option("--threads", threads, "threads per step")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
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
    bool single = batch.size() == 1;
    if (!single && !dumpLogits.empty())
      fail("--dump-logits takes a single prompt");

    SafeTensors checkpoint = SafeTensors::openDirectory(weightsDir);
    DeviceOptions deviceOptions;
    deviceOptions.threads = threads;
    std::unique_ptr<Device> device = createDevice(artifact, deviceOptions);
    device->loadWeights(bindWeights(m, checkpoint));
    int64_t blocksPerSeq =
        (m.maxSeqLen + m.kvBlockSize() - 1) / m.kvBlockSize();
    device->allocate(blocksPerSeq * static_cast<int64_t>(batch.size()));
    double loadSeconds = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - loadStart)
                             .count();
    Generator generator(m, *device);

    GenerateOptions opts;
    opts.maxNewTokens = maxTokens;
    opts.ignoreEos = ignoreEos;
    opts.sampling = sampling;
    opts.keepLogits = !dumpLogits.empty();

    // A single prompt in text mode streams; several print when done.
    bool stream = format == "text" && single;
    std::vector<int32_t> generated;
    size_t shown = 0;
    auto onToken = [&](size_t, int32_t t) {
      if (!stream)
        return;
      generated.push_back(t);
      if (!tokenizer) {
        std::cout << (generated.size() > 1 ? " " : "") << t << std::flush;
        return;
      }
      std::string text = tokenizer->decode(generated);
      size_t n = stableLength(text);
      if (n > shown) {
        std::cout << text.substr(shown, n - shown) << std::flush;
        shown = n;
      }
    };
    std::vector<GenerateResult> results =
        generator.generateBatch(batch, opts, onToken);
    auto textOf = [&](const std::vector<int32_t> &ids) -> std::string {
      if (tokenizer)
        return tokenizer->decode(ids);
      std::string out;
      for (int32_t t : ids)
        out += (out.empty() ? "" : " ") + std::to_string(t);
      return out;
    };
    if (stream) {
      std::string text = textOf(generated);
      std::cout << (tokenizer ? text.substr(std::min(shown, text.size()))
                              : std::string())
                << std::endl;
    } else if (format == "text") {
      for (const GenerateResult &r : results)
        std::cout << textOf(r.tokens) << "\n";
      std::cout << std::flush;
    } else {
      nlohmann::json all = nlohmann::json::array();
      for (size_t i = 0; i < results.size(); ++i) {
        const GenerateResult &r = results[i];
        nlohmann::json out;
        out["prompt_ids"] = batch[i];
        out["token_ids"] = r.tokens;
        out["text"] = tokenizer ? tokenizer->decode(r.tokens) : "";
        out["stop_reason"] = r.stopReason;
        out["timing"] = {{"load_s", loadSeconds},
                         {"prefill_s", r.prefillSeconds},
                         {"decode_s", r.decodeSeconds},
                         {"decode_steps", r.decodeSteps}};
        all.push_back(std::move(out));
      }
      std::cout << (single ? all[0] : all)
                       .dump(-1, ' ', false,
                             nlohmann::json::error_handler_t::replace)
                << std::endl;
    }
    if (!dumpLogits.empty())
      writeNpy(dumpLogits, results[0].logits.data(),
               static_cast<int64_t>(results[0].tokens.size()), m.vocabSize);
  } catch (const Error &e) {
    std::cerr << "llm-run: error: " << e.what() << std::endl;
    return 1;
  } catch (const std::bad_alloc &) {
    std::cerr << "llm-run: error: out of memory" << std::endl;
    return 1;
  }
  return 0;
}
