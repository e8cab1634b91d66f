#include "core/log/log.h"

#include <pthread.h>

#include <algorithm>
#include <cassert>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "core/log/access_log.h"
#include "core/log/batch_end.h"
#include "core/log/journal.h"
#include "core/log/python_formatter.h"
#include "core/log/queue_order.h"
#include "core/log/reopenable_file_sink.h"

namespace epolld::log {
namespace {

using config::LogLevel;

spdlog::level::level_enum toSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarning: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
    case LogLevel::kCritical: return spdlog::level::critical;
    case LogLevel::kOff: return spdlog::level::off;
  }
  return spdlog::level::off;
}

std::shared_ptr<spdlog::sinks::sink> makeConsoleSink() {
  // Not the colour sink: Python's StreamHandler writes plain lines. It writes
  // and flushes each line itself: few lines reach the console level.
  auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  console->set_formatter(stderrIsJournal() ? makeJournalFormatter(makePythonFormatter())
                                           : makePythonFormatter());
  return console;
}

struct Logger {
  config::LogOptions options;
  std::shared_ptr<ReopenableFileSink> file;
  std::shared_ptr<spdlog::sinks::sink> console;
  std::shared_ptr<BatchEnd> batch_end;
  std::shared_ptr<spdlog::details::thread_pool> pool;
  std::shared_ptr<spdlog::async_logger> logger;

  void applyLevels(const config::LogOptions& levels) const {
    file->set_level(toSpdlog(levels.file_level));
    console->set_level(toSpdlog(levels.console_level));
    logger->set_level(toSpdlog(std::min(levels.file_level, levels.console_level)));
  }
};

// The one global the style allows: the logger and the access logs, guarded
// by its mutex.
struct State {
  std::mutex mutex;
  std::optional<Logger> logger;
  std::map<std::string, std::weak_ptr<AccessLogFile>> access_logs;

  // The access logs someone still holds.
  std::vector<std::shared_ptr<AccessLogFile>> liveAccessLogs() {
    std::vector<std::shared_ptr<AccessLogFile>> live;
    std::erase_if(access_logs, [&live](const auto& entry) {
      auto file = entry.second.lock();
      if (!file) {
        return true;
      }
      live.push_back(std::move(file));
      return false;
    });
    return live;
  }
};

State& state() {
  static State instance;
  return instance;
}

// Runs `task` at this point of the log's stream of lines (runInQueueOrder),
// then writes out what the batches hold: the log thread may run out of lines
// right after the task, with no batch end to write them.
void runInLogOrder(const Logger& logger, const std::function<void()>& task) {
  runInQueueOrder(logger.pool, [&] {
    task();
    try {
      logger.batch_end->flushAll();
    } catch (const spdlog::spdlog_ex&) {
      // A write error: the log thread's next batch reports it.
    }
  });
}

}  // namespace

void start(const config::LogOptions& options, std::size_t queue_lines) {
  std::lock_guard lock(state().mutex);
  assert(!state().logger && "log::start() twice without stop()");

  auto file = std::make_shared<ReopenableFileSink>(
      options.file_level == LogLevel::kOff ? nullptr : openLogFile(options.file));
  file->set_formatter(makePythonFormatter());

  auto console = makeConsoleSink();

  // One thread, so lines are written in queue order: runInQueueOrder() needs it.
  // Named, so that top -H, perf and /proc/PID/task/*/comm tell it apart.
  spdlog::init_thread_pool(queue_lines, 1, [] { pthread_setname_np(pthread_self(), "log"); });
  auto pool = spdlog::thread_pool();
  // Not a flush per line, as Python does: the file sink batches lines, and
  // BatchEnd, the last sink, writes the batch out when the queue runs empty
  // (see batch_end.h for why), so `tail -f` sees a line within milliseconds.
  auto batch_end = std::make_shared<BatchEnd>(pool.get());
  batch_end->add(file);
  // overrun_oldest: 1.10's only policy that never blocks the worker that logs.
  auto logger = std::make_shared<spdlog::async_logger>(
      options.name, spdlog::sinks_init_list{file, console, batch_end}, pool,
      spdlog::async_overflow_policy::overrun_oldest);
  logger->flush_on(spdlog::level::off);

  const Logger& started = state().logger.emplace(Logger{options, std::move(file),
                                                        std::move(console), batch_end, pool,
                                                        std::move(logger)});
  started.applyLevels(options);
  spdlog::set_default_logger(started.logger);
  for (const auto& access_log : state().liveAccessLogs()) {
    access_log->attach(pool, batch_end);
  }
}

void reconfigure(const config::LogOptions& options) {
  std::lock_guard lock(state().mutex);
  if (!state().logger) {
    return;
  }
  Logger& current = *state().logger;
  const bool had_file = current.options.file_level != LogLevel::kOff;
  const bool wants_file = options.file_level != LogLevel::kOff;
  const bool file_changes =
      had_file != wants_file || (wants_file && options.file != current.options.file);
  // Opened here, before anything changes, so a failure changes nothing.
  auto file = file_changes && wants_file ? openLogFile(options.file) : nullptr;

  runInLogOrder(current, [&] {
    if (file_changes) {
      current.file->replaceFile(std::move(file));
    }
    current.applyLevels(options);
  });
  if (options.name != current.logger->name()) {
    spdlog::warn("the log name stays '{}' until epolld restarts", current.logger->name());
  }
  current.options = options;
  current.options.name = current.logger->name();
}

void reopenFile() {
  std::lock_guard lock(state().mutex);
  // Every file that opens is switched, in one step of the line stream; one
  // that fails keeps its old file, and the first failure is thrown.
  std::vector<std::pair<std::shared_ptr<ReopenableFileSink>, std::unique_ptr<LogFile>>> reopened;
  std::exception_ptr error;
  const auto reopen = [&](const std::shared_ptr<ReopenableFileSink>& sink,
                          const std::string& path, std::string_view what) {
    try {
      reopened.emplace_back(sink, openLogFile(path, what));
    } catch (const std::runtime_error&) {
      if (!error) {
        error = std::current_exception();
      }
    }
  };
  Logger* current = state().logger ? &*state().logger : nullptr;
  if (current && current->options.file_level != LogLevel::kOff) {
    reopen(current->file, current->options.file, "log file");
  }
  for (const auto& access_log : state().liveAccessLogs()) {
    reopen(access_log->sink(), access_log->path(), "access log");
  }
  const auto replace = [&] {
    for (auto& [sink, file] : reopened) {
      sink->replaceFile(std::move(file));
    }
  };
  if (current) {
    runInLogOrder(*current, replace);
  } else {
    replace();
  }
  if (error) {
    std::rethrow_exception(error);
  }
}

std::shared_ptr<AccessLogFile> openAccessLog(const std::string& path) {
  std::lock_guard lock(state().mutex);
  auto& access_logs = state().access_logs;
  if (const auto found = access_logs.find(path); found != access_logs.end()) {
    if (auto open = found->second.lock()) {
      return open;
    }
  }
  auto access_log = std::make_shared<AccessLogFile>(openLogFile(path, "access log"));
  if (state().logger) {
    access_log->attach(state().logger->pool, state().logger->batch_end);
  }
  access_logs[path] = access_log;
  return access_log;
}

std::uint64_t droppedLines() {
  const auto pool = spdlog::thread_pool();
  return pool ? pool->overrun_counter() : 0;
}

void stop() {
  std::lock_guard lock(state().mutex);
  if (!state().logger) {
    return;
  }
  const config::LogOptions options = state().logger->options;
  // Every queued line written before we return, even if someone else still
  // holds the thread pool, which would keep spdlog::shutdown() from draining it.
  runInLogOrder(*state().logger, [] {});
  for (const auto& access_log : state().liveAccessLogs()) {
    access_log->detach();
  }
  state().logger.reset();
  spdlog::shutdown();

  auto fallback = std::make_shared<spdlog::logger>(options.name, makeConsoleSink());
  fallback->set_level(toSpdlog(options.console_level));
  spdlog::set_default_logger(std::move(fallback));
}

}  // namespace epolld::log
