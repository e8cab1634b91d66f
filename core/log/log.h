// The tutorial's log: Python logging's format, written by spdlog.
//
//   2026-11-22 16:03:47,123 - network-server - DEBUG - accept connection from 127.0.0.1, 53422, fd = 7
//
// One asynchronous logger (the default spdlog logger, named by
// LogOptions::name) with a file sink and a stderr sink, each at its own level;
// the logger's own level is the lower of the two, so spdlog::should_log() is
// false, and nothing is formatted, for a level no sink wants. One log thread
// writes and flushes every line; workers never block on logging: when the
// queue is full the oldest queued line is dropped and counted.
//
// Thread safety: start(), reconfigure(), reopenFile() and stop() may be called
// from any thread (they serialise), droppedLines() too. spdlog's logging calls
// are safe from any thread between start() and stop(); stop() only after the
// threads that log have been joined.
#pragma once

#include <cstddef>
#include <cstdint>

#include <spdlog/spdlog.h>

#include "config/config.h"

namespace epolld::log {

// Lines the queue holds before it drops the oldest: about 2.5 MB.
inline constexpr std::size_t kQueueLines = 8192;

// Creates the logger and installs it as spdlog's default. A file level of off
// opens no file at all. Throws std::runtime_error("cannot open log file 'X':
// REASON") when the log file cannot be opened. Not while started; again after
// stop() is fine.
void start(const config::LogOptions& options, std::size_t queue_lines = kQueueLines);

// Applies new levels and, if it changed, the new file (SIGHUP): lines logged
// before the call are written under the old settings, lines after it under the
// new. Throws like start(), and then changes nothing. The logger's name stays
// as start() set it (spdlog cannot rename a logger); a new one is warned about.
// Does nothing when not started.
void reconfigure(const config::LogOptions& options);

// Opens the log file by name again (SIGUSR1, after logrotate renamed it). Lines
// logged before the call are in the old file, lines after it in the new. Throws
// like start() when the file cannot be opened; the old file is then kept.
// Does nothing when not started or when the file level is off.
void reopenFile();

// Lines dropped because the queue was full, since start(); 0 once stopped.
std::uint64_t droppedLines();

// Writes every queued line, stops the log thread and calls spdlog::shutdown().
// Afterwards a synchronous stderr logger with the same format and console
// level is the default, so a late line is neither lost nor a crash.
void stop();

}  // namespace epolld::log
