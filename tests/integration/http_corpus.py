"""Raw HTTP/1.1 requests, valid and malformed, for the differential test against
nginx (test_http_nginx_diff.py). Each is sent on its own connection, followed
by a half-close, so a server answers what it can and then closes.

Where a case comes from: the RFC section whose rule it exercises, or the
request-smuggling and parser test suites it is modelled on (llhttp's
test/request/*.md, the "HTTP Desync Attacks" classes CL.TE / TE.CL / TE.TE).
"""

from collections import namedtuple

Case = namedtuple("Case", "name request source")

CRLF = b"\r\n"


def request(line, *fields, body=b""):
    """A request line, header fields and a body, joined with CRLF."""
    return line + CRLF + b"".join(field + CRLF for field in fields) + CRLF + body


GET = b"GET / HTTP/1.1"
HOST = b"Host: example.com"

CASES = [
    # --- valid requests ---------------------------------------------------
    Case("origin-form GET", request(GET, HOST), "RFC 9112 §3.2.1"),
    Case("HTTP/1.0 without Host", request(b"GET / HTTP/1.0"), "RFC 9112 §3.2"),
    Case("HTTP/1.0 keep-alive", request(b"GET / HTTP/1.0", b"Connection: keep-alive"), "RFC 9112 §9.3"),
    Case("absolute-form target", request(b"GET http://example.com/x?y=1 HTTP/1.1", HOST), "RFC 9112 §3.2.2"),
    Case("query and percent-encoding", request(b"GET /a%20b/c?d=e&f=%41 HTTP/1.1", HOST), "RFC 3986 §2.1"),
    Case("HEAD", request(b"HEAD / HTTP/1.1", HOST), "RFC 9110 §9.3.2"),
    Case("minor version 1.9 served as 1.1", request(b"GET / HTTP/1.9", HOST), "RFC 9110 §2.5"),
    Case("empty field value", request(GET, HOST, b"X-Empty:"), "RFC 9110 §5.5"),
    Case("tab and space as OWS", request(GET, HOST, b"X-Ows: \t value \t"), "RFC 9110 §5.6.3"),
    Case("one CRLF before the request line", CRLF + request(GET, HOST), "RFC 9112 §2.2"),
    Case("host with port", request(GET, b"Host: example.com:8080"), "RFC 9112 §3.2"),
    Case("IPv6 literal host", request(GET, b"Host: [::1]:80"), "RFC 3986 §3.2.2"),
    Case("field name with every tchar", request(GET, HOST, b"!#$%&'*+-.^_`|~09azAZ: x"), "RFC 9110 §5.6.2"),
    Case("50 header fields", request(GET, HOST, *[b"X-F%d: v" % i for i in range(50)]), "RFC 9112 §5"),
    Case("long target (4000 bytes)", request(b"GET /" + b"a" * 4000 + b" HTTP/1.1", HOST), "RFC 9112 §3"),
    Case("Connection: close", request(GET, HOST, b"Connection: close"), "RFC 9112 §9.6"),
    Case("three pipelined GETs", request(GET, HOST) * 3, "RFC 9112 §9.3.2"),
    Case("POST with Content-Length, then GET",
         request(b"POST / HTTP/1.1", HOST, b"Content-Length: 5", body=b"hello") + request(GET, HOST),
         "RFC 9112 §6.2"),
    Case("Content-Length: 0", request(b"POST / HTTP/1.1", HOST, b"Content-Length: 0"), "RFC 9112 §6.2"),
    Case("chunked POST, then GET",
         request(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked", body=b"5\r\nhello\r\n0\r\n\r\n")
         + request(GET, HOST), "RFC 9112 §7.1"),
    Case("chunk extensions and trailer fields",
         request(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked",
                 body=b"5;name=value;quoted=\"a b\"\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n") + request(GET, HOST),
         "RFC 9112 §7.1.1, §7.1.2"),
    Case("chunk size in upper case with leading zeros",
         request(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked", body=b"000A\r\n0123456789\r\n0\r\n\r\n"),
         "RFC 9112 §7.1"),
    Case("Transfer-Encoding in mixed case", request(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: Chunked",
                                                    body=b"0\r\n\r\n"), "RFC 9110 §10.1.4"),
    Case("Expect: 100-continue with its body",
         request(b"POST / HTTP/1.1", HOST, b"Expect: 100-continue", b"Content-Length: 3", body=b"abc"),
         "RFC 9110 §10.1.1"),
    Case("field names are case-insensitive", request(GET, b"hOsT: example.com", b"CONTENT-LENGTH: 0"),
         "RFC 9110 §5.1"),
    Case("Content-Length with leading zeros", request(b"PUT / HTTP/1.1", HOST, b"Content-Length: 003",
                                                      b"Ohai: world", body=b"abc"), "llhttp request-test.md"),
    Case("obs-text in a field value", request(GET, HOST, b"X-Latin1: caf\xe9"), "RFC 9110 §5.5"),
    Case("Host made of sub-delims", request(GET, b"Host: 0.0.0.0=5000"), "llhttp request-test.md (curl GET)"),
    Case("OPTIONS with a tab before a value", request(b"OPTIONS /url HTTP/1.1", HOST, b"Header2:\t Value2"),
         "llhttp request-test.md"),
    Case("identical Content-Length twice", request(b"POST / HTTP/1.1", HOST, b"Content-Length: 1",
                                                   b"Content-Length: 1", body=b"x"), "RFC 9110 §8.6"),

    # --- malformed requests: every one must be refused --------------------
    Case("HTTP/1.1 without Host", request(GET), "RFC 9112 §3.2"),
    Case("two Host fields", request(GET, HOST, b"Host: other.example"), "RFC 9112 §3.2"),
    Case("Host with a space", request(GET, b"Host: exa mple.com"), "RFC 9112 §3.2"),
    Case("whitespace before the colon", request(GET, HOST, b"X-Bad : x"), "RFC 9112 §5.1"),
    Case("Host with whitespace before the colon", request(GET, b"Host : example.com"), "RFC 9112 §5.1"),
    Case("obs-fold", request(GET, HOST, b"X-Folded: a", b" b"), "RFC 9112 §5.2"),
    Case("bare CR in a field value", request(GET, HOST, b"X-Cr: a\rb"), "RFC 9112 §2.2"),
    Case("NUL in a field value", request(GET, HOST, b"X-Nul: a\x00b"), "RFC 9110 §5.5"),
    Case("NUL in the target", request(b"GET /a\x00b HTTP/1.1", HOST), "RFC 9112 §3.2"),
    Case("field line without a colon", request(GET, HOST, b"NoColonHere"), "RFC 9112 §5"),
    Case("empty field name", request(GET, HOST, b": value"), "RFC 9110 §5.1"),
    Case("method with a non-token character", request(b"G(T / HTTP/1.1", HOST), "RFC 9110 §9.1"),
    Case("target without a leading slash", request(b"GET foo HTTP/1.1", HOST), "RFC 9112 §3.2"),
    Case("scheme alone as the target", request(b"GET http HTTP/1.1", HOST), "RFC 9112 §3.2.2"),
    Case("secure scheme alone as the target", request(b"GET https HTTP/1.1", HOST), "RFC 9112 §3.2.2"),
    Case("percent at the end of the path", request(b"GET /foo% HTTP/1.1", HOST), "RFC 3986 §2.1"),
    Case("percent before a non-hex digit", request(b"GET /foo%2z HTTP/1.1", HOST), "RFC 3986 §2.1"),
    Case("encoded NUL in the path", request(b"GET /a%00b HTTP/1.1", HOST), "RFC 3986 §7.3"),
    Case("path above the root", request(b"GET /a/../../b HTTP/1.1", HOST), "RFC 3986 §5.2.4"),
    Case("encoded dot-segments above the root", request(b"GET /%2e%2E%2fb HTTP/1.1", HOST), "RFC 3986 §5.2.4"),
    Case("empty Host", request(GET, b"Host:"), "RFC 9112 §3.3"),
    Case("empty Host in HTTP/1.0", request(b"GET / HTTP/1.0", b"Host: "), "RFC 9112 §3.3"),
    Case("Host with a port only", request(GET, b"Host: :80"), "RFC 9112 §3.3"),
    Case("Host with an empty label", request(GET, b"Host: a..example"), "RFC 3986 §3.2.2"),
    Case("no target", request(b"GET HTTP/1.1", HOST), "RFC 9112 §3"),
    Case("lower-case protocol name", request(b"GET / http/1.1", HOST), "RFC 9112 §2.3"),
    Case("version with two digits", request(b"GET / HTTP/1.10", HOST), "RFC 9112 §2.3"),
    Case("version without a minor", request(b"GET / HTTP/1", HOST), "RFC 9112 §2.3"),
    Case("space inside the target", request(b"GET /a b HTTP/1.1", HOST), "RFC 9112 §3.2"),
    Case("extra spaces in the request line", request(b"GET  / HTTP/1.1", HOST), "RFC 9112 §3"),
    Case("tab as the separator", request(b"GET\t/ HTTP/1.1", HOST), "RFC 9112 §3"),
    Case("lower-case method", request(b"get / HTTP/1.1", HOST), "RFC 9110 §9.1"),
    Case("field name with a non-token character", request(GET, HOST, b"X(y): z"), "RFC 9110 §5.1"),
    Case("Host with a slash", request(GET, b"Host: a/b"), "RFC 9112 §3.2"),
    Case("OPTIONS *", request(b"OPTIONS * HTTP/1.1", HOST), "RFC 9112 §3.2.4"),
    Case("asterisk-form for GET", request(b"GET * HTTP/1.1", HOST), "RFC 9112 §3.2.4"),
    Case("fragment in the target", request(b"GET /a#b HTTP/1.1", HOST), "RFC 9112 §3.2"),
    Case("garbage after the version", request(b"GET / HTTP/1.1 x", HOST), "RFC 9112 §3"),
    Case("TLS ClientHello on a plain port", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 40,
         "nginx: 400 for TLS on a plain listener"),
    Case("Content-Length not a number", request(b"POST / HTTP/1.1", HOST, b"Content-Length: abc"), "RFC 9110 §8.6"),
    Case("Content-Length with a sign", request(b"POST / HTTP/1.1", HOST, b"Content-Length: +5", body=b"hello"),
         "RFC 9110 §8.6"),
    Case("negative Content-Length", request(b"POST / HTTP/1.1", HOST, b"Content-Length: -1"), "RFC 9110 §8.6"),
    Case("Content-Length overflow", request(b"POST / HTTP/1.1", HOST, b"Content-Length: 99999999999999999999999"),
         "RFC 9110 §8.6"),
    Case("Content-Length list of different values",
         request(b"POST / HTTP/1.1", HOST, b"Content-Length: 4, 5", body=b"abcde"), "RFC 9110 §8.6"),
    Case("two different Content-Length fields",
         request(b"POST / HTTP/1.1", HOST, b"Content-Length: 4", b"Content-Length: 5", body=b"abcde"),
         "RFC 9112 §6.3"),
    Case("CL.TE smuggling",
         request(b"POST / HTTP/1.1", HOST, b"Content-Length: 6", b"Transfer-Encoding: chunked",
                 body=b"0\r\n\r\nG") + request(GET, HOST), "RFC 9112 §6.1"),
    Case("TE.CL smuggling",
         request(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked", b"Content-Length: 3",
                 body=b"8\r\nSMUGGLED\r\n0\r\n\r\n"), "RFC 9112 §6.1"),
    Case("TE with whitespace before the colon",
         request(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding : chunked", body=b"0\r\n\r\n"), "RFC 9112 §5.1"),
    Case("Transfer-Encoding in HTTP/1.0",
         request(b"POST / HTTP/1.0", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"), "RFC 9112 §6.1"),
    Case("chunked not last", request(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked, gzip",
                                     body=b"0\r\n\r\n"), "RFC 9112 §6.3"),
    Case("chunked, then identity in a second field",
         request(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked", b"Transfer-Encoding: identity",
                 body=b"0\r\n\r\n"), "RFC 9112 §6.3; llhttp transfer-encoding.md"),
    Case("chunk line outside the chunked grammar", request(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked",
                                               body=b"5 \r\nhello\r\n0\r\n\r\n"),
         "RFC 9112 §7.1; llhttp transfer-encoding.md"),
    Case("invalid chunk size", request(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked",
                                       body=b"zz\r\nhello\r\n0\r\n\r\n"), "RFC 9112 §7.1"),
    Case("chunk size overflow", request(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked",
                                        body=b"fffffffffffffffffffff\r\nx\r\n0\r\n\r\n"), "RFC 9112 §7.1"),
    Case("chunk data longer than its size", request(b"POST / HTTP/1.1", HOST, b"Transfer-Encoding: chunked",
                                                    body=b"2\r\nhello\r\n0\r\n\r\n"), "RFC 9112 §7.1"),
    Case("body larger than the limit", request(b"POST / HTTP/1.1", HOST, b"Content-Length: 1073741824"),
         "RFC 9110 §15.5.14 (both limit bodies to 1 MiB)"),
    Case("request line longer than 8 KiB", request(b"GET /" + b"a" * 9000 + b" HTTP/1.1", HOST),
         "RFC 9112 §3 (both limit it to 8 KiB)"),
    Case("field line longer than 16 KiB", request(GET, HOST, b"X-Long: " + b"a" * 17000),
         "RFC 6585 §5 (both refuse it)"),
    Case("major version 2", request(b"GET / HTTP/2.0", HOST), "RFC 9110 §15.6.6"),
    Case("major version 3", request(b"GET / HTTP/3.1", HOST), "RFC 9110 §15.6.6"),

    # --- where epolld and nginx differ on purpose (see DELIBERATE) ---------
    Case("lines ending in a bare LF", b"GET / HTTP/1.1\nHost: example.com\n\n", "RFC 9112 §2.2"),
    Case("five empty lines before the request line", CRLF * 5 + request(GET, HOST), "RFC 9112 §2.2"),
    Case("unimplemented method token", request(b"BREW / HTTP/1.1", HOST), "RFC 9110 §9.1, §15.6.2"),
    Case("bad or NUL percent-encoding in the query", request(b"GET /a?b=%zz&c=%00 HTTP/1.1", HOST),
         "RFC 3986 §3.4, §7.3"),
]

# Cases where the status classes differ on purpose, each listed in the README's
# "Deliberate differences from nginx" table: name -> (epolld, nginx).
DELIBERATE = {
    "identical Content-Length twice": ("2", "4"),
    "field line without a colon": ("4", "2"),
    "field name with a non-token character": ("4", "2"),
    "version with two digits": ("4", "2"),
    "extra spaces in the request line": ("4", "2"),
    "fragment in the target": ("4", "2"),
    "lower-case method": ("5", "4"),
    "OPTIONS *": ("2", "4"),
    "chunked not last": ("4", "5"),
    "chunk line outside the chunked grammar": ("4", "2"),
    "lines ending in a bare LF": ("4", "2"),
    "five empty lines before the request line": ("4", "2"),
    "unimplemented method token": ("5", "2"),
    "bad or NUL percent-encoding in the query": ("4", "2"),
}
