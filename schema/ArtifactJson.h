//===- ArtifactJson.h - manifest.json <-> schema structs ------------------===//
//
// The one writer and the one reader of manifest.json. The compiler, built
// without exceptions, only writes; the reader throws schema::Error with a
// message naming the file and the field, and is compiled only where
// exceptions are on (the runtime).
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_SCHEMA_ARTIFACTJSON_H
#define LLMC_SCHEMA_ARTIFACTJSON_H

#include "schema/Artifact.h"

#include <nlohmann/json.hpp>

#include <string>

namespace llmc::schema {

namespace detail {

using json = nlohmann::ordered_json;

inline json dimToJson(const Dim &d) {
  if (d.symbol)
    return std::string(nameOf(*d.symbol));
  return d.size;
}

inline json extentToJson(const Extent &e) {
  if (!e.dim)
    return e.scale;
  if (e.scale == 1)
    return std::string(nameOf(*e.dim));
  return json{{"scale", e.scale}, {"dim", std::string(nameOf(*e.dim))}};
}

inline json shapeToJson(const std::vector<Dim> &shape) {
  json out = json::array();
  for (const Dim &d : shape)
    out.push_back(dimToJson(d));
  return out;
}

inline json recipeToJson(const WeightRecipe &r, bool topLevel) {
  json out = {{"name", r.name},
              {"transform", nameOf(r.transform)},
              {"shape", r.shape},
              {"dtype", nameOf(r.dtype)}};
  if (r.transform == WeightTransform::Concat) {
    json parts = json::array();
    for (const WeightRecipe &p : r.parts)
      parts.push_back(recipeToJson(p, false));
    out["parts"] = std::move(parts);
  } else {
    out["sources"] = r.sources;
  }
  if (r.shard)
    out["shard"] = {{"axis", r.shard->axis},
                    {"index", r.shard->index},
                    {"count", r.shard->count}};
  if (topLevel)
    out["offset"] = r.offset;
  return out;
}

inline json bufferToJson(const BufferRef &b) {
  json out = {{"space", nameOf(b.space)}};
  switch (b.space) {
  case BufferSpace::Weights:
  case BufferSpace::Arena:
    out["offset"] = b.offset;
    break;
  case BufferSpace::Kv:
    out["cache"] = b.cache;
    break;
  case BufferSpace::Input:
    out["input"] = nameOf(b.input);
    break;
  case BufferSpace::Output:
    break;
  }
  out["dtype"] = nameOf(b.dtype);
  out["shape"] = shapeToJson(b.shape);
  return out;
}

/// The fields that differ between ranks: arena, caches, weights, plan.
inline void rankToJson(json &out, int64_t arenaBytes,
                       const std::vector<KvCache> &kvCaches,
                       int64_t weightsBytes,
                       const std::vector<WeightRecipe> &weights,
                       const std::vector<PlanEntry> &entries) {
  out["arena_bytes"] = arenaBytes;
  json caches = json::array();
  for (const KvCache &c : kvCaches)
    caches.push_back({{"block_size", c.blockSize},
                      {"kv_heads", c.kvHeads},
                      {"head_dim", c.headDim},
                      {"dtype", nameOf(c.dtype)}});
  out["kv"] = {{"caches", std::move(caches)}};
  json tensors = json::array();
  for (const WeightRecipe &r : weights)
    tensors.push_back(recipeToJson(r, true));
  out["weights"] = {{"bytes", weightsBytes}, {"tensors", std::move(tensors)}};
  json plan = json::array();
  for (const PlanEntry &e : entries) {
    json entry = {{"kind", nameOf(e.kind)}};
    if (e.kind == EntryKind::Launch)
      entry["kernel"] = e.kernel;
    if (e.kind == EntryKind::AllGather)
      entry["axis"] = e.axis;
    if (e.isPointToPoint())
      entry["peer"] = e.peer;
    if (e.layer)
      entry["layer"] = *e.layer;
    if (e.kind == EntryKind::Launch)
      entry["extent"] = extentToJson(e.extent);
    if (e.threads)
      entry["threads"] = *e.threads;
    json args = json::array();
    for (const BufferRef &b : e.args)
      args.push_back(bufferToJson(b));
    entry["args"] = std::move(args);
    plan.push_back(std::move(entry));
  }
  out["plan"] = std::move(plan);
}

} // namespace detail

/// manifest.json's content for `m`.
inline nlohmann::ordered_json toJson(const Manifest &m) {
  using detail::json;
  json root = {{"format", kFormat},
               {"format_version", m.formatVersion},
               {"target", nameOf(m.target)}};
  if (m.target == Target::Cpu)
    root["cpu"] = m.cpu;
  else
    root["arch"] = m.arch;
  if (m.model) {
    const Model &md = *m.model;
    json model = {{"architecture", md.architecture},
                  {"dtype", md.dtype},
                  {"hidden_size", md.hiddenSize},
                  {"num_layers", md.numLayers},
                  {"num_heads", md.numHeads},
                  {"num_kv_heads", md.numKvHeads},
                  {"head_dim", md.headDim},
                  {"vocab_size", md.vocabSize},
                  {"max_position_embeddings", md.maxPositionEmbeddings},
                  {"eos_token_ids", md.eosTokenIds}};
    if (md.bosTokenId)
      model["bos_token_id"] = *md.bosTokenId;
    root["model"] = std::move(model);
  }
  if (!m.configJson.empty()) {
    json config =
        json::parse(m.configJson, nullptr, /*allow_exceptions=*/false);
    if (!config.is_discarded())
      root["config"] = std::move(config);
  }
  root["program"] = {{"library", m.program.library},
                     {"fingerprint", m.program.fingerprint},
                     {"abi_version", m.program.abiVersion},
                     {"kernels", m.program.kernels}};
  if (!m.program.cubins.empty()) {
    json cubins = json::array();
    for (const Cubin &c : m.program.cubins)
      cubins.push_back(
          {{"arch", c.arch}, {"file", c.file}, {"fingerprint", c.fingerprint}});
    root["program"]["cubins"] = std::move(cubins);
  }
  root["limits"] = {{"max_batch_tokens", m.maxBatchTokens},
                    {"max_seq_len", m.maxSeqLen}};
  root["vocab_size"] = m.vocabSize;
  detail::rankToJson(root, m.arenaBytes, m.kvCaches, m.weightsBytes, m.weights,
                     m.plan);
  if (!m.ranks.empty()) {
    root["parallel"] = {{"tp", m.tp}, {"pp", m.pp}};
    json ranks = json::array();
    for (const RankPart &p : m.ranks) {
      json rank = json::object();
      detail::rankToJson(rank, p.arenaBytes, p.kvCaches, p.weightsBytes,
                         p.weights, p.plan);
      ranks.push_back(std::move(rank));
    }
    root["ranks"] = std::move(ranks);
  }
  root["tokenizer"] = {{"files", m.tokenizerFiles}};
  if (!m.fileFingerprints.empty()) {
    json files = json::object();
    for (const auto &[name, fp] : m.fileFingerprints)
      files[name] = fp;
    root["file_fingerprints"] = std::move(files);
  }
  return root;
}

/// The text llmc writes to manifest.json.
inline std::string toJsonText(const Manifest &m) {
  return toJson(m).dump(2, ' ', false,
                        nlohmann::ordered_json::error_handler_t::replace) +
         "\n";
}

/// What binds a manifest to its compiled program: the fingerprint of every
/// field the program's memory safety depends on (format, target, limits,
/// vocabulary, every rank's arena, caches, weights and plan, the kernels),
/// that is, all of it but the files' own fingerprints and what only
/// describes the model (its config.json, the tokenizer files). llmc builds
/// it into the program; llm-run recomputes it from manifest.json and
/// refuses a program built for another manifest. A check against edits and
/// mix-ups, not a signature.
inline std::string bindingDigest(Manifest m) {
  m.program.fingerprint.clear();
  m.program.cubins.clear();
  m.configJson.clear();
  m.tokenizerFiles.clear();
  m.fileFingerprints.clear();
  m.rank = 0;
  if (!m.ranks.empty())
    m.setOwnPart(m.ranks.front());
  std::string text = toJsonText(m);
  return fingerprint(text.data(), text.size());
}

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)

/// A manifest that cannot be read: the message names the file and field.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

namespace detail {

/// Typed access to one JSON object, with the field's path for messages.
class Reader {
public:
  Reader(const json &node, std::string file, std::string path)
      : node(node), file(std::move(file)), path(std::move(path)) {
    if (!node.is_object())
      fail("", "expected an object");
  }

  [[noreturn]] void fail(const std::string &key, const std::string &msg) const {
    std::string where = path.empty()  ? key
                        : key.empty() ? path
                                      : path + "." + key;
    throw Error(file + ": field '" + where + "': " + msg);
  }
  std::string at(const std::string &key) const {
    return path.empty() ? key : path + "." + key;
  }
  bool has(const std::string &key) const { return node.contains(key); }
  const json &get(const std::string &key) const {
    if (!node.contains(key))
      fail(key, "missing");
    return node.at(key);
  }
  int64_t integer(const std::string &key, int64_t min = 0) const {
    const json &v = get(key);
    if (!v.is_number_integer())
      fail(key, "expected an integer");
    int64_t i = v.get<int64_t>();
    if (i < min)
      fail(key, "must be at least " + std::to_string(min) + ", got " +
                    std::to_string(i));
    return i;
  }
  std::string string(const std::string &key) const {
    const json &v = get(key);
    if (!v.is_string())
      fail(key, "expected a string");
    return v.get<std::string>();
  }
  const json &array(const std::string &key) const {
    const json &v = get(key);
    if (!v.is_array())
      fail(key, "expected a list");
    return v;
  }
  Reader object(const std::string &key) const {
    const json &v = get(key);
    if (!v.is_object())
      fail(key, "expected an object");
    return Reader(v, file, at(key));
  }
  Reader element(const std::string &key, size_t i) const {
    return Reader(array(key)[i], file, at(key) + "[" + std::to_string(i) + "]");
  }
  template <typename E> E enumeration(const std::string &key) const {
    std::string s = string(key);
    std::optional<E> e = enumFromName<E>(s);
    if (!e)
      fail(key, "unknown " + std::string(EnumNames<E>::what) + " '" + s + "'");
    return *e;
  }
  std::vector<std::string> strings(const std::string &key) const {
    std::vector<std::string> out;
    for (const json &v : array(key)) {
      if (!v.is_string())
        fail(key, "expected a list of strings");
      out.push_back(v.get<std::string>());
    }
    return out;
  }
  std::vector<int64_t> integers(const std::string &key, int64_t min) const {
    std::vector<int64_t> out;
    for (const json &v : array(key)) {
      if (!v.is_number_integer() || v.get<int64_t>() < min)
        fail(key, "expected integers of at least " + std::to_string(min));
      out.push_back(v.get<int64_t>());
    }
    return out;
  }
  /// An integer (static size) or a step dimension's name.
  Dim dim(const json &v, const std::string &key) const {
    if (v.is_number_integer() && v.get<int64_t>() >= 0)
      return Dim::of(v.get<int64_t>());
    if (v.is_string()) {
      if (std::optional<StepDim> d =
              enumFromName<StepDim>(v.get<std::string>()))
        return Dim::of(*d);
      fail(key, "unknown step dimension '" + v.get<std::string>() + "'");
    }
    fail(key, "expected a size or a step dimension");
  }

  const json &node;
  std::string file, path;
};

inline WeightRecipe readRecipe(const Reader &r, bool topLevel) {
  WeightRecipe w;
  w.name = r.string("name");
  if (w.name.empty())
    r.fail("name", "must not be empty");
  w.transform = r.enumeration<WeightTransform>("transform");
  w.shape = r.integers("shape", 1);
  w.dtype = r.enumeration<DType>("dtype");
  if (w.transform == WeightTransform::Concat) {
    const json &parts = r.array("parts");
    int64_t rows = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      Reader pr = r.element("parts", i);
      w.parts.push_back(readRecipe(pr, false));
      const WeightRecipe &p = w.parts.back();
      if (p.transform == WeightTransform::Concat)
        pr.fail("transform", "a part cannot itself be a concat");
      // int8 rows [N, K + 4] stack f32 parts [rows, K].
      std::vector<int64_t> rowShape(w.shape.begin() + (w.shape.empty() ? 0 : 1),
                                    w.shape.end());
      if (w.dtype == DType::I8 && !rowShape.empty())
        rowShape.back() -= 4;
      if (p.shape.size() != w.shape.size() || p.shape.empty() ||
          !std::equal(p.shape.begin() + 1, p.shape.end(), rowShape.begin(),
                      rowShape.end()))
        pr.fail("shape", "does not stack along dimension 0 into " + w.name);
      rows += p.shape[0];
    }
    if (w.parts.empty() || w.shape.empty() || rows != w.shape[0])
      r.fail("parts", "do not add up to the shape of " + w.name);
    if (r.has("shard"))
      r.fail("shard", "a concat is not sharded; its parts are");
  } else {
    w.sources = r.strings("sources");
    if (w.sources.empty())
      r.fail("sources", "is empty");
    if (w.transform == WeightTransform::Transpose && w.shape.size() != 2)
      r.fail("transform", "transpose needs a 2-D shape");
  }
  if (r.has("shard")) {
    Reader s = r.object("shard");
    Shard sh{s.integer("axis"), s.integer("index"), s.integer("count", 1)};
    if (sh.index >= sh.count)
      s.fail("index", "must be below count");
    if (sh.axis >= static_cast<int64_t>(w.shape.size()))
      s.fail("axis", "is out of range for the shape");
    w.shard = sh;
  }
  if (topLevel)
    w.offset = r.integer("offset");
  return w;
}

inline BufferRef readBuffer(const Reader &r) {
  BufferRef b;
  b.space = r.enumeration<BufferSpace>("space");
  switch (b.space) {
  case BufferSpace::Weights:
  case BufferSpace::Arena:
    b.offset = r.integer("offset");
    break;
  case BufferSpace::Kv:
    b.cache = r.integer("cache");
    break;
  case BufferSpace::Input:
    b.input = r.enumeration<StepInput>("input");
    break;
  case BufferSpace::Output:
    break;
  }
  b.dtype = r.enumeration<DType>("dtype");
  const json &shape = r.array("shape");
  for (size_t i = 0; i < shape.size(); ++i)
    b.shape.push_back(r.dim(shape[i], "shape"));
  return b;
}

} // namespace detail

/// Reads a parsed manifest.json; `file` names it in messages. Checks the
/// format and its version first, so an artifact of another llmc is named
/// Reads the fields that differ between ranks (see rankToJson).
inline RankPart readRankPart(const detail::Reader &r, const std::string &file) {
  using detail::Reader;
  using json = nlohmann::ordered_json;
  RankPart p;
  p.arenaBytes = r.integer("arena_bytes");
  Reader kv = r.object("kv");
  const json &caches = kv.array("caches");
  for (size_t i = 0; i < caches.size(); ++i) {
    Reader c = kv.element("caches", i);
    p.kvCaches.push_back(
        KvCache{c.integer("block_size", 1), c.integer("kv_heads", 1),
                c.integer("head_dim", 1), c.enumeration<DType>("dtype")});
  }
  Reader weights = r.object("weights");
  p.weightsBytes = weights.integer("bytes");
  const json &tensors = weights.array("tensors");
  for (size_t i = 0; i < tensors.size(); ++i)
    p.weights.push_back(
        detail::readRecipe(weights.element("tensors", i), /*topLevel=*/true));
  const json &plan = r.array("plan");
  for (size_t i = 0; i < plan.size(); ++i) {
    Reader e = r.element("plan", i);
    PlanEntry entry;
    entry.kind = e.enumeration<EntryKind>("kind");
    if (entry.kind == EntryKind::Launch)
      entry.kernel = e.string("kernel");
    if (entry.kind == EntryKind::AllGather)
      entry.axis = e.integer("axis");
    if (entry.isPointToPoint())
      entry.peer = e.integer("peer");
    if (e.has("layer"))
      entry.layer = e.integer("layer");
    if (e.has("threads")) {
      entry.threads = e.integer("threads", 32);
      if (*entry.threads > 1024 || *entry.threads % 32 != 0)
        e.fail("threads", "threads per block must be a multiple of 32 up "
                          "to 1024, got " +
                              std::to_string(*entry.threads));
    }
    const json &extent =
        entry.kind == EntryKind::Launch ? e.get("extent") : json(1);
    if (extent.is_object()) {
      Reader x(extent, file, e.at("extent"));
      entry.extent.scale = x.integer("scale", 1);
      Dim d = x.dim(x.get("dim"), "dim");
      if (!d.symbol)
        x.fail("dim", "expected a step dimension");
      entry.extent.dim = d.symbol;
    } else {
      Dim d = e.dim(extent, "extent");
      entry.extent =
          d.symbol ? Extent{1, d.symbol} : Extent{d.size, std::nullopt};
    }
    const json &args = e.array("args");
    for (size_t a = 0; a < args.size(); ++a)
      entry.args.push_back(detail::readBuffer(e.element("args", a)));
    p.plan.push_back(std::move(entry));
  }
  return p;
}

/// as such rather than as a broken field.
inline Manifest fromJson(const nlohmann::ordered_json &root,
                         const std::string &file) {
  using detail::json;
  using detail::Reader;
  if (!root.is_object())
    throw Error(file + ": expected a JSON object");
  Reader r(root, file, "");
  if (r.string("format") != kFormat)
    r.fail("format", "not an llmc artifact");
  Manifest m;
  m.formatVersion = r.integer("format_version", 1);
  if (m.formatVersion < kOldestFormatVersion ||
      m.formatVersion > kFormatVersion)
    r.fail("format_version", "artifact format " +
                                 std::to_string(m.formatVersion) +
                                 " but this llm-run reads formats " +
                                 std::to_string(kOldestFormatVersion) + " to " +
                                 std::to_string(kFormatVersion) +
                                 "; recompile the model with a matching llmc");
  m.target = r.enumeration<Target>("target");
  if (m.target == Target::Cpu)
    m.cpu = r.string("cpu");
  else
    m.arch = r.string("arch");
  if (r.has("model")) {
    Reader md = r.object("model");
    Model model;
    model.architecture = md.string("architecture");
    model.dtype = md.string("dtype");
    model.hiddenSize = md.integer("hidden_size");
    model.numLayers = md.integer("num_layers");
    model.numHeads = md.integer("num_heads");
    model.numKvHeads = md.integer("num_kv_heads");
    model.headDim = md.integer("head_dim");
    model.vocabSize = md.integer("vocab_size");
    model.maxPositionEmbeddings = md.integer("max_position_embeddings");
    model.eosTokenIds = md.integers("eos_token_ids", 0);
    if (md.has("bos_token_id"))
      model.bosTokenId = md.integer("bos_token_id");
    m.model = std::move(model);
  }
  if (r.has("config"))
    m.configJson = r.object("config").node.dump();
  Reader prog = r.object("program");
  m.program.library = prog.string("library");
  m.program.fingerprint = prog.string("fingerprint");
  m.program.abiVersion = prog.integer("abi_version", 1);
  m.program.kernels = prog.strings("kernels");
  if (prog.has("cubins")) {
    const json &cubins = prog.array("cubins");
    for (size_t i = 0; i < cubins.size(); ++i) {
      Reader c = prog.element("cubins", i);
      m.program.cubins.push_back(
          Cubin{c.string("arch"), c.string("file"), c.string("fingerprint")});
    }
  }
  Reader limits = r.object("limits");
  m.maxBatchTokens = limits.integer("max_batch_tokens", 1);
  m.maxSeqLen = limits.integer("max_seq_len", 1);
  m.vocabSize = r.integer("vocab_size", 1);
  m.setOwnPart(readRankPart(r, file));
  if (r.has("parallel")) {
    Reader par = r.object("parallel");
    m.tp = par.integer("tp", 1);
    m.pp = par.integer("pp", 1);
    const json &ranks = r.array("ranks");
    if (static_cast<int64_t>(ranks.size()) != m.tp * m.pp)
      r.fail("ranks", std::to_string(ranks.size()) + " ranks for tp " +
                          std::to_string(m.tp) + " x pp " +
                          std::to_string(m.pp));
    for (size_t i = 0; i < ranks.size(); ++i)
      m.ranks.push_back(readRankPart(r.element("ranks", i), file));
  }
  if (r.has("tokenizer"))
    m.tokenizerFiles = r.object("tokenizer").strings("files");
  if (r.has("file_fingerprints")) {
    Reader files = r.object("file_fingerprints");
    for (const auto &item : r.get("file_fingerprints").items())
      m.fileFingerprints[item.key()] = files.string(item.key());
  }
  return m;
}

/// Parses manifest.json's text.
inline Manifest fromJsonText(const std::string &text, const std::string &file) {
  nlohmann::ordered_json root =
      nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded())
    throw Error(file + ": not valid JSON (corrupt artifact?)");
  return fromJson(root, file);
}

#endif // exceptions

} // namespace llmc::schema

#endif // LLMC_SCHEMA_ARTIFACTJSON_H
