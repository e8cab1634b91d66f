#include "core/metrics/exposition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>

#include "core/metrics/listener_stats.h"

namespace epolld::metrics {
namespace {

std::string seconds(std::uint64_t ns) {
  std::string out;
  appendSecondsFromNanos(out, ns);
  return out;
}

TEST(MetricsExposition, FamilyPrintsHelpAndTypeEvenWithoutSamples) {
  Exposition out;
  out.family("epolld_reloads_total", "Configuration reloads, by result.", MetricType::kCounter);
  out.family("epolld_connections_open", "Connections open now.", MetricType::kGauge);
  out.family("epolld_http_request_duration_seconds", "Request durations.", MetricType::kHistogram);
  out.family("epolld_thing", "Something.", MetricType::kUntyped);
  EXPECT_EQ(out.text(),
            "# HELP epolld_reloads_total Configuration reloads, by result.\n"
            "# TYPE epolld_reloads_total counter\n"
            "# HELP epolld_connections_open Connections open now.\n"
            "# TYPE epolld_connections_open gauge\n"
            "# HELP epolld_http_request_duration_seconds Request durations.\n"
            "# TYPE epolld_http_request_duration_seconds histogram\n"
            "# HELP epolld_thing Something.\n"
            "# TYPE epolld_thing untyped\n");
}

TEST(MetricsExposition, HelpEscapesBackslashAndNewlineButNotQuotes) {
  Exposition out;
  out.family("m", "a \\ b\nc \"d\"", MetricType::kGauge);
  EXPECT_EQ(out.text(), "# HELP m a \\\\ b\\nc \"d\"\n# TYPE m gauge\n");
}

TEST(MetricsExposition, LabelValuesEscapeBackslashQuoteAndNewline) {
  Exposition out;
  out.sample("m", {{"listener", "a\\b\"c\nd"}, {"code", "200"}}, 1);
  EXPECT_EQ(out.text(), "m{listener=\"a\\\\b\\\"c\\nd\",code=\"200\"} 1\n");
}

TEST(MetricsExposition, LabelValuesKeepOtherBytesAsTheyAre) {
  Exposition out;
  out.sample("m", {{"l", "[::1]:8080 \t caf\xc3\xa9"}}, 0);
  EXPECT_EQ(out.text(), "m{l=\"[::1]:8080 \t caf\xc3\xa9\"} 0\n");
}

TEST(MetricsExposition, SampleWithoutLabelsHasNoBraces) {
  Exposition out;
  out.sample("epolld_log_lines_dropped_total", {}, 0u);
  EXPECT_EQ(out.text(), "epolld_log_lines_dropped_total 0\n");
}

TEST(MetricsExposition, IntegersPrintExactly) {
  Exposition out;
  out.sample("a", {}, std::numeric_limits<std::uint64_t>::max());
  out.sample("b", {}, std::int64_t{-5});
  out.sample("c", {}, 7);
  EXPECT_EQ(out.text(), "a 18446744073709551615\nb -5\nc 7\n");
}

TEST(MetricsExposition, DoublesPrintShortestRoundTripAndSpecialsAsPrometheusSpellsThem) {
  Exposition out;
  out.sample("a", {}, 1764000000.25);
  out.sample("b", {}, 0.1);
  out.sample("c", {}, 1e-7);
  out.sample("d", {}, std::numeric_limits<double>::infinity());
  out.sample("e", {}, -std::numeric_limits<double>::infinity());
  out.sample("f", {}, std::nan(""));
  out.sample("g", {}, 2.0);
  EXPECT_EQ(out.text(), "a 1764000000.25\nb 0.1\nc 1e-07\nd +Inf\ne -Inf\nf NaN\ng 2\n");
}

TEST(MetricsExposition, NanosecondsPrintAsExactDecimalSeconds) {
  EXPECT_EQ(seconds(0), "0");
  EXPECT_EQ(seconds(1), "0.000000001");
  EXPECT_EQ(seconds(1'000), "0.000001");
  EXPECT_EQ(seconds(1'500), "0.0000015");
  EXPECT_EQ(seconds(500'000'000), "0.5");
  EXPECT_EQ(seconds(2'000'000'000), "2");
  EXPECT_EQ(seconds(12'345'678'901), "12.345678901");
  EXPECT_EQ(seconds(std::numeric_limits<std::uint64_t>::max()), "18446744073.709551615");
}

// The expected text for one histogram, built from the bucket table, so the
// test reads as the format's rules rather than a copy of the output.
TEST(MetricsExposition, HistogramPrintsCumulativeBucketsInfSumAndCount) {
  DurationHistogram histogram;
  histogram.observe(1'000);           // exactly on le="0.000001"
  histogram.observe(1'001);           // le="0.000002"
  histogram.observe(40'000'000);      // le="0.05"
  histogram.observe(60'000'000'000);  // only +Inf
  HistogramSnapshot snapshot;
  snapshot.merge(histogram);
  Exposition out;
  out.histogram("d_seconds", {{"listener", "x"}}, snapshot);

  const std::string text = out.text();
  EXPECT_NE(text.find("d_seconds_bucket{listener=\"x\",le=\"0.000001\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_seconds_bucket{listener=\"x\",le=\"0.000002\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_seconds_bucket{listener=\"x\",le=\"0.02\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_seconds_bucket{listener=\"x\",le=\"0.05\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_seconds_bucket{listener=\"x\",le=\"10\"} 3\n"), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with("d_seconds_bucket{listener=\"x\",le=\"+Inf\"} 4\n"
                             "d_seconds_sum{listener=\"x\"} 60.040002001\n"
                             "d_seconds_count{listener=\"x\"} 4\n"))
      << text;
  // One line per bucket, then _sum and _count, nothing else.
  std::size_t lines = 0;
  for (const char c : text) {
    lines += c == '\n' ? 1 : 0;
  }
  EXPECT_EQ(lines, kDurationBucketCount + 2);
  EXPECT_TRUE(text.starts_with("d_seconds_bucket{listener=\"x\",le=\"0.000001\"} 1\n")) << text;
}

TEST(MetricsExposition, HistogramSumsAcrossWorkers) {
  ListenerStats stats(3, 0);
  stats.worker(0).countRequest(200, 2'000);
  stats.worker(1).countRequest(200, 2'000);
  stats.worker(2).countRequest(500, 3'000'000'000);
  Exposition out;
  out.histogram("d", {}, stats.sum().request_duration);
  const std::string& text = out.text();
  EXPECT_NE(text.find("d_bucket{le=\"0.000002\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_bucket{le=\"2\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_bucket{le=\"5\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_sum 3.000004\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_count 3\n"), std::string::npos) << text;
}

TEST(MetricsExposition, NameRulesFollowTheFormat) {
  EXPECT_TRUE(Exposition::isValidMetricName("epolld_build_info"));
  EXPECT_TRUE(Exposition::isValidMetricName("a:b_c1"));
  EXPECT_TRUE(Exposition::isValidMetricName(":x"));
  EXPECT_FALSE(Exposition::isValidMetricName(""));
  EXPECT_FALSE(Exposition::isValidMetricName("1a"));
  EXPECT_FALSE(Exposition::isValidMetricName("a-b"));
  EXPECT_TRUE(Exposition::isValidLabelName("listener"));
  EXPECT_TRUE(Exposition::isValidLabelName("_x9"));
  EXPECT_FALSE(Exposition::isValidLabelName("__name__"));
  EXPECT_FALSE(Exposition::isValidLabelName("a:b"));
  EXPECT_FALSE(Exposition::isValidLabelName("9a"));
  EXPECT_FALSE(Exposition::isValidLabelName(""));
}

TEST(MetricsExposition, TakeHandsOverTheText) {
  Exposition out;
  out.sample("m", {}, 1);
  const std::string text = out.take();
  EXPECT_EQ(text, "m 1\n");
}

// Every kind of line the daemon will write, in one exposition. When
// EPOLLD_METRICS_SAMPLE names a file, the text is written there, for a manual
// `promtool check metrics < FILE` (promtool is not a build dependency).
TEST(MetricsExposition, SampleExpositionForPromtool) {
  ListenerStats first(2, 1);
  ListenerStats second(2, 1);
  first.acceptor(0).accepted.add(3);
  first.worker(0).closed.add(1);
  first.worker(0).bytes_received.add(200);
  first.worker(1).bytes_sent.add(4'096);
  first.worker(0).countRequest(200, 25'000);
  first.worker(1).countRequest(404, 1'000);
  const struct {
    std::string_view name;
    const ListenerStats& stats;
  } listeners[] = {{"127.0.0.1:8080", first}, {"[::1]:8080", second}};

  Exposition out;
  out.family("epolld_connections_open", "Connections open now.", MetricType::kGauge);
  for (const auto& listener : listeners) {
    out.sample("epolld_connections_open", {{"listener", listener.name}}, listener.stats.sum().open());
  }
  out.family("epolld_connections_accepted_total", "Connections accepted.", MetricType::kCounter);
  for (const auto& listener : listeners) {
    out.sample("epolld_connections_accepted_total", {{"listener", listener.name}}, listener.stats.sum().accepted);
  }
  out.family("epolld_http_requests_total", "HTTP requests answered, by status code.", MetricType::kCounter);
  for (const auto& listener : listeners) {
    const ListenerSnapshot sum = listener.stats.sum();
    for (std::size_t slot = 0; slot < kStatusSlotCount; ++slot) {
      if (sum.requests_by_status[slot] != 0) {
        out.sample("epolld_http_requests_total",
                   {{"listener", listener.name}, {"code", std::to_string(statusOfSlot(slot))}},
                   sum.requests_by_status[slot]);
      }
    }
  }
  out.family("epolld_http_request_duration_seconds",
             "From a request's first byte to its last response byte handed to the kernel.", MetricType::kHistogram);
  for (const auto& listener : listeners) {
    out.histogram("epolld_http_request_duration_seconds", {{"listener", listener.name}},
                  listener.stats.sum().request_duration);
  }
  out.family("epolld_log_lines_dropped_total", "Log lines dropped: the \\ \"queue\" was full\n(or rate-limited).",
             MetricType::kCounter);
  out.sample("epolld_log_lines_dropped_total", {}, 0);
  out.family("epolld_start_time_seconds", "Start time, seconds since the epoch.", MetricType::kGauge);
  out.sample("epolld_start_time_seconds", {}, 1765042455.125);
  out.family("epolld_build_info", "Build information.", MetricType::kGauge);
  out.sample("epolld_build_info", {{"version", "0.1.0 \"odd\\ver\nsion\""}}, 1);

  const std::string& text = out.text();
  EXPECT_NE(text.find("epolld_connections_open{listener=\"127.0.0.1:8080\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("epolld_connections_open{listener=\"[::1]:8080\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("epolld_http_requests_total{listener=\"127.0.0.1:8080\",code=\"404\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("epolld_http_request_duration_seconds_count{listener=\"[::1]:8080\"} 0\n"), std::string::npos)
      << text;
  if (const char* path = std::getenv("EPOLLD_METRICS_SAMPLE")) {
    std::ofstream(path) << text;
  }
}

}  // namespace
}  // namespace epolld::metrics
