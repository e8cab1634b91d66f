// Where a batch of log lines ends: when the log thread has emptied its queue.
//
// Every logger on the log thread's pool (the main log, each access log) has
// this sink last. After each line it looks at the queue; once it is empty, it
// writes out every batching file sink (one write(2) each) and then lingers a
// moment before the log thread waits for the next line.
//
// Why linger: the workers and the log thread may share a CPU (the benchmark
// pins them to one). A log thread that waits on the queue's condition variable
// as soon as it is empty is woken by every line a worker logs: a futex wake in
// the worker and two context switches per line, which doubled the CPU time of
// an HTTP request with a DEBUG file log. While the log thread sleeps instead,
// a worker's push finds no waiter and makes no system call; the lines pile up
// and are formatted and written together. A periodic flush alone (spdlog's
// flush_every) would keep the per-line wake-ups, and would wake an idle daemon
// every period; this costs nothing when no line comes, and a line reaches the
// file within kLinger plus the time to format the batch.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/sinks/sink.h>

#include "core/log/reopenable_file_sink.h"

namespace epolld::log {

class BatchEnd final : public spdlog::sinks::sink {
 public:
  // Measured with one HTTP worker and wrk -c50, all server threads on one
  // CPU (server CPU per request, DEBUG file log over WARNING): no linger
  // 1.65x, 1 ms 1.14x, 5 ms 1.10x, 20 ms no better. 2 ms keeps most of the
  // gain at no more than 500 wake-ups a second, and lingering makes the
  // queue overflow only above kQueueLines (8192) per 2 ms, 4 million lines
  // a second: more than one log thread can format (a line takes it a few
  // hundred nanoseconds), so a flood that fast overflows the queue anyway.
  static constexpr auto kLinger = std::chrono::milliseconds(2);

  // `pool` is the thread pool whose thread calls log(); it outlives the calls.
  explicit BatchEnd(spdlog::details::thread_pool* pool,
                    std::chrono::microseconds linger = kLinger);

  // Writes `sink` out at the end of every batch, while it lives.
  void add(const std::shared_ptr<ReopenableFileSink>& sink);

  // Writes every batching sink out now; from any thread.
  void flushAll();

  void log(const spdlog::details::log_msg& msg) override;
  void flush() override {}
  void set_pattern(const std::string&) override {}
  void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

 private:
  spdlog::details::thread_pool* const pool_;
  const std::chrono::microseconds linger_;
  std::mutex mutex_;
  std::vector<std::weak_ptr<ReopenableFileSink>> sinks_;  // guarded by mutex_
};

}  // namespace epolld::log
