#include "core/log/journal.h"

#include <gtest/gtest.h>

#include <string>

#include <spdlog/details/log_msg.h>
#include <spdlog/pattern_formatter.h>

namespace epolld::log {
namespace {

TEST(LogJournal, AStreamMatchesOnlyItsOwnDeviceAndInode) {
  EXPECT_TRUE(isJournalStream("64769:1234567", 64769, 1234567));
  EXPECT_FALSE(isJournalStream("64769:1234567", 64769, 1234568));
  EXPECT_FALSE(isJournalStream("64769:1234567", 64770, 1234567));
  EXPECT_FALSE(isJournalStream(nullptr, 64769, 1234567));
  // 64-bit values as systemd prints them.
  EXPECT_TRUE(isJournalStream("18446744073709551615:18446744073709551615",
                              static_cast<dev_t>(18446744073709551615u),
                              static_cast<ino_t>(18446744073709551615u)));
}

TEST(LogJournal, AMalformedStreamIsNotTheJournal) {
  for (const char* value : {"", ":", "64769", "64769:", ":1234567", "64769:1234567x",
                            " 64769:1234567", "64769: 1234567", "-1:1234567", "0x10:1234567",
                            "64769:1234567:1", "18446744073709551616:1234567"}) {
    EXPECT_FALSE(isJournalStream(value, 64769, 1234567)) << "'" << value << "'";
  }
  EXPECT_FALSE(isJournalStream("", 0, 0));
}

TEST(LogJournal, PrefixesAreSdDaemonPriorities) {
  EXPECT_EQ(journalPrefix(spdlog::level::trace), "<7>");
  EXPECT_EQ(journalPrefix(spdlog::level::debug), "<7>");
  EXPECT_EQ(journalPrefix(spdlog::level::info), "<6>");
  EXPECT_EQ(journalPrefix(spdlog::level::warn), "<4>");
  EXPECT_EQ(journalPrefix(spdlog::level::err), "<3>");
  EXPECT_EQ(journalPrefix(spdlog::level::critical), "<2>");
  EXPECT_EQ(journalPrefix(spdlog::level::off), "<2>");
}

TEST(LogJournal, TheFormatterPutsThePrefixBeforeTheWholeLineAndClones) {
  auto inner = std::make_unique<spdlog::pattern_formatter>("%n - %v");
  const auto formatter = makeJournalFormatter(std::move(inner));
  const auto clone = formatter->clone();
  const spdlog::details::log_msg msg(spdlog::source_loc{}, "network-server", spdlog::level::err,
                                     "bad thing");
  for (auto* f : {formatter.get(), clone.get()}) {
    spdlog::memory_buf_t line;
    f->format(msg, line);
    EXPECT_EQ(fmt::to_string(line), "<3>network-server - bad thing\n");
  }
}

}  // namespace
}  // namespace epolld::log
