//===- ChatTemplateMode.cpp - llm-run chat-template -----------------------===//
//
// Prints what the chat template makes of conversations, without the weights:
// to see the prompt the server builds, and to check the Jinja interpreter
// against Python's jinja2 (test/e2e/chat_template.py).
//
//===----------------------------------------------------------------------===//
#include "Modes.h"
#include "runtime/support/Error.h"
#include "runtime/support/MappedFile.h"

#include <iostream>

namespace llmc::tools {

using server::json;

int runChatTemplate(const std::string &artifactDir,
                    const std::string &templatePath,
                    const std::string &messagesPath, bool addGenerationPrompt) {
  std::unique_ptr<server::ChatTemplate> chat =
      server::ChatTemplate::load(artifactDir, templatePath);
  if (!chat)
    rt::fail("{}: the model has no chat template (give one with "
             "--chat-template FILE)",
             artifactDir);
  json input;
  try {
    input = json::parse(rt::readFile(messagesPath));
  } catch (const json::exception &e) {
    rt::fail("{}: not valid JSON: {}", messagesPath, e.what());
  }
  if (input.is_array()) {
    // One conversation: print its text.
    std::cout << chat->render(input, addGenerationPrompt);
    return 0;
  }
  if (!input.is_object() || !input.contains("conversations") ||
      !input["conversations"].is_array())
    rt::fail("{}: expected a list of messages, or {{\"conversations\": "
             "[...]}}",
             messagesPath);
  json out = json::array();
  for (const json &c : input["conversations"]) {
    try {
      out.push_back(json{
          {"text",
           chat->render(c.at("messages"),
                        c.value("add_generation_prompt", addGenerationPrompt),
                        c.contains("tools") ? c["tools"] : json(nullptr))}});
    } catch (const server::ApiError &e) {
      out.push_back(json{{"error", e.what()}});
    } catch (const json::exception &e) {
      out.push_back(json{{"error", e.what()}});
    }
  }
  std::cout << out.dump(1) << "\n";
  return 0;
}

} // namespace llmc::tools
