// libFuzzer target for the HTTP request parser: any input must parse without
// a crash, a leak or undefined behaviour, and give the same events fed whole
// and fed in pieces cut where a PRNG seeded from the input says.
//
// The last kLimitBytes bytes of an input set the parser's limits (small ones),
// so the fuzzer can steer a limit onto the length of a line and try every
// limit check at its boundary; the bytes before them are the HTTP stream.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/http/request_parser.h"
#include "tests/fuzz/http_parse_trace.h"

namespace {

using epolld::http::ParserLimits;

constexpr std::size_t kLimitBytes = 6;

ParserLimits limitsFrom(std::string_view bytes) {
  auto byte = [bytes](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  ParserLimits limits;
  limits.max_request_line = byte(0);
  limits.max_header_count = byte(1) % 32;
  limits.max_header_bytes = byte(2) * 4;
  limits.max_body_bytes = byte(3) * 4;
  limits.max_chunk_line = byte(4) % 64;
  limits.max_empty_lines = byte(5) % 4;
  return limits;
}

// FNV-1a: the same input always gets the same split, so a crash reproduces.
std::uint32_t seedOf(std::string_view input) {
  std::uint32_t hash = 2166136261u;
  for (char c : input) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
  }
  return hash;
}

// Piece ends: mostly short pieces, some single bytes, now and then a long one.
std::vector<std::size_t> randomCuts(std::string_view input) {
  std::minstd_rand random(seedOf(input));
  std::vector<std::size_t> ends;
  for (std::size_t end = 0;;) {
    const std::uint32_t kind = random() % 8;
    end += kind == 0 ? 1 + random() % 256 : kind < 3 ? 1 : 1 + random() % 16;
    if (end >= input.size()) {
      return ends;
    }
    ends.push_back(end);
  }
}

void print(const char* title, const std::vector<std::string>& events) {
  std::fprintf(stderr, "%s:\n", title);
  for (const std::string& event : events) {
    std::fprintf(stderr, "  %s\n", event.c_str());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < kLimitBytes) {
    return 0;
  }
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string_view input = bytes.substr(0, size - kLimitBytes);
  const ParserLimits limits = limitsFrom(bytes.substr(input.size()));
  const std::vector<std::string> whole = epolld::http::testing::parseInPieces(limits, input, {});
  const std::vector<std::string> split = epolld::http::testing::parseInPieces(limits, input, randomCuts(input));
  if (split != whole) {
    print("fed whole", whole);
    print("fed in pieces", split);
    std::abort();
  }
  return 0;
}
