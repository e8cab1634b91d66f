// A byte queue with read and write indices (muduo's Buffer, without the
// prepend area): bytes are appended at the back and consumed from the front.
// An empty buffer can give its memory back, so an idle connection holds none.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace epolld {

class Buffer {
 public:
  Buffer() = default;
  Buffer(Buffer&&) noexcept = default;
  Buffer& operator=(Buffer&&) noexcept = default;

  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return end_ == begin_; }
  std::size_t capacity() const { return capacity_; }
  std::string_view view() const { return {storage_.get() + begin_, size()}; }

  void append(std::string_view bytes);

  // Room for at least `min_bytes` at the back; fill it, then commit() what was written.
  std::span<char> reserve(std::size_t min_bytes);
  void commit(std::size_t written) { end_ += written; }

  void consume(std::size_t n);
  void clear() { begin_ = end_ = 0; }

  // Frees the storage if the buffer is empty.
  void releaseIfEmpty();

 private:
  std::unique_ptr<char[]> storage_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace epolld
