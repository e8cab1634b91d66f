#include "core/log/queue_order.h"

#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <utility>

#include <spdlog/async_logger.h>
#include <spdlog/sinks/sink.h>

namespace epolld::log {
namespace {

// How often a waiting caller checks whether the queue has drained without
// reaching the marker (pushed out, with no line after it to tell us so).
constexpr auto kDrainCheckInterval = std::chrono::milliseconds(10);

// One task, shared by the caller and the marker line's sink.
class QueuedTask {
 public:
  explicit QueuedTask(std::function<void()> task) : task_(std::move(task)) {}

  // Runs the task unless some thread already claimed it.
  void runOnce() {
    {
      std::lock_guard lock(mutex_);
      if (claimed_) {
        return;
      }
      claimed_ = true;
    }
    std::exception_ptr error;
    try {
      task_();
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    error_ = error;
    done_ = true;
    // Notified under the lock: once the waiter sees done_ it may destroy this
    // object, so the notify must come before the waiter can get the lock.
    changed_.notify_all();
  }

  // The marker left the queue: written (the task has run) or pushed out.
  void markerGone() {
    std::lock_guard lock(mutex_);
    marker_gone_ = true;
    changed_.notify_all();
  }

  enum class Wait { kDone, kOrphaned, kPending };

  // Waits up to `timeout` until the task is done, or orphaned: its marker gone
  // without anyone having claimed it.
  Wait waitFor(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return done_ || (marker_gone_ && !claimed_); });
    if (done_) {
      return Wait::kDone;
    }
    return marker_gone_ && !claimed_ ? Wait::kOrphaned : Wait::kPending;
  }

  std::exception_ptr error() {
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  const std::function<void()> task_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool claimed_ = false;
  bool done_ = false;
  bool marker_gone_ = false;
  std::exception_ptr error_;
};

// The marker logger's only sink. The queued line holds the logger, which holds
// this sink, so the sink dies exactly when the line leaves the queue: after
// log() when written, or when a newer line overwrites its slot.
class MarkerSink final : public spdlog::sinks::sink {
 public:
  explicit MarkerSink(std::shared_ptr<QueuedTask> task) : task_(std::move(task)) {}
  ~MarkerSink() override { task_->markerGone(); }

  void log(const spdlog::details::log_msg&) override { task_->runOnce(); }
  void flush() override {}
  void set_pattern(const std::string&) override {}
  void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

 private:
  const std::shared_ptr<QueuedTask> task_;
};

}  // namespace

void runInQueueOrder(const std::shared_ptr<spdlog::details::thread_pool>& pool,
                     std::function<void()> task) {
  auto queued = std::make_shared<QueuedTask>(std::move(task));
  {
    // Not registered anywhere: the queued line holds the only reference.
    auto marker = std::make_shared<spdlog::async_logger>(
        "queue-marker", std::make_shared<MarkerSink>(queued), pool,
        spdlog::async_overflow_policy::block);
    marker->info("");
  }
  for (;;) {
    const QueuedTask::Wait state = queued->waitFor(kDrainCheckInterval);
    if (state == QueuedTask::Wait::kDone) {
      break;
    }
    // An empty queue means the marker was pushed out, or the log thread holds
    // it right now; either way every line before it is done with, and runOnce()
    // lets only one of us run the task.
    if (state == QueuedTask::Wait::kOrphaned || pool->queue_size() == 0) {
      queued->runOnce();
    }
  }
  if (auto error = queued->error()) {
    std::rethrow_exception(error);
  }
}

}  // namespace epolld::log
