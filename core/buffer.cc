#include "core/buffer.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace epolld {

void Buffer::append(std::string_view bytes) {
  if (bytes.empty()) return;
  std::span<char> room = reserve(bytes.size());
  std::memcpy(room.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

std::span<char> Buffer::reserve(std::size_t min_bytes) {
  if (capacity_ - end_ < min_bytes) {
    const std::size_t used = size();
    if (capacity_ - used >= min_bytes && begin_ > 0) {
      // Enough room in total: slide the bytes to the front instead of growing.
      std::memmove(storage_.get(), storage_.get() + begin_, used);
    } else {
      const std::size_t new_capacity = std::max({capacity_ * 2, used + min_bytes, std::size_t{256}});
      auto bigger = std::make_unique_for_overwrite<char[]>(new_capacity);
      if (used > 0) std::memcpy(bigger.get(), storage_.get() + begin_, used);
      storage_ = std::move(bigger);
      capacity_ = new_capacity;
    }
    begin_ = 0;
    end_ = used;
  }
  return {storage_.get() + end_, capacity_ - end_};
}

void Buffer::consume(std::size_t n) {
  assert(n <= size());
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
}

void Buffer::releaseIfEmpty() {
  if (!empty() || !storage_) return;
  storage_.reset();
  capacity_ = 0;
  begin_ = end_ = 0;
}

}  // namespace epolld
