//===- Jinja.h - the Jinja subset chat templates use ------------*- C++ -*-===//
//
// Hugging Face chat templates are Jinja2 templates, rendered by transformers
// in a sandboxed environment with trim_blocks and lstrip_blocks, the
// loopcontrols extension, and the globals raise_exception and strftime_now
// and a tojson filter that is Python's json.dumps. There is no C++ Jinja in
// Debian, so this is an interpreter for the part of the language chat
// templates use: text with whitespace control, {{ expressions }}, if / elif
// / else, for (with loop.*, else, a filter condition, break and continue),
// set (names, namespace attributes, tuples, blocks), macros; expressions
// with Python's operators, literals, attribute and item access, slices,
// calls, filters and tests; Python's str() and json.dumps for output; the
// string, dict and list methods templates call. Undefined values behave as
// Jinja's default Undefined (empty, falsy). test/e2e/chat_template.py
// renders a set of templates with Python's jinja2 and with this, and
// requires the same text.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_SERVER_JINJA_H
#define LLMC_RUNTIME_SERVER_JINJA_H

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace llmc::server::jinja {

class Template {
public:
  /// Parses a template; throws rt::Error ("line N: ...") when it uses
  /// something this subset does not have or is malformed.
  explicit Template(const std::string &source);
  ~Template();
  /// Renders with the variables of `context` (a JSON object). Throws
  /// rt::Error for an error the template raises (raise_exception) or an
  /// operation on values of the wrong kind.
  std::string render(const nlohmann::ordered_json &context) const;

  struct Node;

private:
  std::shared_ptr<Node> root_;
};

} // namespace llmc::server::jinja

#endif // LLMC_RUNTIME_SERVER_JINJA_H
