//===- AlignedBuffer.h - zeroed, 64-byte aligned byte buffer ----*- C++ -*-===//
#ifndef LLMC_RUNTIME_SUPPORT_ALIGNEDBUFFER_H
#define LLMC_RUNTIME_SUPPORT_ALIGNEDBUFFER_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace llmc::rt {

class AlignedBuffer {
public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t size) : size_(size) {
    size_t rounded = (size + 63) / 64 * 64;
    void *p = std::aligned_alloc(64, rounded ? rounded : 64);
    if (!p)
      throw std::bad_alloc();
    std::memset(p, 0, rounded);
    data_.reset(static_cast<uint8_t *>(p));
  }
  uint8_t *data() const { return data_.get(); }
  size_t size() const { return size_; }

private:
  struct Free {
    void operator()(uint8_t *p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> data_;
  size_t size_ = 0;
};

} // namespace llmc::rt

#endif // LLMC_RUNTIME_SUPPORT_ALIGNEDBUFFER_H
