//===- OpenAI.h - the OpenAI completions and chat protocol ------*- C++ -*-===//
//
// Request bodies of POST /v1/completions and /v1/chat/completions parsed
// and checked into engine requests, and the engine's events turned into
// response bodies and server-sent-event chunks, as the OpenAI API (and
// vLLM's extensions: top_k, min_p, repetition_penalty, stop_token_ids,
// ignore_eos) define them. Shared by the HTTP server and the batch runner.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_SERVER_OPENAI_H
#define LLMC_RUNTIME_SERVER_OPENAI_H

#include "runtime/engine/Request.h"
#include "runtime/server/Jinja.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "schema/Artifact.h"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmc::server {

using json = nlohmann::ordered_json;

/// A request the API refuses: HTTP status and an OpenAI error body.
class ApiError : public std::runtime_error {
public:
  ApiError(int status, const std::string &message,
           std::optional<std::string> param = std::nullopt,
           std::string type = "invalid_request_error",
           std::optional<std::string> code = std::nullopt)
      : std::runtime_error(message), status(status), param(std::move(param)),
        type(std::move(type)), code(std::move(code)) {}
  json body() const;
  int status;
  std::optional<std::string> param;
  std::string type;
  std::optional<std::string> code;
};

/// The model's chat template with its special tokens.
class ChatTemplate {
public:
  /// From the artifact's tokenizer_config.json / chat_template.jinja, or
  /// `overridePath` when given. Null when the model has none.
  static std::unique_ptr<ChatTemplate> load(const std::string &artifactDir,
                                            const std::string &overridePath);
  ChatTemplate(const std::string &source, std::string bos, std::string eos);
  /// Renders `messages` (an OpenAI messages array); throws ApiError (400)
  /// when the template raises or the messages are malformed.
  std::string render(const json &messages, bool addGenerationPrompt,
                     const json &tools = nullptr) const;

private:
  jinja::Template template_;
  std::string bos_, eos_;
};

/// What the server serves.
struct ServedModel {
  std::string name;
  const schema::Manifest *manifest = nullptr;
  const rt::Tokenizer *tokenizer = nullptr;   // may be null
  const ChatTemplate *chatTemplate = nullptr; // may be null
};

/// A parsed request: one engine request per prompt.
struct ParsedRequest {
  bool chat = false;
  bool stream = false;
  bool includeUsage = false; // stream_options.include_usage
  bool echo = false;         // completions: prompt before the text
  int64_t logprobs = -1;     // top alternatives per token; -1: none
  int64_t n = 1;
  std::string model;
  std::vector<engine::RequestSpec> specs; // ids "0", "1", ... per prompt
  std::vector<std::string> promptTexts;   // for echo
};

ParsedRequest parseCompletion(const json &body, const ServedModel &m);
ParsedRequest parseChat(const json &body, const ServedModel &m);

/// Gathers a request's events and writes responses and stream chunks.
class ResponseBuilder {
public:
  ResponseBuilder(const ParsedRequest &req, const ServedModel &m,
                  std::string id, int64_t created);

  /// Takes an event of prompt `prompt`; returns the stream chunks it makes
  /// (each a JSON object for one `data:` line).
  std::vector<json> add(size_t prompt, const engine::RequestEvent &event);
  /// The chunk with the usage, when the client asked for it.
  std::optional<json> usageChunk() const;
  /// The whole non-streamed response.
  json response() const;
  /// Set when a request failed inside the engine.
  const std::optional<std::string> &error() const { return error_; }
  bool finished() const;

private:
  struct Choice {
    std::string text;
    std::vector<int32_t> tokens;
    std::vector<rt::Logprobs> logprobs;
    std::optional<engine::FinishReason> finish;
    std::optional<std::string> stopString;
    std::optional<int32_t> stopToken;
    bool roleSent = false;
  };
  json logprobsJson(const std::vector<int32_t> &tokens,
                    const std::vector<rt::Logprobs> &lps,
                    size_t textOffset) const;
  json promptLogprobsJson(size_t prompt) const;
  std::string tokenText(int32_t token) const;
  json choiceJson(size_t index) const;

  const ParsedRequest &req_;
  const ServedModel &m_;
  std::string id_;
  int64_t created_;
  std::vector<Choice> choices_; // prompt * n + sequence
  std::vector<std::vector<std::optional<rt::Logprobs>>> promptLogprobs_;
  std::vector<int64_t> promptTokens_, completionTokens_;
  std::vector<bool> finished_;
  std::optional<std::string> error_;
};

/// Seconds since the epoch.
int64_t unixTime();

} // namespace llmc::server

#endif // LLMC_RUNTIME_SERVER_OPENAI_H
