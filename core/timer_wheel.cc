#include "core/timer_wheel.h"

#include <algorithm>
#include <cassert>

namespace epolld {

void TimerWheel::Entry::unlink() {
  if (prev_ == nullptr) return;
  prev_->next_ = next_;
  next_->prev_ = prev_;
  prev_ = next_ = nullptr;
}

TimerWheel::TimerWheel(std::size_t slot_count, Tick now) : slots_(slot_count), now_(now) {
  assert(slot_count > 0);
  for (Entry& head : slots_) head.prev_ = head.next_ = &head;
}

TimerWheel::~TimerWheel() {
  // Entries may outlive the wheel only unscheduled: detach whatever is left.
  for (Entry& head : slots_) {
    while (head.next_ != &head) head.next_->unlink();
    head.prev_ = head.next_ = nullptr;
  }
}

void TimerWheel::linkBefore(Entry& head, Entry& entry) {
  entry.prev_ = head.prev_;
  entry.next_ = &head;
  head.prev_->next_ = &entry;
  head.prev_ = &entry;
}

void TimerWheel::schedule(Entry& entry, Tick deadline) {
  deadline = std::max(deadline, now_ + 1);
  if (entry.scheduled() && deadline >= entry.deadline_) {
    entry.deadline_ = deadline;  // lazily moved when its current slot comes round
    return;
  }
  entry.unlink();
  entry.deadline_ = deadline;
  linkBefore(slotFor(deadline), entry);
}

}  // namespace epolld
