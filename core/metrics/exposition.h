// The Prometheus text exposition format, version 0.0.4, written into one
// string: what GET /metrics answers.
// https://prometheus.io/docs/instrumenting/exposition_formats/
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/metrics/duration_histogram.h"

namespace epolld::metrics {

enum class MetricType { kCounter, kGauge, kHistogram, kUntyped };

struct Label {
  std::string_view name;   // [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"
  std::string_view value;  // any bytes; escaped as the format says
};

// Names and help texts are the caller's constants; label values may come from
// anywhere (a listener's address) and are escaped. Each call appends whole
// lines, so the caller writes a family's header, then its samples:
//
//   Exposition out;
//   out.family("epolld_connections_open", "Connections open now.", MetricType::kGauge);
//   out.sample("epolld_connections_open", {{"listener", "127.0.0.1:8080"}}, snapshot.open());
//   answer(Exposition::kContentType, out.text());
class Exposition {
 public:
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  // "# HELP" and "# TYPE" lines. Written whether or not samples follow: a
  // family is then visible (and its type known) before its first event.
  void family(std::string_view name, std::string_view help, MetricType type);

  // One sample line. `name` includes any suffix (_total, _bucket...).
  // Integers are printed exactly; doubles as the shortest text that reads back
  // as the same double, with +Inf, -Inf and NaN spelled as Prometheus does.
  template <std::integral T>
  void sample(std::string_view name, std::span<const Label> labels, T value) {
    if constexpr (std::is_signed_v<T>) {
      sampleSigned(name, labels, value);
    } else {
      sampleUnsigned(name, labels, value);
    }
  }
  void sample(std::string_view name, std::span<const Label> labels, double value);

  // A histogram's samples: name_bucket{...,le="..."} (cumulative, the last
  // le="+Inf"), name_sum in seconds and name_count. The `le` values are the
  // bounds in seconds as exact decimals ("0.000005", "0.1", "10").
  void histogram(std::string_view name, std::span<const Label> labels, const HistogramSnapshot& snapshot);

  // The same, with the labels written in place: out.sample("x", {{"a", "b"}}, 1).
  template <std::integral T>
  void sample(std::string_view name, std::initializer_list<Label> labels, T value) {
    sample(name, std::span<const Label>(labels.begin(), labels.size()), value);
  }
  void sample(std::string_view name, std::initializer_list<Label> labels, double value) {
    sample(name, std::span<const Label>(labels.begin(), labels.size()), value);
  }
  void histogram(std::string_view name, std::initializer_list<Label> labels, const HistogramSnapshot& snapshot) {
    histogram(name, std::span<const Label>(labels.begin(), labels.size()), snapshot);
  }

  const std::string& text() const noexcept { return text_; }
  std::string take() noexcept { return std::move(text_); }

  // The format's rules for names, for tests and asserts.
  static bool isValidMetricName(std::string_view name) noexcept;
  static bool isValidLabelName(std::string_view name) noexcept;

 private:
  void sampleSigned(std::string_view name, std::span<const Label> labels, std::int64_t value);
  void sampleUnsigned(std::string_view name, std::span<const Label> labels, std::uint64_t value);
  // name{labels,extra} and a space; `extra` is left out when its name is empty.
  void appendSeries(std::string_view name, std::span<const Label> labels, Label extra = {});

  std::string text_;
};

// `ns` nanoseconds as seconds in exact decimal, no trailing zeros:
// 1500 -> "0.0000015", 2'000'000'000 -> "2", 0 -> "0". Exact where a double
// would print 1e-06-style text or round a large sum.
void appendSecondsFromNanos(std::string& out, std::uint64_t ns);

}  // namespace epolld::metrics
