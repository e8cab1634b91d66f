// Access-log files: the file side of an HTTP listener's access log.
//
// Lines go through the main log's thread and queue (log.h), batched into one
// write(2) per batch like the main log file, and reach the file within a few
// milliseconds of the queue running empty. A worker's write() never blocks:
// when the queue is full the oldest queued line (of any log) is dropped and
// counted in log::droppedLines(). log::reopenFile() (SIGUSR1) reopens every
// access log with the main log file; log::stop() writes every queued line.
//
// Files are shared by path: two listeners, or a listener before and after a
// reload, that name the same path get the same open file while either holds
// it. The path is compared as written, so "a/../x.log" and "x.log" would be
// two files appending whole lines to one inode (O_APPEND), each batch intact.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>

#include "core/log/batch_end.h"
#include "core/log/reopenable_file_sink.h"

namespace epolld::log {

class AccessLogFile {
 public:
  // Writes to `file` (opened with openLogFile()), not yet attached.
  explicit AccessLogFile(std::unique_ptr<LogFile> file);
  AccessLogFile(const AccessLogFile&) = delete;
  AccessLogFile& operator=(const AccessLogFile&) = delete;

  // Appends `line` to the file as one line: a newline is added unless `line`
  // ends with one (appendAccessLogLine()'s lines do). From any thread; never
  // blocks on the log thread. While the log is started (log::start() to log::stop()) it
  // only queues the line; otherwise it writes it at once.
  void write(std::string_view line);

  const std::string& path() const { return path_; }

  // For log.cc, under its lock, while no thread calls write(): queue lines
  // on `pool`, ending batches with `batch_end` (log::start()), or write them
  // directly (log::stop()).
  void attach(const std::shared_ptr<spdlog::details::thread_pool>& pool,
              const std::shared_ptr<BatchEnd>& batch_end);
  void detach();
  const std::shared_ptr<ReopenableFileSink>& sink() const { return sink_; }

 private:
  const std::string path_;
  const std::shared_ptr<ReopenableFileSink> sink_;
  std::shared_ptr<spdlog::async_logger> logger_;  // null while not started
};

// The open access log for `path`, opening it (appending, created 0666 &
// ~umask) unless some holder still has it open. Throws
// std::runtime_error("cannot open access log 'PATH': REASON"). Safe to call
// from any thread, before, during or after log::start().
std::shared_ptr<AccessLogFile> openAccessLog(const std::string& path);

}  // namespace epolld::log
