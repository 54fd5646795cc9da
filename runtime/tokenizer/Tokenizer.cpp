//===- Tokenizer.cpp - Hugging Face tokenizer.json in C++ -----------------===//
#include "runtime/tokenizer/Tokenizer.h"
#include "runtime/support/Error.h"
#include "runtime/support/MappedFile.h"
#include "runtime/support/Unicode.h"
#include "runtime/support/Utf8.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <climits>
#include <functional>
#include <optional>
#include <queue>
#include <unordered_map>

using nlohmann::json;

namespace llmc::rt {
namespace {

//===----------------------------------------------------------------------===//
// UTF-8
//===----------------------------------------------------------------------===//

size_t utf8Len(unsigned char c) {
  if (c < 0x80)
    return 1;
  if ((c >> 5) == 0x6)
    return 2;
  if ((c >> 4) == 0xe)
    return 3;
  if ((c >> 3) == 0x1e)
    return 4;
  return 1;
}

std::vector<std::string> utf8Chars(const std::string &s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t n =
        std::min(utf8Len(static_cast<unsigned char>(s[i])), s.size() - i);
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

/// Replaces invalid UTF-8 with U+FFFD, as Python's errors="replace" does for
/// the common cases (one replacement per invalid or truncated sequence).
std::string sanitizeUtf8(const std::string &bytes) {
  static const std::string kReplacement = "\xef\xbf\xbd";
  std::string out;
  size_t i = 0;
  while (i < bytes.size()) {
    auto c = static_cast<unsigned char>(bytes[i]);
    size_t n = c < 0x80                   ? 1
               : (c >= 0xc2 && c <= 0xdf) ? 2
               : (c >= 0xe0 && c <= 0xef) ? 3
               : (c >= 0xf0 && c <= 0xf4) ? 4
                                          : 0;
    if (n == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    size_t j = 1;
    for (; j < n && i + j < bytes.size(); ++j) {
      auto d = static_cast<unsigned char>(bytes[i + j]);
      bool ok = (d & 0xc0) == 0x80;
      if (j == 1 && c == 0xe0)
        ok = ok && d >= 0xa0;
      if (j == 1 && c == 0xed)
        ok = ok && d <= 0x9f;
      if (j == 1 && c == 0xf0)
        ok = ok && d >= 0x90;
      if (j == 1 && c == 0xf4)
        ok = ok && d <= 0x8f;
      if (!ok)
        break;
    }
    if (j == n) {
      out.append(bytes, i, n);
      i += n;
    } else {
      out += kReplacement;
      i += j;
    }
  }
  return out;
}

void replaceAll(std::string &s, const std::string &from,
                const std::string &to) {
  if (from.empty())
    return;
  for (size_t p = s.find(from); p != std::string::npos;
       p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
}

//===----------------------------------------------------------------------===//
// GPT-2 byte <-> unicode mapping
//===----------------------------------------------------------------------===//

struct ByteMap {
  std::string toChar[256];
  std::unordered_map<std::string, uint8_t> toByte;
  ByteMap() {
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) ||
                       (b >= 0xae && b <= 0xff);
      uint32_t cp = printable ? b : 256 + extra++;
      toChar[b] = encodeUtf8(cp);
      toByte[toChar[b]] = static_cast<uint8_t>(b);
    }
  }
};

const ByteMap &byteMap() {
  static const ByteMap m;
  return m;
}

//===----------------------------------------------------------------------===//
// Regex (PCRE2 with Unicode properties)
//===----------------------------------------------------------------------===//

class Regex {
public:
  Regex(const std::string &pattern, const std::string &where) {
    int err;
    PCRE2_SIZE off;
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()),
                         pattern.size(), PCRE2_UTF | PCRE2_UCP, &err, &off,
                         nullptr);
    if (!code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      fail("{}: regex /{}/ does not compile at offset {}: {}", where, pattern,
           off, reinterpret_cast<char *>(msg));
    }
    data = pcre2_match_data_create_from_pattern(code, nullptr);
  }
  ~Regex() {
    pcre2_match_data_free(data);
    pcre2_code_free(code);
  }
  Regex(const Regex &) = delete;
  Regex &operator=(const Regex &) = delete;

  /// [begin, end) byte ranges of the non-overlapping matches.
  std::vector<std::pair<size_t, size_t>> findAll(const std::string &s) const {
    std::vector<std::pair<size_t, size_t>> out;
    size_t start = 0;
    while (start <= s.size()) {
      int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(s.data()),
                           s.size(), start, 0, data, nullptr);
      if (rc < 0)
        break;
      PCRE2_SIZE *ov = pcre2_get_ovector_pointer(data);
      if (ov[1] == ov[0]) { // empty match: step over one character
        start = ov[0] + (ov[0] < s.size()
                             ? utf8Len(static_cast<unsigned char>(s[ov[0]]))
                             : 1);
        continue;
      }
      out.emplace_back(ov[0], ov[1]);
      start = ov[1];
    }
    return out;
  }

private:
  pcre2_code *code = nullptr;
  pcre2_match_data *data = nullptr;
};

const char *kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

//===----------------------------------------------------------------------===//
// The pipeline
//===----------------------------------------------------------------------===//

using Pieces = std::vector<std::string>;
using Normalizer = std::function<std::string(const std::string &)>;
/// Pre-tokenizer step; `atStart` tells whether the text segment begins the
/// input (Metaspace's prepend_scheme "first").
using PreTokenizer = std::function<Pieces(const Pieces &, bool atStart)>;
using Decoder = std::function<Pieces(const Pieces &)>;

enum class SplitBehavior {
  Isolated,
  Removed,
  MergedWithPrevious,
  MergedWithNext,
  Contiguous
};

Pieces splitPieces(const Pieces &in, const Regex &re, SplitBehavior behavior,
                   bool invert) {
  Pieces out;
  for (const std::string &p : in) {
    // Alternate (is_match, text) spans covering p.
    std::vector<std::pair<bool, std::string>> spans;
    size_t last = 0;
    for (auto [b, e] : re.findAll(p)) {
      if (b > last)
        spans.push_back({invert, p.substr(last, b - last)});
      spans.push_back({!invert, p.substr(b, e - b)});
      last = e;
    }
    if (last < p.size())
      spans.push_back({invert, p.substr(last)});
    std::vector<std::string> pieces;
    bool pendingNext = false;
    for (auto &[isMatch, text] : spans) {
      switch (behavior) {
      case SplitBehavior::Isolated:
        pieces.push_back(text);
        break;
      case SplitBehavior::Removed:
        if (!isMatch)
          pieces.push_back(text);
        break;
      case SplitBehavior::MergedWithPrevious:
        if (isMatch && !pieces.empty())
          pieces.back() += text;
        else
          pieces.push_back(text);
        break;
      case SplitBehavior::MergedWithNext:
        if (pendingNext)
          pieces.back() += text;
        else
          pieces.push_back(text);
        pendingNext = isMatch;
        break;
      case SplitBehavior::Contiguous:
        if (isMatch && pendingNext)
          pieces.back() += text;
        else
          pieces.push_back(text);
        pendingNext = isMatch;
        break;
      }
    }
    for (std::string &s : pieces)
      if (!s.empty())
        out.push_back(std::move(s));
  }
  return out;
}

/// The largest token id a tokenizer.json may use (real vocabularies stay
/// below 2^18; a table of ids to tokens is sized by the largest).
constexpr int64_t kMaxTokenId = (int64_t(1) << 22) - 1;

struct AddedToken {
  int32_t id;
  std::string content;
  bool special;
};

class BPETokenizer : public Tokenizer {
public:
  BPETokenizer(const json &root, const std::string &path);

  std::vector<int32_t> encode(const std::string &text,
                              bool addSpecial) const override;
  std::string decode(const std::vector<int32_t> &ids,
                     bool skipSpecial) const override;
  int64_t vocabSize() const override {
    return static_cast<int64_t>(idToToken.size());
  }

private:
  Normalizer buildNormalizer(const json &j);
  PreTokenizer buildPreTokenizer(const json &j);
  Decoder buildDecoder(const json &j);
  void buildPostProcessor(const json &j);
  [[noreturn]] void unsupported(const std::string &what, const json &j) const {
    const json &type = optional(j, "type");
    fail("{}: unsupported {} '{}'", path, what,
         type.is_string() ? type.get<std::string>() : j.dump());
  }
  /// `j[key]`, which the format requires: a message naming it when absent.
  const json &field(const json &j, const char *key,
                    const std::string &where) const {
    if (!j.is_object() || !j.contains(key))
      fail("{}: field '{}{}{}' is missing", path, where,
           where.empty() ? "" : ".", key);
    return j[key];
  }
  /// `j[key]` when present, else null (sections the format may omit).
  static const json &optional(const json &j, const char *key) {
    static const json null;
    if (!j.is_object())
      return null;
    auto it = j.find(key);
    return it == j.end() ? null : *it;
  }
  /// A non-empty string at `j[key]` (an empty one would match everywhere
  /// and never advance).
  std::string nonEmpty(const json &j, const char *key,
                       const std::string &where) const {
    const json &v = field(j, key, where);
    if (!v.is_string() || v.get<std::string>().empty())
      fail("{}: field '{}.{}' must be a non-empty string, got {}", path, where,
           key, v.dump());
    return v.get<std::string>();
  }
  /// A token id: an integer in [0, kMaxTokenId].
  int32_t tokenId(const json &v, const std::string &where) const {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
        v.get<int64_t>() > kMaxTokenId)
      fail("{}: {}: token id {} is not an integer in [0, {}]", path, where,
           v.dump(), kMaxTokenId);
    return static_cast<int32_t>(v.get<int64_t>());
  }

  void encodeWord(const std::string &word, std::vector<int32_t> &out) const;

  std::string path;
  std::unordered_map<std::string, int32_t> vocab;
  std::vector<std::string> idToToken;
  std::unordered_map<std::string, int> mergeRank;
  std::vector<AddedToken> added;
  std::vector<bool> isSpecial;
  std::optional<int32_t> unkId;
  bool byteFallback = false, ignoreMerges = false, fuseUnk = false;
  std::vector<Normalizer> normalizers;
  std::vector<PreTokenizer> preTokenizers;
  std::vector<Decoder> decoders;
  std::vector<std::pair<bool, std::vector<int32_t>>> templ; // (isSeq, ids)
  std::vector<std::unique_ptr<Regex>> regexes;
};

Normalizer BPETokenizer::buildNormalizer(const json &j) {
  std::string type = j.value("type", "");
  if (type == "Sequence") {
    std::vector<Normalizer> parts;
    for (const json &n : field(j, "normalizers", "normalizer"))
      parts.push_back(buildNormalizer(n));
    return [parts](const std::string &s) {
      std::string out = s;
      for (const Normalizer &n : parts)
        out = n(out);
      return out;
    };
  }
  if (type == "Prepend") {
    std::string pre = field(j, "prepend", "normalizer");
    return [pre](const std::string &s) { return s.empty() ? s : pre + s; };
  }
  if (type == "Replace") {
    const json &pattern = field(j, "pattern", "normalizer");
    if (!optional(pattern, "String").is_string())
      unsupported("normalizer Replace pattern", pattern);
    std::string from = nonEmpty(pattern, "String", "normalizer.pattern");
    std::string to = field(j, "content", "normalizer");
    return [from, to](const std::string &s) {
      std::string out = s;
      replaceAll(out, from, to);
      return out;
    };
  }
  if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    auto form = type == "NFC"    ? UnicodeForm::NFC
                : type == "NFD"  ? UnicodeForm::NFD
                : type == "NFKC" ? UnicodeForm::NFKC
                                 : UnicodeForm::NFKD;
    return [form](const std::string &s) { return normalizeUnicode(s, form); };
  }
  if (type == "Lowercase")
    return [](const std::string &s) { return lowercaseUnicode(s); };
  unsupported("normalizer", j);
}

PreTokenizer BPETokenizer::buildPreTokenizer(const json &j) {
  std::string type = j.value("type", "");
  if (type == "Sequence") {
    std::vector<PreTokenizer> parts;
    for (const json &p : field(j, "pretokenizers", "pre_tokenizer"))
      parts.push_back(buildPreTokenizer(p));
    return [parts](const Pieces &in, bool atStart) {
      Pieces out = in;
      for (const PreTokenizer &p : parts)
        out = p(out, atStart);
      return out;
    };
  }
  if (type == "ByteLevel") {
    bool prefix = j.value("add_prefix_space", false);
    bool useRegex = j.value("use_regex", true);
    const Regex *re = nullptr;
    if (useRegex) {
      regexes.push_back(std::make_unique<Regex>(kGpt2Pattern, path));
      re = regexes.back().get();
    }
    return [prefix, re](const Pieces &in, bool) {
      Pieces split;
      for (const std::string &p : in) {
        std::string s = prefix && !p.empty() && p[0] != ' ' ? " " + p : p;
        Pieces one{s};
        Pieces parts =
            re ? splitPieces(one, *re, SplitBehavior::Isolated, false) : one;
        split.insert(split.end(), parts.begin(), parts.end());
      }
      Pieces out;
      for (const std::string &p : split) {
        std::string mapped;
        for (unsigned char c : p)
          mapped += byteMap().toChar[c];
        out.push_back(mapped);
      }
      return out;
    };
  }
  if (type == "Split") {
    const json &pat = field(j, "pattern", "pre_tokenizer");
    std::string pattern;
    if (optional(pat, "Regex").is_string()) {
      pattern = nonEmpty(pat, "Regex", "pre_tokenizer.pattern");
    } else if (optional(pat, "String").is_string()) {
      // Escape for a literal match.
      for (char c : nonEmpty(pat, "String", "pre_tokenizer.pattern")) {
        if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos)
          pattern += '\\';
        pattern += c;
      }
    } else {
      unsupported("Split pattern", pat);
    }
    std::string b = j.value("behavior", "Isolated");
    SplitBehavior behavior =
        b == "Removed"              ? SplitBehavior::Removed
        : b == "MergedWithPrevious" ? SplitBehavior::MergedWithPrevious
        : b == "MergedWithNext"     ? SplitBehavior::MergedWithNext
        : b == "Contiguous"         ? SplitBehavior::Contiguous
                                    : SplitBehavior::Isolated;
    bool invert = j.value("invert", false);
    regexes.push_back(std::make_unique<Regex>(pattern, path));
    const Regex *re = regexes.back().get();
    return [re, behavior, invert](const Pieces &in, bool) {
      return splitPieces(in, *re, behavior, invert);
    };
  }
  if (type == "Metaspace") {
    std::string rep = j.contains("replacement")
                          ? nonEmpty(j, "replacement", "pre_tokenizer")
                          : "\xe2\x96\x81";
    std::string scheme = j.value("prepend_scheme", "");
    if (scheme.empty())
      scheme = j.value("add_prefix_space", true) ? "always" : "never";
    bool split = j.value("split", true);
    return [rep, scheme, split](const Pieces &in, bool atStart) {
      Pieces out;
      for (size_t i = 0; i < in.size(); ++i) {
        std::string s = in[i];
        replaceAll(s, " ", rep);
        bool prepend =
            scheme == "always" || (scheme == "first" && atStart && i == 0);
        if (prepend && s.compare(0, rep.size(), rep) != 0)
          s = rep + s;
        if (!split) {
          out.push_back(s);
          continue;
        }
        size_t start = 0;
        for (size_t p = s.find(rep, rep.size()); p != std::string::npos;
             p = s.find(rep, p + rep.size())) {
          out.push_back(s.substr(start, p - start));
          start = p;
        }
        out.push_back(s.substr(start));
      }
      return out;
    };
  }
  if (type == "Digits") {
    bool individual = j.value("individual_digits", false);
    regexes.push_back(
        std::make_unique<Regex>(individual ? "\\p{N}" : "\\p{N}+", path));
    const Regex *re = regexes.back().get();
    return [re](const Pieces &in, bool) {
      return splitPieces(in, *re, SplitBehavior::Isolated, false);
    };
  }
  unsupported("pre_tokenizer", j);
}

Decoder BPETokenizer::buildDecoder(const json &j) {
  std::string type = j.value("type", "");
  if (type == "Sequence") {
    std::vector<Decoder> parts;
    for (const json &d : field(j, "decoders", "decoder"))
      parts.push_back(buildDecoder(d));
    return [parts](const Pieces &in) {
      Pieces out = in;
      for (const Decoder &d : parts)
        out = d(out);
      return out;
    };
  }
  if (type == "ByteLevel")
    return [](const Pieces &in) {
      std::string bytes;
      for (const std::string &t : in)
        for (const std::string &ch : utf8Chars(t)) {
          auto it = byteMap().toByte.find(ch);
          if (it != byteMap().toByte.end())
            bytes += static_cast<char>(it->second);
          else
            bytes += ch;
        }
      return Pieces{sanitizeUtf8(bytes)};
    };
  if (type == "Replace") {
    const json &pattern = field(j, "pattern", "decoder");
    if (!optional(pattern, "String").is_string())
      unsupported("decoder Replace pattern", pattern);
    std::string from = nonEmpty(pattern, "String", "decoder.pattern");
    std::string to = field(j, "content", "decoder");
    return [from, to](const Pieces &in) {
      Pieces out = in;
      for (std::string &t : out)
        replaceAll(t, from, to);
      return out;
    };
  }
  if (type == "ByteFallback")
    return [](const Pieces &in) {
      Pieces out;
      std::string pending;
      size_t pendingCount = 0;
      auto flush = [&]() {
        if (pendingCount == 0)
          return;
        std::string clean = sanitizeUtf8(pending);
        if (clean == pending)
          out.push_back(clean);
        else
          for (size_t i = 0; i < pendingCount; ++i)
            out.push_back("\xef\xbf\xbd");
        pending.clear();
        pendingCount = 0;
      };
      for (const std::string &t : in) {
        if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
          pending += static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16));
          ++pendingCount;
          continue;
        }
        flush();
        out.push_back(t);
      }
      flush();
      return out;
    };
  if (type == "Fuse")
    return [](const Pieces &in) {
      std::string all;
      for (const std::string &t : in)
        all += t;
      return Pieces{all};
    };
  if (type == "Strip") {
    std::string content =
        j.contains("content") ? nonEmpty(j, "content", "decoder") : " ";
    int start = j.value("start", 0), stop = j.value("stop", 0);
    return [content, start, stop](const Pieces &in) {
      Pieces out = in;
      for (std::string &t : out) {
        for (int i = 0; i < start && t.compare(0, content.size(), content) == 0;
             ++i)
          t.erase(0, content.size());
        for (int i = 0;
             i < stop && t.size() >= content.size() &&
             t.compare(t.size() - content.size(), content.size(), content) == 0;
             ++i)
          t.erase(t.size() - content.size());
      }
      return out;
    };
  }
  if (type == "Metaspace") {
    std::string rep = j.contains("replacement")
                          ? nonEmpty(j, "replacement", "decoder")
                          : "\xe2\x96\x81";
    std::string scheme = j.value("prepend_scheme", "");
    if (scheme.empty())
      scheme = j.value("add_prefix_space", true) ? "always" : "never";
    return [rep, scheme](const Pieces &in) {
      Pieces out = in;
      // As tokenizers does: the first token loses every replacement
      // character (not only the prepended one); the rest become spaces.
      for (size_t i = 0; i < out.size(); ++i)
        replaceAll(out[i], rep, i == 0 && scheme != "never" ? "" : " ");
      return out;
    };
  }
  unsupported("decoder", j);
}

void BPETokenizer::buildPostProcessor(const json &j) {
  if (j.is_null())
    return;
  std::string type = j.value("type", "");
  if (type == "Sequence") {
    for (const json &p : field(j, "processors", "post_processor"))
      buildPostProcessor(p);
    return;
  }
  if (type == "ByteLevel")
    return; // offsets only
  if (type != "TemplateProcessing")
    unsupported("post_processor", j);
  templ.clear();
  for (const json &item : field(j, "single", "post_processor")) {
    if (item.is_object() && item.contains("Sequence")) {
      templ.push_back({true, {}});
      continue;
    }
    if (!item.is_object() || !item.contains("SpecialToken"))
      unsupported("template item", item);
    std::string id =
        field(item["SpecialToken"], "id", "post_processor.single.SpecialToken");
    const json &specials = field(j, "special_tokens", "post_processor");
    if (!specials.contains(id))
      fail("{}: post_processor: special token '{}' is not defined", path, id);
    std::vector<int32_t> ids;
    for (const json &x :
         field(specials[id], "ids", "post_processor.special_tokens." + id)) {
      int32_t t = tokenId(x, "post_processor.special_tokens." + id);
      if (t >= static_cast<int32_t>(idToToken.size()) || idToToken[t].empty())
        fail("{}: post_processor: special token '{}' is id {}, which the "
             "vocabulary does not have",
             path, id, t);
      ids.push_back(t);
    }
    templ.push_back({false, ids});
  }
}

BPETokenizer::BPETokenizer(const json &root, const std::string &p) : path(p) {
  if (!root.is_object())
    fail("{}: expected a JSON object (a tokenizer.json)", path);
  const json &model = field(root, "model", "");
  if (!model.is_object() || model.value("type", "BPE") != "BPE")
    fail("{}: field 'model.type': only BPE tokenizers are supported", path);
  if (!field(model, "vocab", "model").is_object())
    fail("{}: field 'model.vocab': expected an object", path);
  for (auto &[tok, id] : model["vocab"].items()) {
    int32_t i = tokenId(id, "model.vocab['" + tok + "']");
    vocab[tok] = i;
    if (i >= static_cast<int32_t>(idToToken.size()))
      idToToken.resize(i + 1);
    idToToken[i] = tok;
  }
  int rank = 0;
  const json &merges = optional(model, "merges");
  if (!merges.is_null() && !merges.is_array())
    fail("{}: field 'model.merges': expected a list", path);
  for (const json &m : merges.is_null() ? json::array() : merges) {
    std::string a, b;
    if (m.is_string()) {
      std::string s = m;
      size_t sp = s.find(' ');
      if (sp == std::string::npos)
        fail("{}: field 'model.merges': bad merge '{}'", path, s);
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else if (m.is_array() && m.size() == 2) {
      a = m[0];
      b = m[1];
    } else {
      fail("{}: field 'model.merges': bad merge {}", path, m.dump());
    }
    mergeRank.emplace(a + '\0' + b, rank++);
  }
  byteFallback = model.value("byte_fallback", false);
  ignoreMerges = model.value("ignore_merges", false);
  fuseUnk = model.value("fuse_unk", false);
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    auto it = vocab.find(model["unk_token"].get<std::string>());
    if (it != vocab.end())
      unkId = it->second;
  }
  if (model.contains("continuing_subword_prefix") &&
      !model["continuing_subword_prefix"].is_null())
    fail("{}: continuing_subword_prefix is not supported", path);

  const json &addedTokens = optional(root, "added_tokens");
  if (!addedTokens.is_null() && !addedTokens.is_array())
    fail("{}: field 'added_tokens': expected a list", path);
  for (size_t k = 0; addedTokens.is_array() && k < addedTokens.size(); ++k) {
    const json &a = addedTokens[k];
    std::string where = fmt::format("added_tokens[{}]", k);
    AddedToken t{tokenId(field(a, "id", where), where + ".id"),
                 nonEmpty(a, "content", where), a.value("special", false)};
    if (t.id >= static_cast<int32_t>(idToToken.size()))
      idToToken.resize(t.id + 1);
    idToToken[t.id] = t.content;
    added.push_back(t);
  }
  // Longest first, so that a token that contains another wins.
  std::stable_sort(added.begin(), added.end(),
                   [](const AddedToken &x, const AddedToken &y) {
                     return x.content.size() > y.content.size();
                   });
  isSpecial.assign(idToToken.size(), false);
  for (const AddedToken &t : added)
    isSpecial[t.id] = t.special;

  if (!optional(root, "normalizer").is_null())
    normalizers.push_back(buildNormalizer(root["normalizer"]));
  if (!optional(root, "pre_tokenizer").is_null())
    preTokenizers.push_back(buildPreTokenizer(root["pre_tokenizer"]));
  if (!optional(root, "decoder").is_null())
    decoders.push_back(buildDecoder(root["decoder"]));
  buildPostProcessor(optional(root, "post_processor"));
}

void BPETokenizer::encodeWord(const std::string &word,
                              std::vector<int32_t> &out) const {
  if (word.empty())
    return;
  if (ignoreMerges) {
    auto it = vocab.find(word);
    if (it != vocab.end()) {
      out.push_back(it->second);
      return;
    }
  }
  // Merges by rank, lowest first, leftmost among equals (as the reference
  // library's Word::merge_all): symbols in a linked list, candidate pairs in
  // a heap; a popped pair that a merge changed since is skipped. O(n log n)
  // in the word's characters, where rescanning every pair per merge was
  // quadratic (a 100 KB run of spaces is one word).
  std::vector<std::string> chars = utf8Chars(word);
  size_t n = chars.size();
  std::vector<std::string> text = std::move(chars);
  std::vector<size_t> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = i == 0 ? SIZE_MAX : i - 1;
    next[i] = i + 1 == n ? SIZE_MAX : i + 1;
  }
  struct Pair {
    int rank;
    size_t left, right;
    bool operator>(const Pair &o) const {
      return rank != o.rank ? rank > o.rank : left > o.left;
    }
  };
  std::priority_queue<Pair, std::vector<Pair>, std::greater<Pair>> heap;
  auto consider = [&](size_t l) {
    if (l == SIZE_MAX || next[l] == SIZE_MAX)
      return;
    auto it = mergeRank.find(text[l] + '\0' + text[next[l]]);
    if (it != mergeRank.end())
      heap.push({it->second, l, next[l]});
  };
  for (size_t i = 0; i + 1 < n; ++i)
    consider(i);
  while (!heap.empty()) {
    Pair p = heap.top();
    heap.pop();
    if (!alive[p.left] || !alive[p.right] || next[p.left] != p.right)
      continue;
    auto it = mergeRank.find(text[p.left] + '\0' + text[p.right]);
    if (it == mergeRank.end() || it->second != p.rank)
      continue;
    text[p.left] += text[p.right];
    text[p.right].clear();
    alive[p.right] = false;
    next[p.left] = next[p.right];
    if (next[p.left] != SIZE_MAX)
      prev[next[p.left]] = p.left;
    consider(prev[p.left]);
    consider(p.left);
  }
  std::vector<std::string> sym;
  for (size_t i = 0; n > 0 && i != SIZE_MAX; i = next[i])
    sym.push_back(std::move(text[i]));
  bool lastUnk = false;
  for (const std::string &s : sym) {
    auto it = vocab.find(s);
    if (it != vocab.end()) {
      out.push_back(it->second);
      lastUnk = false;
      continue;
    }
    if (byteFallback) {
      bool all = true;
      std::vector<int32_t> bytes;
      for (unsigned char c : s) {
        auto bt = vocab.find(fmt::format("<0x{:02X}>", c));
        if (bt == vocab.end()) {
          all = false;
          break;
        }
        bytes.push_back(bt->second);
      }
      if (all) {
        out.insert(out.end(), bytes.begin(), bytes.end());
        lastUnk = false;
        continue;
      }
    }
    if (unkId && !(fuseUnk && lastUnk))
      out.push_back(*unkId);
    lastUnk = true;
  }
}

std::vector<int32_t> BPETokenizer::encode(const std::string &text,
                                          bool addSpecial) const {
  std::vector<int32_t> ids;
  size_t pos = 0;
  auto encodeText = [&](const std::string &segment, bool atStart) {
    if (segment.empty())
      return;
    std::string s = segment;
    for (const Normalizer &n : normalizers)
      s = n(s);
    Pieces pieces{s};
    for (const PreTokenizer &p : preTokenizers)
      pieces = p(pieces, atStart);
    for (const std::string &w : pieces)
      encodeWord(w, ids);
  };
  // Each added token's next occurrence at or after pos, found again only
  // once pos passes it: one scan of the text per token overall.
  std::vector<size_t> nextAt(added.size(), 0);
  std::vector<bool> known(added.size(), false);
  while (pos < text.size()) {
    // The earliest added token (longest at that position).
    size_t best = std::string::npos;
    const AddedToken *hit = nullptr;
    for (size_t k = 0; k < added.size(); ++k) {
      if (!known[k] || (nextAt[k] != std::string::npos && nextAt[k] < pos)) {
        nextAt[k] = text.find(added[k].content, pos);
        known[k] = true;
      }
      if (nextAt[k] != std::string::npos && nextAt[k] < best) {
        best = nextAt[k];
        hit = &added[k];
      }
    }
    if (!hit) {
      encodeText(text.substr(pos), pos == 0);
      break;
    }
    encodeText(text.substr(pos, best - pos), pos == 0);
    ids.push_back(hit->id);
    pos = best + hit->content.size();
  }
  if (!addSpecial || templ.empty())
    return ids;
  std::vector<int32_t> out;
  for (const auto &[isSeq, special] : templ) {
    const std::vector<int32_t> &src = isSeq ? ids : special;
    out.insert(out.end(), src.begin(), src.end());
  }
  return out;
}

std::string BPETokenizer::decode(const std::vector<int32_t> &ids,
                                 bool skipSpecial) const {
  Pieces tokens;
  for (int32_t id : ids) {
    if (id < 0 || id >= static_cast<int32_t>(idToToken.size()))
      fail("{}: token id {} is outside the vocabulary", path, id);
    if (skipSpecial && isSpecial[id])
      continue;
    tokens.push_back(idToToken[id]);
  }
  if (decoders.empty()) {
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i)
      out += (i ? " " : "") + tokens[i];
    return out;
  }
  for (const Decoder &d : decoders)
    tokens = d(tokens);
  std::string out;
  for (const std::string &t : tokens)
    out += t;
  return out;
}

} // namespace

std::unique_ptr<Tokenizer> Tokenizer::fromFile(const std::string &path) {
  json root;
  try {
    root = json::parse(readFile(path));
  } catch (const json::exception &e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
  try {
    return std::make_unique<BPETokenizer>(root, path);
  } catch (const json::exception &e) {
    fail("{}: unexpected structure: {}", path, e.what());
  }
}

} // namespace llmc::rt
