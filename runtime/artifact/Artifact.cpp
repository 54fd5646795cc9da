//===- Artifact.cpp - load an llmc artifact -------------------------------===//
#include "runtime/artifact/Artifact.h"
#include "runtime/support/Error.h"
#include "runtime/support/MappedFile.h"

#include <nlohmann/json.hpp>

#include <dlfcn.h>
#include <filesystem>

namespace fs = std::filesystem;
using nlohmann::json;

namespace llmc::rt {

std::string fingerprint(const void *data, size_t size) {
  uint64_t h = 1469598103934665603ull;
  const auto *p = static_cast<const unsigned char *>(data);
  for (size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

namespace {

/// Typed access to manifest fields by dotted path, with messages that name
/// the file and the field.
class Fields {
public:
  Fields(const json &root, const std::string &path) : root(root), path(path) {}

  const json &at(const std::string &dotted, json::value_t kind) const {
    const json *cur = &root;
    size_t start = 0;
    while (true) {
      size_t dot = dotted.find('.', start);
      std::string key = dotted.substr(start, dot - start);
      if (!cur->is_object() || !cur->contains(key))
        fail("{}: field '{}': missing", path, dotted);
      cur = &(*cur)[key];
      if (dot == std::string::npos)
        break;
      start = dot + 1;
    }
    bool ok = cur->type() == kind || (kind == json::value_t::number_integer &&
                                      cur->is_number_unsigned());
    if (!ok)
      fail("{}: field '{}': expected {}", path, dotted, typeName(kind));
    return *cur;
  }
  int64_t integer(const std::string &f, bool positive = true) const {
    int64_t v = at(f, json::value_t::number_integer).get<int64_t>();
    if (positive ? v <= 0 : v < 0)
      fail("{}: field '{}': must be {}, got {}", path, f,
           positive ? "positive" : "non-negative", v);
    return v;
  }
  std::string string(const std::string &f) const {
    return at(f, json::value_t::string).get<std::string>();
  }

private:
  static const char *typeName(json::value_t k) {
    switch (k) {
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "a list";
    case json::value_t::object:
      return "an object";
    default:
      return "an integer";
    }
  }
  const json &root;
  std::string path;
};

/// One recipe: a tensor taken from the checkpoint (first present source,
/// optionally transposed), or the dim-0 concatenation of such parts.
WeightRecipe parseRecipe(const json &j, const std::string &where, bool part) {
  Fields t(j, where);
  WeightRecipe r;
  r.name = t.string("name");
  r.transform = t.string("transform");
  for (const json &d : t.at("shape", json::value_t::array)) {
    if (!d.is_number_integer() || d.get<int64_t>() <= 0)
      fail("{}: weight '{}': field 'shape': expected positive integers", where,
           r.name);
    r.shape.push_back(d.get<int64_t>());
  }
  if (r.transform == "concat" && !part) {
    const json &parts = t.at("parts", json::value_t::array);
    int64_t rows = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      r.parts.push_back(parseRecipe(
          parts[i], where + " parts[" + std::to_string(i) + "]", true));
      const WeightRecipe &p = r.parts.back();
      bool fits =
          p.shape.size() == r.shape.size() &&
          std::equal(p.shape.begin() + 1, p.shape.end(), r.shape.begin() + 1);
      if (!fits)
        fail("{}: weight '{}': part '{}' does not stack along dimension 0",
             where, r.name, p.name);
      rows += p.shape[0];
    }
    if (r.parts.empty() || r.shape.empty() || rows != r.shape[0])
      fail("{}: weight '{}': its parts do not add up to its shape", where,
           r.name);
    return r;
  }
  if (r.transform != "none" && r.transform != "transpose")
    fail("{}: weight '{}': unknown transform '{}'", where, r.name, r.transform);
  for (const json &s : t.at("sources", json::value_t::array))
    if (s.is_string())
      r.sources.push_back(s.get<std::string>());
  if (r.sources.empty())
    fail("{}: weight '{}': field 'sources' is empty", where, r.name);
  return r;
}

} // namespace

Manifest parseManifest(const std::string &text, const std::string &path) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception &e) {
    fail("{}: not valid JSON (corrupt artifact?): {}", path, e.what());
  }
  if (!root.is_object())
    fail("{}: expected a JSON object", path);
  Fields f(root, path);
  if (f.string("format") != "llmc-artifact")
    fail("{}: field 'format': not an llmc artifact", path);
  int64_t version = f.integer("format_version");
  if (version != kArtifactFormatVersion)
    fail("{}: field 'format_version': artifact format {} but this llm-run "
         "reads format {}; recompile the model with a matching llmc",
         path, version, kArtifactFormatVersion);
  if (f.string("target") != "cpu")
    fail("{}: field 'target': '{}' artifacts cannot run on this build (cpu)",
         path, f.string("target"));
  int64_t abi = f.integer("program.abi_version");
  if (abi != kStepAbiVersion)
    fail("{}: field 'program.abi_version': step ABI {} but this llm-run "
         "calls ABI {}",
         path, abi, kStepAbiVersion);

  Manifest m;
  m.library = f.string("program.library");
  m.entry = f.string("program.entry");
  m.fingerprint = f.string("program.fingerprint");
  m.vocabSize = f.integer("vocab_size");
  m.maxBatchTokens = f.integer("limits.max_batch_tokens");
  m.maxSeqLen = f.integer("limits.max_seq_len");
  m.arenaBytes = f.integer("arena_bytes", /*positive=*/false);
  m.kvBlockSize = f.integer("kv.block_size");
  m.kvBytesPerBlock = f.integer("kv.bytes_per_block");
  m.kvNumCaches = f.integer("kv.num_caches");
  if (m.kvBytesPerBlock % m.kvNumCaches != 0)
    fail("{}: field 'kv.bytes_per_block': not a multiple of kv.num_caches",
         path);
  m.weightsBytes = f.integer("weights.bytes", /*positive=*/false);
  if (root.contains("model") && root["model"].is_object()) {
    const json &model = root["model"];
    if (model.contains("eos_token_ids") && model["eos_token_ids"].is_array())
      for (const json &e : model["eos_token_ids"])
        if (e.is_number_integer())
          m.eosTokenIds.push_back(e.get<int64_t>());
  }
  const json &tensors = f.at("weights.tensors", json::value_t::array);
  for (size_t i = 0; i < tensors.size(); ++i) {
    WeightRecipe r = parseRecipe(
        tensors[i], path + " weights.tensors[" + std::to_string(i) + "]",
        /*part=*/false);
    r.offset = Fields(tensors[i], path).integer("offset", /*positive=*/false);
    if (r.offset + r.elements() * 4 > m.weightsBytes)
      fail("{}: weight '{}' lies outside weights.bytes", path, r.name);
    m.weights.push_back(std::move(r));
  }
  if (root.contains("tokenizer") && root["tokenizer"].contains("files"))
    for (const json &tf : root["tokenizer"]["files"])
      if (tf.is_string())
        m.tokenizerFiles.push_back(tf.get<std::string>());
  return m;
}

Artifact::Artifact(const std::string &dir) : dir_(dir) {
  if (!fs::is_directory(dir))
    fail("{}: not an artifact directory (llmc -o writes one)", dir);
  std::string manifestPath = (fs::path(dir) / "manifest.json").string();
  if (!fs::exists(manifestPath))
    fail("{}: missing (not an llmc artifact?)", manifestPath);
  manifest_ = parseManifest(readFile(manifestPath), manifestPath);

  std::string lib = (fs::path(dir) / manifest_.library).string();
  {
    MappedFile so(lib);
    std::string fp = fingerprint(so.data(), so.size());
    if (fp != manifest_.fingerprint)
      fail("{}: corrupt or replaced: fingerprint {} does not match the "
           "manifest's {}",
           lib, fp, manifest_.fingerprint);
  }
  handle_ = ::dlopen(fs::absolute(lib).c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle_)
    fail("{}: cannot load: {}", lib, ::dlerror());
  step_ = reinterpret_cast<StepFn>(::dlsym(handle_, manifest_.entry.c_str()));
  if (!step_)
    fail("{}: no entry point '{}'", lib, manifest_.entry);
}

Artifact::~Artifact() {
  if (handle_)
    ::dlclose(handle_);
}

} // namespace llmc::rt
