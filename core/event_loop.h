// The skeleton every engine thread runs: one epoll instance, the eventfd that
// wakes it when other threads queue messages, a timerfd, and the thread itself.
// The Acceptor and each Worker own one and say what their events mean; the
// trigger mode lives here, so that registering and re-arming an fd is written
// once:
//
//   edge   every fd EPOLLET|EPOLLONESHOT, re-armed as the last step of
//          handling it, so one event at a time, on one thread, touches it;
//   level  plain level-triggered registrations that persist, changed only
//          when what the owner waits for changes.
//
// Thread ownership: after start(), everything here belongs to the loop's
// thread; other threads only write the wake-up eventfd (HandoffQueue::push).
#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "config/config.h"
#include "core/metrics/listener_stats.h"
#include "core/poller.h"
#include "core/unique_fd.h"

namespace epolld {

class EventLoop {
 public:
  // What an owner makes of its loop. Each call runs on the loop's thread.
  class Handler {
   public:
    virtual void onWakeUp() = 0;  // another thread queued messages
    virtual void onTimer() = 0;   // the timer expired
    // An fd the owner watches with `tag` is ready for `events`.
    virtual void onReady(void* tag, std::uint32_t events) = 0;
    // Every event of one wait has been handled: what a handler closed during
    // it may be freed now, since no event still to come refers to it.
    virtual void afterBatch() = 0;
    // Checked before each wait; the thread ends once it is true.
    virtual bool finished() const = 0;

   protected:
    ~Handler() = default;
  };

  // `wake_fd` is the owner's queue eventfd; the loop only watches it. With
  // `counters`, it counts its wake-ups and events there and stamps each
  // iteration (a worker's /healthz and watchdog look at that).
  EventLoop(config::Trigger trigger, int wake_fd, metrics::WorkerCounters* counters = nullptr);
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop();

  // Runs `handler` on a new thread named `name` (top -H, perf and
  // /proc/PID/task/*/comm show it; at most 15 bytes).
  void start(Handler& handler, const std::string& name);
  void join();

  // The timer fires after `first`, then every `period` (zero: once). A zero
  // `first` disarms it. Returns false with errno set.
  bool setTimer(std::chrono::nanoseconds first, std::chrono::nanoseconds period = {});

  // Starts watching `fd` for `wanted` (EPOLLIN, EPOLLOUT; 0 = nothing yet).
  bool watch(int fd, std::uint32_t wanted, void* tag);
  // The last step of handling `fd`: waits for `wanted` from now on. In edge
  // mode this re-arms the one-shot registration; in level mode it costs a
  // syscall only when `wanted` differs from `registered`, which it updates.
  bool rearm(int fd, std::uint32_t wanted, std::uint32_t& registered, void* tag);
  // Before closing `fd`: its interest lives with the open file, and the fd
  // number may be reused at once.
  bool forget(int fd);

  config::Trigger trigger() const { return trigger_; }
  void assertOwnThread() const;

 private:
  void run(Handler& handler);
  std::uint32_t mode() const;
  void rearmOwn(int fd, std::uint64_t tag);

  const config::Trigger trigger_;
  const int wake_fd_;
  metrics::WorkerCounters* const counters_;
  Poller poller_;
  UniqueFd timer_fd_;
  std::thread thread_;
  std::thread::id thread_id_{};
};

}  // namespace epolld
