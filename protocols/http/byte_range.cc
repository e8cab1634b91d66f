#include "protocols/http/byte_range.h"

#include <algorithm>
#include <optional>

#include "protocols/http/syntax.h"

namespace epolld::http {
namespace {

using Kind = RangeSelection::Kind;

// §14.1.2: int-range = first-pos "-" [ last-pos ]; suffix-range = "-" suffix-length.
RangeSelection selectOne(std::string_view spec, std::uint64_t size) {
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) {
    return {};
  }
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);
  if (first_text.empty()) {
    // §14.1.1: a suffix-range is satisfiable when its length is not zero;
    // an empty file has no last bytes to send either (nginx: 416).
    const std::optional<std::uint64_t> suffix = parseDecimal(last_text);
    if (!suffix) {
      return {};
    }
    if (*suffix == 0 || size == 0) {
      return {Kind::kUnsatisfiable};
    }
    const std::uint64_t length = std::min(*suffix, size);
    return {Kind::kPart, size - length, length};
  }
  const std::optional<std::uint64_t> first = parseDecimal(first_text);
  const std::optional<std::uint64_t> last = last_text.empty() ? std::optional(UINT64_MAX) : parseDecimal(last_text);
  // §14.1.1: a last-pos below the first-pos makes the range invalid, not
  // unsatisfiable, and an invalid Range is ignored (§14.2).
  if (!first || !last || *last < *first) {
    return {};
  }
  if (*first >= size) {
    return {Kind::kUnsatisfiable};
  }
  // A last-pos at or past the end means the end (§14.1.2).
  const std::uint64_t end = std::min(*last, size - 1);
  return {Kind::kPart, *first, end - *first + 1};
}

}  // namespace

RangeSelection selectRange(std::string_view range, std::uint64_t size) {
  // ranges-specifier = range-unit "=" range-set; range units are
  // case-insensitive (§14.1).
  const std::size_t equals = range.find('=');
  if (equals == std::string_view::npos || !equalsIgnoreCase(range.substr(0, equals), "bytes")) {
    return {};
  }
  std::size_t count = 0;
  std::string_view spec;
  forEachListElement(range.substr(equals + 1), [&](std::string_view element) {
    ++count;
    spec = element;
  });
  return count == 1 ? selectOne(spec, size) : RangeSelection{};
}

}  // namespace epolld::http
