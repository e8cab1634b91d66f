#include "core/log/reopenable_file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>

#include <spdlog/common.h>

namespace epolld::log {
namespace {

std::runtime_error openError(const std::string& path, std::string_view reason) {
  return std::runtime_error("cannot open log file '" + path + "': " + std::string(reason));
}

}  // namespace

std::unique_ptr<spdlog::details::file_helper> openLogFile(const std::string& path) {
  // file_helper::open() creates missing directories, retries five times and
  // reports failure without errno. Probing with open(2) first gives the plain
  // errno of Python's FileHandler ("No such file or directory") at once.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (fd < 0) {
    throw openError(path, std::generic_category().message(errno));
  }
  ::close(fd);

  spdlog::file_event_handlers handlers;
  // fopen() has no close-on-exec by default; no child should inherit the log.
  handlers.after_open = [](const spdlog::filename_t&, std::FILE* stream) {
    ::fcntl(::fileno(stream), F_SETFD, FD_CLOEXEC);
  };
  auto file = std::make_unique<spdlog::details::file_helper>(handlers);
  try {
    file->open(path);  // "ab": appends, like Python's default mode 'a'
  } catch (const spdlog::spdlog_ex& e) {
    // Only if the file changed between the probe and here.
    throw openError(path, e.what());
  }
  return file;
}

ReopenableFileSink::ReopenableFileSink(std::unique_ptr<spdlog::details::file_helper> file)
    : file_(std::move(file)) {}

void ReopenableFileSink::replaceFile(std::unique_ptr<spdlog::details::file_helper> file) {
  std::unique_ptr<spdlog::details::file_helper> old;
  {
    std::lock_guard lock(mutex_);
    old = std::exchange(file_, std::move(file));
  }
  // `old` closes here, outside the lock; fclose() writes what it still buffers.
}

void ReopenableFileSink::sink_it_(const spdlog::details::log_msg& msg) {
  if (!file_) {
    return;
  }
  spdlog::memory_buf_t line;
  formatter_->format(msg, line);
  file_->write(line);
}

void ReopenableFileSink::flush_() {
  // file_helper::flush() on a closed file would be fflush(nullptr): every stream.
  if (file_) {
    file_->flush();
  }
}

}  // namespace epolld::log
