// The tutorial's log: Python logging's format, written by spdlog.
//
//   2026-11-22 16:03:47,123 - network-server - DEBUG - accept connection from 127.0.0.1, 53422, fd = 7
//
// One asynchronous logger (the default spdlog logger, named by
// LogOptions::name) with a file sink and a stderr sink, each at its own level;
// the logger's own level is the lower of the two, so spdlog::should_log() is
// false, and nothing is formatted, for a level no sink wants. One log thread
// formats the lines and writes them to the file in batches, one write(2) when
// its queue runs empty or 64 KiB have collected (batch_end.h): a line reaches
// the file within milliseconds. Workers never block on logging: when the
// queue is full the oldest queued line is dropped and counted. When stderr is
// the systemd journal, console lines carry their syslog priority (journal.h).
// Access logs (access_log.h) share the thread, the queue and the batching.
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

// Opens the log file and every open access log by name again (SIGUSR1, after
// logrotate renamed them). Lines logged before the call are in the old files,
// lines after it in the new. A file that cannot be opened keeps its old file,
// the others are reopened, and the first failure is thrown like start()'s
// ("cannot open log file 'X': REASON" or "cannot open access log 'X': ...").
// The log file is not reopened when not started or when the file level is off.
void reopenFile();

// Lines dropped because the queue was full, since start(); 0 once stopped.
// Access-log lines share the queue and are counted here too.
std::uint64_t droppedLines();

// Writes every queued line (access logs' too), stops the log thread and calls
// spdlog::shutdown(). Afterwards a synchronous stderr logger with the same
// format and console level is the default, so a late line is neither lost nor
// a crash, and access logs write each line at once.
void stop();

}  // namespace epolld::log
