//===- Npy.cpp - NumPy .npy files -----------------------------------------===//
#include "runtime/support/Npy.h"
#include "runtime/support/Error.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace llmc::rt {

void writeNpy(const std::string &path, const float *data, int64_t rows,
              int64_t cols) {
  std::string header = fmt::format(
      "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", rows,
      cols);
  // Magic (6) + version (2) + length (2) + header, padded to 64 with '\n'.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  if (!out)
    fail("{}: cannot write: {}", path, std::strerror(errno));
  out.write("\x93NUMPY\x01\x00", 8);
  uint16_t len = static_cast<uint16_t>(header.size());
  out.write(reinterpret_cast<const char *>(&len), 2);
  out << header;
  out.write(reinterpret_cast<const char *>(data),
            static_cast<std::streamsize>(rows * cols * sizeof(float)));
  if (!out)
    fail("{}: write failed", path);
}

} // namespace llmc::rt
