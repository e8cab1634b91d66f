// Running a task at a point in the asynchronous log's stream of lines.
//
// spdlog's async logger writes lines on its thread, later; a file switch made
// directly by the caller would catch lines logged before the switch still in
// the queue, and logger->flush() only queues a flush. Instead, a marker line
// is queued behind them and runs the task when the log thread reaches it.
#pragma once

#include <functional>
#include <memory>

// thread_pool.h needs async_logger.h before it.
#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>

namespace epolld::log {

// Runs `task` after every line queued on `pool` before this call has been
// written and before any line queued after it, then returns, rethrowing what
// `task` threw. Blocks the caller until then. `pool` must have one thread.
//
// With the overrun_oldest policy a flood can push the marker itself out of a
// full queue. The caller learns of it at the next push, or when the queue has
// drained, and runs `task` itself; the split is then exact only up to the few
// lines the log thread wrote in between (a flood drops lines anyway; this
// moves them, loses none). The caller also runs `task` when the log thread has
// taken the marker off the queue but not run it yet. So `task` must be safe to
// run on either thread (lock what it touches); it runs exactly once.
void runInQueueOrder(const std::shared_ptr<spdlog::details::thread_pool>& pool,
                     std::function<void()> task);

}  // namespace epolld::log
