#include "core/metrics/exposition.h"

#include <array>
#include <cassert>
#include <charconv>
#include <cmath>
#include <utility>

namespace epolld::metrics {
namespace {

std::string_view typeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kUntyped: return "untyped";
  }
  return "untyped";
}

bool isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }

// Integers and doubles through to_chars: no locale, no allocation.
template <typename T>
void appendNumber(std::string& out, T value) {
  std::array<char, 32> buffer;  // a double's shortest form is at most 24 characters
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  out.append(buffer.data(), result.ptr);
}

// The format escapes label values (\ " and newline) and HELP text (\ and
// newline only); anything else, UTF-8 or not, goes through as is.
void appendEscaped(std::string& out, std::string_view text, bool quotes) {
  for (const char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '"':
        out += quotes ? "\\\"" : "\"";
        break;
      default: out += c;
    }
  }
}

}  // namespace

bool Exposition::isValidMetricName(std::string_view name) noexcept {
  if (name.empty() || !(isNameStart(name[0]) || name[0] == ':')) {
    return false;
  }
  for (const char c : name) {
    if (!isNameChar(c) && c != ':') {
      return false;
    }
  }
  return true;
}

bool Exposition::isValidLabelName(std::string_view name) noexcept {
  if (name.empty() || !isNameStart(name[0]) || name.starts_with("__")) {
    return false;
  }
  for (const char c : name) {
    if (!isNameChar(c)) {
      return false;
    }
  }
  return true;
}

void Exposition::family(std::string_view name, std::string_view help, MetricType type) {
  assert(isValidMetricName(name));
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  appendEscaped(text_, help, /*quotes=*/false);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += typeName(type);
  text_ += '\n';
}

void Exposition::appendSeries(std::string_view name, std::span<const Label> labels, Label extra) {
  assert(isValidMetricName(name));
  text_ += name;
  if (!labels.empty() || !extra.name.empty()) {
    text_ += '{';
    bool first = true;
    const auto appendLabel = [&](const Label& label) {
      assert(isValidLabelName(label.name));
      if (!first) {
        text_ += ',';
      }
      first = false;
      text_ += label.name;
      text_ += "=\"";
      appendEscaped(text_, label.value, /*quotes=*/true);
      text_ += '"';
    };
    for (const Label& label : labels) {
      appendLabel(label);
    }
    if (!extra.name.empty()) {
      appendLabel(extra);
    }
    text_ += '}';
  }
  text_ += ' ';
}

void Exposition::sampleSigned(std::string_view name, std::span<const Label> labels, std::int64_t value) {
  appendSeries(name, labels);
  appendNumber(text_, value);
  text_ += '\n';
}

void Exposition::sampleUnsigned(std::string_view name, std::span<const Label> labels, std::uint64_t value) {
  appendSeries(name, labels);
  appendNumber(text_, value);
  text_ += '\n';
}

void Exposition::sample(std::string_view name, std::span<const Label> labels, double value) {
  appendSeries(name, labels);
  if (std::isnan(value)) {
    text_ += "NaN";
  } else if (std::isinf(value)) {
    text_ += value > 0 ? "+Inf" : "-Inf";
  } else {
    appendNumber(text_, value);
  }
  text_ += '\n';
}

void Exposition::histogram(std::string_view name, std::span<const Label> labels, const HistogramSnapshot& snapshot) {
  // Series names built once into a small buffer: name + suffix.
  std::string series(name);
  const std::size_t base = series.size();
  std::string bound;

  series += "_bucket";
  for (std::size_t i = 0; i < kDurationBucketCount; ++i) {
    bound.clear();
    if (i < kDurationBoundsNs.size()) {
      appendSecondsFromNanos(bound, kDurationBoundsNs[i]);
    } else {
      bound = "+Inf";
    }
    appendSeries(series, labels, Label{"le", bound});
    appendNumber(text_, snapshot.cumulative[i]);
    text_ += '\n';
  }

  series.resize(base);
  series += "_sum";
  appendSeries(series, labels);
  appendSecondsFromNanos(text_, snapshot.sum_ns);
  text_ += '\n';

  series.resize(base);
  series += "_count";
  appendSeries(series, labels);
  appendNumber(text_, snapshot.count());
  text_ += '\n';
}

void appendSecondsFromNanos(std::string& out, std::uint64_t ns) {
  constexpr std::uint64_t kNanosPerSecond = 1'000'000'000;
  appendNumber(out, ns / kNanosPerSecond);
  std::uint64_t fraction = ns % kNanosPerSecond;
  if (fraction == 0) {
    return;
  }
  std::array<char, 9> digits;
  for (std::size_t i = digits.size(); i-- > 0;) {
    digits[i] = static_cast<char>('0' + fraction % 10);
    fraction /= 10;
  }
  std::size_t length = digits.size();
  while (digits[length - 1] == '0') {
    --length;
  }
  out += '.';
  out.append(digits.data(), length);
}

}  // namespace epolld::metrics
