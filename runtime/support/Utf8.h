//===- Utf8.h - UTF-8 encoding and decoding ---------------------*- C++ -*-===//
#ifndef LLMC_RUNTIME_SUPPORT_UTF8_H
#define LLMC_RUNTIME_SUPPORT_UTF8_H

#include <string>
#include <vector>

namespace llmc::rt {

/// Appends the UTF-8 encoding of code point `cp`.
inline void appendUtf8(std::string &out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

inline std::string encodeUtf8(char32_t cp) {
  std::string out;
  appendUtf8(out, cp);
  return out;
}

/// The code points of UTF-8 text; a byte that starts no valid sequence
/// stands for itself.
inline std::vector<char32_t> decodeUtf8(const std::string &s) {
  std::vector<char32_t> out;
  for (size_t k = 0; k < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[k]);
    size_t n = c < 0x80         ? 1
               : (c >> 5) == 6  ? 2
               : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4
                                : 0;
    bool ok = n > 0 && k + n <= s.size();
    for (size_t j = 1; ok && j < n; ++j)
      ok = (static_cast<unsigned char>(s[k + j]) & 0xc0) == 0x80;
    if (!ok) {
      out.push_back(c);
      ++k;
      continue;
    }
    char32_t cp = n == 1 ? c : c & (0xff >> (n + 1));
    for (size_t j = 1; j < n; ++j)
      cp = (cp << 6) | (static_cast<unsigned char>(s[k + j]) & 0x3f);
    out.push_back(cp);
    k += n;
  }
  return out;
}

} // namespace llmc::rt

#endif // LLMC_RUNTIME_SUPPORT_UTF8_H
