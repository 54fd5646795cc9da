//===- Unicode.h - normalization and case mapping (utf8proc) ----*- C++ -*-===//
//
// What tokenizer normalizers need from Unicode, from Debian's utf8proc
// rather than tables of our own.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_SUPPORT_UNICODE_H
#define LLMC_RUNTIME_SUPPORT_UNICODE_H

#include <string>

namespace llmc::rt {

enum class UnicodeForm { NFC, NFD, NFKC, NFKD };

/// `s` in normalization form `form`. Text that is not valid UTF-8 is
/// returned unchanged (the tokenizer handles its bytes as they are).
std::string normalizeUnicode(const std::string &s, UnicodeForm form);

/// `s` with every code point mapped to lower case, one at a time (Unicode's
/// full mapping without context, as the reference tokenizers library);
/// invalid UTF-8 bytes are kept.
std::string lowercaseUnicode(const std::string &s);

} // namespace llmc::rt

#endif // LLMC_RUNTIME_SUPPORT_UNICODE_H
