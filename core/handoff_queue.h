// Messages for one worker from other threads, with an eventfd to wake it.
//
// The producer pushes under the lock and only then writes the eventfd, and only
// when the queue goes from empty to non-empty: a batch of connections costs one
// wake-up. The consumer reads the eventfd first and then swaps the whole queue
// out, so a message pushed in between is either in the swap or wakes it again.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <system_error>
#include <vector>

#include "core/unique_fd.h"

namespace epolld {

template <typename Message>
class HandoffQueue {
 public:
  HandoffQueue() : event_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (!event_fd_) throw std::system_error(errno, std::generic_category(), "eventfd");
  }

  int eventFd() const { return event_fd_.get(); }

  /// Safe to call from any thread. Leaves `batch` empty.
  void push(std::vector<Message>& batch) {
    if (batch.empty()) return;
    bool was_empty;
    {
      std::lock_guard lock(mutex_);
      was_empty = queue_.empty();
      queue_.insert(queue_.end(), std::make_move_iterator(batch.begin()),
                    std::make_move_iterator(batch.end()));
    }
    batch.clear();
    if (was_empty) wake();
  }

  /// Owning thread only: everything queued so far, in order.
  void takeAll(std::vector<Message>& out) {
    std::uint64_t count;
    // EAGAIN means a previous round already took the messages; nothing is lost.
    while (read(event_fd_.get(), &count, sizeof count) < 0 && errno == EINTR) {
    }
    std::lock_guard lock(mutex_);
    out.swap(queue_);
  }

 private:
  void wake() {
    const std::uint64_t one = 1;
    // The counter cannot overflow: it is read on every wake-up. EAGAIN would
    // mean it is already non-zero, which wakes the consumer just the same.
    while (write(event_fd_.get(), &one, sizeof one) < 0 && errno == EINTR) {
    }
  }

  UniqueFd event_fd_;
  std::mutex mutex_;
  std::vector<Message> queue_;
};

}  // namespace epolld
