//===- openai.cpp - fuzz OpenAI request bodies ----------------------------===//
//
// Any body: parsed as a completion and as a chat request for the llama-tiny
// model (its tokenizer and chat template), or refused with ApiError (the
// server's 400) or rt::Error.
//
//===----------------------------------------------------------------------===//
#include "runtime/server/OpenAI.h"
#include "runtime/support/Error.h"

#include <nlohmann/json.hpp>

using namespace llmc;

namespace {

struct Model {
  schema::Manifest manifest;
  std::unique_ptr<rt::Tokenizer> tokenizer;
  std::unique_ptr<server::ChatTemplate> chat;
  server::ServedModel served;
  Model() {
    manifest.vocabSize = 512;
    manifest.maxSeqLen = 256;
    manifest.maxBatchTokens = 64;
    schema::Model md;
    md.vocabSize = 512;
    md.eosTokenIds = {0};
    manifest.model = md;
    std::string dir = std::string(LLMC_MODELS_DIR) + "/llama-tiny";
    tokenizer = rt::Tokenizer::fromFile(dir + "/tokenizer.json");
    chat = server::ChatTemplate::load(dir, "");
    served.name = "llama-tiny";
    served.manifest = &manifest;
    served.tokenizer = tokenizer.get();
    served.chatTemplate = chat.get();
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static Model model;
  nlohmann::json body = nlohmann::json::parse(
      reinterpret_cast<const char *>(data),
      reinterpret_cast<const char *>(data) + size, nullptr,
      /*allow_exceptions=*/false);
  if (body.is_discarded())
    return 0;
  for (bool chat : {false, true}) {
    try {
      if (chat)
        (void)server::parseChat(body, model.served);
      else
        (void)server::parseCompletion(body, model.served);
    } catch (const server::ApiError &) {
    } catch (const rt::Error &) {
    }
  }
  return 0;
}
