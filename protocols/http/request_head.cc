#include "protocols/http/request_head.h"

#include <algorithm>

#include "protocols/http/syntax.h"

namespace epolld::http {
namespace {

constexpr Error kMalformedRequestLine{kBadRequest, "malformed request line"};
constexpr Error kBadMethod{kBadRequest, "invalid method"};
constexpr Error kBadTarget{kBadRequest, "invalid request target"};
constexpr Error kPathAboveRoot{kBadRequest, "request target path climbs above the root"};
constexpr Error kBadVersion{kBadRequest, "invalid HTTP version"};
constexpr Error kUnsupportedVersion{kVersionNotSupported, "HTTP major version not 1"};
constexpr Error kObsFold{kBadRequest, "field line starts with whitespace (obs-fold)"};
constexpr Error kMissingColon{kBadRequest, "field line without a colon"};
constexpr Error kBadFieldName{kBadRequest, "invalid field name"};
constexpr Error kBadFieldValue{kBadRequest, "invalid field value"};
constexpr Error kMissingHost{kBadRequest, "HTTP/1.1 request without Host"};
constexpr Error kDuplicateHost{kBadRequest, "more than one Host"};
constexpr Error kBadHost{kBadRequest, "invalid Host"};
constexpr Error kEmptyHost{kBadRequest, "empty Host"};
constexpr Error kBadContentLength{kBadRequest, "invalid Content-Length"};
constexpr Error kConflictingContentLength{kBadRequest, "conflicting Content-Length values"};
constexpr Error kLengthAndEncoding{kBadRequest, "both Content-Length and Transfer-Encoding"};
constexpr Error kEncodingInHttp10{kBadRequest, "Transfer-Encoding in an HTTP/1.0 request"};
constexpr Error kBadTransferEncoding{kBadRequest, "invalid Transfer-Encoding"};
constexpr Error kChunkedNotFinal{kBadRequest, "chunked is not the final transfer coding"};
constexpr Error kChunkedTwice{kBadRequest, "chunked applied more than once"};
constexpr Error kUnsupportedCoding{kNotImplemented, "unsupported transfer coding"};

// RFC 9110 §8.6: several Content-Length values, in one field or many, are
// accepted only when they are all the same number.
std::optional<Error> mergeContentLength(std::string_view value,
                                        std::optional<std::uint64_t>& length) {
  std::optional<Error> error;
  bool empty = true;
  forEachListElement(value, [&](std::string_view element) {
    empty = false;
    if (error) {
      return;  // the first error stands
    }
    const std::optional<std::uint64_t> parsed = parseDecimal(element);
    if (!parsed) {
      error = kBadContentLength;
    } else if (length && *length != *parsed) {
      error = kConflictingContentLength;
    } else {
      length = parsed;
    }
  });
  return empty ? kBadContentLength : error;
}

// The Transfer-Encoding fields, as one list (RFC 9110 §5.3).
class TransferCodings {
 public:
  void add(std::string_view value) {
    present_ = true;
    forEachListElement(value, [this](std::string_view coding) {
      chunked_last_ = equalsIgnoreCase(coding, "chunked");
      chunked_count_ += chunked_last_ ? 1 : 0;
      other_ = other_ || !chunked_last_;
      valid_ = valid_ && isToken(coding.substr(0, coding.find(';')));
    });
  }

  bool present() const { return present_; }

  // RFC 9112 §6.1: chunked must be the final coding, applied once (§7), or
  // the body's end cannot be found: 400. Other codings are not implemented: 501.
  std::optional<Error> check() const {
    if (!valid_) {
      return kBadTransferEncoding;
    }
    if (!chunked_last_) {
      return kChunkedNotFinal;
    }
    if (chunked_count_ > 1) {
      return kChunkedTwice;
    }
    if (other_) {
      return kUnsupportedCoding;
    }
    return std::nullopt;
  }

 private:
  bool present_ = false;
  bool valid_ = true;
  bool chunked_last_ = false;
  bool other_ = false;
  int chunked_count_ = 0;
};

// The path and query of an origin-form or absolute-form target: RFC 3986's
// characters and percent-encodings, no encoded NUL, and no climb above "/".
std::optional<Error> checkPath(std::string_view path_and_query) {
  if (!isPathAndQuery(path_and_query)) {
    return kBadTarget;
  }
  if (!staysBelowRoot(path_and_query)) {
    return kPathAboveRoot;
  }
  return std::nullopt;
}

// RFC 9112 §3.2: the four forms of request-target, each only where it belongs.
std::optional<Error> parseTarget(Request& request) {
  const std::string_view target = request.target;
  request.path = target;
  request.host = {};
  if (request.method == "CONNECT") {
    // §3.2.3: authority-form, host ":" port, and only for CONNECT.
    request.form = TargetForm::kAuthority;
    const std::size_t colon = target.rfind(':');
    const bool valid = colon != std::string_view::npos && colon > 0 && isHostAndPort(target) &&
                       parseDecimal(target.substr(colon + 1)).has_value();
    return valid ? std::nullopt : std::optional(kBadTarget);
  }
  if (target == "*") {
    // §3.2.4: asterisk-form, only for a server-wide OPTIONS.
    request.form = TargetForm::kAsterisk;
    return request.method == "OPTIONS" ? std::nullopt : std::optional(kBadTarget);
  }
  if (target.front() == '/') {
    request.form = TargetForm::kOrigin;  // §3.2.1
    return checkPath(target);
  }
  // §3.2.2: absolute-form, scheme "://" authority [path-abempty] ["?" query].
  // Only http and https URIs name this server; an empty host is invalid for
  // both (RFC 9110 §4.2.1, §4.2.2). Anything else ("http", "foo") is no form.
  request.form = TargetForm::kAbsolute;
  const std::size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) {
    return kBadTarget;
  }
  const std::string_view scheme = target.substr(0, scheme_end);
  if (!equalsIgnoreCase(scheme, "http") && !equalsIgnoreCase(scheme, "https")) {
    return kBadTarget;
  }
  const std::string_view rest = target.substr(scheme_end + 3);
  const std::size_t path_begin = rest.find_first_of("/?");
  request.host = rest.substr(0, path_begin);
  request.path = path_begin == std::string_view::npos ? "/" : rest.substr(path_begin);
  if (!isHostAndPort(request.host)) {
    return kBadTarget;
  }
  return checkPath(request.path);
}

// RFC 9112 §3: method SP request-target SP HTTP-version, one SP each; no
// parsing on other whitespace, which §3 allows but does not require.
std::optional<Error> parseRequestLine(std::string_view line, Request& request) {
  const std::size_t first_space = line.find(' ');
  const std::size_t second_space =
      first_space == std::string_view::npos ? first_space : line.find(' ', first_space + 1);
  if (second_space == std::string_view::npos) {
    return kMalformedRequestLine;
  }
  request.method = line.substr(0, first_space);
  request.target = line.substr(first_space + 1, second_space - first_space - 1);
  const std::string_view version = line.substr(second_space + 1);
  if (!isToken(request.method)) {
    return kBadMethod;
  }
  if (request.target.empty()) {
    return kBadTarget;
  }
  // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive.
  auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
  if (version.size() != 8 || !version.starts_with("HTTP/") || !isDigit(version[5]) ||
      version[6] != '.' || !isDigit(version[7])) {
    return kBadVersion;
  }
  if (version[5] != '1') {
    return kUnsupportedVersion;
  }
  request.minor_version = version[7] == '0' ? 0 : 1;
  return parseTarget(request);
}

// The fields that frame the message or steer the connection.
std::optional<Error> interpretFields(Request& request) {
  const bool http11 = request.minor_version == 1;
  std::size_t hosts = 0;
  std::optional<std::uint64_t> content_length;
  TransferCodings codings;
  bool close = false;
  bool keep_alive = false;
  bool expect_continue = false;
  for (const Header& field : request.headers) {
    if (equalsIgnoreCase(field.name, "host")) {
      // RFC 9112 §3.2: more than one Host, or an invalid one, is a 400; an
      // empty one too, in any version and whatever the target's form, as
      // nginx does: §3.3 lets a server reject an empty http authority.
      if (++hosts > 1) {
        return kDuplicateHost;
      }
      if (!isHostAndPort(field.value)) {
        return field.value.empty() ? kEmptyHost : kBadHost;
      }
      if (request.form != TargetForm::kAbsolute) {
        request.host = field.value;
      }
    } else if (equalsIgnoreCase(field.name, "content-length")) {
      if (auto error = mergeContentLength(field.value, content_length)) {
        return error;
      }
    } else if (equalsIgnoreCase(field.name, "transfer-encoding")) {
      codings.add(field.value);
    } else if (equalsIgnoreCase(field.name, "connection")) {
      forEachListElement(field.value, [&](std::string_view option) {
        close = close || equalsIgnoreCase(option, "close");
        keep_alive = keep_alive || equalsIgnoreCase(option, "keep-alive");
      });
    } else if (equalsIgnoreCase(field.name, "expect")) {
      forEachListElement(field.value, [&](std::string_view expectation) {
        expect_continue = expect_continue || equalsIgnoreCase(expectation, "100-continue");
      });
    }
  }
  if (hosts == 0 && http11) {
    return kMissingHost;
  }
  request.keep_alive = !close && (http11 || keep_alive);
  request.expect_continue = expect_continue && http11;
  request.content_length = 0;
  if (codings.present()) {
    // RFC 9112 §6.3: both framings at once is how requests are smuggled, and
    // §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    if (content_length) {
      return kLengthAndEncoding;
    }
    if (!http11) {
      return kEncodingInHttp10;
    }
    if (auto error = codings.check()) {
      return error;
    }
    request.framing = Framing::kChunked;
  } else if (content_length) {
    request.framing = Framing::kContentLength;
    request.content_length = *content_length;
  } else {
    request.framing = Framing::kNone;  // RFC 9112 §6.3: a request with neither has no body
  }
  return std::nullopt;
}

}  // namespace

std::optional<Error> checkMethod(std::string_view line) {
  const std::size_t space = line.find(' ');
  const std::string_view method = line.substr(0, space);
  const bool whole = space != std::string_view::npos;
  if ((whole || !method.empty()) && !isToken(method)) {
    return kBadMethod;
  }
  return std::nullopt;
}

// RFC 9112 §5: field-name ":" OWS field-value OWS, a line without its CRLF.
std::optional<Error> parseFieldLine(std::string_view line, Header& field) {
  // RFC 9112 §5.2 has a server reject obs-fold; §2.2 whitespace between the
  // start-line and the first field. Both are a line starting with SP or HTAB.
  if (line.front() == ' ' || line.front() == '\t') {
    return kObsFold;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return kMissingColon;
  }
  // Whitespace before the colon fails the token rule: 400, as RFC 9112 §5.1 asks.
  field.name = line.substr(0, colon);
  if (!isToken(field.name)) {
    return kBadFieldName;
  }
  field.value = trimWhitespace(line.substr(colon + 1));
  if (!isFieldValue(field.value)) {
    return kBadFieldValue;
  }
  return std::nullopt;
}

std::optional<Error> parseHead(std::string_view head, Request& request) {
  // Each line ends in CRLF, as the caller has checked.
  auto takeLine = [&head] {
    const std::size_t lf = head.find('\n');
    const std::string_view line = head.substr(0, lf - 1);
    head.remove_prefix(lf + 1);
    return line;
  };
  if (auto error = parseRequestLine(takeLine(), request)) {
    return error;
  }
  request.headers.clear();
  for (std::string_view line = takeLine(); !line.empty(); line = takeLine()) {
    Header& field = request.headers.emplace_back();
    if (auto error = parseFieldLine(line, field)) {
      return error;
    }
  }
  return interpretFields(request);
}

std::optional<std::string_view> Request::findHeader(std::string_view name) const {
  const auto found = std::find_if(headers.begin(), headers.end(), [name](const Header& header) {
    return equalsIgnoreCase(header.name, name);
  });
  if (found == headers.end()) {
    return std::nullopt;
  }
  return found->value;
}

}  // namespace epolld::http
