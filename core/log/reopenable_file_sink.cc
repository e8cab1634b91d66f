#include "core/log/reopenable_file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <spdlog/common.h>

namespace epolld::log {
namespace {

// A buffered line older than this is written at the next line even when the
// log thread never finds its queue empty (a queue that keeps refilling).
constexpr auto kMaxLineAge = std::chrono::milliseconds(250);

// Writes at this fill level, so that a line of up to 4 KiB still fits the
// buffer's reserved memory.
constexpr std::size_t kWriteAt = ReopenableFileSink::kBatchBytes - 4096;

}  // namespace

LogFile::~LogFile() { ::close(fd_); }

void LogFile::write(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd_, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw spdlog::spdlog_ex("cannot write log file '" + path_ + "'", errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

std::unique_ptr<LogFile> openLogFile(const std::string& path, std::string_view what) {
  // O_APPEND, like Python's mode 'a': a file shared with another writer, or
  // truncated under us, gets whole lines at its end.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (fd < 0) {
    throw std::runtime_error("cannot open " + std::string(what) + " '" + path +
                             "': " + std::generic_category().message(errno));
  }
  return std::make_unique<LogFile>(fd, path);
}

ReopenableFileSink::ReopenableFileSink(std::unique_ptr<LogFile> file) : file_(std::move(file)) {
  buffer_.reserve(kBatchBytes);
}

ReopenableFileSink::~ReopenableFileSink() {
  std::lock_guard lock(mutex_);
  try {
    writeOut();
  } catch (const spdlog::spdlog_ex&) {
    // Nowhere left to report it: the logger that would is gone.
  }
}

void ReopenableFileSink::replaceFile(std::unique_ptr<LogFile> file) {
  std::unique_ptr<LogFile> old;
  {
    std::lock_guard lock(mutex_);
    try {
      writeOut();
    } catch (const spdlog::spdlog_ex&) {
      // The old file is being given up and its last lines with it; the switch
      // itself worked, and that is what the caller asked about.
    }
    old = std::exchange(file_, std::move(file));
  }
  // `old` closes here, outside the lock.
}

void ReopenableFileSink::sink_it_(const spdlog::details::log_msg& msg) {
  if (!file_) {
    return;
  }
  if (buffer_.size() == 0) {
    oldest_ = msg.time;
  }
  formatter_->format(msg, buffer_);
  if (buffer_.size() >= kWriteAt || msg.time - oldest_ >= kMaxLineAge || msg.time < oldest_) {
    writeOut();
  }
}

void ReopenableFileSink::flush_() { writeOut(); }

void ReopenableFileSink::writeOut() {
  if (buffer_.size() == 0) {
    return;
  }
  // Cleared before the write: lines that failed to be written once are not
  // tried again and again (spdlog reports the exception).
  try {
    if (file_) {
      file_->write(std::string_view(buffer_.data(), buffer_.size()));
    }
  } catch (...) {
    buffer_.clear();
    throw;
  }
  buffer_.clear();
}

}  // namespace epolld::log
