//===- KernelLibrary.h - a CPU artifact's kernels, dlopen'd -----*- C++ -*-===//
#ifndef LLMC_RUNTIME_HAL_CPU_KERNELLIBRARY_H
#define LLMC_RUNTIME_HAL_CPU_KERNELLIBRARY_H

#include <cstdint>
#include <string>

namespace llmc::rt {

/// The CPU kernel entry (schema::kCpuKernelAbiVersion): the buffers' base
/// pointers, their dynamic sizes buffer after buffer, and the work items
/// [begin, end) to compute.
using KernelFn = void (*)(void *const *args, const int64_t *sizes,
                          int64_t begin, int64_t end);

class KernelLibrary {
public:
  /// Loads the shared library at `path`; throws rt::Error naming it.
  explicit KernelLibrary(const std::string &path);
  ~KernelLibrary();
  KernelLibrary(const KernelLibrary &) = delete;
  KernelLibrary &operator=(const KernelLibrary &) = delete;

  /// Kernel `name`'s entry; throws rt::Error when the library lacks it.
  KernelFn find(const std::string &name) const;
  /// The manifest digest the library was built for ("" when it has none).
  std::string manifestDigest() const;

private:
  std::string path_;
  void *handle_ = nullptr;
};

} // namespace llmc::rt

#endif // LLMC_RUNTIME_HAL_CPU_KERNELLIBRARY_H
