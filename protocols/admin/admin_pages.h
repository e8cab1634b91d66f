// The admin listener's pages, made from the daemon's counters when asked.
#pragma once

#include <chrono>
#include <string_view>

#include "protocols/http/http.h"
#include "core/stats.h"

namespace epolld::admin {

// Answers GET `path` (with any query): /metrics, /status, /healthz; else 404.
http::Reply page(std::string_view path, const Stats& stats);

// The Prometheus text exposition of every counter. `log_lines_dropped` and
// `now` are passed in, so that tests can give them.
std::string metricsText(const Stats& stats, std::uint64_t log_lines_dropped);

// {"version":..., "uptime_seconds":..., "config":..., "workers":[{...}], "listeners":[{...}]}
std::string statusJson(const Stats& stats, std::chrono::steady_clock::time_point now,
                       std::chrono::system_clock::time_point wall_now);

// 200 "ok" while every worker's loop has turned within Stats::kStallAfter,
// else 503 naming the first stalled worker.
http::Reply health(const Stats& stats, std::chrono::steady_clock::time_point now);

}  // namespace epolld::admin
