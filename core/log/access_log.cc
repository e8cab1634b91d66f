#include "core/log/access_log.h"

#include <utility>

#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>

namespace epolld::log {
namespace {

// The line as given: the HTTP protocol formats it (combined or JSON), and
// ends it with a newline unless it did.
class LineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view line(msg.payload.data(), msg.payload.size());
    dest.append(line.data(), line.data() + line.size());
    if (!line.ends_with('\n')) {
      dest.push_back('\n');
    }
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>();
  }
};

constexpr std::string_view kLoggerName = "access-log";

}  // namespace

AccessLogFile::AccessLogFile(std::unique_ptr<LogFile> file)
    : path_(file->path()), sink_(std::make_shared<ReopenableFileSink>(std::move(file))) {
  sink_->set_formatter(std::make_unique<LineFormatter>());
}

void AccessLogFile::write(std::string_view line) {
  const spdlog::string_view_t text(line.data(), line.size());
  if (logger_) {
    logger_->log(spdlog::level::info, text);
    return;
  }
  const spdlog::details::log_msg msg(spdlog::source_loc{}, kLoggerName, spdlog::level::info, text);
  sink_->log(msg);
  sink_->flush();
}

void AccessLogFile::attach(const std::shared_ptr<spdlog::details::thread_pool>& pool,
                           const std::shared_ptr<BatchEnd>& batch_end) {
  batch_end->add(sink_);
  // overrun_oldest: the worker that answered the request never waits.
  logger_ = std::make_shared<spdlog::async_logger>(
      std::string(kLoggerName), spdlog::sinks_init_list{sink_, batch_end}, pool,
      spdlog::async_overflow_policy::overrun_oldest);
  logger_->flush_on(spdlog::level::off);  // BatchEnd writes the batch
}

void AccessLogFile::detach() { logger_.reset(); }

}  // namespace epolld::log
