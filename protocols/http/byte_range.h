// Range requests (RFC 9110 §14): which part of a file a Range field asks for.
// Only a single byte range is served; see selectRange().
#pragma once

#include <cstdint>
#include <string_view>

namespace epolld::http {

struct RangeSelection {
  enum class Kind {
    kWhole,          // 200 with the whole file: the Range is ignored
    kPart,           // 206 with [first, first + length)
    kUnsatisfiable,  // 416
  };
  Kind kind = Kind::kWhole;
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

// The part of a `size`-byte file that the Range field value `range` asks for.
// §14.2 lets a server ignore a Range, and this one does when its unit is not
// "bytes", when it does not parse, and when it holds more than one range
// (multipart/byteranges is not implemented): the whole file is sent.
RangeSelection selectRange(std::string_view range, std::uint64_t size);

}  // namespace epolld::http
