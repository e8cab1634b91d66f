// A strict, incremental HTTP/1.1 request parser (RFC 9112): bytes in, events
// out, no I/O. A connection offers it the unconsumed bytes of its input buffer
// each time more arrive. A request head is consumed only once it is complete,
// so the head's views point straight into the caller's buffer and no header
// byte is copied; a head that is still arriving is scanned only in its new
// bytes. The events are the same however the bytes are split.
//
// Every line (request line, field lines, chunk lines, trailer lines) must end
// in CRLF. RFC 9112 §2.2 lets a recipient accept a bare LF; this parser
// answers 400 instead, because lenient line endings are where two parsers on
// the same path disagree about framing, and that is how requests get smuggled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "protocols/http/http_options.h"
#include "protocols/http/request.h"

namespace epolld::http {

struct ParserLimits {
  std::size_t max_request_line = 0;  // without its CRLF; longer: 414
  std::size_t max_header_count = 0;  // field lines in the header (or trailer) section; more: 431
  std::size_t max_header_bytes = 0;  // the section after the request line, CRLFs included; more: 431
  std::uint64_t max_body_bytes = 0;  // Content-Length, or the sum of chunk sizes; more: 413
  // Not configurable: RFC 9112 §7.1.1 asks servers to bound chunk extensions,
  // which no client of this server sends; longer chunk-size lines: 400.
  std::size_t max_chunk_line = 1024;
  // RFC 9112 §2.2: empty lines before a request line are ignored, up to this many.
  std::size_t max_empty_lines = 4;

  static ParserLimits from(const HttpOptions& options);
};

// Use, from a connection's input handler:
//
//   std::size_t used = 0;
//   for (;;) {
//     const auto result = parser.feed(input.substr(used));
//     used += result.consumed;
//     ...  // act on result.event; stop after kNeedMore or kError
//   }
//   return used;  // the rest stays buffered and is fed again, with what follows
//
// Each request gives kHead, then kBody for each piece of its body, then
// kComplete. Trailer fields are checked and bounded, then dropped.
class RequestParser {
 public:
  enum class Event {
    kNeedMore,  // every usable byte is consumed; feed again when more arrive
    kHead,      // request() holds a complete, valid request head
    kBody,      // Result::body is the next piece of the request body
    kComplete,  // the request is over, body included; the next one may follow
    kError,     // error() says what to answer; nothing after it can be framed
  };
  struct Result {
    Event event = Event::kNeedMore;
    std::size_t consumed = 0;  // bytes of the input used; drop them before the next call
    std::string_view body;     // kBody: the piece, inside the consumed bytes
  };

  explicit RequestParser(const ParserLimits& limits);

  // `input` must start with the first byte no earlier call consumed.
  Result feed(std::string_view input);

  // The last head, from its kHead until the next one; its views as request.h says.
  const Request& request() const { return request_; }
  // Valid after kError; every later call returns kError again.
  const Error& error() const { return error_; }
  // Between requests: closing now cuts no request short.
  bool idle() const { return state_ == State::kStart; }

 private:
  enum class State {
    kStart,         // before a request line: empty lines are skipped
    kHead,          // the head is arriving; nothing is consumed until it is whole
    kBody,          // Content-Length body bytes
    kChunkSize,     // chunk-size [chunk-ext] CRLF
    kChunkData,     // chunk-data
    kChunkDataEnd,  // the CRLF after chunk-data
    kTrailers,      // trailer field lines, up to an empty line
    kMessageEnd,    // everything is read; kComplete comes next
    kFailed,
  };

  // One state's work: bytes it consumed, and the event to return, if any.
  struct Step {
    std::size_t consumed = 0;
    std::optional<Event> event;
    std::string_view body;
  };

  // Splits growing input into LF-terminated lines, remembering how far it has
  // looked, so a re-fed head costs only its new bytes. Offsets count from the
  // first unconsumed byte: it must be reset whenever bytes are consumed.
  class LineScanner {
   public:
    // The next whole line, its LF included; empty when the input ends inside one.
    std::string_view next(std::string_view input);
    std::size_t lineStart() const { return line_start_; }
    void reset() { line_start_ = searched_ = 0; }

   private:
    std::size_t line_start_ = 0;
    std::size_t searched_ = 0;
  };

  static Step needMore() { return {0, Event::kNeedMore, {}}; }
  Step skipEmptyLine(std::string_view input);
  Step readHead(std::string_view input);
  Step readBody(std::string_view input);
  Step readChunkSize(std::string_view input);
  Step readChunkDataEnd(std::string_view input);
  Step readTrailer(std::string_view input);
  Step endMessage();
  Step fail(const Error& error);

  std::optional<Error> checkRequestLine(std::string_view line) const;
  std::optional<Error> admitFieldLine(std::size_t section_bytes, std::string_view line);

  ParserLimits limits_;
  State state_ = State::kStart;
  LineScanner scanner_;
  Request request_;
  Error error_;
  std::size_t empty_lines_ = 0;
  std::size_t fields_begin_ = 0;  // head offset after the request line; 0 until it is whole
  std::size_t field_lines_ = 0;   // in the header or trailer section so far
  std::size_t trailer_bytes_ = 0;
  std::uint64_t body_left_ = 0;   // of the Content-Length body or the current chunk
  std::uint64_t body_total_ = 0;  // chunk sizes announced so far
};

}  // namespace epolld::http
