#include "protocols/http/request_parser.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "protocols/http/request_head.h"
#include "protocols/http/syntax.h"

namespace epolld::http {
namespace {

constexpr Error kBareLf{kBadRequest, "line not ended by CRLF"};
constexpr Error kTooManyEmptyLines{kBadRequest, "too many empty lines before the request line"};
constexpr Error kRequestLineTooLong{kUriTooLong, "request line too long"};
constexpr Error kFieldSectionTooLarge{kFieldsTooLarge, "field section too large"};
constexpr Error kTooManyFields{kFieldsTooLarge, "too many field lines"};
constexpr Error kBodyTooLarge{kContentTooLarge, "request body too large"};
constexpr Error kBadChunkLine{kBadRequest, "invalid chunk size line"};
constexpr Error kChunkLineTooLong{kBadRequest, "chunk size line too long"};
constexpr Error kMissingChunkEnd{kBadRequest, "chunk data not followed by CRLF"};

constexpr std::string_view kCrlf = "\r\n";
constexpr std::size_t kInitialHeaderCapacity = 16;  // most clients send fewer fields

// A line's length without its terminator. A partial line may end in the CR of
// its CRLF, which is not counted either: a limit then fires alike whether a
// line is seen whole or in part, so split input gives the same error.
std::size_t lengthWithoutEol(std::string_view line) {
  if (line.ends_with('\n')) {
    line.remove_suffix(1);
  }
  if (line.ends_with('\r')) {
    line.remove_suffix(1);
  }
  return line.size();
}

std::optional<Error> checkLineEnd(std::string_view line) {
  if (!line.ends_with(kCrlf)) {
    return kBareLf;
  }
  return std::nullopt;
}

}  // namespace

ParserLimits ParserLimits::from(const HttpOptions& options) {
  ParserLimits limits;
  limits.max_request_line = options.max_request_line;
  limits.max_header_count = options.max_header_count;
  limits.max_header_bytes = options.max_header_bytes;
  limits.max_body_bytes = options.max_body_bytes;
  return limits;
}

std::string_view RequestParser::LineScanner::next(std::string_view input) {
  assert(searched_ <= input.size() && "feed() input must start at the first unconsumed byte");
  const void* lf = searched_ == input.size()
      ? nullptr
      : std::memchr(input.data() + searched_, '\n', input.size() - searched_);
  if (lf == nullptr) {
    searched_ = input.size();
    return {};
  }
  const std::size_t end = static_cast<const char*>(lf) - input.data() + 1;
  const std::string_view line = input.substr(line_start_, end - line_start_);
  line_start_ = searched_ = end;
  return line;
}

RequestParser::RequestParser(const ParserLimits& limits) : limits_(limits) {
  request_.headers.reserve(std::min(limits_.max_header_count, kInitialHeaderCapacity));
}

RequestParser::Result RequestParser::feed(std::string_view input) {
  std::size_t used = 0;
  for (;;) {
    const std::string_view rest = input.substr(used);
    Step step;
    switch (state_) {
      case State::kStart: step = skipEmptyLine(rest); break;
      case State::kHead: step = readHead(rest); break;
      case State::kBody:
      case State::kChunkData: step = readBody(rest); break;
      case State::kChunkSize: step = readChunkSize(rest); break;
      case State::kChunkDataEnd: step = readChunkDataEnd(rest); break;
      case State::kTrailers: step = readTrailer(rest); break;
      case State::kMessageEnd: step = endMessage(); break;
      case State::kFailed: step = {0, Event::kError, {}}; break;
    }
    if (step.consumed > 0) {
      scanner_.reset();
      used += step.consumed;
    }
    if (step.event) {
      return {*step.event, used, step.body};
    }
  }
}

RequestParser::Step RequestParser::fail(const Error& error) {
  error_ = error;
  state_ = State::kFailed;
  return {0, Event::kError, {}};
}

// RFC 9112 §2.2: a server SHOULD ignore at least one empty line before a
// request-line; a few are, more are an error.
RequestParser::Step RequestParser::skipEmptyLine(std::string_view input) {
  if (input.empty() || input == "\r") {
    return needMore();
  }
  if (!input.starts_with(kCrlf)) {
    if (input.front() == '\r' || input.front() == '\n') {
      return fail(kBareLf);
    }
    fields_begin_ = 0;
    field_lines_ = 0;
    state_ = State::kHead;
    return {};
  }
  if (++empty_lines_ > limits_.max_empty_lines) {
    return fail(kTooManyEmptyLines);
  }
  return {kCrlf.size(), std::nullopt, {}};
}

// Counts a whole line of a header or trailer section against its limits,
// before its syntax is looked at, so that split input meets them at the same
// line: `section_bytes` counts the section up to the end of `line`.
std::optional<Error> RequestParser::admitFieldLine(std::size_t section_bytes,
                                                   std::string_view line) {
  if (section_bytes > limits_.max_header_bytes) {
    return kFieldSectionTooLarge;
  }
  if (lengthWithoutEol(line) > 0 && ++field_lines_ > limits_.max_header_count) {
    return kTooManyFields;
  }
  return checkLineEnd(line);
}

// The request line, whole or as far as it has arrived, checked alike either
// way so that split input fails as whole input does. The method is checked
// first, so a client speaking another protocol (a TLS hello, say) gets its 400
// at once, not when the line limit or header_timeout runs out. RFC 9112 §3: a
// request-target longer than the server will parse gets 414; the limit is on
// the whole line, which is nearly all target.
std::optional<Error> RequestParser::checkRequestLine(std::string_view line) const {
  const std::size_t length = lengthWithoutEol(line);
  // Only the bytes within the limit count: split input may pass the limit
  // before a byte beyond it has arrived.
  if (auto error = checkMethod(line.substr(0, std::min(length, limits_.max_request_line)))) {
    return error;
  }
  if (length > limits_.max_request_line) {
    return kRequestLineTooLong;
  }
  return std::nullopt;
}

// Scans the head line by line for its limits and its end, then parses it whole.
RequestParser::Step RequestParser::readHead(std::string_view input) {
  for (std::string_view line; !(line = scanner_.next(input)).empty();) {
    const std::size_t line_end = scanner_.lineStart();
    if (fields_begin_ == 0) {
      if (auto error = checkRequestLine(line)) {
        return fail(*error);
      }
      if (auto error = checkLineEnd(line)) {
        return fail(*error);
      }
      fields_begin_ = line_end;
    } else if (auto error = admitFieldLine(line_end - fields_begin_, line)) {
      return fail(*error);
    } else if (line == kCrlf) {
      const std::string_view head = input.substr(0, line_end);
      if (auto parse_error = parseHead(head, request_)) {
        return fail(*parse_error);
      }
      if (request_.content_length > limits_.max_body_bytes) {
        return fail(kBodyTooLarge);
      }
      body_left_ = request_.content_length;
      body_total_ = 0;
      if (request_.framing == Framing::kChunked) {
        state_ = State::kChunkSize;
      } else {
        state_ = body_left_ > 0 ? State::kBody : State::kMessageEnd;
      }
      return {head.size(), Event::kHead, {}};
    }
  }
  if (fields_begin_ == 0) {
    if (auto error = checkRequestLine(input.substr(scanner_.lineStart()))) {
      return fail(*error);
    }
  } else if (input.size() - fields_begin_ > limits_.max_header_bytes) {
    return fail(kFieldSectionTooLarge);
  }
  return needMore();
}

RequestParser::Step RequestParser::readBody(std::string_view input) {
  if (input.empty()) {
    return needMore();
  }
  const std::size_t length = static_cast<std::size_t>(std::min<std::uint64_t>(body_left_, input.size()));
  body_left_ -= length;
  if (body_left_ == 0) {
    state_ = state_ == State::kBody ? State::kMessageEnd : State::kChunkDataEnd;
  }
  return {length, Event::kBody, input.substr(0, length)};
}

// RFC 9112 §7.1: chunk-size [chunk-ext] CRLF, or last-chunk, which starts the
// trailer section.
RequestParser::Step RequestParser::readChunkSize(std::string_view input) {
  const std::string_view line = scanner_.next(input);
  if (lengthWithoutEol(line.empty() ? input : line) > limits_.max_chunk_line) {
    return fail(kChunkLineTooLong);
  }
  if (line.empty()) {
    return needMore();
  }
  if (auto error = checkLineEnd(line)) {
    return fail(*error);
  }
  const std::optional<std::uint64_t> size = parseChunkLine(line.substr(0, line.size() - kCrlf.size()));
  if (!size) {
    return fail(kBadChunkLine);
  }
  if (*size > limits_.max_body_bytes - body_total_) {
    return fail(kBodyTooLarge);
  }
  body_total_ += *size;
  body_left_ = *size;
  if (*size > 0) {
    state_ = State::kChunkData;
  } else {
    trailer_bytes_ = 0;
    field_lines_ = 0;
    state_ = State::kTrailers;
  }
  return {line.size(), std::nullopt, {}};
}

RequestParser::Step RequestParser::readChunkDataEnd(std::string_view input) {
  // Each byte is checked as it comes, so the error does not wait for a line.
  const std::string_view arrived = input.substr(0, kCrlf.size());
  if (!kCrlf.starts_with(arrived)) {
    return fail(kMissingChunkEnd);
  }
  if (arrived.size() < kCrlf.size()) {
    return needMore();
  }
  state_ = State::kChunkSize;
  return {kCrlf.size(), std::nullopt, {}};
}

// RFC 9112 §7.1.2: trailer fields have the syntax and the limits of header
// fields; the server uses none of them, so each is checked, then dropped.
RequestParser::Step RequestParser::readTrailer(std::string_view input) {
  const std::string_view line = scanner_.next(input);
  if (line.empty()) {
    if (trailer_bytes_ + input.size() > limits_.max_header_bytes) {
      return fail(kFieldSectionTooLarge);
    }
    return needMore();
  }
  trailer_bytes_ += line.size();
  if (auto error = admitFieldLine(trailer_bytes_, line)) {
    return fail(*error);
  }
  if (line == kCrlf) {
    state_ = State::kMessageEnd;
    return {line.size(), std::nullopt, {}};
  }
  Header ignored;
  if (auto error = parseFieldLine(line.substr(0, line.size() - kCrlf.size()), ignored)) {
    return fail(*error);
  }
  return {line.size(), std::nullopt, {}};
}

RequestParser::Step RequestParser::endMessage() {
  empty_lines_ = 0;
  state_ = State::kStart;
  return {0, Event::kComplete, {}};
}

}  // namespace epolld::http
