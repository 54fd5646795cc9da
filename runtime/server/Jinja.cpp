//===- Jinja.cpp - the Jinja subset chat templates use --------------------===//
#include "runtime/server/Jinja.h"
#include "runtime/support/Error.h"
#include "runtime/support/Utf8.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <locale.h>
#include <map>
#include <unordered_map>
#include <vector>
#include <wctype.h>

namespace llmc::server::jinja {

namespace {

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

struct Value;
using List = std::vector<Value>;
using Dict = std::vector<std::pair<std::string, Value>>;
using Args = std::vector<Value>;
using Kwargs = std::vector<std::pair<std::string, Value>>;
using Fn = std::function<Value(Args &, Kwargs &)>;

/// Limits on what a template (untrusted, shipped with the model) may make
/// the renderer do.
constexpr int kMaxDepth = 200;      // nesting in the source
constexpr int kMaxEvalDepth = 1000; // nested evaluation while rendering
constexpr int kMaxValueDepth = 100; // lists and dicts within each other
constexpr uint64_t kMaxStringBytes = uint64_t(1) << 24;

struct Value {
  enum class T { Undefined, None, Bool, Int, Float, Str, List, Dict, Func };
  T t = T::Undefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::shared_ptr<List> list;
  std::shared_ptr<Dict> dict;
  std::shared_ptr<Fn> fn;
  bool ns = false; // a namespace(): attributes may be set

  static Value none() { return make(T::None); }
  static Value boolean(bool v) {
    Value x = make(T::Bool);
    x.b = v;
    return x;
  }
  static Value integer(int64_t v) {
    Value x = make(T::Int);
    x.i = v;
    return x;
  }
  static Value real(double v) {
    Value x = make(T::Float);
    x.f = v;
    return x;
  }
  static Value str(std::string v) {
    Value x = make(T::Str);
    x.s = std::move(v);
    return x;
  }
  static Value ofList(List v = {}) {
    Value x = make(T::List);
    x.list = std::make_shared<List>(std::move(v));
    return x;
  }
  static Value ofDict(Dict v = {}) {
    Value x = make(T::Dict);
    x.dict = std::make_shared<Dict>(std::move(v));
    return x;
  }
  static Value func(Fn f) {
    Value x = make(T::Func);
    x.fn = std::make_shared<Fn>(std::move(f));
    return x;
  }
  static Value make(T t) {
    Value x;
    x.t = t;
    return x;
  }

  bool isUndefined() const { return t == T::Undefined; }
  bool isNumber() const { return t == T::Int || t == T::Float || t == T::Bool; }
  double number() const {
    return t == T::Float ? f : t == T::Bool ? (b ? 1 : 0) : double(i);
  }
  const Value *find(const std::string &key) const {
    if (t != T::Dict)
      return nullptr;
    for (const auto &[k, v] : *dict)
      if (k == key)
        return &v;
    return nullptr;
  }
  void set(const std::string &key, Value v) {
    for (auto &[k, old] : *dict)
      if (k == key) {
        old = std::move(v);
        return;
      }
    dict->emplace_back(key, std::move(v));
  }
};

[[noreturn]] void error(const std::string &what) {
  throw rt::Error("chat template: " + what);
}

bool truthy(const Value &v) {
  switch (v.t) {
  case Value::T::Undefined:
  case Value::T::None:
    return false;
  case Value::T::Bool:
    return v.b;
  case Value::T::Int:
    return v.i != 0;
  case Value::T::Float:
    return v.f != 0;
  case Value::T::Str:
    return !v.s.empty();
  case Value::T::List:
    return !v.list->empty();
  case Value::T::Dict:
    return !v.dict->empty();
  case Value::T::Func:
    return true;
  }
  return false;
}

const char *kindOf(const Value &v) {
  switch (v.t) {
  case Value::T::Undefined:
    return "undefined";
  case Value::T::None:
    return "none";
  case Value::T::Bool:
    return "bool";
  case Value::T::Int:
    return "int";
  case Value::T::Float:
    return "float";
  case Value::T::Str:
    return "string";
  case Value::T::List:
    return "list";
  case Value::T::Dict:
    return "dict";
  case Value::T::Func:
    return "function";
  }
  return "?";
}

/// Python's repr(float): the shortest text that reads back the same.
std::string floatRepr(double d) {
  if (std::isnan(d))
    return "nan";
  if (std::isinf(d))
    return d > 0 ? "inf" : "-inf";
  char buf[64];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, d);
    if (std::strtod(buf, nullptr) == d)
      break;
  }
  std::string s = buf;
  // Python writes exponents as e+20 / e-05 and plain numbers with ".0".
  size_t e = s.find('e');
  if (e != std::string::npos) {
    std::string mant = s.substr(0, e), exp = s.substr(e + 1);
    int x = std::stoi(exp);
    if (x >= -4 && x < 16) {
      std::snprintf(buf, sizeof buf, "%.17f", d);
      // Fall back to fixed notation trimmed of zeros.
      std::string fixed = buf;
      while (!fixed.empty() && fixed.back() == '0')
        fixed.pop_back();
      if (!fixed.empty() && fixed.back() == '.')
        fixed += '0';
      return fixed;
    }
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", x < 0 ? '-' : '+', std::abs(x));
    return mant + eb;
  }
  if (s.find('.') == std::string::npos && s.find("inf") == std::string::npos)
    s += ".0";
  return s;
}

std::string pyRepr(const Value &v);

/// Python's str() of a value (what {{ }} prints).
/// One level of nesting counted in `depth`; past `max` the template is
/// refused with `message()` instead of recursing until the stack ends.
struct Nesting {
  template <typename Message>
  Nesting(int &depth, int max, Message message) : depth(depth) {
    if (++depth > max) {
      --depth; // no destructor runs for a constructor that throws
      error(message());
    }
  }
  ~Nesting() { --depth; }
  int &depth;
};

/// How deep a value is being walked (printed, compared, dumped): a list
/// that contains itself would recurse forever. Python prints it as
/// [[...]]; a template that makes one is refused instead.
int &valueDepth() {
  static thread_local int depth = 0;
  return depth;
}
std::string tooDeepValue() {
  return "a value nested deeper than " + std::to_string(kMaxValueDepth) +
         " levels (a list or dict that contains itself?)";
}

std::string toStr(const Value &v) {
  Nesting guard(valueDepth(), kMaxValueDepth, tooDeepValue);
  switch (v.t) {
  case Value::T::Undefined:
    return "";
  case Value::T::None:
    return "None";
  case Value::T::Bool:
    return v.b ? "True" : "False";
  case Value::T::Int:
    return std::to_string(v.i);
  case Value::T::Float:
    return floatRepr(v.f);
  case Value::T::Str:
    return v.s;
  case Value::T::List: {
    std::string out = "[";
    for (size_t k = 0; k < v.list->size(); ++k)
      out += (k ? ", " : "") + pyRepr((*v.list)[k]);
    return out + "]";
  }
  case Value::T::Dict: {
    std::string out = "{";
    bool first = true;
    for (const auto &[key, val] : *v.dict) {
      out += (first ? "'" : ", '") + key + "': " + pyRepr(val);
      first = false;
    }
    return out + "}";
  }
  case Value::T::Func:
    return "<function>";
  }
  return "";
}

std::string pyRepr(const Value &v) {
  if (v.t != Value::T::Str)
    return toStr(v);
  bool dq =
      v.s.find('\'') != std::string::npos && v.s.find('"') == std::string::npos;
  char q = dq ? '"' : '\'';
  std::string out(1, q);
  for (char c : v.s) {
    if (c == q || c == '\\')
      out += '\\', out += c;
    else if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else
      out += c;
  }
  return out + q;
}

/// Python's json.dumps(v, ensure_ascii=False, indent=indent, sort_keys=sort).
void toJson(const Value &v, std::string &out, int indent, int depth,
            bool sortKeys) {
  Nesting guard(valueDepth(), kMaxValueDepth, tooDeepValue);
  auto newline = [&](int d) {
    if (indent >= 0) {
      out += '\n';
      out.append(static_cast<size_t>(indent * d), ' ');
    }
  };
  const char *itemSep = indent >= 0 ? "," : ", ";
  switch (v.t) {
  case Value::T::Undefined:
  case Value::T::None:
    out += "null";
    return;
  case Value::T::Bool:
    out += v.b ? "true" : "false";
    return;
  case Value::T::Int:
    out += std::to_string(v.i);
    return;
  case Value::T::Float:
    out += std::isfinite(v.f) ? floatRepr(v.f)
           : std::isnan(v.f)  ? "NaN"
           : v.f > 0          ? "Infinity"
                              : "-Infinity";
    return;
  case Value::T::Str: {
    out += '"';
    for (unsigned char c : v.s) {
      switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
      }
    }
    out += '"';
    return;
  }
  case Value::T::List:
    if (v.list->empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (size_t k = 0; k < v.list->size(); ++k) {
      if (k)
        out += itemSep;
      newline(depth + 1);
      toJson((*v.list)[k], out, indent, depth + 1, sortKeys);
    }
    newline(depth);
    out += ']';
    return;
  case Value::T::Dict: {
    if (v.dict->empty()) {
      out += "{}";
      return;
    }
    std::vector<const std::pair<std::string, Value> *> items;
    for (const auto &kv : *v.dict)
      items.push_back(&kv);
    if (sortKeys)
      std::stable_sort(items.begin(), items.end(),
                       [](auto *a, auto *b) { return a->first < b->first; });
    out += '{';
    for (size_t k = 0; k < items.size(); ++k) {
      if (k)
        out += itemSep;
      newline(depth + 1);
      toJson(Value::str(items[k]->first), out, indent, depth + 1, sortKeys);
      out += ": ";
      toJson(items[k]->second, out, indent, depth + 1, sortKeys);
    }
    newline(depth);
    out += '}';
    return;
  }
  case Value::T::Func:
    error("tojson: a function is not JSON");
  }
}

Value fromJson(const nlohmann::ordered_json &j) {
  switch (j.type()) {
  case nlohmann::ordered_json::value_t::null:
    return Value::none();
  case nlohmann::ordered_json::value_t::boolean:
    return Value::boolean(j.get<bool>());
  case nlohmann::ordered_json::value_t::number_integer:
  case nlohmann::ordered_json::value_t::number_unsigned:
    return Value::integer(j.get<int64_t>());
  case nlohmann::ordered_json::value_t::number_float:
    return Value::real(j.get<double>());
  case nlohmann::ordered_json::value_t::string:
    return Value::str(j.get<std::string>());
  case nlohmann::ordered_json::value_t::array: {
    List l;
    for (const auto &e : j)
      l.push_back(fromJson(e));
    return Value::ofList(std::move(l));
  }
  case nlohmann::ordered_json::value_t::object: {
    Dict d;
    for (auto it = j.begin(); it != j.end(); ++it)
      d.emplace_back(it.key(), fromJson(it.value()));
    return Value::ofDict(std::move(d));
  }
  default:
    return Value();
  }
}

bool equal(const Value &a, const Value &b) {
  Nesting guard(valueDepth(), kMaxValueDepth, tooDeepValue);
  if (a.isNumber() && b.isNumber() && a.t != Value::T::Bool &&
      b.t != Value::T::Bool)
    return a.number() == b.number();
  if (a.t != b.t)
    return (a.t == Value::T::Bool && b.isNumber()) ||
                   (b.t == Value::T::Bool && a.isNumber())
               ? a.number() == b.number()
               : false;
  switch (a.t) {
  case Value::T::Undefined:
  case Value::T::None:
    return true;
  case Value::T::Bool:
    return a.b == b.b;
  case Value::T::Str:
    return a.s == b.s;
  case Value::T::List:
    if (a.list->size() != b.list->size())
      return false;
    for (size_t k = 0; k < a.list->size(); ++k)
      if (!equal((*a.list)[k], (*b.list)[k]))
        return false;
    return true;
  case Value::T::Dict:
    if (a.dict->size() != b.dict->size())
      return false;
    for (const auto &[k, v] : *a.dict) {
      const Value *o = b.find(k);
      if (!o || !equal(v, *o))
        return false;
    }
    return true;
  case Value::T::Func:
    return a.fn == b.fn;
  default:
    return false;
  }
}

int compare(const Value &a, const Value &b) {
  if (a.isNumber() && b.isNumber()) {
    double x = a.number(), y = b.number();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.t == Value::T::Str && b.t == Value::T::Str)
    return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
  if (a.t == Value::T::List && b.t == Value::T::List) {
    for (size_t k = 0; k < std::min(a.list->size(), b.list->size()); ++k)
      if (int c = compare((*a.list)[k], (*b.list)[k]))
        return c;
    return a.list->size() < b.list->size()   ? -1
           : a.list->size() > b.list->size() ? 1
                                             : 0;
  }
  error(std::string("cannot compare ") + kindOf(a) + " and " + kindOf(b));
}

/// The items `for` iterates: list elements, dict keys, string characters.
List iterate(const Value &v) {
  switch (v.t) {
  case Value::T::Undefined:
  case Value::T::None:
    return {};
  case Value::T::List:
    return *v.list;
  case Value::T::Dict: {
    List keys;
    for (const auto &[k, val] : *v.dict)
      keys.push_back(Value::str(k));
    return keys;
  }
  case Value::T::Str: {
    List chars;
    for (size_t k = 0; k < v.s.size();) {
      size_t n = 1;
      unsigned char c = v.s[k];
      if (c >= 0xF0)
        n = 4;
      else if (c >= 0xE0)
        n = 3;
      else if (c >= 0xC0)
        n = 2;
      chars.push_back(Value::str(v.s.substr(k, n)));
      k += n;
    }
    return chars;
  }
  default:
    error(std::string("cannot iterate over a ") + kindOf(v));
  }
}

int64_t lengthOf(const Value &v) {
  switch (v.t) {
  case Value::T::Str:
    return static_cast<int64_t>(iterate(v).size());
  case Value::T::List:
    return static_cast<int64_t>(v.list->size());
  case Value::T::Dict:
    return static_cast<int64_t>(v.dict->size());
  case Value::T::Undefined:
    return 0;
  default:
    error(std::string("a ") + kindOf(v) + " has no length");
  }
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

struct Env;

struct Expr {
  enum class K {
    Literal,
    Name,
    Attr,
    Item,
    Slice,
    Call,
    Filter,
    Test,
    Unary,
    Binary,
    Cond,
    ListLit,
    DictLit
  };
  K k;
  Value literal;
  std::string name; // Name, Attr, Filter, Test; Unary/Binary operator
  std::vector<std::shared_ptr<Expr>> args; // operands, then call arguments
  std::vector<std::pair<std::string, std::shared_ptr<Expr>>> kwargs;
  bool negated = false; // `is not`
  int line = 0;
};
using ExprP = std::shared_ptr<Expr>;

struct Tok {
  enum class K { Name, Int, Float, Str, Op, End };
  K k;
  std::string s;
  int64_t i = 0;
  double f = 0;
};

std::vector<Tok> lexExpr(const std::string &src, int line) {
  std::vector<Tok> out;
  size_t p = 0;
  auto fail = [&](const std::string &what) {
    error("line " + std::to_string(line) + ": " + what);
  };
  while (p < src.size()) {
    char c = src[p];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++p;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t q = p;
      while (
          q < src.size() &&
          (std::isalnum(static_cast<unsigned char>(src[q])) || src[q] == '_'))
        ++q;
      out.push_back({Tok::K::Name, src.substr(p, q - p)});
      p = q;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t q = p;
      bool real = false;
      while (q < src.size() &&
             (std::isdigit(static_cast<unsigned char>(src[q])) ||
              src[q] == '_' ||
              (src[q] == '.' && q + 1 < src.size() &&
               std::isdigit(static_cast<unsigned char>(src[q + 1]))))) {
        real |= src[q] == '.';
        ++q;
      }
      std::string text = src.substr(p, q - p);
      text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
      Tok t{real ? Tok::K::Float : Tok::K::Int, text};
      if (real)
        t.f = std::stod(text);
      else
        t.i = std::stoll(text);
      out.push_back(t);
      p = q;
      continue;
    }
    if (c == '\'' || c == '"') {
      std::string s;
      size_t q = p + 1;
      while (q < src.size() && src[q] != c) {
        if (src[q] == '\\' && q + 1 < src.size()) {
          char e = src[++q];
          switch (e) {
          case 'n':
            s += '\n';
            break;
          case 't':
            s += '\t';
            break;
          case 'r':
            s += '\r';
            break;
          case '\\':
          case '\'':
          case '"':
            s += e;
            break;
          default:
            s += '\\';
            s += e;
          }
          ++q;
          continue;
        }
        s += src[q++];
      }
      if (q >= src.size())
        fail("unterminated string");
      out.push_back({Tok::K::Str, s});
      p = q + 1;
      continue;
    }
    static const char *ops[] = {
        "**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<",
        ">",  "(",  ")",  "[",  "]",  "{",  "}", ",", ".", ":", "|", "="};
    bool found = false;
    for (const char *op : ops) {
      size_t n = std::strlen(op);
      if (src.compare(p, n, op) == 0) {
        out.push_back({Tok::K::Op, op});
        p += n;
        found = true;
        break;
      }
    }
    if (!found)
      fail(std::string("unexpected character '") + c + "'");
  }
  out.push_back({Tok::K::End, ""});
  return out;
}

class ExprParser {
public:
  ExprParser(std::vector<Tok> toks, int line)
      : t_(std::move(toks)), line_(line) {}

  ExprP parse() { return parseCond(); }
  /// An expression without a trailing `if` (a for loop's iterable).
  ExprP parseNoCond() { return parseOr(); }
  bool atEnd() const { return t_[p_].k == Tok::K::End; }
  bool peekName(const char *n) const {
    return t_[p_].k == Tok::K::Name && t_[p_].s == n;
  }
  bool peekOp(const char *o) const {
    return t_[p_].k == Tok::K::Op && t_[p_].s == o;
  }
  void expectOp(const char *o) {
    if (!peekOp(o))
      fail(std::string("expected '") + o + "'");
    ++p_;
  }
  bool acceptOp(const char *o) {
    if (!peekOp(o))
      return false;
    ++p_;
    return true;
  }
  bool acceptName(const char *n) {
    if (!peekName(n))
      return false;
    ++p_;
    return true;
  }
  std::string name() {
    if (t_[p_].k != Tok::K::Name)
      fail("expected a name");
    return t_[p_++].s;
  }
  void expectEnd() {
    if (!atEnd())
      fail("unexpected '" + t_[p_].s + "'");
  }
  [[noreturn]] void fail(const std::string &what) const {
    error("line " + std::to_string(line_) + ": " + what);
  }
  /// An expression with a top-level tuple (a, b) allowed.
  ExprP parseTuple() {
    ExprP first = parse();
    if (!peekOp(","))
      return first;
    auto tuple = node(Expr::K::ListLit);
    tuple->args.push_back(first);
    while (acceptOp(",")) {
      if (atEnd() || peekOp(")"))
        break;
      tuple->args.push_back(parse());
    }
    return tuple;
  }

private:
  ExprP node(Expr::K k) {
    auto e = std::make_shared<Expr>();
    e->k = k;
    e->line = line_;
    return e;
  }
  ExprP binary(const std::string &op, ExprP a, ExprP b) {
    auto e = node(Expr::K::Binary);
    e->name = op;
    e->args = {std::move(a), std::move(b)};
    return e;
  }

  ExprP parseCond() {
    Nesting nesting(depth_, kMaxDepth, [&] {
      return "line " + std::to_string(line_) +
             ": an expression nested deeper than " + std::to_string(kMaxDepth) +
             " levels";
    });
    ExprP e = parseOr();
    while (peekName("if")) {
      ++p_;
      auto c = node(Expr::K::Cond);
      ExprP cond = parseOr();
      ExprP otherwise;
      if (acceptName("else"))
        otherwise = parseCond();
      c->args = {cond, e, otherwise};
      e = c;
    }
    return e;
  }
  /// One left-associative level: operands from `next`, joined by any of
  /// `ops` (keywords like "or" or operator tokens).
  ExprP level(ExprP (ExprParser::*next)(),
              std::initializer_list<const char *> ops) {
    ExprP e = (this->*next)();
    while (true) {
      const char *matched = nullptr;
      for (const char *op : ops)
        if (std::isalpha(static_cast<unsigned char>(op[0])) ? acceptName(op)
                                                            : acceptOp(op)) {
          matched = op;
          break;
        }
      if (!matched)
        return e;
      e = binary(matched, e, (this->*next)());
    }
  }
  ExprP parseOr() { return level(&ExprParser::parseAnd, {"or"}); }
  ExprP parseAnd() { return level(&ExprParser::parseNot, {"and"}); }
  ExprP parseNot() {
    if (acceptName("not")) {
      auto u = node(Expr::K::Unary);
      u->name = "not";
      u->args = {parseNot()};
      return u;
    }
    return parseCompare();
  }
  ExprP parseCompare() {
    ExprP e = parseAdd();
    while (true) {
      static const char *cmps[] = {"==", "!=", "<=", ">=", "<", ">"};
      bool matched = false;
      for (const char *c : cmps)
        if (acceptOp(c)) {
          e = binary(c, e, parseAdd());
          matched = true;
          break;
        }
      if (matched)
        continue;
      if (acceptName("in")) {
        e = binary("in", e, parseAdd());
      } else if (peekName("not") && p_ + 1 < t_.size() &&
                 t_[p_ + 1].k == Tok::K::Name && t_[p_ + 1].s == "in") {
        p_ += 2;
        e = binary("not in", e, parseAdd());
      } else {
        break;
      }
    }
    return e;
  }
  ExprP parseAdd() { return level(&ExprParser::parseConcat, {"+", "-"}); }
  ExprP parseConcat() { return level(&ExprParser::parseMul, {"~"}); }
  ExprP parseMul() {
    // "//" before "/": the lexer made them distinct tokens already.
    return level(&ExprParser::parsePow, {"*", "//", "/", "%"});
  }
  ExprP parsePow() { return level(&ExprParser::parseUnary, {"**"}); }
  ExprP parseUnary() {
    if (acceptOp("-")) {
      auto u = node(Expr::K::Unary);
      u->name = "-";
      u->args = {parseUnary()};
      return u;
    }
    if (acceptOp("+"))
      return parseUnary();
    return parsePostfix(parsePrimary());
  }
  void parseCallArgs(Expr &call) {
    // After '('.
    if (acceptOp(")"))
      return;
    do {
      if (peekOp(")"))
        break;
      if (t_[p_].k == Tok::K::Name && p_ + 1 < t_.size() &&
          t_[p_ + 1].k == Tok::K::Op && t_[p_ + 1].s == "=") {
        std::string key = t_[p_].s;
        p_ += 2;
        call.kwargs.emplace_back(key, parse());
      } else {
        call.args.push_back(parse());
      }
    } while (acceptOp(","));
    expectOp(")");
  }
  ExprP parsePostfix(ExprP e) {
    while (true) {
      if (acceptOp(".")) {
        auto a = node(Expr::K::Attr);
        a->name = name();
        a->args = {e};
        e = a;
      } else if (acceptOp("[")) {
        ExprP start, stop, step;
        bool slice = false;
        if (!peekOp(":"))
          start = parse();
        if (acceptOp(":")) {
          slice = true;
          if (!peekOp("]") && !peekOp(":"))
            stop = parse();
          if (acceptOp(":") && !peekOp("]"))
            step = parse();
        }
        expectOp("]");
        auto s = node(slice ? Expr::K::Slice : Expr::K::Item);
        s->args = {e, start, stop, step};
        e = s;
      } else if (acceptOp("(")) {
        auto c = node(Expr::K::Call);
        c->args = {e};
        parseCallArgs(*c);
        e = c;
      } else if (acceptOp("|")) {
        auto f = node(Expr::K::Filter);
        f->name = name();
        f->args = {e};
        if (acceptOp("("))
          parseCallArgs(*f);
        e = f;
      } else if (peekName("is")) {
        ++p_;
        auto t = node(Expr::K::Test);
        t->negated = acceptName("not");
        if (t_[p_].k == Tok::K::Name)
          t->name = name();
        else if (acceptOp("=="))
          t->name = "eq";
        else
          fail("expected a test name after 'is'");
        t->args = {e};
        if (acceptOp("(")) {
          parseCallArgs(*t);
        } else if (!atEnd() && t_[p_].k != Tok::K::Op &&
                   !(t_[p_].k == Tok::K::Name &&
                     (t_[p_].s == "and" || t_[p_].s == "or" ||
                      t_[p_].s == "else" || t_[p_].s == "if"))) {
          // `x is divisibleby 3`, `x is sameas none`: one argument.
          t->args.push_back(parsePrimary());
        }
        e = t;
      } else {
        return e;
      }
    }
  }
  ExprP parsePrimary() {
    const Tok &t = t_[p_];
    switch (t.k) {
    case Tok::K::Int: {
      ++p_;
      auto e = node(Expr::K::Literal);
      e->literal = Value::integer(t.i);
      return e;
    }
    case Tok::K::Float: {
      ++p_;
      auto e = node(Expr::K::Literal);
      e->literal = Value::real(t.f);
      return e;
    }
    case Tok::K::Str: {
      // Adjacent strings concatenate.
      std::string s;
      while (t_[p_].k == Tok::K::Str)
        s += t_[p_++].s;
      auto e = node(Expr::K::Literal);
      e->literal = Value::str(s);
      return e;
    }
    case Tok::K::Name: {
      ++p_;
      auto e = node(Expr::K::Literal);
      if (t.s == "true" || t.s == "True")
        e->literal = Value::boolean(true);
      else if (t.s == "false" || t.s == "False")
        e->literal = Value::boolean(false);
      else if (t.s == "none" || t.s == "None")
        e->literal = Value::none();
      else {
        e->k = Expr::K::Name;
        e->name = t.s;
      }
      return e;
    }
    case Tok::K::Op:
      if (t.s == "(") {
        ++p_;
        if (acceptOp(")"))
          return node(Expr::K::ListLit);
        ExprP e = parseTuple();
        expectOp(")");
        return e;
      }
      if (t.s == "[") {
        ++p_;
        auto l = node(Expr::K::ListLit);
        while (!acceptOp("]")) {
          l->args.push_back(parse());
          if (!acceptOp(",")) {
            expectOp("]");
            break;
          }
        }
        return l;
      }
      if (t.s == "{") {
        ++p_;
        auto d = node(Expr::K::DictLit);
        while (!acceptOp("}")) {
          d->args.push_back(parse());
          expectOp(":");
          d->args.push_back(parse());
          if (!acceptOp(",")) {
            expectOp("}");
            break;
          }
        }
        return d;
      }
      break;
    case Tok::K::End:
      fail("unexpected end of expression");
    }
    fail("unexpected '" + t.s + "'");
  }

  std::vector<Tok> t_;
  size_t p_ = 0;
  int line_;
  int depth_ = 0;
};

} // namespace

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

struct Template::Node {
  enum class K {
    Seq,
    Text,
    Output,
    If,
    For,
    Set,
    SetBlock,
    Macro,
    Break,
    Continue
  };
  K k = K::Seq;
  std::string text;                        // Text
  std::vector<std::string> targets;        // For, Set (names), Macro params
  std::vector<ExprP> defaults;             // Macro parameter defaults
  std::string attrOf;                      // Set ns.attr: the namespace
  std::vector<ExprP> exprs;                // Output; If conditions; For
                                           // iterable, filter; Set value
  std::vector<std::shared_ptr<Node>> kids; // Seq children; If branches
                                           // (+ else); For body, else
  int line = 0;
};

namespace {

using Node = Template::Node;
using NodeP = std::shared_ptr<Node>;

/// The template split into text and tags, whitespace control applied.
struct Piece {
  enum class K { Text, Expr, Stmt };
  K k;
  std::string s;
  int line;
};

std::vector<Piece> split(const std::string &src) {
  std::vector<Piece> out;
  size_t p = 0;
  int line = 1;
  bool lineStarting = true; // the last token ended a line (or none yet)
  bool stripNext = false;   // a '-' closed the last tag
  bool trimNewline = false; // trim_blocks after a block or comment tag
  auto isWs = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
  };
  while (true) {
    size_t open = p;
    while ((open = src.find('{', open)) != std::string::npos &&
           (open + 1 >= src.size() ||
            (src[open + 1] != '{' && src[open + 1] != '%' &&
             src[open + 1] != '#')))
      ++open;
    size_t textEnd = open == std::string::npos ? src.size() : open;
    std::string text = src.substr(p, textEnd - p);
    int textLine = line;
    line += static_cast<int>(std::count(text.begin(), text.end(), '\n'));
    // What the previous tag consumed after itself.
    if (trimNewline && !text.empty() && text[0] == '\n') {
      text.erase(0, 1);
      lineStarting = true;
    } else if (trimNewline && text.size() >= 2 && text[0] == '\r' &&
               text[1] == '\n') {
      text.erase(0, 2);
      lineStarting = true;
    }
    if (stripNext) {
      size_t k = 0;
      while (k < text.size() && isWs(text[k]))
        ++k;
      if (k > 0)
        lineStarting = text[k - 1] == '\n';
      text.erase(0, k);
    }
    if (open == std::string::npos) {
      if (!text.empty())
        out.push_back({Piece::K::Text, text, textLine});
      break;
    }
    char kind = src[open + 1];
    char mod = open + 2 < src.size() ? src[open + 2] : 0;
    if (mod == '-') {
      size_t k = text.size();
      while (k > 0 && isWs(text[k - 1]))
        --k;
      text.resize(k);
    } else if (kind != '{' && mod != '+') {
      // lstrip_blocks: only blanks between the line start and the tag.
      size_t lpos = text.rfind('\n');
      lpos = lpos == std::string::npos ? 0 : lpos + 1;
      if ((lpos > 0 || lineStarting) &&
          std::all_of(text.begin() + lpos, text.end(),
                      [](char c) { return c == ' ' || c == '\t'; }))
        text.resize(lpos);
    }
    if (!text.empty())
      out.push_back({Piece::K::Text, text, textLine});
    const char *close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
    size_t bodyStart = open + 2 + (mod == '-' || mod == '+' ? 1 : 0);
    size_t end = src.find(close, bodyStart);
    if (end == std::string::npos)
      error("line " + std::to_string(line) + ": unclosed '{" + kind + "'");
    char cmod = end > bodyStart ? src[end - 1] : 0;
    bool minusClose = cmod == '-', plusClose = cmod == '+';
    std::string body =
        src.substr(bodyStart, end - bodyStart - (minusClose || plusClose));
    int tagLine = line;
    line += static_cast<int>(
        std::count(src.begin() + open, src.begin() + end, '\n'));
    if (kind == '{')
      out.push_back({Piece::K::Expr, body, tagLine});
    else if (kind == '%')
      out.push_back({Piece::K::Stmt, body, tagLine});
    stripNext = minusClose;
    trimNewline = kind != '{' && !plusClose;
    lineStarting = false;
    p = end + 2;
  }
  return out;
}

class Parser {
public:
  explicit Parser(std::vector<Piece> pieces) : pieces_(std::move(pieces)) {}

  NodeP parseAll() {
    NodeP seq = parseBody({});
    if (pos_ < pieces_.size())
      error("line " + std::to_string(pieces_[pos_].line) + ": unexpected '" +
            keyword(pieces_[pos_]) + "'");
    return seq;
  }

private:
  static std::string keyword(const Piece &p) {
    size_t a = p.s.find_first_not_of(" \t\n\r");
    if (a == std::string::npos)
      return "";
    size_t b = a;
    while (b < p.s.size() &&
           (std::isalnum(static_cast<unsigned char>(p.s[b])) || p.s[b] == '_'))
      ++b;
    return p.s.substr(a, b - a);
  }
  static std::string rest(const Piece &p) {
    size_t a = p.s.find_first_not_of(" \t\n\r");
    if (a == std::string::npos) // an empty {% %}
      return "";
    size_t b = a + keyword(p).size();
    return p.s.substr(b);
  }

  /// Nodes up to (not including) a statement whose keyword is in `stops`.
  NodeP parseBody(const std::vector<std::string> &stops) {
    Nesting nesting(depth_, kMaxDepth, [&] {
      return "line " +
             std::to_string(pos_ < pieces_.size() ? pieces_[pos_].line : 0) +
             ": blocks nested deeper than " + std::to_string(kMaxDepth) +
             " levels";
    });
    auto seq = std::make_shared<Node>();
    seq->k = Node::K::Seq;
    while (pos_ < pieces_.size()) {
      const Piece &p = pieces_[pos_];
      if (p.k == Piece::K::Text) {
        auto n = std::make_shared<Node>();
        n->k = Node::K::Text;
        n->text = p.s;
        seq->kids.push_back(n);
        ++pos_;
        continue;
      }
      if (p.k == Piece::K::Expr) {
        ExprParser ep(lexExpr(p.s, p.line), p.line);
        auto n = std::make_shared<Node>();
        n->k = Node::K::Output;
        n->exprs = {ep.parseTuple()};
        ep.expectEnd();
        seq->kids.push_back(n);
        ++pos_;
        continue;
      }
      std::string kw = keyword(p);
      if (std::find(stops.begin(), stops.end(), kw) != stops.end())
        return seq;
      seq->kids.push_back(parseStatement());
    }
    if (!stops.empty())
      error("missing '{% " + stops.back() + " %}'");
    return seq;
  }

  NodeP parseStatement() {
    const Piece p = pieces_[pos_++];
    std::string kw = keyword(p);
    ExprParser ep(lexExpr(rest(p), p.line), p.line);
    auto n = std::make_shared<Node>();
    n->line = p.line;
    if (kw == "if") {
      n->k = Node::K::If;
      n->exprs.push_back(ep.parse());
      ep.expectEnd();
      while (true) {
        n->kids.push_back(parseBody({"elif", "else", "endif"}));
        const Piece &q = pieces_[pos_++];
        std::string k = keyword(q);
        if (k == "elif") {
          ExprParser cp(lexExpr(rest(q), q.line), q.line);
          n->exprs.push_back(cp.parse());
          cp.expectEnd();
        } else if (k == "else") {
          n->kids.push_back(parseBody({"endif"}));
          ++pos_;
          break;
        } else {
          break;
        }
      }
      return n;
    }
    if (kw == "for") {
      n->k = Node::K::For;
      n->targets.push_back(ep.name());
      while (ep.acceptOp(","))
        n->targets.push_back(ep.name());
      if (!ep.acceptName("in"))
        ep.fail("expected 'in'");
      // The iterable stops before a filter condition (`if`).
      n->exprs.push_back(parseIterable(ep));
      if (ep.acceptName("if"))
        n->exprs.push_back(ep.parse());
      ep.acceptName("recursive");
      ep.expectEnd();
      n->kids.push_back(parseBody({"else", "endfor"}));
      if (keyword(pieces_[pos_++]) == "else") {
        n->kids.push_back(parseBody({"endfor"}));
        ++pos_;
      }
      return n;
    }
    if (kw == "set") {
      std::string first = ep.name();
      if (ep.acceptOp(".")) {
        n->attrOf = first;
        first = ep.name();
      }
      n->targets.push_back(first);
      while (ep.acceptOp(","))
        n->targets.push_back(ep.name());
      if (ep.atEnd()) {
        n->k = Node::K::SetBlock;
        n->kids.push_back(parseBody({"endset"}));
        ++pos_;
        return n;
      }
      ep.expectOp("=");
      n->k = Node::K::Set;
      n->exprs.push_back(ep.parseTuple());
      ep.expectEnd();
      return n;
    }
    if (kw == "macro") {
      n->k = Node::K::Macro;
      n->text = ep.name();
      ep.expectOp("(");
      while (!ep.acceptOp(")")) {
        n->targets.push_back(ep.name());
        n->defaults.push_back(ep.acceptOp("=") ? ep.parse() : nullptr);
        if (!ep.acceptOp(",")) {
          ep.expectOp(")");
          break;
        }
      }
      ep.expectEnd();
      n->kids.push_back(parseBody({"endmacro"}));
      ++pos_;
      return n;
    }
    if (kw == "break" || kw == "continue") {
      n->k = kw == "break" ? Node::K::Break : Node::K::Continue;
      return n;
    }
    if (kw == "generation") {
      // transformers' assistant-mask marker: renders its body as is.
      NodeP body = parseBody({"endgeneration"});
      ++pos_;
      return body;
    }
    if (kw == "filter" || kw == "call" || kw == "block" || kw == "extends" ||
        kw == "include" || kw == "import" || kw == "from" || kw == "raw" ||
        kw == "with")
      error("line " + std::to_string(p.line) + ": '{% " + kw +
            " %}' is not supported in chat templates here");
    error("line " + std::to_string(p.line) + ": unknown statement '" + kw +
          "'");
  }

  static ExprP parseIterable(ExprParser &ep) {
    // `for x in items if cond`: the conditional-expression parser would
    // take the `if`; parse an or-expression instead by cutting at `if`.
    return ep.parseNoCond();
  }

  std::vector<Piece> pieces_;
  size_t pos_ = 0;
  int depth_ = 0;
};

//===----------------------------------------------------------------------===//
// Evaluation
//===----------------------------------------------------------------------===//

struct LoopControl {
  enum class K { None, Break, Continue } k = K::None;
};

struct Env {
  std::vector<std::unordered_map<std::string, Value>> scopes;
  std::string out;
  LoopControl control;
  int depth = 0; // nested evaluation and rendering (recursive macros)

  const Value *lookup(const std::string &name) const {
    for (auto it = scopes.rbegin(); it != scopes.rend(); ++it) {
      auto f = it->find(name);
      if (f != it->end())
        return &f->second;
    }
    return nullptr;
  }
  void set(const std::string &name, Value v) {
    scopes.back()[name] = std::move(v);
  }
};

Value eval(const Expr &e, Env &env);

const Value *kwarg(const Kwargs &kw, const char *name) {
  for (const auto &[k, v] : kw)
    if (k == name)
      return &v;
  return nullptr;
}

/// Argument `index`, or keyword `name`, or nullptr.
const Value *arg(const Args &a, const Kwargs &kw, size_t index,
                 const char *name) {
  if (index < a.size())
    return &a[index];
  return kwarg(kw, name);
}

std::string strArg(const Args &a, const Kwargs &kw, size_t index,
                   const char *name, const std::string &otherwise) {
  const Value *v = arg(a, kw, index, name);
  return v && !v->isUndefined() ? toStr(*v) : otherwise;
}

std::string strip(const std::string &s, const std::string &chars, bool left,
                  bool right) {
  size_t a = 0, b = s.size();
  if (left)
    while (a < b && chars.find(s[a]) != std::string::npos)
      ++a;
  if (right)
    while (b > a && chars.find(s[b - 1]) != std::string::npos)
      --b;
  return s.substr(a, b - a);
}

const std::string kSpaces = " \t\n\r\f\v";

/// Unicode simple case mapping: glibc's tables, through the C.UTF-8
/// locale (ASCII only if that locale is missing).
locale_t utf8Locale() {
  static locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr);
  return loc;
}

char32_t mapCase(char32_t c, bool upper) {
  if (locale_t l = utf8Locale())
    return static_cast<char32_t>(upper ? towupper_l(static_cast<wint_t>(c), l)
                                       : towlower_l(static_cast<wint_t>(c), l));
  if (c >= 0x80)
    return c;
  return static_cast<char32_t>(upper ? std::toupper(static_cast<int>(c))
                                     : std::tolower(static_cast<int>(c)));
}

bool isLetter(char32_t c) {
  if (locale_t l = utf8Locale())
    return iswalpha_l(static_cast<wint_t>(c), l) != 0;
  return c < 0x80 && std::isalpha(static_cast<int>(c));
}

/// Python's str.lower() / upper() / title() / capitalize().
enum class Case { Lower, Upper, Title, Capitalize };
std::string changeCase(const std::string &s, Case how) {
  std::string out;
  bool start = true;
  size_t index = 0;
  for (char32_t c : rt::decodeUtf8(s)) {
    char32_t m = c;
    switch (how) {
    case Case::Lower:
    case Case::Upper:
      m = mapCase(c, how == Case::Upper);
      break;
    case Case::Title:
      m = isLetter(c) ? mapCase(c, start) : c;
      start = !isLetter(c);
      break;
    case Case::Capitalize:
      m = mapCase(c, index == 0);
      break;
    }
    rt::appendUtf8(out, m);
    ++index;
  }
  return out;
}

std::string title(const std::string &s) { return changeCase(s, Case::Title); }

std::string capitalize(const std::string &s) {
  return changeCase(s, Case::Capitalize);
}

std::string replaceAll(std::string s, const std::string &from,
                       const std::string &to, int64_t count) {
  if (from.empty())
    return s;
  size_t p = 0;
  while (count != 0 && (p = s.find(from, p)) != std::string::npos) {
    s.replace(p, from.size(), to);
    p += to.size();
    if (count > 0)
      --count;
  }
  return s;
}

Value getAttr(const Value &obj, const std::string &name);
bool runTest(const std::string &name, const Value &v, Args &args, Env &env);

/// A string, dict or list method, bound to `self`.
Value method(const Value &self, const std::string &name) {
  if (self.t == Value::T::Str) {
    const std::string s = self.s;
    if (name == "strip" || name == "lstrip" || name == "rstrip")
      return Value::func([s, name](Args &a, Kwargs &kw) {
        std::string chars = strArg(a, kw, 0, "chars", kSpaces);
        return Value::str(strip(s, chars, name != "rstrip", name != "lstrip"));
      });
    if (name == "upper" || name == "lower")
      return Value::func([s, name](Args &, Kwargs &) {
        return Value::str(
            changeCase(s, name == "upper" ? Case::Upper : Case::Lower));
      });
    if (name == "title")
      return Value::func(
          [s](Args &, Kwargs &) { return Value::str(title(s)); });
    if (name == "capitalize")
      return Value::func(
          [s](Args &, Kwargs &) { return Value::str(capitalize(s)); });
    if (name == "startswith" || name == "endswith")
      return Value::func([s, name](Args &a, Kwargs &kw) {
        const Value *x = arg(a, kw, 0, "prefix");
        if (!x)
          error(name + "() needs an argument");
        List options = x->t == Value::T::List ? *x->list : List{*x};
        for (const Value &o : options) {
          std::string t = toStr(o);
          bool hit = name == "startswith"
                         ? s.compare(0, t.size(), t) == 0
                         : s.size() >= t.size() &&
                               s.compare(s.size() - t.size(), t.size(), t) == 0;
          if (hit)
            return Value::boolean(true);
        }
        return Value::boolean(false);
      });
    if (name == "split" || name == "rsplit")
      return Value::func([s](Args &a, Kwargs &kw) {
        const Value *sepV = arg(a, kw, 0, "sep");
        const Value *maxV = arg(a, kw, 1, "maxsplit");
        int64_t maxsplit = maxV && maxV->t == Value::T::Int ? maxV->i : -1;
        List parts;
        if (!sepV || sepV->t == Value::T::None || sepV->isUndefined()) {
          size_t k = 0;
          while (true) {
            while (k < s.size() && kSpaces.find(s[k]) != std::string::npos)
              ++k;
            if (k >= s.size())
              break;
            if (maxsplit == 0) {
              parts.push_back(
                  Value::str(strip(s.substr(k), kSpaces, false, true)));
              break;
            }
            size_t e = k;
            while (e < s.size() && kSpaces.find(s[e]) == std::string::npos)
              ++e;
            parts.push_back(Value::str(s.substr(k, e - k)));
            k = e;
            if (maxsplit > 0)
              --maxsplit;
          }
          return Value::ofList(parts);
        }
        std::string sep = toStr(*sepV);
        if (sep.empty())
          error("split(): empty separator");
        size_t k = 0, f;
        while (maxsplit != 0 && (f = s.find(sep, k)) != std::string::npos) {
          parts.push_back(Value::str(s.substr(k, f - k)));
          k = f + sep.size();
          if (maxsplit > 0)
            --maxsplit;
        }
        parts.push_back(Value::str(s.substr(k)));
        return Value::ofList(parts);
      });
    if (name == "replace")
      return Value::func([s](Args &a, Kwargs &kw) {
        const Value *c = arg(a, kw, 2, "count");
        return Value::str(replaceAll(s, strArg(a, kw, 0, "old", ""),
                                     strArg(a, kw, 1, "new", ""),
                                     c && c->t == Value::T::Int ? c->i : -1));
      });
    if (name == "find" || name == "count" || name == "index")
      return Value::func([s, name](Args &a, Kwargs &kw) {
        std::string t = strArg(a, kw, 0, "sub", "");
        if (name == "count") {
          if (t.empty())
            return Value::integer(static_cast<int64_t>(s.size()) + 1);
          int64_t n = 0;
          for (size_t p = 0; (p = s.find(t, p)) != std::string::npos;
               p += t.size())
            ++n;
          return Value::integer(n);
        }
        size_t p = s.find(t);
        if (p == std::string::npos && name == "index")
          error("index(): substring not found");
        return Value::integer(p == std::string::npos ? -1
                                                     : static_cast<int64_t>(p));
      });
    if (name == "join")
      return Value::func([s](Args &a, Kwargs &kw) {
        const Value *l = arg(a, kw, 0, "iterable");
        std::string out;
        bool first = true;
        for (const Value &v : l ? iterate(*l) : List{}) {
          out += (first ? "" : s) + toStr(v);
          first = false;
        }
        return Value::str(out);
      });
    if (name == "splitlines")
      return Value::func([s](Args &, Kwargs &) {
        List parts;
        size_t k = 0;
        while (k < s.size()) {
          size_t e = s.find('\n', k);
          if (e == std::string::npos) {
            parts.push_back(Value::str(s.substr(k)));
            break;
          }
          std::string piece = s.substr(k, e - k);
          if (!piece.empty() && piece.back() == '\r')
            piece.pop_back();
          parts.push_back(Value::str(piece));
          k = e + 1;
        }
        return Value::ofList(parts);
      });
    if (name == "isdigit" || name == "isalpha" || name == "isspace" ||
        name == "isalnum")
      return Value::func([s, name](Args &, Kwargs &) {
        if (s.empty())
          return Value::boolean(false);
        for (char c : s) {
          unsigned char u = static_cast<unsigned char>(c);
          bool ok = name == "isdigit"   ? std::isdigit(u)
                    : name == "isalpha" ? std::isalpha(u)
                    : name == "isspace" ? std::isspace(u)
                                        : std::isalnum(u);
          if (!ok)
            return Value::boolean(false);
        }
        return Value::boolean(true);
      });
  }
  if (self.t == Value::T::Dict) {
    std::shared_ptr<Dict> d = self.dict;
    if (name == "items")
      return Value::func([d](Args &, Kwargs &) {
        List out;
        for (const auto &[k, v] : *d)
          out.push_back(Value::ofList({Value::str(k), v}));
        return Value::ofList(out);
      });
    if (name == "keys" || name == "values")
      return Value::func([d, name](Args &, Kwargs &) {
        List out;
        for (const auto &[k, v] : *d)
          out.push_back(name == "keys" ? Value::str(k) : v);
        return Value::ofList(out);
      });
    if (name == "get")
      return Value::func([self](Args &a, Kwargs &kw) {
        const Value *k = arg(a, kw, 0, "key");
        const Value *dflt = arg(a, kw, 1, "default");
        const Value *v = k ? self.find(toStr(*k)) : nullptr;
        return v ? *v : dflt ? *dflt : Value::none();
      });
  }
  if (self.t == Value::T::List) {
    std::shared_ptr<List> l = self.list;
    if (name == "append")
      return Value::func([l](Args &a, Kwargs &) {
        if (a.size() != 1)
          error("append() takes one argument");
        l->push_back(a[0]);
        return Value::none();
      });
    if (name == "index" || name == "count")
      return Value::func([l, name](Args &a, Kwargs &) {
        if (a.size() != 1)
          error(name + "() takes one argument");
        int64_t n = 0;
        for (size_t k = 0; k < l->size(); ++k)
          if (equal((*l)[k], a[0])) {
            if (name == "index")
              return Value::integer(static_cast<int64_t>(k));
            ++n;
          }
        if (name == "index")
          error("index(): not in list");
        return Value::integer(n);
      });
  }
  return Value();
}

Value getAttr(const Value &obj, const std::string &name) {
  if (obj.t == Value::T::Dict) {
    if (const Value *v = obj.find(name))
      return *v;
  }
  return method(obj, name);
}

Value getItem(const Value &obj, const Value &key) {
  switch (obj.t) {
  case Value::T::Dict:
    if (const Value *v = obj.find(toStr(key)))
      return *v;
    return method(obj, toStr(key));
  case Value::T::List:
  case Value::T::Str: {
    if (key.t != Value::T::Int)
      return obj.t == Value::T::Str ? Value() : Value();
    List items = obj.t == Value::T::List ? *obj.list : iterate(obj);
    int64_t n = static_cast<int64_t>(items.size());
    int64_t k = key.i < 0 ? key.i + n : key.i;
    if (k < 0 || k >= n)
      return Value();
    return items[k];
  }
  default:
    return Value();
  }
}

Value slice(const Value &obj, const Value *start, const Value *stop,
            const Value *step) {
  List items = obj.t == Value::T::List ? *obj.list : iterate(obj);
  int64_t n = static_cast<int64_t>(items.size());
  int64_t st = step && step->t == Value::T::Int ? step->i : 1;
  if (st == 0)
    error("slice step cannot be zero");
  auto clamp = [&](const Value *v, int64_t dflt) {
    if (!v || v->t != Value::T::Int)
      return dflt;
    int64_t k = v->i < 0 ? v->i + n : v->i;
    if (st > 0)
      return std::clamp<int64_t>(k, 0, n);
    return std::clamp<int64_t>(k, -1, n - 1);
  };
  int64_t a = clamp(start, st > 0 ? 0 : n - 1);
  int64_t b = clamp(stop, st > 0 ? n : -1);
  List out;
  for (int64_t k = a; st > 0 ? k < b : k > b; k += st)
    out.push_back(items[k]);
  if (obj.t == Value::T::Str) {
    std::string s;
    for (const Value &c : out)
      s += c.s;
    return Value::str(s);
  }
  return Value::ofList(out);
}

Value callValue(const Value &f, Args &args, Kwargs &kwargs) {
  if (f.t != Value::T::Func)
    error(std::string("a ") + kindOf(f) + " is not callable");
  return (*f.fn)(args, kwargs);
}

/// Python's arithmetic on two numbers: int when both are ints.
Value arith(const std::string &op, const Value &a, const Value &b) {
  bool ints = (a.t == Value::T::Int || a.t == Value::T::Bool) &&
              (b.t == Value::T::Int || b.t == Value::T::Bool);
  double x = a.number(), y = b.number();
  // Ints exactly (not through a double), and never past int64: Python's
  // ints do not overflow, so a template that would is refused.
  int64_t p = a.t == Value::T::Int ? a.i : (a.t == Value::T::Bool ? a.b : 0);
  int64_t q = b.t == Value::T::Int ? b.i : (b.t == Value::T::Bool ? b.b : 0);
  int64_t r = 0;
  auto overflow = [&]() -> Value { error("integer overflow in '" + op + "'"); };
  if (op == "+")
    return !ints                              ? Value::real(x + y)
           : __builtin_add_overflow(p, q, &r) ? overflow()
                                              : Value::integer(r);
  if (op == "-")
    return !ints                              ? Value::real(x - y)
           : __builtin_sub_overflow(p, q, &r) ? overflow()
                                              : Value::integer(r);
  if (op == "*")
    return !ints                              ? Value::real(x * y)
           : __builtin_mul_overflow(p, q, &r) ? overflow()
                                              : Value::integer(r);
  if (op == "/") {
    if (y == 0)
      error("division by zero");
    return Value::real(x / y);
  }
  if (op == "//") {
    if (y == 0)
      error("division by zero");
    if (ints) {
      int64_t d = p / q;
      if ((p % q != 0) && ((p < 0) != (q < 0)))
        --d;
      return Value::integer(d);
    }
    return Value::real(std::floor(x / y));
  }
  if (op == "%") {
    if (y == 0)
      error("modulo by zero");
    if (ints) {
      int64_t m = p % q;
      if (m != 0 && ((m < 0) != (q < 0)))
        m += q;
      return Value::integer(m);
    }
    double m = std::fmod(x, y);
    if (m != 0 && ((m < 0) != (y < 0)))
      m += y;
    return Value::real(m);
  }
  if (op == "**") {
    if (ints && q >= 0) {
      int64_t acc = 1;
      for (int64_t k = 0; k < q && acc != 0; ++k)
        if (__builtin_mul_overflow(acc, p, &acc))
          return overflow();
      return Value::integer(acc);
    }
    return Value::real(std::pow(x, y));
  }
  error("unknown operator " + op);
}

bool contains(const Value &container, const Value &item) {
  switch (container.t) {
  case Value::T::Str:
    return container.s.find(toStr(item)) != std::string::npos;
  case Value::T::List:
    for (const Value &v : *container.list)
      if (equal(v, item))
        return true;
    return false;
  case Value::T::Dict:
    return container.find(toStr(item)) != nullptr;
  case Value::T::Undefined:
  case Value::T::None:
    return false;
  default:
    error(std::string("'in' needs a string, list or dict, not a ") +
          kindOf(container));
  }
}

Value applyFilter(const std::string &name, Value v, Args &a, Kwargs &kw,
                  Env &env);

/// Nested evaluation and rendering (a macro calling itself forever).
std::string tooDeepEval() {
  return "the template nests or recurses deeper than " +
         std::to_string(kMaxEvalDepth) + " levels";
}

Value eval(const Expr &e, Env &env) {
  Nesting nesting(env.depth, kMaxEvalDepth, tooDeepEval);
  switch (e.k) {
  case Expr::K::Literal:
    return e.literal;
  case Expr::K::Name: {
    const Value *v = env.lookup(e.name);
    return v ? *v : Value();
  }
  case Expr::K::Attr:
    return getAttr(eval(*e.args[0], env), e.name);
  case Expr::K::Item:
    return getItem(eval(*e.args[0], env), eval(*e.args[1], env));
  case Expr::K::Slice: {
    Value obj = eval(*e.args[0], env);
    Value a, b, c;
    if (e.args[1])
      a = eval(*e.args[1], env);
    if (e.args[2])
      b = eval(*e.args[2], env);
    if (e.args[3])
      c = eval(*e.args[3], env);
    return slice(obj, e.args[1] ? &a : nullptr, e.args[2] ? &b : nullptr,
                 e.args[3] ? &c : nullptr);
  }
  case Expr::K::Call: {
    Value f = eval(*e.args[0], env);
    Args args;
    for (size_t k = 1; k < e.args.size(); ++k)
      args.push_back(eval(*e.args[k], env));
    Kwargs kwargs;
    for (const auto &[k, x] : e.kwargs)
      kwargs.emplace_back(k, eval(*x, env));
    if (f.isUndefined()) {
      std::string what = e.args[0]->k == Expr::K::Name   ? e.args[0]->name
                         : e.args[0]->k == Expr::K::Attr ? e.args[0]->name
                                                         : "value";
      error("line " + std::to_string(e.line) + ": '" + what +
            "' is undefined or not callable");
    }
    return callValue(f, args, kwargs);
  }
  case Expr::K::Filter: {
    Value v = eval(*e.args[0], env);
    Args args;
    for (size_t k = 1; k < e.args.size(); ++k)
      args.push_back(eval(*e.args[k], env));
    Kwargs kwargs;
    for (const auto &[k, x] : e.kwargs)
      kwargs.emplace_back(k, eval(*x, env));
    return applyFilter(e.name, std::move(v), args, kwargs, env);
  }
  case Expr::K::Test: {
    Value v = eval(*e.args[0], env);
    Args args;
    for (size_t k = 1; k < e.args.size(); ++k)
      args.push_back(eval(*e.args[k], env));
    bool r = runTest(e.name, v, args, env);
    return Value::boolean(e.negated ? !r : r);
  }
  case Expr::K::Unary: {
    Value v = eval(*e.args[0], env);
    if (e.name == "not")
      return Value::boolean(!truthy(v));
    if (!v.isNumber())
      error("line " + std::to_string(e.line) + ": unary minus on a " +
            kindOf(v));
    return v.t == Value::T::Float
               ? Value::real(-v.f)
               : Value::integer(-static_cast<int64_t>(v.number()));
  }
  case Expr::K::Binary: {
    const std::string &op = e.name;
    if (op == "and") {
      Value a = eval(*e.args[0], env);
      return truthy(a) ? eval(*e.args[1], env) : a;
    }
    if (op == "or") {
      Value a = eval(*e.args[0], env);
      return truthy(a) ? a : eval(*e.args[1], env);
    }
    Value a = eval(*e.args[0], env), b = eval(*e.args[1], env);
    if (op == "==")
      return Value::boolean(equal(a, b));
    if (op == "!=")
      return Value::boolean(!equal(a, b));
    if (op == "<")
      return Value::boolean(compare(a, b) < 0);
    if (op == ">")
      return Value::boolean(compare(a, b) > 0);
    if (op == "<=")
      return Value::boolean(compare(a, b) <= 0);
    if (op == ">=")
      return Value::boolean(compare(a, b) >= 0);
    if (op == "in")
      return Value::boolean(contains(b, a));
    if (op == "not in")
      return Value::boolean(!contains(b, a));
    if (op == "~")
      return Value::str(toStr(a) + toStr(b));
    if (op == "+") {
      if (a.t == Value::T::Str && b.t == Value::T::Str)
        return Value::str(a.s + b.s);
      if (a.t == Value::T::List && b.t == Value::T::List) {
        List l = *a.list;
        l.insert(l.end(), b.list->begin(), b.list->end());
        return Value::ofList(l);
      }
    }
    if (op == "*" && a.t == Value::T::Str && b.t == Value::T::Int) {
      if (b.i > 0 && a.s.size() > 0 &&
          static_cast<uint64_t>(b.i) > kMaxStringBytes / a.s.size())
        error("line " + std::to_string(e.line) + ": a string repeated past " +
              std::to_string(kMaxStringBytes) + " bytes");
      std::string out;
      for (int64_t k = 0; k < b.i; ++k)
        out += a.s;
      return Value::str(out);
    }
    if (!a.isNumber() || !b.isNumber())
      error("line " + std::to_string(e.line) + ": '" + op + "' on a " +
            kindOf(a) + " and a " + kindOf(b));
    return arith(op, a, b);
  }
  case Expr::K::Cond: {
    if (truthy(eval(*e.args[0], env)))
      return eval(*e.args[1], env);
    return e.args[2] ? eval(*e.args[2], env) : Value();
  }
  case Expr::K::ListLit: {
    List l;
    for (const ExprP &x : e.args)
      l.push_back(eval(*x, env));
    return Value::ofList(l);
  }
  case Expr::K::DictLit: {
    Value d = Value::ofDict();
    for (size_t k = 0; k + 1 < e.args.size(); k += 2)
      d.set(toStr(eval(*e.args[k], env)), eval(*e.args[k + 1], env));
    return d;
  }
  }
  return Value();
}

bool runTest(const std::string &name, const Value &v, Args &args, Env &env) {
  auto need = [&](size_t n) {
    if (args.size() < n)
      error("test '" + name + "' needs an argument");
  };
  if (name == "defined")
    return !v.isUndefined();
  if (name == "undefined")
    return v.isUndefined();
  if (name == "none")
    return v.t == Value::T::None;
  if (name == "string")
    return v.t == Value::T::Str;
  if (name == "number")
    return v.t == Value::T::Int || v.t == Value::T::Float;
  if (name == "integer")
    return v.t == Value::T::Int;
  if (name == "float")
    return v.t == Value::T::Float;
  if (name == "boolean")
    return v.t == Value::T::Bool;
  if (name == "true")
    return v.t == Value::T::Bool && v.b;
  if (name == "false")
    return v.t == Value::T::Bool && !v.b;
  if (name == "mapping")
    return v.t == Value::T::Dict;
  if (name == "iterable")
    return v.t == Value::T::List || v.t == Value::T::Dict ||
           v.t == Value::T::Str;
  if (name == "sequence")
    return v.t == Value::T::List || v.t == Value::T::Str ||
           v.t == Value::T::Dict;
  if (name == "callable")
    return v.t == Value::T::Func;
  if (name == "even" || name == "odd") {
    if (v.t != Value::T::Int)
      error("test '" + name + "' needs an integer");
    return (v.i % 2 == 0) == (name == "even");
  }
  if (name == "divisibleby") {
    need(1);
    return args[0].number() != 0 &&
           std::fmod(v.number(), args[0].number()) == 0;
  }
  if (name == "eq" || name == "equalto" || name == "sameas") {
    need(1);
    return equal(v, args[0]);
  }
  if (name == "ne") {
    need(1);
    return !equal(v, args[0]);
  }
  if (name == "lt" || name == "gt" || name == "le" || name == "ge" ||
      name == "lessthan" || name == "greaterthan") {
    need(1);
    int c = compare(v, args[0]);
    return name == "lt" || name == "lessthan"      ? c < 0
           : name == "gt" || name == "greaterthan" ? c > 0
           : name == "le"                          ? c <= 0
                                                   : c >= 0;
  }
  if (name == "in") {
    need(1);
    return contains(args[0], v);
  }
  if (name == "lower" || name == "upper") {
    if (v.t != Value::T::Str)
      return false;
    for (char c : v.s) {
      unsigned char u = static_cast<unsigned char>(c);
      if (name == "lower" ? std::isupper(u) : std::islower(u))
        return false;
    }
    return true;
  }
  (void)env;
  error("unknown test '" + name + "'");
}

/// select/reject/selectattr/rejectattr: keep the items that pass (or fail).
Value selectItems(const Value &v, Args &a, bool attr, bool keep, Env &env) {
  List out;
  size_t first = 0;
  std::string attribute;
  if (attr) {
    if (a.empty())
      error("selectattr/rejectattr need an attribute");
    attribute = toStr(a[0]);
    first = 1;
  }
  std::string test = a.size() > first ? toStr(a[first]) : "";
  Args testArgs(a.begin() + std::min(a.size(), first + 1), a.end());
  for (const Value &item : iterate(v)) {
    Value subject = attr ? getAttr(item, attribute) : item;
    bool pass =
        test.empty() ? truthy(subject) : runTest(test, subject, testArgs, env);
    if (pass == keep)
      out.push_back(item);
  }
  return Value::ofList(out);
}

Value applyFilter(const std::string &name, Value v, Args &a, Kwargs &kw,
                  Env &env) {
  if (name == "trim")
    return Value::str(
        strip(toStr(v), strArg(a, kw, 0, "chars", kSpaces), true, true));
  if (name == "length" || name == "count")
    return Value::integer(lengthOf(v));
  if (name == "tojson") {
    const Value *ind = arg(a, kw, 0, "indent");
    const Value *sort = kwarg(kw, "sort_keys");
    std::string out;
    toJson(v, out,
           ind && ind->t == Value::T::Int ? static_cast<int>(ind->i) : -1, 0,
           sort && truthy(*sort));
    return Value::str(out);
  }
  if (name == "upper" || name == "lower")
    return callValue(method(Value::str(toStr(v)), name), a, kw);
  if (name == "title")
    return Value::str(title(toStr(v)));
  if (name == "capitalize")
    return Value::str(capitalize(toStr(v)));
  if (name == "default" || name == "d") {
    const Value *dflt = arg(a, kw, 0, "default_value");
    const Value *boolean = arg(a, kw, 1, "boolean");
    bool useDefault =
        v.isUndefined() || (boolean && truthy(*boolean) && !truthy(v));
    return useDefault ? (dflt ? *dflt : Value::str("")) : v;
  }
  if (name == "first" || name == "last") {
    List items = iterate(v);
    if (items.empty())
      return Value();
    return name == "first" ? items.front() : items.back();
  }
  if (name == "join") {
    std::string sep = strArg(a, kw, 0, "d", "");
    const Value *attribute = arg(a, kw, 1, "attribute");
    std::string out;
    bool first = true;
    for (const Value &item : iterate(v)) {
      out += (first ? "" : sep) +
             toStr(attribute ? getAttr(item, toStr(*attribute)) : item);
      first = false;
    }
    return Value::str(out);
  }
  if (name == "list")
    return Value::ofList(iterate(v));
  if (name == "string" || name == "safe" || name == "e" || name == "escape" ||
      name == "forceescape")
    return name == "e" || name == "escape" || name == "forceescape"
               ? Value::str(toStr(v))
           : v.t == Value::T::Str ? v
                                  : Value::str(toStr(v));
  if (name == "int") {
    if (v.t == Value::T::Str) {
      try {
        return Value::integer(std::stoll(strip(v.s, kSpaces, true, true)));
      } catch (...) {
        return Value::integer(0);
      }
    }
    return Value::integer(static_cast<int64_t>(v.number()));
  }
  if (name == "float") {
    if (v.t == Value::T::Str) {
      try {
        return Value::real(std::stod(v.s));
      } catch (...) {
        return Value::real(0);
      }
    }
    return Value::real(v.number());
  }
  if (name == "abs")
    return v.t == Value::T::Float
               ? Value::real(std::fabs(v.f))
               : Value::integer(std::llabs(static_cast<int64_t>(v.number())));
  if (name == "round") {
    const Value *prec = arg(a, kw, 0, "precision");
    double scale = std::pow(10.0, prec ? prec->number() : 0);
    return Value::real(std::round(v.number() * scale) / scale);
  }
  if (name == "replace") {
    const Value *c = arg(a, kw, 2, "count");
    return Value::str(replaceAll(toStr(v), strArg(a, kw, 0, "old", ""),
                                 strArg(a, kw, 1, "new", ""),
                                 c && c->t == Value::T::Int ? c->i : -1));
  }
  if (name == "items")
    return callValue(
        method(v.t == Value::T::Dict ? v : Value::ofDict(), "items"), a, kw);
  if (name == "dictsort") {
    if (v.t != Value::T::Dict)
      error("dictsort needs a dict");
    Dict d = *v.dict;
    std::stable_sort(d.begin(), d.end(),
                     [](auto &x, auto &y) { return x.first < y.first; });
    List out;
    for (auto &[k, val] : d)
      out.push_back(Value::ofList({Value::str(k), val}));
    return Value::ofList(out);
  }
  if (name == "select" || name == "reject")
    return selectItems(v, a, false, name == "select", env);
  if (name == "selectattr" || name == "rejectattr")
    return selectItems(v, a, true, name == "selectattr", env);
  if (name == "map") {
    List out;
    const Value *attribute = kwarg(kw, "attribute");
    const Value *dflt = kwarg(kw, "default");
    for (const Value &item : iterate(v)) {
      if (attribute) {
        Value x = getAttr(item, toStr(*attribute));
        out.push_back(x.isUndefined() && dflt ? *dflt : x);
      } else {
        if (a.empty())
          error("map needs a filter name or attribute=");
        Args rest(a.begin() + 1, a.end());
        Kwargs none;
        out.push_back(applyFilter(toStr(a[0]), item, rest, none, env));
      }
    }
    return Value::ofList(out);
  }
  if (name == "unique") {
    List out;
    for (const Value &item : iterate(v))
      if (std::none_of(out.begin(), out.end(),
                       [&](const Value &o) { return equal(o, item); }))
        out.push_back(item);
    return Value::ofList(out);
  }
  if (name == "sort") {
    List items = iterate(v);
    const Value *reverse = arg(a, kw, 0, "reverse");
    const Value *attribute = kwarg(kw, "attribute");
    std::stable_sort(items.begin(), items.end(),
                     [&](const Value &x, const Value &y) {
                       Value p = attribute ? getAttr(x, toStr(*attribute)) : x;
                       Value q = attribute ? getAttr(y, toStr(*attribute)) : y;
                       return compare(p, q) < 0;
                     });
    if (reverse && truthy(*reverse))
      std::reverse(items.begin(), items.end());
    return Value::ofList(items);
  }
  if (name == "reverse") {
    if (v.t == Value::T::Str) {
      List chars = iterate(v);
      std::string out;
      for (auto it = chars.rbegin(); it != chars.rend(); ++it)
        out += it->s;
      return Value::str(out);
    }
    List items = iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::ofList(items);
  }
  if (name == "sum") {
    Value total = Value::integer(0);
    const Value *attribute = kwarg(kw, "attribute");
    for (const Value &item : iterate(v))
      total = arith("+", total,
                    attribute ? getAttr(item, toStr(*attribute)) : item);
    return total;
  }
  if (name == "min" || name == "max") {
    List items = iterate(v);
    if (items.empty())
      return Value();
    Value best = items[0];
    for (const Value &item : items)
      if ((compare(item, best) < 0) == (name == "min") && !equal(item, best))
        best = item;
    return best;
  }
  if (name == "indent") {
    const Value *w = arg(a, kw, 0, "width");
    const Value *firstV = arg(a, kw, 1, "first");
    const Value *blankV = arg(a, kw, 2, "blank");
    std::string pad =
        w && w->t == Value::T::Str
            ? w->s
            : std::string(static_cast<size_t>(w ? w->number() : 4), ' ');
    std::string s = toStr(v), out;
    bool first = true;
    size_t k = 0;
    while (k <= s.size()) {
      size_t e = s.find('\n', k);
      std::string lineText =
          s.substr(k, e == std::string::npos ? std::string::npos : e - k);
      bool indentIt = first
                          ? (firstV && truthy(*firstV))
                          : (!lineText.empty() || (blankV && truthy(*blankV)));
      out += (indentIt ? pad : "") + lineText;
      if (e == std::string::npos)
        break;
      out += '\n';
      k = e + 1;
      first = false;
    }
    return Value::str(out);
  }
  if (name == "wordcount") {
    Args none;
    Kwargs noKw;
    return Value::integer(
        lengthOf(callValue(method(Value::str(toStr(v)), "split"), none, noKw)));
  }
  error("unknown filter '" + name + "'");
}

void render(const Node &n, Env &env);

void assign(Env &env, const std::vector<std::string> &targets, Value v) {
  if (targets.size() == 1) {
    env.set(targets[0], std::move(v));
    return;
  }
  List items = iterate(v);
  if (items.size() != targets.size())
    error("cannot unpack " + std::to_string(items.size()) + " values into " +
          std::to_string(targets.size()) + " names");
  for (size_t k = 0; k < targets.size(); ++k)
    env.set(targets[k], items[k]);
}

void render(const Node &n, Env &env) {
  Nesting nesting(env.depth, kMaxEvalDepth, tooDeepEval);
  if (env.out.size() > kMaxStringBytes)
    error("the template's output passed " + std::to_string(kMaxStringBytes) +
          " bytes");
  switch (n.k) {
  case Node::K::Seq:
    for (const auto &kid : n.kids) {
      render(*kid, env);
      if (env.control.k != LoopControl::K::None)
        return;
    }
    return;
  case Node::K::Text:
    env.out += n.text;
    return;
  case Node::K::Output:
    env.out += toStr(eval(*n.exprs[0], env));
    return;
  case Node::K::If:
    for (size_t k = 0; k < n.exprs.size(); ++k)
      if (truthy(eval(*n.exprs[k], env))) {
        render(*n.kids[k], env);
        return;
      }
    if (n.kids.size() > n.exprs.size())
      render(*n.kids.back(), env);
    return;
  case Node::K::For: {
    List items = iterate(eval(*n.exprs[0], env));
    if (n.exprs.size() > 1) {
      // The filter condition sees each item under the loop's names.
      List kept;
      for (const Value &item : items) {
        env.scopes.emplace_back();
        assign(env, n.targets, item);
        if (truthy(eval(*n.exprs[1], env)))
          kept.push_back(item);
        env.scopes.pop_back();
      }
      items = std::move(kept);
    }
    if (items.empty()) {
      if (n.kids.size() > 1)
        render(*n.kids[1], env);
      return;
    }
    int64_t len = static_cast<int64_t>(items.size());
    for (int64_t k = 0; k < len; ++k) {
      env.scopes.emplace_back();
      assign(env, n.targets, items[k]);
      Value loop = Value::ofDict();
      loop.set("index", Value::integer(k + 1));
      loop.set("index0", Value::integer(k));
      loop.set("revindex", Value::integer(len - k));
      loop.set("revindex0", Value::integer(len - k - 1));
      loop.set("first", Value::boolean(k == 0));
      loop.set("last", Value::boolean(k == len - 1));
      loop.set("length", Value::integer(len));
      loop.set("previtem", k > 0 ? items[k - 1] : Value());
      loop.set("nextitem", k + 1 < len ? items[k + 1] : Value());
      loop.set("cycle", Value::func([k](Args &args, Kwargs &) {
                 if (args.empty())
                   error("loop.cycle needs arguments");
                 return args[static_cast<size_t>(k) % args.size()];
               }));
      env.set("loop", loop);
      render(*n.kids[0], env);
      env.scopes.pop_back();
      if (env.control.k == LoopControl::K::Break) {
        env.control.k = LoopControl::K::None;
        break;
      }
      env.control.k = LoopControl::K::None;
    }
    return;
  }
  case Node::K::Set: {
    Value v = eval(*n.exprs[0], env);
    if (!n.attrOf.empty()) {
      const Value *ns = env.lookup(n.attrOf);
      if (!ns || !ns->ns)
        error("line " + std::to_string(n.line) + ": '" + n.attrOf +
              "' is not a namespace");
      Value target = *ns; // shares the dict
      target.set(n.targets[0], std::move(v));
      return;
    }
    assign(env, n.targets, std::move(v));
    return;
  }
  case Node::K::SetBlock: {
    std::string saved;
    saved.swap(env.out);
    render(*n.kids[0], env);
    std::string body;
    body.swap(env.out);
    env.out = std::move(saved);
    env.set(n.targets[0], Value::str(body));
    return;
  }
  case Node::K::Macro: {
    const Node *macro = &n;
    // Macros see the globals and their arguments.
    std::unordered_map<std::string, Value> globals = env.scopes.front();
    env.set(n.text, Value::func([macro, globals](Args &args, Kwargs &kw) {
              Env local;
              local.scopes.push_back(globals);
              local.scopes.emplace_back();
              for (size_t k = 0; k < macro->targets.size(); ++k) {
                const Value *given = k < args.size()
                                         ? &args[k]
                                         : kwarg(kw, macro->targets[k].c_str());
                if (given)
                  local.set(macro->targets[k], *given);
                else if (macro->defaults[k])
                  local.set(macro->targets[k],
                            eval(*macro->defaults[k], local));
                else
                  local.set(macro->targets[k], Value());
              }
              render(*macro->kids[0], local);
              return Value::str(local.out);
            }));
    return;
  }
  case Node::K::Break:
    env.control.k = LoopControl::K::Break;
    return;
  case Node::K::Continue:
    env.control.k = LoopControl::K::Continue;
    return;
  }
}

std::unordered_map<std::string, Value> builtins() {
  std::unordered_map<std::string, Value> g;
  g["raise_exception"] = Value::func([](Args &a, Kwargs &) -> Value {
    throw rt::Error(a.empty() ? "the chat template raised an error"
                              : toStr(a[0]));
  });
  g["range"] = Value::func([](Args &a, Kwargs &) {
    int64_t start = 0, stop = 0, step = 1;
    if (a.size() == 1) {
      stop = static_cast<int64_t>(a[0].number());
    } else if (a.size() >= 2) {
      start = static_cast<int64_t>(a[0].number());
      stop = static_cast<int64_t>(a[1].number());
      if (a.size() > 2)
        step = static_cast<int64_t>(a[2].number());
    }
    if (step == 0)
      error("range() step cannot be zero");
    List out;
    for (int64_t k = start; step > 0 ? k < stop : k > stop; k += step) {
      out.push_back(Value::integer(k));
      if (out.size() > 1000000)
        error("range() too long");
    }
    return Value::ofList(out);
  });
  g["namespace"] = Value::func([](Args &, Kwargs &kw) {
    Value ns = Value::ofDict();
    ns.ns = true;
    for (auto &[k, v] : kw)
      ns.set(k, v);
    return ns;
  });
  g["dict"] = Value::func([](Args &, Kwargs &kw) {
    Value d = Value::ofDict();
    for (auto &[k, v] : kw)
      d.set(k, v);
    return d;
  });
  g["strftime_now"] = Value::func([](Args &a, Kwargs &) {
    std::string fmt = a.empty() ? "%Y-%m-%d" : toStr(a[0]);
    std::time_t now = std::time(nullptr);
    std::tm tm;
    localtime_r(&now, &tm);
    char buf[256];
    size_t n = std::strftime(buf, sizeof buf, fmt.c_str(), &tm);
    return Value::str(std::string(buf, n));
  });
  return g;
}

} // namespace

// A template comes with the model: whatever it does ends in rt::Error (a
// library exception or a limit), never in a crash of the server.
Template::Template(const std::string &source) {
  try {
    root_ = Parser(split(source)).parseAll();
  } catch (const rt::Error &) {
    throw;
  } catch (const std::exception &e) {
    rt::fail("the chat template cannot be parsed: {}", e.what());
  }
}

Template::~Template() = default;

std::string Template::render(const nlohmann::ordered_json &context) const {
  Env env;
  env.scopes.push_back(builtins());
  if (context.is_object())
    for (auto it = context.begin(); it != context.end(); ++it)
      env.scopes.front()[it.key()] = fromJson(it.value());
  env.scopes.emplace_back();
  try {
    jinja::render(*root_, env);
  } catch (const rt::Error &) {
    throw;
  } catch (const std::exception &e) {
    rt::fail("the chat template failed: {}", e.what());
  }
  return env.out;
}

} // namespace llmc::server::jinja
