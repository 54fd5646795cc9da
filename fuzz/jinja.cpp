//===- jinja.cpp - fuzz the chat-template interpreter ---------------------===//
//
// A chat template comes with the model (tokenizer_config.json or
// chat_template.jinja), so it is untrusted input: any text is parsed and
// rendered with a typical conversation, or refused with rt::Error (parse
// errors, raise_exception, wrong kinds, limits).
//
//===----------------------------------------------------------------------===//
#include "runtime/server/Jinja.h"
#include "runtime/support/Error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const nlohmann::ordered_json context = nlohmann::ordered_json::parse(
      R"({"messages": [{"role": "system", "content": "Be brief."},
                       {"role": "user", "content": "Hi"},
                       {"role": "assistant", "content": "Hello",
                        "tool_calls": [{"function": {"name": "f",
                                         "arguments": {"x": 1}}}]},
                       {"role": "user", "content": [{"type": "text",
                                                     "text": "More"}]}],
          "add_generation_prompt": true, "bos_token": "<s>",
          "eos_token": "</s>", "tools": [{"name": "f"}]})");
  std::string source(reinterpret_cast<const char *>(data), size);
  try {
    llmc::server::jinja::Template t(source);
    (void)t.render(context);
  } catch (const llmc::rt::Error &) {
  }
  return 0;
}
