#include "core/event_loop.h"

#include <pthread.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <spdlog/spdlog.h>

namespace epolld {
namespace {

// epoll data of the loop's own fds; owners tag theirs with an object's
// address, which is never this small.
constexpr std::uint64_t kWakeTag = 1;
constexpr std::uint64_t kTimerTag = 2;
constexpr int kMaxEvents = 256;

timespec toTimespec(std::chrono::nanoseconds span) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(span);
  return {.tv_sec = static_cast<time_t>(seconds.count()), .tv_nsec = static_cast<long>((span - seconds).count())};
}

}  // namespace

EventLoop::EventLoop(config::Trigger trigger, int wake_fd, metrics::WorkerCounters* counters)
    : trigger_(trigger), wake_fd_(wake_fd), counters_(counters), timer_fd_(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) {
  if (!timer_fd_) throw std::system_error(errno, std::generic_category(), "timerfd_create");
  if (!poller_.add(wake_fd_, EPOLLIN | mode(), kWakeTag) || !poller_.add(timer_fd_.get(), EPOLLIN | mode(), kTimerTag)) {
    throw std::system_error(errno, std::generic_category(), "epoll_ctl");
  }
}

EventLoop::~EventLoop() { join(); }

void EventLoop::start(Handler& handler, const std::string& name) {
  thread_ = std::thread([this, &handler] { run(handler); });
  // Naming is a courtesy to whoever reads `top -H`: a failure changes nothing else.
  if (const int error = pthread_setname_np(thread_.native_handle(), name.substr(0, 15).c_str()); error != 0) {
    spdlog::warn("cannot name thread {}: {}", name, std::strerror(error));
  }
}

void EventLoop::join() {
  if (thread_.joinable()) thread_.join();
}

void EventLoop::assertOwnThread() const { assert(std::this_thread::get_id() == thread_id_); }

std::uint32_t EventLoop::mode() const {
  return trigger_ == config::Trigger::kEdge ? EPOLLET | EPOLLONESHOT : 0u;
}

bool EventLoop::setTimer(std::chrono::nanoseconds first, std::chrono::nanoseconds period) {
  const itimerspec spec{.it_interval = toTimespec(period), .it_value = toTimespec(first)};
  return timerfd_settime(timer_fd_.get(), 0, &spec, nullptr) == 0;
}

bool EventLoop::watch(int fd, std::uint32_t wanted, void* tag) {
  return poller_.add(fd, wanted | mode(), reinterpret_cast<std::uint64_t>(tag));
}

bool EventLoop::rearm(int fd, std::uint32_t wanted, std::uint32_t& registered, void* tag) {
  // Level-triggered registrations persist: only a change costs a syscall.
  if (trigger_ == config::Trigger::kLevel && wanted == registered) return true;
  registered = wanted;
  return poller_.modify(fd, wanted | mode(), reinterpret_cast<std::uint64_t>(tag));
}

bool EventLoop::forget(int fd) { return poller_.remove(fd); }

void EventLoop::rearmOwn(int fd, std::uint64_t tag) {
  if (trigger_ != config::Trigger::kEdge) return;
  if (!poller_.modify(fd, EPOLLIN | mode(), tag)) {
    // Only ENOMEM can get here. The loop is deaf to that fd from now on: a
    // worker deaf to its timer or its queue stops turning its loop, so
    // /healthz says 503 and the watchdog restarts the daemon.
    spdlog::critical("epoll_ctl(MOD) of the loop's own fd {}: {}", fd, std::strerror(errno));
  }
}

void EventLoop::run(Handler& handler) {
  thread_id_ = std::this_thread::get_id();
  epoll_event events[kMaxEvents];
  while (!handler.finished()) {
    const std::span<epoll_event> ready = poller_.wait(events, -1);
    if (counters_) {
      counters_->wakeups.increment();
      counters_->events.add(ready.size());
      counters_->last_loop.set(std::chrono::steady_clock::now());
    }
    for (const epoll_event& event : ready) {
      switch (event.data.u64) {
        case kWakeTag:
          handler.onWakeUp();
          rearmOwn(wake_fd_, kWakeTag);
          break;
        case kTimerTag: {
          std::uint64_t expirations;
          // EAGAIN: a spurious wake-up, or a timer re-set since it fired;
          // the handler looks at the clock, not at the count.
          while (read(timer_fd_.get(), &expirations, sizeof expirations) < 0 && errno == EINTR) {
          }
          handler.onTimer();
          rearmOwn(timer_fd_.get(), kTimerTag);
          break;
        }
        default:
          handler.onReady(event.data.ptr, event.events);
      }
    }
    handler.afterBatch();
  }
}

}  // namespace epolld
