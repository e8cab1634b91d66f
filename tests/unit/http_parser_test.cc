#include "protocols/http/request_parser.h"

#include <gtest/gtest.h>

#include <numeric>
#include <ostream>
#include <string>
#include <vector>

#include "tests/fuzz/http_parse_trace.h"

namespace epolld::http {
namespace {

using Event = RequestParser::Event;
using testing::parseInPieces;

// Small limits, so that each one is reached by a short request.
ParserLimits testLimits() {
  ParserLimits limits;
  limits.max_request_line = 64;
  limits.max_header_count = 8;
  limits.max_header_bytes = 256;
  limits.max_body_bytes = 64;
  limits.max_chunk_line = 32;
  limits.max_empty_lines = 2;
  return limits;
}

// A request with the given field lines (each without its CRLF) and body.
std::string request(std::string_view request_line, const std::vector<std::string>& fields,
                    std::string_view body = "") {
  std::string text(request_line);
  text += "\r\n";
  for (const std::string& field : fields) {
    text += field + "\r\n";
  }
  text += "\r\n";
  text += body;
  return text;
}

std::string get(const std::vector<std::string>& fields) {
  return request("GET / HTTP/1.1", fields);
}

std::string post(const std::vector<std::string>& fields, std::string_view body) {
  return request("POST /form HTTP/1.1", fields, body);
}

std::string chunked(std::string_view chunks) {
  return post({"Host: a", "Transfer-Encoding: chunked"}, chunks);
}

// `count` field lines "X-N: v" after a Host.
std::vector<std::string> manyFields(std::size_t count) {
  std::vector<std::string> fields{"Host: a"};
  for (std::size_t i = 1; i < count; ++i) {
    fields.push_back("X-" + std::to_string(i) + ": v");
  }
  return fields;
}

// The request line "GET /aaa… HTTP/1.1", `length` bytes long.
std::string requestLineOf(std::size_t length) {
  const std::string_view fixed = "GET / HTTP/1.1";
  return "GET /" + std::string(length - fixed.size(), 'a') + " HTTP/1.1";
}

std::string repeat(std::string_view text, std::size_t times) {
  std::string repeated;
  for (std::size_t i = 0; i < times; ++i) {
    repeated += text;
  }
  return repeated;
}

// One behaviour: bytes, and the status they earn (0: they parse into whole
// requests, every byte consumed).
struct Case {
  std::string name;
  std::string bytes;
  int status;
};

// gtest names a failing case by this rather than by its bytes.
void PrintTo(const Case& rule, std::ostream* out) { *out << rule.name; }

std::vector<Case> cases() {
  const std::string lf_request = "GET / HTTP/1.1\nHost: a\n\n";
  // The field section counts "Host: a\r\n", "X: ", the value, and two CRLFs.
  const std::string field_bytes_limit(256 - 9 - 3 - 2 - 2, 'v');
  return {
      // Request line (RFC 9112 §3).
      {"AcceptsSimpleGet", get({"Host: a"}), 0},
      {"AcceptsAnyTokenAsMethod", request("M-SEARCH!~ /x HTTP/1.1", {"Host: a"}), 0},
      {"AcceptsRequestLineAtTheLimit", request(requestLineOf(64), {"Host: a"}), 0},
      {"RejectsRequestLineOverTheLimit", request(requestLineOf(65), {"Host: a"}), 414},
      {"RejectsMissingVersion", "GET /\r\n\r\n", 400},
      {"RejectsDoubleSpaceInRequestLine", request("GET  / HTTP/1.1", {"Host: a"}), 400},
      {"RejectsTrailingSpaceInRequestLine", request("GET / HTTP/1.1 ", {"Host: a"}), 400},
      {"RejectsTabAsSeparator", request("GET\t/ HTTP/1.1", {"Host: a"}), 400},
      {"RejectsLeadingSpaceBeforeMethod", request(" GET / HTTP/1.1", {"Host: a"}), 400},
      {"RejectsNonTokenMethod", request("G(T / HTTP/1.1", {"Host: a"}), 400},
      {"RejectsNonTokenMethodEvenWhenTheLineIsTooLong", request("G(T " + requestLineOf(64), {"Host: a"}), 400},
      {"RejectsOverlongLineWhoseMethodGoesBadOnlyPastTheLimit",
       request("GET" + std::string(70, 'a') + "\x18 / HTTP/1.1", {"Host: a"}), 414},
      {"RejectsRequestLineWithoutSpaces", "GET\r\n\r\n", 400},
      {"RejectsCrInsideMethod", request("GE\rT / HTTP/1.1", {"Host: a"}), 400},
      {"RejectsTlsClientHello", std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11), 400},
      {"RejectsLowercaseVersion", request("GET / http/1.1", {"Host: a"}), 400},
      {"RejectsVersionWithoutMinor", request("GET / HTTP/1", {"Host: a"}), 400},
      {"RejectsVersionWithTwoDigitMajor", request("GET / HTTP/11.1", {"Host: a"}), 400},
      {"RejectsVersionWithTrailingGarbage", request("GET / HTTP/1.1.1", {"Host: a"}), 400},
      {"RejectsHttp2Version", request("GET / HTTP/2.0", {"Host: a"}), 505},
      {"RejectsHttp09Version", request("GET / HTTP/0.9", {}), 505},
      {"AcceptsHttp10WithoutHost", request("GET / HTTP/1.0", {}), 0},
      {"AcceptsHigherMinorVersion", request("GET / HTTP/1.9", {"Host: a"}), 0},
      // Request target (RFC 9112 §3.2).
      {"AcceptsOriginFormWithQuery", request("GET /a/b?c=d&e HTTP/1.1", {"Host: a"}), 0},
      {"AcceptsAbsoluteForm", request("GET http://example.com/x?y HTTP/1.1", {"Host: b"}), 0},
      {"AcceptsAbsoluteFormWithoutPath", request("GET HTTPS://example.com HTTP/1.1", {"Host: a"}), 0},
      {"AcceptsAsteriskFormForOptions", request("OPTIONS * HTTP/1.1", {"Host: a"}), 0},
      {"AcceptsAuthorityFormForConnect", request("CONNECT a.example:443 HTTP/1.1", {"Host: a"}), 0},
      {"RejectsTargetWithControlChar", request("GET /a\x01z HTTP/1.1", {"Host: a"}), 400},
      {"RejectsTargetWithBareCr", request("GET /a\rz HTTP/1.1", {"Host: a"}), 400},
      {"RejectsTargetWithNonAscii", request("GET /caf\xc3\xa9 HTTP/1.1", {"Host: a"}), 400},
      {"RejectsTargetWithFragment", request("GET /a#b HTTP/1.1", {"Host: a"}), 400},
      {"RejectsRelativeTarget", request("GET a/b HTTP/1.1", {"Host: a"}), 400},
      {"RejectsAsteriskFormForGet", request("GET * HTTP/1.1", {"Host: a"}), 400},
      {"RejectsAuthorityFormForGet", request("GET a.example:80 HTTP/1.1", {"Host: a"}), 400},
      {"RejectsOriginFormForConnect", request("CONNECT / HTTP/1.1", {"Host: a"}), 400},
      {"RejectsConnectWithoutPort", request("CONNECT a.example HTTP/1.1", {"Host: a"}), 400},
      {"RejectsAbsoluteFormWithEmptyHost", request("GET http:///x HTTP/1.1", {"Host: a"}), 400},
      {"RejectsAbsoluteFormWithOtherScheme", request("GET ftp://a/x HTTP/1.1", {"Host: a"}), 400},
      {"RejectsAbsoluteFormWithUserinfo", request("GET http://u@a/x HTTP/1.1", {"Host: a"}), 400},
      {"RejectsAbsoluteFormWithEmptyLabel", request("GET http://a..b/x HTTP/1.1", {"Host: a"}), 400},
      {"RejectsAbsoluteFormWithPortOnly", request("GET http://:80/x HTTP/1.1", {"Host: a"}), 400},
      // Defect 8: a scheme alone was taken for an absolute-form target.
      {"RejectsSchemeAlone", request("GET http HTTP/1.1", {"Host: a"}), 400},
      {"RejectsSecureSchemeAlone", request("GET https HTTP/1.1", {"Host: a"}), 400},
      {"RejectsSchemeWithOneSlash", request("GET http:/x HTTP/1.1", {"Host: a"}), 400},
      {"RejectsSchemeWithoutSlashes", request("GET http:x HTTP/1.1", {"Host: a"}), 400},
      {"RejectsWordAsTarget", request("GET foo HTTP/1.1", {"Host: a"}), 400},
      // Percent-encoding (RFC 3986 §2.1) in the path and the query; no %00 (§7.3).
      {"AcceptsPercentEncodings", request("GET /a%2fb%25/%C3%A9?q=%41%2b HTTP/1.1", {"Host: a"}), 0},
      {"RejectsPercentAtTheEnd", request("GET /foo% HTTP/1.1", {"Host: a"}), 400},
      {"RejectsPercentWithOneDigit", request("GET /foo%2 HTTP/1.1", {"Host: a"}), 400},
      {"RejectsPercentWithNonHexDigit", request("GET /foo%2z HTTP/1.1", {"Host: a"}), 400},
      {"RejectsPercentFollowedByNonHex", request("GET /%zz/b HTTP/1.1", {"Host: a"}), 400},
      {"RejectsEncodedNul", request("GET /a%00b HTTP/1.1", {"Host: a"}), 400},
      {"RejectsBadPercentInQuery", request("GET /a?b=%zz HTTP/1.1", {"Host: a"}), 400},
      {"RejectsPercentAtTheEndOfQuery", request("GET /a?b% HTTP/1.1", {"Host: a"}), 400},
      {"RejectsEncodedNulInQuery", request("GET /a?b=%00 HTTP/1.1", {"Host: a"}), 400},
      {"RejectsBadPercentInAbsoluteForm", request("GET http://a/b%g0 HTTP/1.1", {"Host: a"}), 400},
      // Dot-segments (RFC 3986 §5.2.4): a path may not climb above "/".
      {"AcceptsDotSegmentsBelowRoot", request("GET /a/./b/../../c/... HTTP/1.1", {"Host: a"}), 0},
      {"AcceptsDotDotInQuery", request("GET /?../../x HTTP/1.1", {"Host: a"}), 0},
      {"RejectsPathAboveRoot", request("GET /.. HTTP/1.1", {"Host: a"}), 400},
      {"RejectsPathClimbingOut", request("GET /a/../../b HTTP/1.1", {"Host: a"}), 400},
      {"RejectsEncodedDotDot", request("GET /%2e%2E/b HTTP/1.1", {"Host: a"}), 400},
      {"RejectsEncodedSlashDotDot", request("GET /a%2f..%2f..%2fb HTTP/1.1", {"Host: a"}), 400},
      {"RejectsAbsoluteFormAboveRoot", request("GET http://a/../b HTTP/1.1", {"Host: a"}), 400},
      // Lines (RFC 9112 §2.2).
      {"IgnoresLeadingEmptyLines", "\r\n\r\n" + get({"Host: a"}), 0},
      {"RejectsTooManyLeadingEmptyLines", "\r\n\r\n\r\n" + get({"Host: a"}), 400},
      {"RejectsBareLfBeforeRequestLine", "\n" + get({"Host: a"}), 400},
      {"RejectsBareCrBeforeRequestLine", "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"RejectsBareLfLineEnds", lf_request, 400},
      {"RejectsBareLfAfterField", "GET / HTTP/1.1\r\nHost: a\n\r\n", 400},
      {"RejectsBareLfEndingTheHead", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400},
      // Field lines (RFC 9112 §5).
      {"AcceptsTabsAndSpacesAroundValue", get({"Host:\t a \t"}), 0},
      {"AcceptsEmptyFieldValue", get({"Host: a", "X-Empty:"}), 0},
      {"AcceptsObsTextInFieldValue", get({"Host: a", "X-Name: caf\xc3\xa9"}), 0},
      {"RejectsWhitespaceBeforeColon", get({"Host : a"}), 400},
      {"RejectsFieldWithoutColon", get({"Host: a", "X-Novalue"}), 400},
      {"RejectsEmptyFieldName", get({"Host: a", ": v"}), 400},
      {"RejectsObsFold", get({"Host: a", "X-Folded: one", " two"}), 400},
      {"RejectsWhitespaceBeforeFirstField", get({" Host: a"}), 400},
      {"RejectsBareCrInFieldValue", get({"Host: a", "X: a\rb"}), 400},
      {"RejectsNulInFieldValue", get({"Host: a", std::string("X: a\0b", 6)}), 400},
      {"RejectsDelInFieldValue", get({"Host: a", "X: a\x7f"}), 400},
      {"RejectsControlCharInFieldValue", get({"Host: a", "X: a\x1b"}), 400},
      {"AcceptsMaxHeaderCount", get(manyFields(8)), 0},
      {"RejectsTooManyHeaders", get(manyFields(9)), 431},
      {"AcceptsFieldSectionAtTheLimit", get({"Host: a", "X: " + field_bytes_limit}), 0},
      {"RejectsFieldSectionOverTheLimit", get({"Host: a", "X: " + field_bytes_limit + "v"}), 431},
      // Host (RFC 9112 §3.2).
      {"RejectsHttp11WithoutHost", get({"X: a"}), 400},
      {"RejectsDuplicateHost", get({"Host: a", "Host: a"}), 400},
      {"RejectsDuplicateHostInHttp10", request("GET / HTTP/1.0", {"Host: a", "Host: b"}), 400},
      {"RejectsHostWithSpace", get({"Host: a b"}), 400},
      {"RejectsHostWithUserinfo", get({"Host: u@a"}), 400},
      {"AcceptsHostWithIpv6AndPort", get({"Host: [::1]:8080"}), 0},
      {"AcceptsHostWithTrailingDot", get({"Host: a.example.:80"}), 0},
      {"AcceptsHostWithEmptyPort", get({"Host: a:"}), 0},
      {"AcceptsHostOfSubDelims", get({"Host: a_b~c!$&'()*+,;=d"}), 0},
      // Defect 8: an empty Host answered 200 (RFC 9112 §3.3; nginx: 400).
      {"RejectsEmptyHost", get({"Host:"}), 400},
      {"RejectsBlankHost", get({"Host:  \t "}), 400},
      {"RejectsEmptyHostInHttp10", request("GET / HTTP/1.0", {"Host:"}), 400},
      {"RejectsEmptyHostWithAbsoluteForm", request("GET http://a/ HTTP/1.1", {"Host:"}), 400},
      {"RejectsHostWithPortOnly", get({"Host: :80"}), 400},
      {"RejectsHostOfOneDot", get({"Host: ."}), 400},
      {"RejectsHostWithEmptyLabel", get({"Host: a..b"}), 400},
      {"RejectsHostWithNonDigitPort", get({"Host: a:b"}), 400},
      {"RejectsHostWithTwoPorts", get({"Host: a:1:2"}), 400},
      {"RejectsUnclosedIpLiteral", get({"Host: [::1"}), 400},
      {"RejectsBracketInRegName", get({"Host: a]b"}), 400},
      // Content-Length (RFC 9112 §6.3, RFC 9110 §8.6).
      {"AcceptsContentLengthBody", post({"Host: a", "Content-Length: 5"}, "hello"), 0},
      {"AcceptsZeroContentLength", post({"Host: a", "Content-Length: 0"}, ""), 0},
      {"AcceptsBodyAtTheLimit", post({"Host: a", "Content-Length: 64"}, std::string(64, 'b')), 0},
      {"RejectsContentLengthOverTheLimit", post({"Host: a", "Content-Length: 65"}, ""), 413},
      {"AcceptsIdenticalContentLengths", post({"Host: a", "Content-Length: 3", "Content-Length: 3"}, "abc"), 0},
      {"AcceptsIdenticalContentLengthList", post({"Host: a", "Content-Length: 3 , 3"}, "abc"), 0},
      {"RejectsDifferingContentLengths", post({"Host: a", "Content-Length: 3", "Content-Length: 4"}, "abcd"), 400},
      {"RejectsDifferingContentLengthList", post({"Host: a", "Content-Length: 5, 6"}, "hello!"), 400},
      {"RejectsEmptyContentLength", post({"Host: a", "Content-Length:"}, ""), 400},
      {"RejectsSignedContentLength", post({"Host: a", "Content-Length: +3"}, "abc"), 400},
      {"RejectsNegativeContentLength", post({"Host: a", "Content-Length: -1"}, ""), 400},
      {"RejectsHexContentLength", post({"Host: a", "Content-Length: 0x3"}, "abc"), 400},
      {"RejectsContentLengthWithSpaceInside", post({"Host: a", "Content-Length: 1 2"}, ""), 400},
      {"RejectsContentLengthOverflow", post({"Host: a", "Content-Length: 18446744073709551616"}, ""), 400},
      // Transfer-Encoding (RFC 9112 §6.1, §6.3).
      {"RejectsContentLengthWithTransferEncoding",
       post({"Host: a", "Content-Length: 5", "Transfer-Encoding: chunked"}, "0\r\n\r\n"), 400},
      {"RejectsTransferEncodingWithContentLength",
       post({"Host: a", "Transfer-Encoding: chunked", "Content-Length: 5"}, "0\r\n\r\n"), 400},
      {"RejectsTransferEncodingInHttp10",
       request("POST / HTTP/1.0", {"Transfer-Encoding: chunked"}, "0\r\n\r\n"), 400},
      {"AcceptsChunkedInAnyCase", post({"Host: a", "Transfer-Encoding: ChunKed"}, "0\r\n\r\n"), 0},
      {"RejectsChunkedNotFinal", post({"Host: a", "Transfer-Encoding: chunked, gzip"}, ""), 400},
      {"RejectsChunkedNotFinalAcrossFields",
       post({"Host: a", "Transfer-Encoding: chunked", "Transfer-Encoding: gzip"}, ""), 400},
      {"RejectsChunkedTwice", post({"Host: a", "Transfer-Encoding: chunked, chunked"}, "0\r\n\r\n"), 400},
      {"RejectsTransferEncodingWithoutChunked", post({"Host: a", "Transfer-Encoding: gzip"}, ""), 400},
      {"RejectsEmptyTransferEncoding", post({"Host: a", "Transfer-Encoding:"}, ""), 400},
      {"RejectsChunkedWithParameters", post({"Host: a", "Transfer-Encoding: chunked;x=y"}, ""), 400},
      {"RejectsUnknownTransferCoding", post({"Host: a", "Transfer-Encoding: gzip, chunked"}, "0\r\n\r\n"), 501},
      // Chunked transfer coding (RFC 9112 §7.1).
      {"AcceptsChunkedBody", chunked("5\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\n"), 0},
      {"AcceptsUppercaseAndLeadingZeroChunkSize", chunked("0005\r\nhello\r\n0\r\n\r\n"), 0},
      {"AcceptsChunkExtensions", chunked("5;a=b ; c;d=\"q \\\" x\"\r\nhello\r\n0;z\r\n\r\n"), 0},
      {"AcceptsTrailerFields", chunked("5\r\nhello\r\n0\r\nX-Sum: 1\r\nX-Other: 2\r\n\r\n"), 0},
      {"AcceptsChunkedBodyAtTheLimit", chunked("20\r\n" + std::string(32, 'b') + "\r\n20\r\n" +
                                               std::string(32, 'b') + "\r\n0\r\n\r\n"), 0},
      {"RejectsChunkedBodyOverTheLimit", chunked("20\r\n" + std::string(32, 'b') + "\r\n21\r\n"), 413},
      {"RejectsChunkSizeOverflow", chunked("10000000000000000\r\n"), 400},
      {"RejectsInvalidChunkSize", chunked("zz\r\n"), 400},
      {"RejectsEmptyChunkSize", chunked("\r\nhello\r\n"), 400},
      {"RejectsChunkSizeWithPrefix", chunked("0x5\r\nhello\r\n0\r\n\r\n"), 400},
      {"RejectsNegativeChunkSize", chunked("-5\r\nhello\r\n0\r\n\r\n"), 400},
      {"RejectsChunkSizeWithTrailingSpace", chunked("5 \r\nhello\r\n0\r\n\r\n"), 400},
      {"RejectsChunkExtensionWithoutName", chunked("5;\r\nhello\r\n0\r\n\r\n"), 400},
      {"RejectsChunkExtensionWithOpenQuote", chunked("5;a=\"b\r\nhello\r\n0\r\n\r\n"), 400},
      {"RejectsChunkLineOverTheLimit", chunked("5;" + std::string(40, 'e') + "\r\nhello\r\n0\r\n\r\n"), 400},
      {"RejectsChunkLineWithBareLf", chunked("5\nhello\r\n0\r\n\r\n"), 400},
      {"RejectsChunkDataWithoutCrlf", chunked("5\r\nhelloX\r\n0\r\n\r\n"), 400},
      {"RejectsChunkDataWithBareLf", chunked("5\r\nhello\n0\r\n\r\n"), 400},
      {"RejectsInvalidTrailerField", chunked("0\r\nX : 1\r\n\r\n"), 400},
      {"RejectsObsFoldInTrailer", chunked("0\r\nX: 1\r\n 2\r\n\r\n"), 400},
      {"RejectsTrailerWithBareLf", chunked("0\r\nX: 1\n\r\n"), 400},
      {"AcceptsMaxTrailerCount", chunked("0\r\n" + repeat("T: 1\r\n", 8) + "\r\n"), 0},
      {"RejectsTooManyTrailers", chunked("0\r\n" + repeat("T: 1\r\n", 9) + "\r\n"), 431},
      {"RejectsTrailerSectionOverTheLimit", chunked("0\r\nT: " + std::string(260, 't') + "\r\n\r\n"), 431},
      // Several requests in one stream.
      {"AcceptsPipelinedRequests", get({"Host: a"}) + post({"Host: a", "Content-Length: 2"}, "hi") +
                                       chunked("2\r\nhi\r\n0\r\n\r\n") + get({"Host: b"}), 0},
      {"AcceptsEmptyLineAfterBody", post({"Host: a", "Content-Length: 2"}, "hi") + "\r\n" + get({"Host: a"}), 0},
      {"RejectsSmuggledRequestAfterError", post({"Host: a", "Content-Length: 1, 2"}, "") + get({"Host: a"}), 400},
  };
}

int statusOf(const std::vector<std::string>& events) {
  for (const std::string& event : events) {
    if (event.starts_with("error ")) {
      return std::stoi(event.substr(6));
    }
  }
  return 0;
}

class HttpParserRule : public ::testing::TestWithParam<Case> {};

// Whole, split at each byte boundary, and one byte at a time: the same events.
TEST_P(HttpParserRule, GivesItsStatusHoweverSplit) {
  const Case& rule = GetParam();
  const std::vector<std::string> whole = parseInPieces(testLimits(), rule.bytes, {});
  EXPECT_EQ(statusOf(whole), rule.status) << ::testing::PrintToString(whole);
  if (rule.status == 0) {
    EXPECT_EQ(whole.end()[-2], "complete");
    EXPECT_EQ(whole.back(), "unconsumed 0");
  }
  for (std::size_t cut = 1; cut < rule.bytes.size(); ++cut) {
    ASSERT_EQ(parseInPieces(testLimits(), rule.bytes, {cut}), whole) << "split at " << cut;
  }
  std::vector<std::size_t> every_byte(rule.bytes.size());
  std::iota(every_byte.begin(), every_byte.end(), 1);
  EXPECT_EQ(parseInPieces(testLimits(), rule.bytes, every_byte), whole);
}

INSTANTIATE_TEST_SUITE_P(HttpParser, HttpParserRule, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// Feeds all of `bytes` at once. The heads' views point into `bytes`.
struct Parsed {
  std::vector<Event> events;
  std::vector<Request> heads;
  std::string body;
  Error error;
};

Parsed parseWhole(std::string_view bytes, const ParserLimits& limits = testLimits()) {
  RequestParser parser(limits);
  Parsed parsed;
  for (RequestParser::Result result{Event::kHead, 0, {}};
       result.event != Event::kNeedMore && result.event != Event::kError;) {
    result = parser.feed(bytes);
    bytes.remove_prefix(result.consumed);
    parsed.events.push_back(result.event);
    if (result.event == Event::kHead) {
      parsed.heads.push_back(parser.request());
    }
    parsed.body.append(result.body);
  }
  parsed.error = parser.error();
  return parsed;
}

TEST(HttpParser, ExposesRequestLineAndTrimmedFields) {
  const std::string bytes = request("PUT /a/b?c HTTP/1.1", {"Host: example.com", "X-Pad: \t v w \t"});
  const Parsed parsed = parseWhole(bytes);
  ASSERT_EQ(parsed.heads.size(), 1u);
  const Request& head = parsed.heads[0];
  EXPECT_EQ(head.method, "PUT");
  EXPECT_EQ(head.target, "/a/b?c");
  EXPECT_EQ(head.path, "/a/b?c");
  EXPECT_EQ(head.form, TargetForm::kOrigin);
  EXPECT_EQ(head.host, "example.com");
  EXPECT_EQ(head.minor_version, 1);
  ASSERT_EQ(head.headers.size(), 2u);
  EXPECT_EQ(head.headers[1].name, "X-Pad");
  EXPECT_EQ(head.headers[1].value, "v w");
  EXPECT_EQ(head.framing, Framing::kNone);
}

TEST(HttpParser, PointsViewsIntoTheCallersBuffer) {
  const std::string bytes = get({"Host: a"});
  RequestParser parser(testLimits());
  ASSERT_EQ(parser.feed(bytes).event, Event::kHead);
  EXPECT_EQ(parser.request().method.data(), bytes.data());
  EXPECT_EQ(parser.request().headers[0].value.data(), bytes.data() + bytes.find("a\r\n"));
}

TEST(HttpParser, FindsHeadersCaseInsensitively) {
  const std::string bytes = get({"Host: a", "If-None-Match: \"x\"", "if-none-match: \"y\""});
  const Parsed parsed = parseWhole(bytes);
  ASSERT_EQ(parsed.heads.size(), 1u);
  EXPECT_EQ(parsed.heads[0].findHeader("IF-NONE-MATCH"), "\"x\"");
  EXPECT_EQ(parsed.heads[0].findHeader("Range"), std::nullopt);
}

TEST(HttpParser, DecidesKeepAliveFromVersionAndConnection) {
  struct KeepAlive {
    std::string bytes;
    bool keep_alive;
  };
  const std::vector<KeepAlive> cases{
      {get({"Host: a"}), true},
      {get({"Host: a", "Connection: close"}), false},
      {get({"Host: a", "Connection: Upgrade, CLOSE"}), false},
      {get({"Host: a", "Connection: keep-alive", "Connection: close"}), false},
      {request("GET / HTTP/1.0", {}), false},
      {request("GET / HTTP/1.0", {"Connection: Keep-Alive"}), true},
      {request("GET / HTTP/1.0", {"Connection: keep-alive, close"}), false},
  };
  for (const KeepAlive& expected : cases) {
    const Parsed parsed = parseWhole(expected.bytes);
    ASSERT_EQ(parsed.heads.size(), 1u) << expected.bytes;
    EXPECT_EQ(parsed.heads[0].keep_alive, expected.keep_alive) << expected.bytes;
  }
}

TEST(HttpParser, ExpectsContinueOnlyInHttp11) {
  EXPECT_TRUE(parseWhole(get({"Host: a", "Expect: 100-Continue"})).heads.at(0).expect_continue);
  EXPECT_FALSE(parseWhole(get({"Host: a"})).heads.at(0).expect_continue);
  EXPECT_FALSE(parseWhole(request("GET / HTTP/1.0", {"Expect: 100-continue"})).heads.at(0).expect_continue);
}

TEST(HttpParser, ReadsHigherMinorVersionAsHttp11) {
  EXPECT_EQ(parseWhole(request("GET / HTTP/1.7", {"Host: a"})).heads.at(0).minor_version, 1);
  EXPECT_EQ(parseWhole(request("GET / HTTP/1.0", {})).heads.at(0).minor_version, 0);
}

TEST(HttpParser, TakesHostAndPathFromAbsoluteFormTarget) {
  const std::string with_path = request("GET http://example.com:8080/x?y HTTP/1.1", {"Host: other"});
  const Request head = parseWhole(with_path).heads.at(0);
  EXPECT_EQ(head.form, TargetForm::kAbsolute);
  EXPECT_EQ(head.host, "example.com:8080");
  EXPECT_EQ(head.path, "/x?y");
  const std::string without_path = request("GET http://example.com HTTP/1.1", {"Host: a"});
  EXPECT_EQ(parseWhole(without_path).heads.at(0).path, "/");
}

TEST(HttpParser, ReportsFramingOfTheBody) {
  const Request by_length = parseWhole(post({"Host: a", "Content-Length: 3, 3"}, "abc")).heads.at(0);
  EXPECT_EQ(by_length.framing, Framing::kContentLength);
  EXPECT_EQ(by_length.content_length, 3u);
  EXPECT_EQ(parseWhole(chunked("0\r\n\r\n")).heads.at(0).framing, Framing::kChunked);
}

TEST(HttpParser, DeliversContentLengthBodyThenPipelinedRequest) {
  const std::string bytes = post({"Host: a", "Content-Length: 5"}, "hello") + get({"Host: b"});
  const Parsed parsed = parseWhole(bytes);
  EXPECT_EQ(parsed.events, (std::vector<Event>{Event::kHead, Event::kBody, Event::kComplete, Event::kHead,
                                              Event::kComplete, Event::kNeedMore}));
  EXPECT_EQ(parsed.body, "hello");
  ASSERT_EQ(parsed.heads.size(), 2u);
  EXPECT_EQ(parsed.heads[1].host, "b");
}

TEST(HttpParser, DeliversChunkedBodyThenPipelinedRequest) {
  const std::string bytes = chunked("5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n") + get({"Host: b"});
  const Parsed parsed = parseWhole(bytes);
  EXPECT_EQ(parsed.events, (std::vector<Event>{Event::kHead, Event::kBody, Event::kBody, Event::kComplete,
                                              Event::kHead, Event::kComplete, Event::kNeedMore}));
  EXPECT_EQ(parsed.body, "hello world");
  ASSERT_EQ(parsed.heads.size(), 2u);
  EXPECT_EQ(parsed.heads[1].host, "b");
}

TEST(HttpParser, ParsesHundredPipelinedRequestsInOneFeed) {
  std::string bytes;
  for (int i = 0; i < 100; ++i) {
    bytes += request("GET /" + std::to_string(i) + " HTTP/1.1", {"Host: a"});
  }
  const Parsed parsed = parseWhole(bytes);
  ASSERT_EQ(parsed.heads.size(), 100u);
  EXPECT_EQ(parsed.heads[99].target, "/99");
  EXPECT_EQ(parsed.events.back(), Event::kNeedMore);
}

TEST(HttpParser, ConsumesNothingOfAnIncompleteHead) {
  RequestParser parser(testLimits());
  const std::string bytes = get({"Host: a"});
  const RequestParser::Result result = parser.feed(std::string_view(bytes).substr(0, bytes.size() - 1));
  EXPECT_EQ(result.event, Event::kNeedMore);
  EXPECT_EQ(result.consumed, 0u);
  EXPECT_EQ(parser.feed(bytes).event, Event::kHead);
}

TEST(HttpParser, RejectsOverlongRequestLineBeforeItEnds) {
  RequestParser parser(testLimits());
  EXPECT_EQ(parser.feed("GET /" + std::string(59, 'a')).event, Event::kNeedMore);
  EXPECT_EQ(parser.feed("GET /" + std::string(60, 'a')).event, Event::kError);
  EXPECT_EQ(parser.error().status, 414);
}

TEST(HttpParser, RejectsNonTokenMethodBeforeTheLineEnds) {
  for (const std::string_view waits : {"G", "GET", "GET\r", "GET /"}) {
    RequestParser parser(testLimits());
    EXPECT_EQ(parser.feed(waits).event, Event::kNeedMore) << waits;
  }
  RequestParser parser(testLimits());
  EXPECT_EQ(parser.feed("\x16\x03\x01").event, Event::kError);
  EXPECT_EQ(parser.error().status, 400);
  EXPECT_EQ(parser.error().reason, "invalid method");
}

TEST(HttpParser, RejectsOverlargeHeadBeforeItEnds) {
  RequestParser parser(testLimits());
  EXPECT_EQ(parser.feed("GET / HTTP/1.1\r\nX: " + std::string(300, 'v')).event, Event::kError);
  EXPECT_EQ(parser.error().status, 431);
}

TEST(HttpParser, RejectsOverlargeBodyBeforeItArrives) {
  RequestParser parser(testLimits());
  EXPECT_EQ(parser.feed(chunked("41\r\n")).event, Event::kHead);
  EXPECT_EQ(parser.feed("41\r\n").event, Event::kError);
  EXPECT_EQ(parser.error().status, 413);
}

TEST(HttpParser, KeepsReportingTheErrorAfterwards) {
  RequestParser parser(testLimits());
  EXPECT_EQ(parser.feed(get({"Host: a", "Host: b"})).event, Event::kError);
  const RequestParser::Result again = parser.feed(get({"Host: a"}));
  EXPECT_EQ(again.event, Event::kError);
  EXPECT_EQ(again.consumed, 0u);
  EXPECT_EQ(parser.error().status, 400);
  EXPECT_EQ(parser.error().reason, "more than one Host");
}

TEST(HttpParser, IsIdleOnlyBetweenRequests) {
  RequestParser parser(testLimits());
  EXPECT_TRUE(parser.idle());
  EXPECT_EQ(parser.feed("GE").event, Event::kNeedMore);
  EXPECT_FALSE(parser.idle());
  const std::string bytes = post({"Host: a", "Content-Length: 2"}, "h");
  RequestParser::Result result = parser.feed(bytes);
  EXPECT_EQ(result.event, Event::kHead);
  result = parser.feed(std::string_view(bytes).substr(result.consumed));
  EXPECT_EQ(result.event, Event::kBody);
  EXPECT_FALSE(parser.idle());
  EXPECT_EQ(parser.feed("i").event, Event::kBody);
  EXPECT_EQ(parser.feed("").event, Event::kComplete);
  EXPECT_TRUE(parser.idle());
}

TEST(HttpParser, TakesLimitsFromConfig) {
  HttpOptions options;
  options.max_request_line = 1;
  options.max_header_count = 2;
  options.max_header_bytes = 3;
  options.max_body_bytes = 4;
  const ParserLimits limits = ParserLimits::from(options);
  EXPECT_EQ(limits.max_request_line, 1u);
  EXPECT_EQ(limits.max_header_count, 2u);
  EXPECT_EQ(limits.max_header_bytes, 3u);
  EXPECT_EQ(limits.max_body_bytes, 4u);
}

TEST(HttpParser, AcceptsTypicalBrowserRequestWithDefaultLimits) {
  const std::string bytes = request(
      "GET /index.html HTTP/1.1",
      {"Host: localhost:8080", "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
       "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Accept-Language: en-US,en;q=0.5",
       "Accept-Encoding: gzip, deflate, br", "Connection: keep-alive", "Upgrade-Insecure-Requests: 1",
       "If-Modified-Since: Sat, 22 Nov 2026 16:03:47 GMT", "Range: bytes=0-99"});
  const Parsed parsed = parseWhole(bytes, ParserLimits::from(HttpOptions{}));
  ASSERT_EQ(parsed.heads.size(), 1u);
  EXPECT_EQ(parsed.heads[0].headers.size(), 9u);
  EXPECT_EQ(parsed.heads[0].findHeader("range"), "bytes=0-99");
}

}  // namespace
}  // namespace epolld::http
