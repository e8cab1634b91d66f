// Syslog priorities on stderr when stderr is the systemd journal.
//
// journald reads a service's stderr as a stream, and on a stream connection
// it takes a leading "<N>" (sd-daemon(3): SD_ERR is "<3>") as the line's
// priority and strips it, so `journalctl -p err` filters by the logger's
// level. That keeps the tutorial's exact line in the journal's MESSAGE and
// costs no library call; spdlog's systemd_sink (sd_journal_send) would
// instead put only the bare message into MESSAGE, need libsystemd in the log
// library, and send over a socket of its own, out of order with anything else
// written to stderr. When stderr is anything else (a terminal, a file, a
// pipe), lines carry no prefix: exactly the tutorial's format.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string_view>

#include <spdlog/common.h>
#include <spdlog/formatter.h>

namespace epolld::log {

// Whether a JOURNAL_STREAM value ("DEV:INODE", decimal, as systemd sets it;
// null when unset) names the file whose fstat(2) gave `device` and `inode`.
bool isJournalStream(const char* journal_stream, dev_t device, ino_t inode);

// isJournalStream() for the environment's JOURNAL_STREAM and fd 2.
bool stderrIsJournal();

// sd-daemon's prefix for a level: DEBUG "<7>", INFO "<6>", WARNING "<4>",
// ERROR "<3>", CRITICAL "<2>" (trace prints as DEBUG, off as CRITICAL, as
// the level names do).
std::string_view journalPrefix(spdlog::level::level_enum level);

// Writes `line` and a newline to stderr outside the logger (before it starts,
// or past a console_level that hides errors), with ERROR's priority when stderr
// is the journal, so that `journalctl -p err` shows why epolld did not start.
void printErrorLine(std::string_view line);

// `inner`'s line with the level's journalPrefix() before it.
std::unique_ptr<spdlog::formatter> makeJournalFormatter(std::unique_ptr<spdlog::formatter> inner);

}  // namespace epolld::log
