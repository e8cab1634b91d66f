// The tutorial's log: Python logging's format, written by spdlog.
//
//   2026-11-22 16:03:47,123 - network-server - DEBUG - accept connection from 127.0.0.1, 53422, fd = 7
//
// One asynchronous logger (the default spdlog logger) with a file sink and a
// stderr sink, each at its own level. Workers never block on logging: when the
// queue is full the oldest queued line is dropped and counted.
#pragma once

#include <cstdint>

#include <spdlog/spdlog.h>

#include "config/config.h"

namespace epolld::log {

// Creates the logger and installs it as spdlog's default. Throws
// std::runtime_error naming the file when the log file cannot be opened.
void start(const config::LogOptions& options);

// Applies new levels and, if it changed, a new file (SIGHUP). Throws like start().
void reconfigure(const config::LogOptions& options);

// Closes and reopens the log file by name (SIGUSR1, after logrotate renamed it).
// Lines logged before the call are in the old file, lines after it in the new.
void reopenFile();

// Lines dropped so far because the queue was full.
std::uint64_t droppedLines();

// Flushes and stops the logger thread; call once, before exit.
void stop();

}  // namespace epolld::log
