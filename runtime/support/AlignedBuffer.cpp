//===- AlignedBuffer.cpp - zeroed, 64-byte aligned byte buffer ------------===//
#include "runtime/support/AlignedBuffer.h"
#include "runtime/support/Error.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <sys/mman.h>

namespace llmc::rt {

namespace {
constexpr size_t kMapThreshold = size_t(1) << 20;
}

namespace {
[[noreturn]] void outOfMemory(const char *what, size_t bytes) {
  fail("out of memory: cannot allocate {} of {:.2f} GiB ({} bytes)", what,
       static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0), bytes);
}
} // namespace

AlignedBuffer::AlignedBuffer(size_t size, const char *what) : size_(size) {
  if (size > (size_t(1) << 50))
    outOfMemory(what, size);
  capacity_ = (size + 63) / 64 * 64;
  if (capacity_ == 0)
    capacity_ = 64;
  if (capacity_ >= kMapThreshold) {
    void *p = ::mmap(nullptr, capacity_, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
      outOfMemory(what, capacity_);
    // Transparent huge pages where the kernel allows them on request:
    // 512 times fewer page faults when the buffer is first filled.
    ::madvise(p, capacity_, MADV_HUGEPAGE);
    data_ = static_cast<uint8_t *>(p);
    mapped_ = true;
    return;
  }
  void *p = std::aligned_alloc(64, capacity_);
  if (!p)
    outOfMemory(what, capacity_);
  std::memset(p, 0, capacity_);
  data_ = static_cast<uint8_t *>(p);
}

void AlignedBuffer::release() {
  if (!data_)
    return;
  if (mapped_)
    ::munmap(data_, capacity_);
  else
    std::free(data_);
  data_ = nullptr;
}

} // namespace llmc::rt
