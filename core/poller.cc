#include "core/poller.h"

#include <cerrno>
#include <system_error>

namespace epolld {

Poller::Poller() : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {
  if (!epoll_fd_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

bool Poller::add(int fd, std::uint32_t events, std::uint64_t tag) {
  epoll_event event{.events = events, .data = {.u64 = tag}};
  return epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &event) == 0;
}

bool Poller::modify(int fd, std::uint32_t events, std::uint64_t tag) {
  epoll_event event{.events = events, .data = {.u64 = tag}};
  return epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, fd, &event) == 0;
}

bool Poller::remove(int fd) {
  // A non-null event keeps kernels before 2.6.9 happy; it costs nothing.
  epoll_event unused{};
  return epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, &unused) == 0;
}

std::span<epoll_event> Poller::wait(std::span<epoll_event> events, int timeout_ms) {
  const int ready = epoll_wait(epoll_fd_.get(), events.data(), static_cast<int>(events.size()), timeout_ms);
  // EINTR is the only failure a valid epoll fd can give; signals are taken by
  // signalfd, so it is rare, and an empty round is the right answer to it.
  if (ready < 0) return {};
  return events.first(static_cast<std::size_t>(ready));
}

}  // namespace epolld
