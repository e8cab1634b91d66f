// The admin listener's pages, from counters set by hand.
#include "protocols/admin/admin_pages.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace epolld::admin {
namespace {

using Clock = std::chrono::steady_clock;

class AdminPages : public ::testing::Test {
 protected:
  AdminPages() : stats_(2, 1, "/etc/epolld.yaml") {
    http_ = stats_.statsFor("127.0.0.1:8080");
    echo_ = stats_.statsFor("[::1]:2003");
    stats_.setListeners({{"127.0.0.1:8080", "http", true, http_}, {"[::1]:2003", "echo", false, echo_}});
  }

  Stats stats_;
  std::shared_ptr<metrics::ListenerStats> http_;
  std::shared_ptr<metrics::ListenerStats> echo_;
};

TEST_F(AdminPages, MetricsSumTheWorkersAndLabelEveryListener) {
  http_->acceptor(0).accepted.add(3);
  http_->worker(0).closed_by_reason[static_cast<std::size_t>(metrics::CloseReason::kTimeout)].add(1);
  http_->worker(0).closed.add(1);
  http_->worker(0).countRequest(200, 3'000);
  http_->worker(1).countRequest(200, 30'000);
  http_->worker(1).countRequest(404, 2'000'000);
  echo_->worker(1).bytes_received.add(7);
  stats_.countReload(false);
  const std::string text = metricsText(stats_, 5);
  for (const char* line : {
           "epolld_connections_open{listener=\"127.0.0.1:8080\"} 2\n",
           "epolld_connections_open{listener=\"[::1]:2003\"} 0\n",
           "epolld_bytes_received_total{listener=\"[::1]:2003\"} 7\n",
           "epolld_http_requests_total{listener=\"127.0.0.1:8080\",code=\"200\"} 2\n",
           "epolld_http_requests_total{listener=\"127.0.0.1:8080\",code=\"404\"} 1\n",
           "epolld_http_request_duration_seconds_bucket{listener=\"127.0.0.1:8080\",le=\"0.000005\"} 1\n",
           "epolld_http_request_duration_seconds_bucket{listener=\"127.0.0.1:8080\",le=\"0.00005\"} 2\n",
           "epolld_http_request_duration_seconds_bucket{listener=\"127.0.0.1:8080\",le=\"+Inf\"} 3\n",
           "epolld_http_request_duration_seconds_count{listener=\"127.0.0.1:8080\"} 3\n",
           "epolld_http_request_duration_seconds_sum{listener=\"127.0.0.1:8080\"} 0.002033\n",
           "epolld_log_lines_dropped_total 5\n",
           "epolld_connections_closed_total{listener=\"127.0.0.1:8080\",reason=\"timeout\"} 1\n",
           "epolld_connections_closed_total{listener=\"127.0.0.1:8080\",reason=\"peer\"} 0\n",
           "epolld_reloads_total{result=\"ok\"} 0\n",
           "epolld_reloads_total{result=\"failed\"} 1\n",
           "epolld_worker_wakeups_total{worker=\"1\"} 0\n",
           "epolld_acceptor_connections_accepted_total{listener=\"127.0.0.1:8080\",acceptor=\"0\"} 3\n",
           "epolld_acceptor_connections_accepted_total{listener=\"[::1]:2003\",acceptor=\"0\"} 0\n",
           "# TYPE epolld_http_request_duration_seconds histogram\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << " not in:\n" << text;
  }
  // Request counts and durations only where requests are answered.
  EXPECT_EQ(text.find("epolld_http_requests_total{listener=\"[::1]:2003\""), std::string::npos);
  EXPECT_EQ(text.find("epolld_http_request_duration_seconds_count{listener=\"[::1]:2003\""), std::string::npos);
}

TEST_F(AdminPages, AnHttpListenerWithoutRequestsHasAZeroSample) {
  EXPECT_NE(metricsText(stats_, 0).find("epolld_http_requests_total{listener=\"127.0.0.1:8080\",code=\"200\"} 0\n"),
            std::string::npos);
}

TEST_F(AdminPages, HealthNamesTheFirstStalledWorker) {
  const Clock::time_point now = Clock::now();
  stats_.worker(0).last_loop.set(now);
  stats_.worker(1).last_loop.set(now);
  EXPECT_EQ(health(stats_, now).status, 200);
  EXPECT_EQ(health(stats_, now + Stats::kStallAfter).status, 200);
  stats_.worker(0).last_loop.set(now + Stats::kStallAfter);
  const http::Reply stalled = health(stats_, now + Stats::kStallAfter + std::chrono::milliseconds(1));
  EXPECT_EQ(stalled.status, 503);
  EXPECT_EQ(stalled.body, "worker 1 has not turned its loop for over 2 s\n");
}

TEST_F(AdminPages, StatusHasEachWorkerAndListener) {
  const Clock::time_point now = Clock::now();
  stats_.worker(0).last_loop.set(now - std::chrono::milliseconds(250));
  stats_.worker(1).last_loop.set(now);
  stats_.worker(1).connections_adopted.add(4);
  stats_.worker(1).connections_closed.add(1);
  const std::string json = statusJson(stats_, now, stats_.startTime() + std::chrono::milliseconds(1500));
  EXPECT_NE(json.find("\"uptime_seconds\":1.500,\"config\":\"/etc/epolld.yaml\""), std::string::npos) << json;
  EXPECT_NE(json.find("{\"id\":0,\"connections\":0,\"events\":0,\"wakeups\":0,\"last_loop_age_seconds\":0.250}"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("{\"id\":1,\"connections\":3,"), std::string::npos) << json;
  EXPECT_NE(json.find("{\"name\":\"[::1]:2003\",\"protocol\":\"echo\",\"connections\":0,\"requests\":0}"),
            std::string::npos)
      << json;
}

TEST_F(AdminPages, PathsAreRoutedWithoutTheirQuery) {
  EXPECT_EQ(page("/metrics?name=x", stats_).content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(page("/status", stats_).content_type, "application/json");
  EXPECT_EQ(page("/", stats_).status, 404);
  EXPECT_EQ(page("/healthz/", stats_).status, 404);
}

}  // namespace
}  // namespace epolld::admin
