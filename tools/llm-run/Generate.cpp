//===- Generate.cpp - llm-run with prompts on the command line ------------===//
#include "Modes.h"
#include "runtime/support/Error.h"
#include "runtime/support/Npy.h"

#include <nlohmann/json.hpp>

#include <iostream>
#include <map>
#include <sstream>

namespace llmc::tools {

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

} // namespace

int runGenerate(const std::string &artifactDir, const std::string &weightsDir,
                const EngineOptions &engineOptions, const GenerateArgs &a) {
  const std::vector<std::string> &prompts = a.prompts, &promptIds = a.promptIds;
  const std::string &format = a.format, &dumpLogits = a.dumpLogits;
  int64_t n = a.n, logprobs = a.logprobs;
  if (prompts.empty() && promptIds.empty())
    fail("give the prompt with --prompt TEXT or --prompt-ids \"1 2 3\"");
  Session session(artifactDir, engineOptions);
  const Manifest &m = session.artifact.manifest();
  Tokenizer *tokenizer = session.tokenizer.get();
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

  std::vector<engine::RequestSpec> specs;
  for (size_t i = 0; i < batch.size(); ++i) {
    engine::RequestSpec spec;
    spec.id = std::to_string(i);
    spec.prompt = batch[i];
    spec.sampling = a.sampling;
    spec.sampling.seed = a.seed + i;
    spec.sampling.logprobs = logprobs;
    spec.stop.strings = a.stops;
    spec.stop.stopTokenIds = a.stopTokenIds;
    spec.stop.ignoreEos = a.ignoreEos;
    int64_t room = m.maxSeqLen - static_cast<int64_t>(batch[i].size());
    spec.stop.maxTokens = room > 0 ? std::min(a.maxTokens, room) : a.maxTokens;
    spec.n = n;
    spec.detokenize = tokenizer != nullptr;
    spec.returnLogits = !dumpLogits.empty();
    specs.push_back(std::move(spec));
  }
  // Everything that can be checked without the weights, before them.
  engine::Engine &engine = *session.engine;
  for (const engine::RequestSpec &spec : specs)
    engine.validate(spec);
  session.loadWeights(weightsDir);
  double loadSeconds = session.loadSeconds;

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
    writeNpy(dumpLogits, c.logits.data(), static_cast<int64_t>(c.tokens.size()),
             m.vocabSize);
  }
  return 0;
}

} // namespace llmc::tools
