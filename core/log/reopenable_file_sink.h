// The log file: a sink that batches lines into one write(2) and whose file can
// be swapped for a newly opened one, so that SIGUSR1 after logrotate's rename,
// or a reload naming another file, moves the log without losing a line.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/base_sink.h>

namespace epolld::log {

// An open file descriptor, opened for appending.
class LogFile {
 public:
  LogFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~LogFile();
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // Writes all of `bytes` (several write(2) calls only if the kernel takes
  // part). Throws spdlog::spdlog_ex naming the file and errno on failure.
  void write(std::string_view bytes);
  const std::string& path() const { return path_; }

 private:
  const int fd_;
  const std::string path_;
};

// Opens `path` for appending (created 0666 & ~umask, like Python's FileHandler).
// Throws std::runtime_error("cannot open WHAT 'PATH': REASON"), WHAT being
// "log file" or, for instance, "access log".
std::unique_ptr<LogFile> openLogFile(const std::string& path, std::string_view what = "log file");

// Formatted lines collect in a buffer of about kBatchBytes; one write(2) puts
// them into the file when the buffer is full, when flush() is called (the log
// thread calls it when its queue runs empty: see batch_end.h) or when the
// file is replaced, and when the sink is destroyed.
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // 64 KiB: a few hundred lines per write(2), and no more memory per file
  // than a pipe's buffer.
  static constexpr std::size_t kBatchBytes = 64 * 1024;

  // A null file makes a closed sink, which drops what it is given.
  explicit ReopenableFileSink(std::unique_ptr<LogFile> file);
  ~ReopenableFileSink() override;

  // Lines written from now on go to `file` (null closes the sink); what the
  // buffer holds is written to the previous file first, which is then closed.
  // The caller opens `file` first, with openLogFile(), so a file that cannot
  // be opened leaves the old one in use, and the sink's mutex is never held
  // across an open(2). Safe to call from any thread.
  void replaceFile(std::unique_ptr<LogFile> file);

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  void writeOut();  // with mutex_ held

  std::unique_ptr<LogFile> file_;  // guarded by mutex_
  spdlog::memory_buf_t buffer_;    // guarded by mutex_
  // When the oldest buffered line was logged: a line never waits in the
  // buffer for long even if the queue never runs empty.
  spdlog::log_clock::time_point oldest_;  // guarded by mutex_
};

}  // namespace epolld::log
