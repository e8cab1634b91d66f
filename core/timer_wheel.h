// A hashed timing wheel (Varghese & Lauck) for per-connection deadlines.
//
// Rescheduling is O(1) and usually free: pushing a deadline later only stores
// the new tick; the entry stays in its old slot and is moved when that slot
// comes round. So a busy connection costs one store per event, and each entry
// is looked at about once per timeout period, never in a scan of all of them.
// Entries are intrusive: the wheel never allocates. One owning thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace epolld {

class TimerWheel {
 public:
  using Tick = std::uint64_t;

  // Embed one in each object that has a deadline.
  class Entry {
   public:
    Entry() = default;
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;
    ~Entry() { unlink(); }

    bool scheduled() const { return prev_ != nullptr; }
    Tick deadline() const { return deadline_; }

   private:
    friend class TimerWheel;
    void unlink();

    Entry* prev_ = nullptr;
    Entry* next_ = nullptr;
    Tick deadline_ = 0;
  };

  TimerWheel(std::size_t slot_count, Tick now);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;
  ~TimerWheel();

  // (Re)schedules `entry` to expire at `deadline` (clamped to the next tick).
  void schedule(Entry& entry, Tick deadline);
  void cancel(Entry& entry) { entry.unlink(); }

  // Moves the wheel to `now` and calls on_expired(entry) for every entry whose
  // deadline is at or before it. The entry is unscheduled before the call, so
  // the callback may reschedule or destroy it.
  template <typename OnExpired>
  void advance(Tick now, OnExpired&& on_expired);

  Tick now() const { return now_; }

 private:
  Entry& slotFor(Tick tick) { return slots_[tick % slots_.size()]; }
  static void linkBefore(Entry& head, Entry& entry);

  std::vector<Entry> slots_;  // each a sentinel of a circular list
  Tick now_;
};

template <typename OnExpired>
void TimerWheel::advance(Tick now, OnExpired&& on_expired) {
  // Past one full turn every slot has been visited; more turns add nothing.
  const Tick last = now;
  Tick first = now_ + 1;
  if (last >= slots_.size() && first < last - slots_.size() + 1) first = last - slots_.size() + 1;
  now_ = now;
  for (Tick tick = first; tick <= last; ++tick) {
    Entry& head = slotFor(tick);
    // Detach the slot first: entries moved back into it must not be revisited.
    Entry pending;
    if (head.next_ != &head) {
      pending.next_ = head.next_;
      pending.prev_ = head.prev_;
      pending.next_->prev_ = &pending;
      pending.prev_->next_ = &pending;
      head.next_ = head.prev_ = &head;
    }
    while (pending.next_ != nullptr && pending.next_ != &pending) {
      Entry& entry = *pending.next_;
      entry.unlink();
      if (entry.deadline_ <= now_) {
        on_expired(entry);
      } else {
        linkBefore(slotFor(entry.deadline_), entry);
      }
    }
    pending.prev_ = pending.next_ = nullptr;  // detached; nothing to unlink
  }
}

}  // namespace epolld
