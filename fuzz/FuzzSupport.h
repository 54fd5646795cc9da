//===- FuzzSupport.h - what every fuzz target shares ------------*- C++ -*-===//
#ifndef LLMC_FUZZ_FUZZSUPPORT_H
#define LLMC_FUZZ_FUZZSUPPORT_H

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

namespace llmc::fuzz {

/// `size` bytes of `data` in a file of this process (the parsers read
/// files; rewritten for every input).
inline std::string asFile(const uint8_t *data, size_t size, const char *name) {
  std::string path =
      "/tmp/llmc-fuzz-" + std::to_string(::getpid()) + "-" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char *>(data),
             static_cast<std::streamsize>(size));
  return path;
}

} // namespace llmc::fuzz

#endif // LLMC_FUZZ_FUZZSUPPORT_H
