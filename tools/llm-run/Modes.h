//===- Modes.h - llm-run's modes --------------------------------*- C++ -*-===//
#ifndef LLMC_TOOLS_LLMRUN_MODES_H
#define LLMC_TOOLS_LLMRUN_MODES_H

#include "Session.h"
#include "runtime/server/HttpServer.h"

#include <string>
#include <vector>

namespace llmc::tools {

/// Prompts from the command line, all run together.
struct GenerateArgs {
  std::vector<std::string> prompts, promptIds, stops;
  std::vector<int32_t> stopTokenIds;
  int64_t maxTokens = 32, n = 1, logprobs = -1;
  rt::SamplingParams sampling;
  uint64_t seed = 0;
  bool ignoreEos = false;
  std::string format = "text", dumpLogits;
};
int runGenerate(const std::string &artifactDir, const std::string &weightsDir,
                const EngineOptions &engine, const GenerateArgs &args);

struct ServeArgs {
  server::ServerOptions server;
  std::string servedModelName, chatTemplate;
  double shutdownGrace = 30;
};
int runServe(const std::string &artifactDir, const std::string &weightsDir,
             const EngineOptions &engine, const ServeArgs &args);

struct BatchArgs {
  std::string input, output, servedModelName, chatTemplate;
  bool restart = false;
};
int runBatch(const std::string &artifactDir, const std::string &weightsDir,
             const EngineOptions &engine, const BatchArgs &args);

/// Prints what the chat template makes of a conversation.
int runChatTemplate(const std::string &artifactDir,
                    const std::string &templatePath,
                    const std::string &messagesPath, bool addGenerationPrompt);

/// What the API serves of a session: the model's name (--served-model-name,
/// or the artifact's directory name without ".llmc"), its manifest,
/// tokenizer and chat template (--chat-template FILE, or the model's).
struct Front {
  std::unique_ptr<server::ChatTemplate> chat;
  server::ServedModel model;
};
std::unique_ptr<Front> makeFront(const Session &session,
                                 const std::string &artifactDir,
                                 const std::string &servedName,
                                 const std::string &chatTemplate);

} // namespace llmc::tools

#endif // LLMC_TOOLS_LLMRUN_MODES_H
