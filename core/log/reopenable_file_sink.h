// The log file: a sink whose file can be swapped for a newly opened one, so
// that SIGUSR1 after logrotate's rename, or a reload naming another file,
// moves the log without losing a line.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>

namespace epolld::log {

// Opens `path` for appending (created 0666 & ~umask, like Python's FileHandler).
// Throws std::runtime_error("cannot open log file 'PATH': REASON").
std::unique_ptr<spdlog::details::file_helper> openLogFile(const std::string& path);

class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // A null file makes a closed sink, which drops what it is given.
  explicit ReopenableFileSink(std::unique_ptr<spdlog::details::file_helper> file);

  // Lines written from now on go to `file` (null closes the sink); the previous
  // file is flushed and closed. The caller opens `file` first, with
  // openLogFile(), so a file that cannot be opened leaves the old one in use
  // (where file_helper::reopen() would close it first and then fail), and the
  // sink's mutex is never held across an open(2). Safe to call from any thread.
  void replaceFile(std::unique_ptr<spdlog::details::file_helper> file);

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  std::unique_ptr<spdlog::details::file_helper> file_;  // guarded by mutex_
};

}  // namespace epolld::log
