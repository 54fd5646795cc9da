//===- Unicode.cpp - normalization and case mapping (utf8proc) ------------===//
#include "runtime/support/Unicode.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

namespace llmc::rt {

std::string normalizeUnicode(const std::string &s, UnicodeForm form) {
  int options = UTF8PROC_STABLE;
  switch (form) {
  case UnicodeForm::NFC:
    options |= UTF8PROC_COMPOSE;
    break;
  case UnicodeForm::NFD:
    options |= UTF8PROC_DECOMPOSE;
    break;
  case UnicodeForm::NFKC:
    options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
    break;
  case UnicodeForm::NFKD:
    options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
    break;
  }
  utf8proc_uint8_t *out = nullptr;
  // With the length given, NUL bytes are text like any other.
  utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t *>(s.data()),
                   static_cast<utf8proc_ssize_t>(s.size()), &out,
                   static_cast<utf8proc_option_t>(options));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out,
                                                                &std::free);
  if (n < 0)
    return s;
  return std::string(reinterpret_cast<const char *>(out),
                     static_cast<size_t>(n));
}

std::string lowercaseUnicode(const std::string &s) {
  std::string out;
  out.reserve(s.size());
  const auto *p = reinterpret_cast<const utf8proc_uint8_t *>(s.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(s.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t len = utf8proc_iterate(p, left, &cp);
    if (len <= 0) { // not UTF-8: the byte as it is
      out += static_cast<char>(*p);
      ++p;
      --left;
      continue;
    }
    // Unicode's full lower-case mapping differs from the simple one for a
    // single character: U+0130 (I with dot above) becomes i + U+0307, as
    // Rust's char::to_lowercase (the reference library) gives.
    if (cp == 0x130) {
      out += "i\xcc\x87";
      p += len;
      left -= len;
      continue;
    }
    utf8proc_uint8_t buf[4];
    utf8proc_ssize_t m = utf8proc_encode_char(utf8proc_tolower(cp), buf);
    out.append(reinterpret_cast<const char *>(buf), static_cast<size_t>(m));
    p += len;
    left -= len;
  }
  return out;
}

} // namespace llmc::rt
