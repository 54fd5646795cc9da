//===- OpenAI.cpp - the OpenAI completions and chat protocol --------------===//
#include "runtime/server/OpenAI.h"
#include "runtime/support/Error.h"
#include "runtime/support/MappedFile.h"

#include <chrono>
#include <cmath>
#include <filesystem>

namespace llmc::server {

namespace fs = std::filesystem;

int64_t unixTime() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json ApiError::body() const {
  json e;
  e["message"] = what();
  e["type"] = type;
  e["param"] = param ? json(*param) : json(nullptr);
  e["code"] = code ? json(*code) : json(nullptr);
  return json{{"error", e}};
}

//===----------------------------------------------------------------------===//
// Chat templates
//===----------------------------------------------------------------------===//

namespace {

/// A special token in tokenizer_config.json: a string or {"content": ...}.
std::string specialToken(const json &config, const char *key) {
  if (!config.contains(key))
    return "";
  const json &v = config[key];
  if (v.is_string())
    return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return v["content"].get<std::string>();
  return "";
}

} // namespace

ChatTemplate::ChatTemplate(const std::string &source, std::string bos,
                           std::string eos)
    : template_(source), bos_(std::move(bos)), eos_(std::move(eos)) {}

std::unique_ptr<ChatTemplate>
ChatTemplate::load(const std::string &artifactDir,
                   const std::string &overridePath) {
  json config = json::object();
  fs::path configPath = fs::path(artifactDir) / "tokenizer_config.json";
  if (fs::exists(configPath)) {
    try {
      config = json::parse(rt::readFile(configPath.string()));
    } catch (const json::exception &e) {
      rt::fail("{}: not valid JSON: {}", configPath.string(), e.what());
    }
  }
  std::string bos = specialToken(config, "bos_token"),
              eos = specialToken(config, "eos_token");
  std::string source, from;
  if (!overridePath.empty()) {
    source = rt::readFile(overridePath);
    from = overridePath;
  } else if (fs::exists(fs::path(artifactDir) / "chat_template.jinja")) {
    from = (fs::path(artifactDir) / "chat_template.jinja").string();
    source = rt::readFile(from);
  } else if (config.contains("chat_template")) {
    from = configPath.string() + ": chat_template";
    const json &t = config["chat_template"];
    if (t.is_string()) {
      source = t.get<std::string>();
    } else if (t.is_array()) {
      // Named templates: the one called "default".
      for (const json &named : t)
        if (named.is_object() && named.value("name", "") == "default" &&
            named.contains("template") && named["template"].is_string())
          source = named["template"].get<std::string>();
      if (source.empty())
        rt::fail("{}: no template named 'default'", from);
    } else {
      rt::fail("{}: not a string or a list of named templates", from);
    }
  } else {
    return nullptr;
  }
  try {
    return std::make_unique<ChatTemplate>(source, bos, eos);
  } catch (const rt::Error &e) {
    rt::fail("{}: {}", from, e.what());
  }
}

std::string ChatTemplate::render(const json &messages, bool addGenerationPrompt,
                                 const json &tools) const {
  json ctx;
  ctx["messages"] = messages;
  ctx["add_generation_prompt"] = addGenerationPrompt;
  ctx["bos_token"] = bos_;
  ctx["eos_token"] = eos_;
  if (!tools.is_null())
    ctx["tools"] = tools;
  try {
    return template_.render(ctx);
  } catch (const rt::Error &e) {
    throw ApiError(400, e.what(), "messages");
  }
}

//===----------------------------------------------------------------------===//
// Requests
//===----------------------------------------------------------------------===//

namespace {

[[noreturn]] void bad(const std::string &param, const std::string &message) {
  throw ApiError(400, message, param);
}

const json *field(const json &body, const char *name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null())
    return nullptr;
  return &*it;
}

double number(const json &body, const char *name, double dflt) {
  const json *v = field(body, name);
  if (!v)
    return dflt;
  if (!v->is_number())
    bad(name, fmt::format("'{}' must be a number", name));
  double d = v->get<double>();
  if (!std::isfinite(d))
    bad(name, fmt::format("'{}' must be finite", name));
  return d;
}

int64_t integer(const json &body, const char *name, int64_t dflt) {
  const json *v = field(body, name);
  if (!v)
    return dflt;
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (std::floor(d) == d && std::fabs(d) < 9e15)
      return static_cast<int64_t>(d);
  }
  if (!v->is_number_integer())
    bad(name, fmt::format("'{}' must be an integer", name));
  return v->get<int64_t>();
}

bool boolean(const json &body, const char *name, bool dflt) {
  const json *v = field(body, name);
  if (!v)
    return dflt;
  if (!v->is_boolean())
    bad(name, fmt::format("'{}' must be true or false", name));
  return v->get<bool>();
}

/// A token id from a request field, checked against the vocabulary.
int32_t tokenId(const json &x, const ServedModel &m, const char *param,
                const char *what) {
  if (!x.is_number_integer())
    bad(param, fmt::format("'{}' must be {}", param, what));
  int64_t id = x.get<int64_t>();
  if (id < 0 || id >= m.manifest->vocabSize)
    bad(param, fmt::format("token id {} in '{}' is outside the vocabulary "
                           "(0..{})",
                           id, param, m.manifest->vocabSize - 1));
  return static_cast<int32_t>(id);
}

/// The fields completions and chat share.
void parseCommon(const json &body, const ServedModel &m, ParsedRequest &r,
                 engine::RequestSpec &spec) {
  if (!body.is_object())
    throw ApiError(400, "the request body must be a JSON object");
  if (const json *model = field(body, "model")) {
    if (!model->is_string())
      bad("model", "'model' must be a string");
    if (model->get<std::string>() != m.name)
      throw ApiError(400,
                     fmt::format("The model `{}` does not exist (this server "
                                 "serves `{}`)",
                                 model->get<std::string>(), m.name),
                     "model", "invalid_request_error", "model_not_found");
  }
  r.model = m.name;
  r.stream = boolean(body, "stream", false);
  if (const json *so = field(body, "stream_options")) {
    if (!so->is_object())
      bad("stream_options", "'stream_options' must be an object");
    if (!r.stream)
      bad("stream_options", "'stream_options' needs 'stream': true");
    r.includeUsage = boolean(*so, "include_usage", false);
  }
  r.n = integer(body, "n", 1);
  if (r.n < 1 || r.n > engine::RequestSpec::kMaxN)
    bad("n", fmt::format("'n' must be in [1, {}], got {}",
                         engine::RequestSpec::kMaxN, r.n));
  if (const json *bestOf = field(body, "best_of"))
    if (!bestOf->is_number_integer() || bestOf->get<int64_t>() != r.n)
      bad("best_of", "'best_of' other than n is not supported");
  if (const json *bias = field(body, "logit_bias"))
    if (!bias->is_object() || !bias->empty())
      bad("logit_bias", "'logit_bias' is not supported");
  spec.n = r.n;
  rt::SamplingParams &s = spec.sampling;
  s.temperature = static_cast<float>(number(body, "temperature", 1.0));
  s.topP = static_cast<float>(number(body, "top_p", 1.0));
  s.topK = integer(body, "top_k", 0);
  s.minP = static_cast<float>(number(body, "min_p", 0.0));
  s.presencePenalty = static_cast<float>(number(body, "presence_penalty", 0));
  s.frequencyPenalty = static_cast<float>(number(body, "frequency_penalty", 0));
  s.repetitionPenalty =
      static_cast<float>(number(body, "repetition_penalty", 1.0));
  if (field(body, "seed"))
    s.seed = static_cast<uint64_t>(integer(body, "seed", 0));
  try {
    rt::validate(s);
  } catch (const rt::Error &e) {
    std::string msg = e.what();
    bad(msg.substr(0, msg.find(' ')), msg);
  }
  if (const json *stop = field(body, "stop")) {
    if (stop->is_string()) {
      spec.stop.strings.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
      for (const json &x : *stop) {
        if (!x.is_string())
          bad("stop", "'stop' must be a string or a list of strings");
        spec.stop.strings.push_back(x.get<std::string>());
      }
    } else {
      bad("stop", "'stop' must be a string or a list of strings");
    }
    for (const std::string &x : spec.stop.strings)
      if (x.empty())
        bad("stop", "'stop' strings must not be empty");
    if (!spec.stop.strings.empty() && !m.tokenizer)
      bad("stop", "'stop' needs text, and the model has no tokenizer");
  }
  if (const json *ids = field(body, "stop_token_ids")) {
    if (!ids->is_array())
      bad("stop_token_ids", "'stop_token_ids' must be a list of integers");
    for (const json &x : *ids)
      spec.stop.stopTokenIds.push_back(
          tokenId(x, m, "stop_token_ids", "a list of integers"));
  }
  spec.stop.ignoreEos = boolean(body, "ignore_eos", false);
  spec.detokenize = m.tokenizer != nullptr;
}

/// Token ids of one prompt: text (tokenized) or ids (checked).
std::vector<int32_t> promptIds(const json &p, const ServedModel &m,
                               bool addSpecialTokens) {
  std::vector<int32_t> ids;
  if (p.is_string()) {
    if (!m.tokenizer)
      bad("prompt", "the model has no tokenizer: give the prompt as token "
                    "ids");
    ids = m.tokenizer->encode(p.get<std::string>(), addSpecialTokens);
  } else if (p.is_array()) {
    for (const json &x : p)
      ids.push_back(tokenId(x, m, "prompt", "a string or a list of token ids"));
  } else {
    bad("prompt", "a prompt must be a string or a list of token ids");
  }
  if (ids.empty())
    bad("prompt", "the prompt is empty");
  return ids;
}

/// Sets max_tokens (the default: `dflt`, or what is left of the context)
/// and checks prompt + max_tokens against the context.
void setMaxTokens(engine::RequestSpec &spec, const json &body, const char *name,
                  std::optional<int64_t> dflt, const ServedModel &m) {
  int64_t ctx = m.manifest->maxSeqLen;
  int64_t promptLen = static_cast<int64_t>(spec.prompt.size());
  if (promptLen > ctx)
    bad("prompt", fmt::format("This model's maximum context length is {} "
                              "tokens; the prompt has {}",
                              ctx, promptLen));
  const json *given = field(body, name);
  int64_t max = given  ? integer(body, name, 0)
                : dflt ? std::min(*dflt, ctx - promptLen)
                       : ctx - promptLen;
  if (max < 0)
    bad(name, fmt::format("'{}' must be >= 0, got {}", name, max));
  if (promptLen + max > ctx)
    bad(name, fmt::format("This model's maximum context length is {} tokens. "
                          "However, you requested {} tokens ({} in the "
                          "prompt, {} for the completion)",
                          ctx, promptLen + max, promptLen, max));
  spec.stop.maxTokens = max;
}

} // namespace

ParsedRequest parseCompletion(const json &body, const ServedModel &m) {
  ParsedRequest r;
  engine::RequestSpec base;
  parseCommon(body, m, r, base);
  if (field(body, "suffix"))
    bad("suffix", "'suffix' is not supported");
  r.echo = boolean(body, "echo", false);
  if (field(body, "logprobs")) {
    r.logprobs = integer(body, "logprobs", 0);
    if (r.logprobs < 0 || r.logprobs > rt::SamplingParams::kMaxLogprobs)
      bad("logprobs",
          fmt::format("'logprobs' must be in [0, {}], got {}",
                      rt::SamplingParams::kMaxLogprobs, r.logprobs));
  }
  base.sampling.logprobs = r.logprobs;
  if (r.echo && r.logprobs >= 0)
    base.promptLogprobs = r.logprobs;
  const json *prompt = field(body, "prompt");
  if (!prompt)
    bad("prompt", "'prompt' is required");
  // A batch: a list of strings or a list of token-id lists.
  std::vector<const json *> prompts;
  if (prompt->is_array() && !prompt->empty() &&
      ((*prompt)[0].is_string() || (*prompt)[0].is_array())) {
    for (const json &p : *prompt)
      prompts.push_back(&p);
  } else {
    if (prompt->is_array() && prompt->empty())
      bad("prompt", "the prompt is empty");
    prompts.push_back(prompt);
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    engine::RequestSpec spec = base;
    spec.id = std::to_string(i);
    spec.prompt = promptIds(*prompts[i], m, /*addSpecialTokens=*/true);
    setMaxTokens(spec, body, "max_tokens", int64_t(16), m);
    r.promptTexts.push_back(
        prompts[i]->is_string()
            ? prompts[i]->get<std::string>()
            : (m.tokenizer ? m.tokenizer->decode(spec.prompt, false) : ""));
    r.specs.push_back(std::move(spec));
  }
  return r;
}

ParsedRequest parseChat(const json &body, const ServedModel &m) {
  ParsedRequest r;
  r.chat = true;
  engine::RequestSpec spec;
  parseCommon(body, m, r, spec);
  if (!m.chatTemplate)
    throw ApiError(400,
                   "the model has no chat template (tokenizer_config.json "
                   "chat_template or chat_template.jinja): use "
                   "/v1/completions, or start the server with "
                   "--chat-template FILE",
                   "messages");
  if (!m.tokenizer)
    bad("messages", "chat needs the model's tokenizer");
  const json *messages = field(body, "messages");
  if (!messages || !messages->is_array() || messages->empty())
    bad("messages", "'messages' must be a non-empty list");
  json normalized = json::array();
  for (const json &msg : *messages) {
    if (!msg.is_object() || !msg.contains("role") || !msg["role"].is_string())
      bad("messages", "every message needs a string 'role'");
    json out = msg;
    if (msg.contains("content") && msg["content"].is_array()) {
      // Content parts: the text parts, one per line.
      std::string text;
      for (const json &part : msg["content"]) {
        if (!part.is_object() || part.value("type", "") != "text" ||
            !part.contains("text") || !part["text"].is_string())
          bad("messages", "only text content parts are supported");
        text += (text.empty() ? "" : "\n") + part["text"].get<std::string>();
      }
      out["content"] = text;
    } else if (msg.contains("content") && !msg["content"].is_string() &&
               !msg["content"].is_null()) {
      bad("messages", "'content' must be a string or a list of parts");
    }
    normalized.push_back(out);
  }
  bool addGenerationPrompt = boolean(body, "add_generation_prompt", true);
  const json *tools = field(body, "tools");
  std::string text = m.chatTemplate->render(normalized, addGenerationPrompt,
                                            tools ? *tools : json(nullptr));
  spec.id = "0";
  spec.prompt = m.tokenizer->encode(text, /*addSpecialTokens=*/false);
  if (spec.prompt.empty())
    bad("messages", "the chat template rendered an empty prompt");
  if (boolean(body, "logprobs", false)) {
    r.logprobs = integer(body, "top_logprobs", 0);
    if (r.logprobs < 0 || r.logprobs > rt::SamplingParams::kMaxLogprobs)
      bad("top_logprobs",
          fmt::format("'top_logprobs' must be in [0, {}], got {}",
                      rt::SamplingParams::kMaxLogprobs, r.logprobs));
  } else if (field(body, "top_logprobs")) {
    bad("top_logprobs", "'top_logprobs' needs 'logprobs': true");
  }
  spec.sampling.logprobs = r.logprobs;
  setMaxTokens(spec, body,
               field(body, "max_completion_tokens") ? "max_completion_tokens"
                                                    : "max_tokens",
               std::nullopt, m);
  r.promptTexts.push_back(text);
  r.specs.push_back(std::move(spec));
  return r;
}

//===----------------------------------------------------------------------===//
// Responses
//===----------------------------------------------------------------------===//

ResponseBuilder::ResponseBuilder(const ParsedRequest &req, const ServedModel &m,
                                 std::string id, int64_t created)
    : req_(req), m_(m), id_(std::move(id)), created_(created),
      choices_(req.specs.size() * static_cast<size_t>(req.n)),
      promptLogprobs_(req.specs.size()), promptTokens_(req.specs.size(), 0),
      completionTokens_(req.specs.size(), 0),
      finished_(req.specs.size(), false) {
  for (size_t i = 0; i < req.specs.size(); ++i)
    promptTokens_[i] = static_cast<int64_t>(req.specs[i].prompt.size());
}

bool ResponseBuilder::finished() const {
  return std::all_of(finished_.begin(), finished_.end(),
                     [](bool b) { return b; });
}

std::string ResponseBuilder::tokenText(int32_t token) const {
  return m_.tokenizer ? m_.tokenizer->decode({token}, false)
                      : std::to_string(token);
}

json ResponseBuilder::logprobsJson(const std::vector<int32_t> &tokens,
                                   const std::vector<rt::Logprobs> &lps,
                                   size_t textOffset) const {
  if (req_.chat) {
    json content = json::array();
    for (size_t k = 0; k < lps.size(); ++k) {
      auto entry = [&](int32_t token, float logprob) {
        std::string t = tokenText(token);
        json bytes = json::array();
        for (unsigned char c : t)
          bytes.push_back(static_cast<int>(c));
        return json{{"token", t}, {"logprob", logprob}, {"bytes", bytes}};
      };
      json e = entry(lps[k].chosen.token, lps[k].chosen.logprob);
      json top = json::array();
      for (const rt::TokenLogprob &t : lps[k].top)
        top.push_back(entry(t.token, t.logprob));
      e["top_logprobs"] = top;
      content.push_back(e);
    }
    return json{{"content", content}};
  }
  json out{{"tokens", json::array()},
           {"token_logprobs", json::array()},
           {"top_logprobs", json::array()},
           {"text_offset", json::array()}};
  size_t offset = textOffset;
  for (size_t k = 0; k < tokens.size() && k < lps.size(); ++k) {
    std::string t = tokenText(tokens[k]);
    out["tokens"].push_back(t);
    out["token_logprobs"].push_back(lps[k].chosen.logprob);
    json top = json::object();
    for (const rt::TokenLogprob &x : lps[k].top) {
      std::string key = tokenText(x.token);
      if (!top.contains(key))
        top[key] = x.logprob;
    }
    out["top_logprobs"].push_back(top);
    out["text_offset"].push_back(offset);
    offset += t.size();
  }
  return out;
}

json ResponseBuilder::promptLogprobsJson(size_t prompt) const {
  const std::vector<int32_t> &ids = req_.specs[prompt].prompt;
  json out{{"tokens", json::array()},
           {"token_logprobs", json::array()},
           {"top_logprobs", json::array()},
           {"text_offset", json::array()}};
  size_t offset = 0;
  for (size_t k = 0; k < ids.size(); ++k) {
    std::string t = tokenText(ids[k]);
    out["tokens"].push_back(t);
    const auto &lp = k < promptLogprobs_[prompt].size()
                         ? promptLogprobs_[prompt][k]
                         : std::nullopt;
    if (lp) {
      out["token_logprobs"].push_back(lp->chosen.logprob);
      json top = json::object();
      for (const rt::TokenLogprob &x : lp->top) {
        std::string key = tokenText(x.token);
        if (!top.contains(key))
          top[key] = x.logprob;
      }
      out["top_logprobs"].push_back(top);
    } else {
      out["token_logprobs"].push_back(nullptr);
      out["top_logprobs"].push_back(nullptr);
    }
    out["text_offset"].push_back(offset);
    offset += t.size();
  }
  return out;
}

json ResponseBuilder::choiceJson(size_t index) const {
  const Choice &c = choices_[index];
  size_t prompt = index / static_cast<size_t>(req_.n);
  json out;
  out["index"] = index;
  std::string prefix = req_.echo ? req_.promptTexts[prompt] : "";
  if (req_.chat)
    out["message"] = {{"role", "assistant"}, {"content", c.text}};
  else
    out["text"] = prefix + c.text;
  if (req_.logprobs >= 0) {
    json lp = logprobsJson(c.tokens, c.logprobs, prefix.size());
    if (!req_.chat && req_.echo) {
      json p = promptLogprobsJson(prompt);
      for (const char *k :
           {"tokens", "token_logprobs", "top_logprobs", "text_offset"})
        for (const json &x : lp[k])
          p[k].push_back(x);
      lp = p;
    }
    out["logprobs"] = lp;
  } else {
    out["logprobs"] = nullptr;
  }
  out["finish_reason"] =
      c.finish ? json(engine::nameOf(*c.finish)) : json(nullptr);
  if (c.stopString)
    out["stop_reason"] = *c.stopString;
  else if (c.stopToken)
    out["stop_reason"] = *c.stopToken;
  else
    out["stop_reason"] = nullptr;
  return out;
}

std::vector<json> ResponseBuilder::add(size_t prompt,
                                       const engine::RequestEvent &event) {
  std::vector<json> chunks;
  if (event.error && !error_)
    error_ = event.error;
  if (event.promptLogprobs)
    promptLogprobs_[prompt] = *event.promptLogprobs;
  promptTokens_[prompt] = event.promptTokens;
  completionTokens_[prompt] = event.completionTokens;
  if (event.finished)
    finished_[prompt] = true;
  for (const engine::SeqDelta &d : event.deltas) {
    size_t index =
        prompt * static_cast<size_t>(req_.n) + static_cast<size_t>(d.index);
    if (index >= choices_.size())
      continue;
    Choice &c = choices_[index];
    size_t before = c.text.size();
    c.text += d.text;
    c.tokens.insert(c.tokens.end(), d.tokens.begin(), d.tokens.end());
    c.logprobs.insert(c.logprobs.end(), d.logprobs.begin(), d.logprobs.end());
    if (d.finish) {
      c.finish = d.finish;
      c.stopString = d.stopString;
      c.stopToken = d.stopToken;
    }
    if (!req_.stream)
      continue;
    json choice;
    choice["index"] = index;
    if (req_.chat) {
      json delta = json::object();
      if (!c.roleSent) {
        delta["role"] = "assistant";
        c.roleSent = true;
      }
      if (!d.text.empty() || delta.contains("role"))
        delta["content"] = d.text;
      choice["delta"] = delta;
    } else {
      bool first = before == 0 && c.tokens.size() == d.tokens.size();
      choice["text"] =
          (req_.echo && first ? req_.promptTexts[prompt] : "") + d.text;
    }
    if (req_.logprobs >= 0 && !d.logprobs.empty())
      choice["logprobs"] = logprobsJson(d.tokens, d.logprobs, before);
    else
      choice["logprobs"] = nullptr;
    choice["finish_reason"] =
        d.finish ? json(engine::nameOf(*d.finish)) : json(nullptr);
    if (d.finish)
      choice["stop_reason"] = d.stopString  ? json(*d.stopString)
                              : d.stopToken ? json(*d.stopToken)
                                            : json(nullptr);
    json chunk;
    chunk["id"] = id_;
    chunk["object"] = req_.chat ? "chat.completion.chunk" : "text_completion";
    chunk["created"] = created_;
    chunk["model"] = req_.model;
    chunk["choices"] = json::array({choice});
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

namespace {
json usageOf(const std::vector<int64_t> &prompt,
             const std::vector<int64_t> &completion) {
  int64_t p = 0, c = 0;
  for (int64_t x : prompt)
    p += x;
  for (int64_t x : completion)
    c += x;
  return json{
      {"prompt_tokens", p}, {"completion_tokens", c}, {"total_tokens", p + c}};
}
} // namespace

std::optional<json> ResponseBuilder::usageChunk() const {
  if (!req_.includeUsage)
    return std::nullopt;
  json chunk;
  chunk["id"] = id_;
  chunk["object"] = req_.chat ? "chat.completion.chunk" : "text_completion";
  chunk["created"] = created_;
  chunk["model"] = req_.model;
  chunk["choices"] = json::array();
  chunk["usage"] = usageOf(promptTokens_, completionTokens_);
  return chunk;
}

json ResponseBuilder::response() const {
  json out;
  out["id"] = id_;
  out["object"] = req_.chat ? "chat.completion" : "text_completion";
  out["created"] = created_;
  out["model"] = req_.model;
  json choices = json::array();
  for (size_t i = 0; i < choices_.size(); ++i)
    choices.push_back(choiceJson(i));
  out["choices"] = choices;
  out["usage"] = usageOf(promptTokens_, completionTokens_);
  return out;
}

} // namespace llmc::server
