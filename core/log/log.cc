#include "core/log/log.h"

#include <algorithm>
#include <cassert>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>

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
  // Not the colour sink: Python's StreamHandler writes plain lines.
  auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  console->set_formatter(makePythonFormatter());
  return console;
}

struct Logger {
  config::LogOptions options;
  std::shared_ptr<ReopenableFileSink> file;
  std::shared_ptr<spdlog::sinks::sink> console;
  std::shared_ptr<spdlog::async_logger> logger;

  void applyLevels(const config::LogOptions& levels) const {
    file->set_level(toSpdlog(levels.file_level));
    console->set_level(toSpdlog(levels.console_level));
    logger->set_level(toSpdlog(std::min(levels.file_level, levels.console_level)));
  }
};

// The one global the style allows: the logger, guarded by its mutex.
struct State {
  std::mutex mutex;
  std::optional<Logger> logger;
};

State& state() {
  static State instance;
  return instance;
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
  spdlog::init_thread_pool(queue_lines, 1);
  // overrun_oldest: 1.10's only policy that never blocks the worker that logs.
  auto logger = std::make_shared<spdlog::async_logger>(
      options.name, spdlog::sinks_init_list{file, console}, spdlog::thread_pool(),
      spdlog::async_overflow_policy::overrun_oldest);
  // Flush after every line, as Python does, so `tail -f` and a crash see all of
  // it. This runs on the log thread, after its write; workers pay nothing, and
  // if the flushes make it fall behind, the queue drops lines (counted) rather
  // than block anyone.
  logger->flush_on(spdlog::level::trace);

  const Logger& started = state().logger.emplace(
      Logger{options, std::move(file), std::move(console), std::move(logger)});
  started.applyLevels(options);
  spdlog::set_default_logger(started.logger);
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

  runInQueueOrder(spdlog::thread_pool(), [&] {
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
  if (!state().logger || state().logger->options.file_level == LogLevel::kOff) {
    return;
  }
  Logger& current = *state().logger;
  auto file = openLogFile(current.options.file);
  runInQueueOrder(spdlog::thread_pool(), [&] { current.file->replaceFile(std::move(file)); });
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
  // Every queued line written (and flushed: flush_on) before we return, even
  // if someone else still holds the thread pool, which would keep
  // spdlog::shutdown() from draining it.
  runInQueueOrder(spdlog::thread_pool(), [] {});
  spdlog::shutdown();
  state().logger.reset();

  auto fallback = std::make_shared<spdlog::logger>(options.name, makeConsoleSink());
  fallback->set_level(toSpdlog(options.console_level));
  spdlog::set_default_logger(std::move(fallback));
}

}  // namespace epolld::log
