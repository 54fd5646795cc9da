//===- HFConfig.cpp - read and validate Hugging Face config.json ----------===//
#include "llmc/Import/HFConfig.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <climits>
#include <cmath>
#include <cstdio>

using namespace llvm;

namespace llmc {

StringRef architectureName(Architecture arch) {
  switch (arch) {
  case Architecture::Llama:
    return "LlamaForCausalLM";
  case Architecture::Mistral:
    return "MistralForCausalLM";
  case Architecture::Qwen2:
    return "Qwen2ForCausalLM";
  case Architecture::GPT2:
    return "GPT2LMHeadModel";
  }
  return "";
}

namespace {

// llmc's limits on a config's sizes: far above any released model, low
// enough that every product of them (weights, buffers, positions) fits in
// 64 bits and a bad file is refused instead of attempted.
constexpr int64_t kMaxSize = int64_t(1) << 20; // widths, counts
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxHeads = 4096;
constexpr int64_t kMaxHidden = int64_t(1) << 17;    // 131072
constexpr int64_t kMaxVocab = int64_t(1) << 22;     // as the tokenizer's
constexpr int64_t kMaxPositions = int64_t(1) << 24; // 16M
constexpr int64_t kMaxHeadDim = 1024;
/// Nesting deeper than this is refused before parsing (the parser recurses
/// per level).
constexpr int kMaxJsonDepth = 64;

/// Whether `text` nests JSON arrays and objects at most `max` deep
/// (brackets in strings do not count).
bool nestingAtMost(StringRef text, int max) {
  int depth = 0;
  bool inString = false, escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"')
      inString = true;
    else if ((c == '[' || c == '{') && ++depth > max)
      return false;
    else if (c == ']' || c == '}')
      --depth;
  }
  return true;
}

/// A number as people write it (1e+12, 0.5, 10000).
std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

/// Typed field access on one JSON object; the first problem is kept and
/// later reads become no-ops, so parsing reads straight through.
class FieldReader {
public:
  FieldReader(StringRef path, const json::Object &obj, StringRef prefix = "")
      : path(path), obj(obj), prefix(prefix.str()) {}

  bool has(StringRef key) const {
    const json::Value *v = obj.get(key);
    return v && v->kind() != json::Value::Null;
  }

  std::optional<int64_t> optInt(StringRef key) {
    const json::Value *v = obj.get(key);
    if (!v || v->kind() == json::Value::Null)
      return std::nullopt;
    if (auto i = v->getAsInteger())
      return *i;
    fail(key, "expected an integer");
    return std::nullopt;
  }

  /// A positive integer of at most `max` (llmc's limits: a size past
  /// them is refused before anything is built for it).
  int64_t positive(StringRef key, std::optional<int64_t> dflt = {},
                   int64_t max = kMaxSize) {
    std::optional<int64_t> v = optInt(key);
    if (!v && !dflt) {
      if (!error)
        fail(key, "missing (a positive integer is required)");
      return 1;
    }
    int64_t x = v ? *v : *dflt;
    if (x <= 0)
      fail(key, formatv("must be a positive integer, got {0}", x).str());
    else if (x > max)
      fail(key, formatv("{0} is past llmc's limit of {1}", x, max).str());
    return x > 0 && x <= max ? x : 1;
  }

  /// A finite number in [lo, hi].
  double bounded(StringRef key, double dflt, double lo, double hi) {
    double x = number(key, dflt);
    if (!(x >= lo && x <= hi))
      fail(key, "must be a number in [" + num(lo) + ", " + num(hi) + "], got " +
                    num(x));
    return x >= lo && x <= hi ? x : dflt;
  }

  double number(StringRef key, std::optional<double> dflt = {}) {
    const json::Value *v = obj.get(key);
    if (!v || v->kind() == json::Value::Null) {
      if (!dflt)
        fail(key, "missing (a number is required)");
      return dflt.value_or(0.0);
    }
    if (auto d = v->getAsNumber())
      return *d;
    fail(key, "expected a number");
    return dflt.value_or(0.0);
  }

  bool boolean(StringRef key, bool dflt) {
    const json::Value *v = obj.get(key);
    if (!v || v->kind() == json::Value::Null)
      return dflt;
    if (auto b = v->getAsBoolean())
      return *b;
    fail(key, "expected true or false");
    return dflt;
  }

  std::optional<std::string> optString(StringRef key) {
    const json::Value *v = obj.get(key);
    if (!v || v->kind() == json::Value::Null)
      return std::nullopt;
    if (auto s = v->getAsString())
      return s->str();
    fail(key, "expected a string");
    return std::nullopt;
  }

  /// An integer or a list of integers (eos_token_id's two forms).
  std::vector<int64_t> intList(StringRef key) {
    std::vector<int64_t> out;
    const json::Value *v = obj.get(key);
    if (!v || v->kind() == json::Value::Null)
      return out;
    if (auto i = v->getAsInteger()) {
      out.push_back(*i);
    } else if (const json::Array *a = v->getAsArray()) {
      for (const json::Value &e : *a) {
        if (auto i = e.getAsInteger())
          out.push_back(*i);
        else
          fail(key, "expected integers in the list");
      }
    } else {
      fail(key, "expected an integer or a list of integers");
    }
    return out;
  }

  void fail(StringRef key, const Twine &what) {
    if (!error)
      error = formatv("{0}: field '{1}{2}': {3}", path, prefix, key, what.str())
                  .str();
  }

  std::optional<std::string> error;

private:
  StringRef path;
  const json::Object &obj;
  std::string prefix;
};

Error makeError(const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), msg);
}

// Reads the rope parameters from either form: 5.x `rope_parameters` (theta
// inside) or 4.x `rope_theta` + `rope_scaling`.
void readRope(FieldReader &top, const json::Object &root, StringRef path,
              ModelConfig &cfg) {
  RopeConfig &rope = cfg.rope;
  const json::Object *params = root.getObject("rope_parameters");
  const char *dictName = "rope_parameters.";
  if (!params) {
    params = root.getObject("rope_scaling");
    dictName = "rope_scaling.";
  }
  rope.theta = top.bounded("rope_theta", 10000.0, 1.0, 1e12);
  double partial = top.number("partial_rotary_factor", 1.0);
  if (partial <= 0.0 || partial > 1.0)
    top.fail("partial_rotary_factor", "must be in (0, 1]");
  rope.rotaryDim = static_cast<int64_t>(cfg.headDim * partial);
  rope.originalMaxPositions = cfg.maxPositions;
  if (!params)
    return;
  FieldReader r(path, *params, dictName);
  if (r.has("rope_theta"))
    rope.theta = r.bounded("rope_theta", 10000.0, 1.0, 1e12);
  std::optional<std::string> type = r.optString("rope_type");
  if (!type)
    type = r.optString("type");
  rope.type = type.value_or("default");
  if (rope.type == "default") {
    // nothing else to read
  } else if (rope.type == "linear") {
    rope.factor = r.number("factor");
  } else if (rope.type == "dynamic") {
    // transformers scales against max_position_embeddings, whatever the
    // dict says about an original length.
    rope.factor = r.number("factor");
  } else if (rope.type == "llama3") {
    rope.factor = r.number("factor");
    rope.lowFreqFactor = r.number("low_freq_factor");
    rope.highFreqFactor = r.number("high_freq_factor");
    rope.originalMaxPositions = r.positive("original_max_position_embeddings",
                                           std::nullopt, kMaxPositions);
    if (!r.error && rope.highFreqFactor <= rope.lowFreqFactor)
      r.fail("high_freq_factor", "must exceed low_freq_factor");
  } else {
    r.fail(type ? "rope_type" : "type",
           formatv("unsupported rope scaling '{0}' (supported: default, "
                   "linear, llama3, dynamic)",
                   rope.type)
               .str());
  }
  if (rope.type != "default" && !r.error &&
      !(rope.factor > 0.0 && rope.factor <= 1024.0))
    r.fail("factor", "must be in (0, 1024], got " + num(rope.factor));
  if (!r.error && rope.type == "llama3" &&
      !(rope.lowFreqFactor > 0.0 && rope.highFreqFactor <= 1e6))
    r.fail("low_freq_factor", "must be positive (and high_freq_factor at "
                              "most 1e6)");
  if (r.error && !top.error)
    top.error = r.error;
}

void readLlamaFamily(FieldReader &r, const json::Object &root, StringRef path,
                     ModelConfig &cfg) {
  cfg.hidden = r.positive("hidden_size", std::nullopt, kMaxHidden);
  cfg.layers = r.positive("num_hidden_layers", std::nullopt, kMaxLayers);
  cfg.heads = r.positive("num_attention_heads", std::nullopt, kMaxHeads);
  cfg.kvHeads = r.positive("num_key_value_heads", cfg.heads, kMaxHeads);
  cfg.intermediate = r.positive("intermediate_size");
  cfg.vocab = r.positive("vocab_size", std::nullopt, kMaxVocab);
  cfg.maxPositions = r.positive("max_position_embeddings", 2048, kMaxPositions);
  cfg.normEps = r.bounded("rms_norm_eps", 1e-6, 0.0, 1.0);
  if (r.has("head_dim")) {
    cfg.headDim = r.positive("head_dim", std::nullopt, kMaxHeadDim);
  } else {
    if (!r.error && cfg.hidden % cfg.heads != 0)
      r.fail("num_attention_heads",
             formatv("{0} heads do not divide hidden_size {1}", cfg.heads,
                     cfg.hidden)
                 .str());
    cfg.headDim = cfg.hidden / cfg.heads;
    if (!r.error && cfg.headDim > kMaxHeadDim)
      r.fail("num_attention_heads",
             formatv("heads of {0} channels are past llmc's limit of {1}",
                     cfg.headDim, kMaxHeadDim)
                 .str());
  }
  std::string act = r.optString("hidden_act").value_or("silu");
  if (act == "silu" || act == "swish")
    cfg.activation = Activation::SiLU;
  else if (act == "gelu")
    cfg.activation = Activation::GELU;
  else if (act == "gelu_new" || act == "gelu_pytorch_tanh")
    cfg.activation = Activation::GELUTanh;
  else
    r.fail("hidden_act", formatv("unsupported activation '{0}'", act).str());
  cfg.tiedEmbeddings = r.boolean("tie_word_embeddings", false);
  if (cfg.arch == Architecture::Llama) {
    cfg.qkvBias = cfg.outBias = r.boolean("attention_bias", false);
    cfg.mlpBias = r.boolean("mlp_bias", false);
  } else if (cfg.arch == Architecture::Qwen2) {
    cfg.qkvBias = true;
  }
  cfg.attentionScale = 1.0 / std::sqrt(static_cast<double>(cfg.headDim));
  readRope(r, root, path, cfg);

  // Sliding window: Mistral applies it to every layer; Qwen2 only with
  // use_sliding_window, on the layers `layer_types` (or max_window_layers)
  // marks.
  cfg.slidingWindow.assign(cfg.layers, 0);
  std::optional<int64_t> window = r.optInt("sliding_window");
  if (window && *window <= 0)
    r.fail("sliding_window", "must be a positive integer or null");
  bool useWindow = cfg.arch == Architecture::Mistral ||
                   (cfg.arch == Architecture::Qwen2 &&
                    r.boolean("use_sliding_window", false));
  if (window && *window > 0 && useWindow) {
    const json::Array *types = root.getArray("layer_types");
    if (types && static_cast<int64_t>(types->size()) != cfg.layers) {
      r.fail("layer_types", "must have one entry per layer");
    } else if (types) {
      for (int64_t l = 0; l < cfg.layers; ++l) {
        auto t = (*types)[l].getAsString();
        if (!t || (*t != "sliding_attention" && *t != "full_attention"))
          r.fail("layer_types", "entries must be 'full_attention' or "
                                "'sliding_attention'");
        else if (*t == "sliding_attention")
          cfg.slidingWindow[l] = *window;
      }
    } else {
      // transformers' Qwen2Config defaults max_window_layers to 28: with
      // fewer layers, none slides.
      int64_t from = cfg.arch == Architecture::Qwen2
                         ? r.optInt("max_window_layers").value_or(28)
                         : 0;
      if (from < 0)
        r.fail("max_window_layers",
               formatv("must be at least 0, got {0}", from).str());
      for (int64_t l = std::max<int64_t>(from, 0); l < cfg.layers; ++l)
        cfg.slidingWindow[l] = *window;
    }
  }
}

void readGPT2(FieldReader &r, ModelConfig &cfg) {
  cfg.hidden = r.positive("n_embd", std::nullopt, kMaxHidden);
  cfg.layers = r.positive("n_layer", std::nullopt, kMaxLayers);
  cfg.heads = r.positive("n_head", std::nullopt, kMaxHeads);
  cfg.kvHeads = cfg.heads;
  cfg.vocab = r.positive("vocab_size", std::nullopt, kMaxVocab);
  cfg.maxPositions = r.positive("n_positions", std::nullopt, kMaxPositions);
  cfg.intermediate = r.positive("n_inner", 4 * cfg.hidden);
  cfg.normEps = r.bounded("layer_norm_epsilon", 1e-5, 0.0, 1.0);
  if (!r.error && cfg.hidden % cfg.heads != 0)
    r.fail("n_head",
           formatv("{0} heads do not divide n_embd {1}", cfg.heads, cfg.hidden)
               .str());
  cfg.headDim = cfg.hidden / cfg.heads;
  if (!r.error && cfg.headDim > kMaxHeadDim)
    r.fail("n_head", formatv("heads of {0} channels are past llmc's limit of "
                             "{1}",
                             cfg.headDim, kMaxHeadDim)
                         .str());
  std::string act = r.optString("activation_function").value_or("gelu_new");
  if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast")
    cfg.activation = Activation::GELUTanh;
  else if (act == "gelu")
    cfg.activation = Activation::GELU;
  else
    r.fail("activation_function",
           formatv("unsupported activation '{0}'", act).str());
  cfg.tiedEmbeddings = r.boolean("tie_word_embeddings", true);
  cfg.qkvBias = cfg.outBias = cfg.mlpBias = true;
  cfg.attentionScale = r.boolean("scale_attn_weights", true)
                           ? 1.0 / std::sqrt(static_cast<double>(cfg.headDim))
                           : 1.0;
  cfg.scaleByInverseLayerIdx =
      r.boolean("scale_attn_by_inverse_layer_idx", false);
  cfg.slidingWindow.assign(cfg.layers, 0);
}

} // namespace

Expected<ModelConfig> parseHFConfig(StringRef text, StringRef path) {
  if (!nestingAtMost(text, kMaxJsonDepth))
    return makeError(formatv("{0}: nests JSON deeper than {1} levels (not a "
                             "config.json)",
                             path, kMaxJsonDepth));
  Expected<json::Value> parsed = json::parse(text);
  if (!parsed)
    return makeError(formatv("{0}: not valid JSON: {1}", path,
                             toString(parsed.takeError())));
  const json::Object *root = parsed->getAsObject();
  if (!root)
    return makeError(formatv("{0}: expected a JSON object", path));

  ModelConfig cfg;
  FieldReader r(path, *root);
  const json::Array *archs = root->getArray("architectures");
  if (!archs || archs->empty() || !(*archs)[0].getAsString())
    return makeError(formatv("{0}: field 'architectures': missing (a list "
                             "naming the model class is required)",
                             path));
  cfg.architectureName = (*archs)[0].getAsString()->str();
  std::optional<Architecture> arch =
      StringSwitch<std::optional<Architecture>>(cfg.architectureName)
          .Case("LlamaForCausalLM", Architecture::Llama)
          .Case("MistralForCausalLM", Architecture::Mistral)
          .Case("Qwen2ForCausalLM", Architecture::Qwen2)
          .Case("GPT2LMHeadModel", Architecture::GPT2)
          .Default(std::nullopt);
  if (!arch)
    return makeError(
        formatv("{0}: field 'architectures': unsupported architecture '{1}' "
                "(supported: LlamaForCausalLM, MistralForCausalLM, "
                "Qwen2ForCausalLM, GPT2LMHeadModel)",
                path, cfg.architectureName));
  cfg.arch = *arch;

  // Pre-quantized checkpoints (GPTQ, AWQ, FP8, bitsandbytes, ...) hold
  // packed tensors under other names: refused by format until they load.
  if (const json::Value *q = root->get("quantization_config")) {
    std::string method = "unknown";
    if (const json::Object *o = q->getAsObject())
      if (std::optional<StringRef> m = o->getString("quant_method"))
        method = m->str();
    return makeError(formatv(
        "{0}: field 'quantization_config': a pre-quantized checkpoint "
        "(quant_method '{1}') is not supported yet; compile the unquantized "
        "checkpoint instead, with --quantize int8 for int8 weights",
        path, method));
  }

  if (cfg.arch == Architecture::GPT2)
    readGPT2(r, cfg);
  else
    readLlamaFamily(r, *root, path, cfg);

  if (!r.error && cfg.heads % cfg.kvHeads != 0)
    r.fail("num_key_value_heads",
           formatv("{0} kv heads do not divide {1} attention heads",
                   cfg.kvHeads, cfg.heads)
               .str());
  if (!r.error && cfg.arch != Architecture::GPT2 &&
      (cfg.rope.rotaryDim < 2 || cfg.rope.rotaryDim % 2 != 0))
    r.fail(
        "head_dim",
        formatv("rotary dimension {0} must be even", cfg.rope.rotaryDim).str());
  cfg.eosTokenIds = r.intList("eos_token_id");
  cfg.bosTokenId = r.optInt("bos_token_id");
  // Token ids are 32-bit in the runtime. (An eos id past the vocabulary is
  // never generated, which shrunk test models rely on; a bos id past it is
  // refused with the prompt.)
  for (int64_t id : cfg.eosTokenIds)
    if (!r.error && (id < 0 || id > INT32_MAX))
      r.fail("eos_token_id",
             formatv("token {0} is not a token id (0 to 2^31-1)", id).str());
  if (!r.error && cfg.bosTokenId &&
      (*cfg.bosTokenId < 0 || *cfg.bosTokenId > INT32_MAX))
    r.fail("bos_token_id", formatv("token {0} is not a token id (0 to "
                                   "2^31-1)",
                                   *cfg.bosTokenId)
                               .str());
  if (auto d = r.optString("dtype"))
    cfg.dtype = *d;
  else if (auto d = r.optString("torch_dtype"))
    cfg.dtype = *d;
  if (r.error)
    return makeError(*r.error);
  return cfg;
}

Expected<ModelConfig> readHFConfig(StringRef modelDir) {
  SmallString<256> path(modelDir);
  sys::path::append(path, "config.json");
  auto buf = MemoryBuffer::getFile(path);
  if (!buf)
    return makeError(
        formatv("{0}: cannot read: {1}", path, buf.getError().message()));
  Expected<ModelConfig> cfg = parseHFConfig((*buf)->getBuffer(), path);
  if (!cfg)
    return cfg.takeError();

  // Weights come from safetensors only. A directory that holds PyTorch
  // pickles and no safetensors is refused here, with the conversion, rather
  // than at load (a directory with a config alone compiles: the artifact
  // is weight-free).
  auto has = [&](StringRef name) {
    SmallString<256> p(modelDir);
    sys::path::append(p, name);
    return sys::fs::exists(p);
  };
  if (!has("model.safetensors") && !has("model.safetensors.index.json")) {
    for (StringRef bin : {"pytorch_model.bin", "pytorch_model.bin.index.json"})
      if (has(bin))
        return makeError(formatv(
            "{0}: holds {1} but no model.safetensors: llmc reads safetensors "
            "only (PyTorch pickles run code when loaded). Convert it once "
            "with transformers: python3 -c \"from transformers import "
            "AutoModelForCausalLM as M; "
            "M.from_pretrained('{0}').save_pretrained('{0}')\"",
            modelDir, bin));
  }

  // generation_config.json's eos_token_id wins when present (it is what
  // transformers' generate uses).
  SmallString<256> genPath(modelDir);
  sys::path::append(genPath, "generation_config.json");
  if (auto gen = MemoryBuffer::getFile(genPath)) {
    if (!nestingAtMost((*gen)->getBuffer(), kMaxJsonDepth))
      return makeError(formatv("{0}: nests JSON deeper than {1} levels",
                               genPath, kMaxJsonDepth));
    Expected<json::Value> parsed = json::parse((*gen)->getBuffer());
    if (!parsed)
      return makeError(formatv("{0}: not valid JSON: {1}", genPath,
                               toString(parsed.takeError())));
    if (const json::Object *obj = parsed->getAsObject()) {
      FieldReader r(genPath, *obj);
      std::vector<int64_t> eos = r.intList("eos_token_id");
      for (int64_t id : eos)
        if (!r.error && (id < 0 || id > INT32_MAX))
          r.fail(
              "eos_token_id",
              formatv("token {0} is not a token id (0 to 2^31-1)", id).str());
      if (r.error)
        return makeError(*r.error);
      if (!eos.empty())
        cfg->eosTokenIds = eos;
    }
  }
  return cfg;
}

} // namespace llmc
