// The daemon's signals, taken synchronously on the main thread.
//
// block() must run before any thread starts, so that every thread inherits
// the mask and no signal is ever delivered to a worker or the log thread.
#pragma once

#include <initializer_list>
#include <optional>

#include "core/unique_fd.h"

namespace epolld {

class SignalFd {
 public:
  // Blocks `signals` in the calling thread and opens a signalfd for them;
  // ignores SIGPIPE, which sockets report as EPIPE instead. Throws std::system_error.
  explicit SignalFd(std::initializer_list<int> signals);

  int fd() const { return fd_.get(); }

  // The next pending signal, or nullopt when none is pending.
  std::optional<int> next();

 private:
  UniqueFd fd_;
};

}  // namespace epolld
