#include "core/log/journal.h"

#include <cstdio>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace epolld::log {
namespace {

// Parses one decimal field of JOURNAL_STREAM; false unless it is all digits.
bool parseField(std::string_view text, std::uint64_t& value) {
  if (text.empty()) {
    return false;
  }
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

class JournalFormatter final : public spdlog::formatter {
 public:
  explicit JournalFormatter(std::unique_ptr<spdlog::formatter> inner) : inner_(std::move(inner)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view prefix = journalPrefix(msg.level);
    dest.append(prefix.data(), prefix.data() + prefix.size());
    inner_->format(msg, dest);
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JournalFormatter>(inner_->clone());
  }

 private:
  std::unique_ptr<spdlog::formatter> inner_;
};

}  // namespace

bool isJournalStream(const char* journal_stream, dev_t device, ino_t inode) {
  if (journal_stream == nullptr) {
    return false;
  }
  const std::string_view value(journal_stream);
  const std::size_t colon = value.find(':');
  std::uint64_t stream_device = 0;
  std::uint64_t stream_inode = 0;
  return colon != std::string_view::npos && parseField(value.substr(0, colon), stream_device) &&
         parseField(value.substr(colon + 1), stream_inode) &&
         stream_device == static_cast<std::uint64_t>(device) &&
         stream_inode == static_cast<std::uint64_t>(inode);
}

bool stderrIsJournal() {
  const char* journal_stream = std::getenv("JOURNAL_STREAM");
  struct stat status {};
  if (journal_stream == nullptr || ::fstat(STDERR_FILENO, &status) != 0) {
    return false;
  }
  return isJournalStream(journal_stream, status.st_dev, status.st_ino);
}

std::string_view journalPrefix(spdlog::level::level_enum level) {
  // Indexed by spdlog's level: trace, debug, info, warn, err, critical.
  static constexpr std::array<std::string_view, 6> kPrefixes = {"<7>", "<7>", "<6>",
                                                                "<4>", "<3>", "<2>"};
  return kPrefixes[std::min<std::size_t>(static_cast<std::size_t>(level), kPrefixes.size() - 1)];
}

std::unique_ptr<spdlog::formatter> makeJournalFormatter(std::unique_ptr<spdlog::formatter> inner) {
  return std::make_unique<JournalFormatter>(std::move(inner));
}

void printErrorLine(std::string_view line) {
  const std::string_view prefix = stderrIsJournal() ? journalPrefix(spdlog::level::err) : std::string_view();
  std::fprintf(stderr, "%.*s%.*s\n", static_cast<int>(prefix.size()), prefix.data(), static_cast<int>(line.size()),
               line.data());
}

}  // namespace epolld::log
