#include "core/log/batch_end.h"

#include <algorithm>
#include <exception>
#include <thread>

namespace epolld::log {

BatchEnd::BatchEnd(spdlog::details::thread_pool* pool, std::chrono::microseconds linger)
    : pool_(pool), linger_(linger) {}

void BatchEnd::add(const std::shared_ptr<ReopenableFileSink>& sink) {
  std::lock_guard lock(mutex_);
  std::erase_if(sinks_, [](const auto& weak) { return weak.expired(); });
  sinks_.push_back(sink);
}

void BatchEnd::flushAll() {
  std::vector<std::shared_ptr<ReopenableFileSink>> sinks;
  {
    std::lock_guard lock(mutex_);
    for (const auto& weak : sinks_) {
      if (auto sink = weak.lock()) {
        sinks.push_back(std::move(sink));
      }
    }
  }
  // Every sink is written even if one fails; the first failure is reported.
  std::exception_ptr error;
  for (const auto& sink : sinks) {
    try {
      sink->flush();
    } catch (...) {
      if (!error) {
        error = std::current_exception();
      }
    }
  }
  if (error) {
    std::rethrow_exception(error);
  }
}

void BatchEnd::log(const spdlog::details::log_msg&) {
  if (pool_->queue_size() != 0) {
    return;
  }
  flushAll();
  std::this_thread::sleep_for(linger_);
}

}  // namespace epolld::log
