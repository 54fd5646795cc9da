//===- Npy.h - NumPy .npy files ---------------------------------*- C++ -*-===//
#ifndef LLMC_RUNTIME_SUPPORT_NPY_H
#define LLMC_RUNTIME_SUPPORT_NPY_H

#include <cstdint>
#include <string>

namespace llmc::rt {

/// Writes a little-endian float32 array of shape [rows, cols] (format 1.0).
void writeNpy(const std::string &path, const float *data, int64_t rows,
              int64_t cols);

} // namespace llmc::rt

#endif // LLMC_RUNTIME_SUPPORT_NPY_H
