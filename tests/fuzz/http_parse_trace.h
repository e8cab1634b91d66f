// Drives a RequestParser the way a connection does (unconsumed bytes stay
// buffered and are fed again with the next piece) and writes down each event
// as text, so that two ways of splitting the same bytes can be compared.
// Shared by the unit tests and the fuzzer; a broken parser invariant aborts.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/http/request_parser.h"

namespace epolld::http::testing {

inline void expectInvariant(bool holds, const char* what) {
  if (!holds) {
    std::fprintf(stderr, "http parser invariant broken: %s\n", what);
    std::abort();
  }
}

inline std::string describe(const Request& request) {
  std::string text = "head ";
  text.append(request.method).append(" ").append(request.target);
  text += " HTTP/1." + std::to_string(request.minor_version);
  text += " form=" + std::to_string(static_cast<int>(request.form));
  text.append(" path=").append(request.path).append(" host=").append(request.host);
  text += " framing=" + std::to_string(static_cast<int>(request.framing));
  text += " length=" + std::to_string(request.content_length);
  text += request.keep_alive ? " keep-alive" : " close";
  text += request.expect_continue ? " expect-continue" : "";
  for (const Header& header : request.headers) {
    text.append(" [").append(header.name).append(": ").append(header.value).append("]");
  }
  return text;
}

// The events of parsing `input` offered in pieces that end at `piece_ends`
// (ascending), then at its end: "head ...", "body <bytes>" (adjacent pieces
// joined, as their cut depends on the split), "complete", "error <status>
// <reason>", and last "unconsumed <n>" for the bytes left buffered.
inline std::vector<std::string> parseInPieces(const ParserLimits& limits, std::string_view input,
                                              const std::vector<std::size_t>& piece_ends) {
  RequestParser parser(limits);
  std::vector<std::string> events;
  std::string buffered;
  std::size_t offered = 0;
  bool failed = false;
  auto offer = [&](std::size_t end) {
    buffered.append(input.substr(offered, end - offered));
    offered = end;
    for (int calls_without_progress = 0;;) {
      using Event = RequestParser::Event;
      const RequestParser::Result result = parser.feed(buffered);
      expectInvariant(result.consumed <= buffered.size(), "consumed more than it was given");
      if (failed) {
        expectInvariant(result.event == Event::kError && result.consumed == 0,
                        "went on after an error");
        return;
      }
      switch (result.event) {
        case Event::kNeedMore:
          break;
        case Event::kHead:
          events.push_back(describe(parser.request()));
          break;
        case Event::kBody: {
          const auto begin = reinterpret_cast<std::uintptr_t>(buffered.data());
          const auto piece = reinterpret_cast<std::uintptr_t>(result.body.data());
          expectInvariant(!result.body.empty() && piece >= begin &&
                              piece + result.body.size() <= begin + result.consumed,
                          "body piece outside the consumed bytes");
          if (events.empty() || !events.back().starts_with("body ")) {
            events.emplace_back("body ");
          }
          events.back().append(result.body);
          break;
        }
        case Event::kComplete:
          events.emplace_back("complete");
          break;
        case Event::kError:
          failed = true;
          events.push_back("error " + std::to_string(parser.error().status) + " " +
                           std::string(parser.error().reason));
          break;
      }
      buffered.erase(0, result.consumed);
      if (result.event == Event::kNeedMore || result.event == Event::kError) {
        return;
      }
      calls_without_progress = result.consumed == 0 ? calls_without_progress + 1 : 0;
      expectInvariant(calls_without_progress < 2, "events without progress");
    }
  };
  for (std::size_t end : piece_ends) {
    offer(end);
  }
  offer(input.size());
  events.push_back("unconsumed " + std::to_string(buffered.size()));
  return events;
}

}  // namespace epolld::http::testing
