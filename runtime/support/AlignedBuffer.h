//===- AlignedBuffer.h - zeroed, 64-byte aligned byte buffer ----*- C++ -*-===//
//
// Large buffers (1 MiB and up) are anonymous memory maps: zero pages that
// the kernel provides on first touch, so a KV pool or a weight buffer costs
// no resident memory and no time until it is written.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_SUPPORT_ALIGNEDBUFFER_H
#define LLMC_RUNTIME_SUPPORT_ALIGNEDBUFFER_H

#include <cstddef>
#include <cstdint>
#include <utility>

namespace llmc::rt {

class AlignedBuffer {
public:
  AlignedBuffer() = default;
  /// Zeroed; throws rt::Error naming `what` and the size when the memory
  /// cannot be had.
  explicit AlignedBuffer(size_t size, const char *what = "a buffer");
  ~AlignedBuffer() { release(); }
  AlignedBuffer(AlignedBuffer &&o) noexcept { *this = std::move(o); }
  AlignedBuffer &operator=(AlignedBuffer &&o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      capacity_ = std::exchange(o.capacity_, 0);
      mapped_ = std::exchange(o.mapped_, false);
    }
    return *this;
  }
  AlignedBuffer(const AlignedBuffer &) = delete;
  AlignedBuffer &operator=(const AlignedBuffer &) = delete;

  uint8_t *data() const { return data_; }
  size_t size() const { return size_; }

private:
  void release();
  uint8_t *data_ = nullptr;
  size_t size_ = 0, capacity_ = 0;
  bool mapped_ = false;
};

} // namespace llmc::rt

#endif // LLMC_RUNTIME_SUPPORT_ALIGNEDBUFFER_H
