//===- MappedFile.h - read-only memory-mapped file --------------*- C++ -*-===//
#ifndef LLMC_RUNTIME_SUPPORT_MAPPEDFILE_H
#define LLMC_RUNTIME_SUPPORT_MAPPEDFILE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmc::rt {

class MappedFile {
public:
  /// Maps `path` read-only; throws rt::Error naming the file on failure.
  explicit MappedFile(const std::string &path);
  ~MappedFile();
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;

  const uint8_t *data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const {
    return {reinterpret_cast<const char *>(data_), size_};
  }
  const std::string &path() const { return path_; }

private:
  std::string path_;
  const uint8_t *data_ = nullptr;
  size_t size_ = 0;
};

/// Drops the pages wholly inside [p, p + n) of a read-only file mapping
/// from this process's resident memory (they are read again from the file
/// if touched later); partial pages at either end stay. Best effort.
void releasePages(const uint8_t *p, size_t n);

/// Reads a whole file; throws rt::Error naming it on failure.
std::string readFile(const std::string &path);

} // namespace llmc::rt

#endif // LLMC_RUNTIME_SUPPORT_MAPPEDFILE_H
