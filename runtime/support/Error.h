//===- Error.h - runtime error type -----------------------------*- C++ -*-===//
#ifndef LLMC_RUNTIME_SUPPORT_ERROR_H
#define LLMC_RUNTIME_SUPPORT_ERROR_H

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace llmc::rt {

/// Every load or run problem the user can cause: a message naming the file,
/// the field or tensor, and what was wrong.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args &&...args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

} // namespace llmc::rt

#endif // LLMC_RUNTIME_SUPPORT_ERROR_H
