"""Generated HTTP/1.1 requests for the differential test against nginx
(test_http_nginx_grammar.py, scripts/diff-nginx).

Each request is a valid, neutral one (a method both servers answer, a target,
Host, a few fields, a body framed by Content-Length or chunked) with at most
one mutation applied: one grammar rule bent or broken, at one place. The
mutation says what to expect: None when epolld and nginx must agree, or the
name of a difference class, a row of the README's table of deliberate
differences, in which both must answer as that row says. One mutation a
request keeps that verdict exact: two faults at once would make the answer
depend on which one each server checks first.

A request is a pure function of (seed, index), so any one can be rebuilt alone.
"""

import random
from collections import namedtuple

# A difference class: the status classes ("2", "4", "5"; "0" for a reply that
# is not HTTP/1.x) each server may answer its first response with; or, with
# `whole`, the exact answers to the request and the GET behind it (PROBE).
# Every name is a row of the README's table, which says why the RFCs allow it.
Difference = namedtuple("Difference", "epolld nginx whole", defaults=(False,))

CLASSES = {
    "lines ending in a bare LF": Difference("4", "2"),
    "five empty lines before the request line": Difference("4", "2"),
    "extra spaces in the request line": Difference("4", "2"),
    "version with two digits": Difference("4", "25"),
    "fragment in the target": Difference("4", "2"),
    "non-ASCII octet in the target": Difference("4", "2"),
    "bad or NUL percent-encoding in the query": Difference("4", "2"),
    "field line without a colon": Difference("4", "2"),
    "field name with a non-token character": Difference("4", "2"),
    "control character in a field value": Difference("4", "2"),
    "Host that is not a valid authority": Difference("4", "2"),
    "absolute-form host with a character nginx refuses": Difference("2", "4"),
    "absolute-form with another scheme": Difference("4", "2"),
    "HTAB around a Host, Content-Length or Transfer-Encoding value": Difference("2", "45"),
    "chunked not last": Difference("4", "5"),
    "empty elements around chunked": Difference("2", "5"),
    "chunk line outside the chunked grammar": Difference("4", "2"),
    "invalid trailer field": Difference("4", "2"),
    "identical Content-Length twice": Difference("2", "4"),
    "OPTIONS *": Difference("2", "4"),
    "lower-case method": Difference("5", "4"),
    "unimplemented method token": Difference("5", "2"),
    "TRACE": Difference("5", "4"),
    "CONNECT to an authority": Difference("5", "4"),
    "version HTTP/0.9": Difference("5", "4"),
    "request line without a version": Difference("4", "0"),
    "CR before the CRLF of a field line": Difference("4", "2"),
    "field section over epolld's limits": Difference("4", "2"),
    "field line over 8 KiB": Difference("2", "4"),
    "chunk line over 1 KiB": Difference("4", "2"),
    "repeated field that nginx allows once": Difference("2", "4"),
    "close in an earlier Connection field": Difference("2", "2,2", whole=True),
    "Connection option that only contains close": Difference("2,2", "2", whole=True),
}

CRLF = b"\r\n"
# Octets by class, for targets, names and values.
ALPHA = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGIT = b"0123456789"
TCHAR_SYMBOLS = b"!#$%&'*+-.^_`|~"
# Path octets both servers take as they are: unreserved, sub-delims, ":@", and
# the printable ASCII that RFC 3986 excludes but neither server refuses.
PATH_OCTETS = ALPHA + DIGIT + b"-._~!$&'()*+,;=:@" + b'"<>\\^`{|}'
CTLS = bytes(c for c in range(0x20) if c not in b"\t\r\n\x00") + b"\x7f"
OBS_TEXT = bytes(range(0x80, 0x100))
# Printable ASCII that is no tchar: a field name with one is invalid.
NON_TCHAR = b'"(),/;<=>?@[\\]{}'
HOSTS = [b"example.com", b"a", b"localhost:8080", b"127.0.0.1", b"[::1]:80", b"a-b.c.", b"EXAMPLE.com",
         b"a_b", b"x~y:", b"0.0.0.0=5000"]
ABSOLUTE_HOSTS = [b"example.com", b"a", b"127.0.0.1:80", b"[::1]", b"A.B-c", b"a.b.:8080", b"x:"]
KNOWN_METHODS = [b"GET", b"GET", b"GET", b"HEAD", b"POST", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH"]


class Parts:
    """A request as its pieces, so a mutation can bend any one of them."""

    def __init__(self):
        self.prefix = b""  # before the request line
        self.method = b"GET"
        self.target = b"/"
        self.version = b"HTTP/1.1"
        self.line = None  # the whole request line, when a mutation writes it
        self.fields = []  # field lines without their CRLF
        self.body = b""
        self.eol = CRLF

    def field_index(self, name):
        lower = name.lower() + b":"
        for index, line in enumerate(self.fields):
            if line.lower().startswith(lower):
                return index
        return None

    def set_field(self, name, line):
        """Replaces the field `name` (or adds it) with the raw `line`."""
        index = self.field_index(name)
        if index is None:
            self.fields.append(line)
        else:
            self.fields[index] = line

    def bytes(self):
        line = self.line if self.line is not None else self.method + b" " + self.target + b" " + self.version
        return (self.prefix + line + self.eol + b"".join(field + self.eol for field in self.fields)
                + self.eol + self.body)


def pick(rng, octets, low, high):
    return bytes(rng.choice(octets) for _ in range(rng.randint(low, high)))


def pct(rng, allow_nul=False):
    """A valid percent-encoding of an octet that is no "/" or ".", in either case."""
    while True:
        octet = rng.randrange(0 if allow_nul else 1, 256)
        if octet not in b"/.":
            text = b"%%%02x" % octet
            return text.upper() if rng.random() < 0.5 else text


def segment(rng):
    parts = [pick(rng, PATH_OCTETS.replace(b".", b""), 1, 6)]
    if rng.random() < 0.3:
        parts.append(pct(rng))
    if rng.random() < 0.2:
        parts.append(b"." + pick(rng, ALPHA, 1, 3))
    return b"".join(parts)


def query(rng):
    pieces = [pick(rng, ALPHA + DIGIT, 1, 4) + b"=" + pick(rng, PATH_OCTETS + b"/?", 0, 6) for _ in range(rng.randint(1, 3))]
    text = b"&".join(pieces)
    return text + pct(rng) if rng.random() < 0.3 else text


def origin_path(rng):
    path = b"/" + b"/".join(segment(rng) for _ in range(rng.randint(0, 4)))
    if rng.random() < 0.2:
        path += b"/"
    if rng.random() < 0.3:
        path += b"?" + query(rng)
    return path


def chunked_body(rng, data):
    """`data` as chunks, sizes in either case, some with leading zeros or a
    valid extension, and maybe a trailer field."""
    out = b""
    while data:
        size = rng.randint(1, len(data))
        digits = b"%x" % size
        digits = digits.upper() if rng.random() < 0.3 else digits
        digits = b"0" * rng.randint(0, 2) + digits
        ext = rng.choice([b"", b"", b";a=b", b";name", b' ; q="x y"'])
        out += digits + ext + CRLF + data[:size] + CRLF
        data = data[size:]
    trailer = rng.choice([b"", b"", b"X-Trailer: t" + CRLF])
    return out + b"0" + CRLF + trailer + CRLF


def neutral(rng):
    """A request both servers answer with 2xx."""
    p = Parts()
    p.method = rng.choice(KNOWN_METHODS)
    p.target = origin_path(rng)
    p.version = b"HTTP/1.0" if rng.random() < 0.15 else rng.choice([b"HTTP/1.1"] * 9 + [b"HTTP/1.9"])
    if p.version != b"HTTP/1.0" or rng.random() < 0.5:
        p.fields.append(rng.choice([b"Host: ", b"host:", b"HOST:  "]) + rng.choice(HOSTS))
    extras = [
        b"User-Agent: gen/1.0 (x; y)",
        b"Accept: */*",
        b"Accept-Language: en;q=0.5",
        b"X-Obs-Text: caf\xe9",
        b"X-Ows: \t v \t",
        b"X-Empty:",
        b"x_under: 1",
        b"!#$%&'*+-.^_`|~09: tchar",
        b"Cookie: a=b; c=d",
    ]
    p.fields += rng.sample(extras, rng.randint(0, 3))
    if rng.random() < 0.3:
        p.fields.append(rng.choice([b"Connection: keep-alive", b"Connection: close", b"connection: Keep-Alive"]))
    if p.method in (b"POST", b"PUT", b"PATCH") or rng.random() < 0.05:
        data = pick(rng, ALPHA + DIGIT + b"\r\n\x00\xff", 0, 40)
        if p.version != b"HTTP/1.0" and rng.random() < 0.5:
            p.fields.append(b"Transfer-Encoding: " + rng.choice([b"chunked", b"Chunked", b"CHUNKED"]))
            p.body = chunked_body(rng, data)
        else:
            p.fields.append(b"Content-Length: " + rng.choice([b"", b"0", b"00"]) + b"%d" % len(data))
            p.body = data
    rng.shuffle(p.fields)
    return p


def host_field(p, value):
    p.set_field(b"Host", b"Host: " + value)


def use_chunked(rng, p, data=b"hello"):
    """Makes `p` a chunked HTTP/1.1 POST (the base for chunk mutations)."""
    p.method = b"POST"
    p.version = b"HTTP/1.1"
    if p.field_index(b"Host") is None:
        host_field(p, b"a")
    cl = p.field_index(b"Content-Length")
    if cl is not None:
        del p.fields[cl]
    p.set_field(b"Transfer-Encoding", b"Transfer-Encoding: chunked")
    p.body = chunked_body(rng, data)


def use_length(p, data=b"hello"):
    p.method = b"POST"
    te = p.field_index(b"Transfer-Encoding")
    if te is not None:
        del p.fields[te]
    p.set_field(b"Content-Length", b"Content-Length: %d" % len(data))
    p.body = data


# --- mutations: each bends one thing and returns its class (None: agree) ----

def m_method_case(rng, p):
    p.method = rng.choice([b"get", b"Get", b"post", b"hEAD", b"options"])
    return "lower-case method"


def m_method_symbols(rng, p):
    p.method = rng.choice([b"GET1", b"G!T", b"M.X", b"PUT~", b"P#", b"'Q'", b"A+B", b"1GET", b"%47ET"])
    return "lower-case method"


def m_method_unknown(rng, p):
    p.method = rng.choice([b"BREW", b"M-SEARCH", b"PURGE", b"MKCOL", b"PROPFIND", b"X_Y", b"COPY", b"LOCK", b"SEARCH"])
    return "unimplemented method token"


def m_method_trace(rng, p):
    p.method = b"TRACE"
    return "TRACE"


def m_method_connect(rng, p):
    p.method = b"CONNECT"
    if rng.random() < 0.5:
        p.target = rng.choice([b"a.example:443", b"127.0.0.1:80", b"[::1]:8080"])
        return "CONNECT to an authority"
    p.target = rng.choice([b"/", b"a.example", b"http://a/"])  # no authority-form: both refuse it
    return None


def m_method_not_token(rng, p):
    p.method = rng.choice([b"G(T", b"G@T", b"GE\x00T", b"\x16\x03\x01", b"G\xe9T", b"G\x7fT", b"[GET]", b"G/T"])
    return None


def m_request_line_spaces(rng, p):
    line = p.method + b" " + p.target + b" " + p.version
    where = rng.choice(["method", "target", "end"])
    if where == "method":
        p.line = p.method + b" " * rng.randint(2, 3) + p.target + b" " + p.version
    elif where == "target":
        p.line = p.method + b" " + p.target + b" " * rng.randint(2, 3) + p.version
    else:
        p.line = line + b" " * rng.randint(1, 2)
    return "extra spaces in the request line"


def m_request_line_broken(rng, p):
    """Separators and whole lines both servers refuse."""
    p.line = rng.choice([
        p.method + b"\t" + p.target + b" " + p.version,
        b" " + p.method + b" " + p.target + b" " + p.version,
        p.method + b" " + p.target + b" " + p.version + b" x",
        p.method + b" " + p.target + b"\t" + p.version,
        p.method + b" " + p.version,
        p.method,
    ])
    return None


def m_version(rng, p):
    version, klass = rng.choice([
        (b"HTTP/1.0", None), (b"HTTP/1.1", None), (b"HTTP/1.2", None), (b"HTTP/1.9", None),
        (b"HTTP/2.0", None), (b"HTTP/3.1", None), (b"HTTP/9.9", None),
        (b"HTTP/0.9", "version HTTP/0.9"),
        (b"HTTP/1.10", "version with two digits"), (b"HTTP/1.01", "version with two digits"),
        (b"HTTP/11.1", "version with two digits"), (b"HTTP/10.0", "version with two digits"),
        (b"HTTP/01.1", None), (b"http/1.1", None), (b"HTTP/1", None), (b"HTTP/1.", None), (b"HTTP/a.b", None),
        (b"HTTPS/1.1", None), (b"HTTP1.1", None), (b"HTTP/1.1x", None), (b"HTTP/-1.1", None), (b"HTTP/ 1.1", None),
    ])
    p.version = version
    if version == b"HTTP/1.0" and p.field_index(b"Transfer-Encoding") is not None:
        use_length(p)
    if p.field_index(b"Host") is None:
        host_field(p, b"a")  # whatever each server takes the version for, Host is not what it refuses
    return klass


def m_no_version(rng, p):
    p.method = b"GET"
    p.line = b"GET " + p.target
    return "request line without a version"


def m_empty_lines(rng, p):
    count = rng.randint(1, 7)
    p.prefix = CRLF * count
    return "five empty lines before the request line" if count > 4 else None


def m_bare_lf(rng, p):
    if rng.random() < 0.5:
        p.eol = b"\n"
    elif rng.random() < 0.5:
        p.prefix = b"\n"
    else:
        p.fields.append(b"X-Lf: 1\nX-After: 2")
    return "lines ending in a bare LF"


def m_bare_cr(rng, p):
    if rng.random() < 0.3:
        p.fields.append(b"X-Cr: a\r")
        return "CR before the CRLF of a field line"
    choice = rng.randrange(3)
    if choice == 0:
        p.fields.append(rng.choice([b"X-Cr: a\rb", b"X-Cr\r: b", b"\rX-Cr: b"]))
    elif choice == 1:
        p.line = p.method + b" " + p.target + b" " + p.version + b"\r"
    else:
        p.line = p.method + b" " + p.target + b"\r " + p.version
    return None


def m_connection(rng, p):
    """Connection options: a list over all its field lines, of tokens
    (RFC 9110 §7.6.1). Behind each request goes PROBE."""
    p.version = b"HTTP/1.1"
    if p.field_index(b"Host") is None:
        host_field(p, b"a")
    for name in (b"Connection", b"Connection"):
        index = p.field_index(name)
        if index is not None:
            del p.fields[index]
    choice = rng.randrange(4)
    if choice == 0:
        p.fields += [b"Connection: close", b"Connection: keep-alive"]
        return "close in an earlier Connection field"
    if choice == 1:
        p.fields.append(b"Connection: " + rng.choice([b"closed", b"x-close", b"keep-alive, closer", b"noclose"]))
        return "Connection option that only contains close"
    p.fields.append(b"Connection: " + rng.choice([b"keep-alive, close", b"Close", b"upgrade", b"TE, close",
                                                  b"keep-alive", b" close "]))
    return None


def m_target_percent(rng, p):
    bad = rng.choice([b"%", b"%2", b"%2z", b"%zz", b"%g0", b"%00", b"%%41"])
    p.target = origin_path(rng).split(b"?")[0] + bad + rng.choice([b"", b"x", b"/b", b"?q=1"])
    return None


def m_query_percent(rng, p):
    bad = rng.choice([b"%", b"%2", b"%2z", b"%zz", b"%G1", b"%00"])
    p.target = origin_path(rng).split(b"?")[0] + b"?" + query(rng) + bad + rng.choice([b"", b"&x=1"])
    return "bad or NUL percent-encoding in the query"


def m_dot_segments(rng, p):
    pieces = [rng.choice([b"a", b"bb", b".", b"..", b"%2e%2e", b"%2E.", b".%2e", b"%2e", b"", b"...", b"..a",
                          b"a%2f..", b"%2f..", b"x%2F%2e%2e"]) for _ in range(rng.randint(1, 5))]
    path = b"/" + b"/".join(pieces)
    if rng.random() < 0.3:
        path += b"?../.."
    if rng.random() < 0.2:
        path = b"http://a" + path
    p.target = path
    return None


def m_target_octet(rng, p):
    path = origin_path(rng).split(b"?")[0]
    kind = rng.choice(["fragment", "non-ascii", "ctl", "space", "nul"])
    if kind == "fragment":
        p.target = path + b"#" + pick(rng, ALPHA, 0, 3)
        return "fragment in the target"
    if kind == "non-ascii":
        p.target = path + bytes([rng.choice(OBS_TEXT)]) + rng.choice([b"", b"?q=1"])
        if rng.random() < 0.3:
            p.target = path + b"?q=" + bytes([rng.choice(OBS_TEXT)])
        return "non-ASCII octet in the target"
    if kind == "ctl":
        p.target = path + bytes([rng.choice(CTLS + b"\t")]) + b"x"
        return None
    if kind == "space":
        p.target = path + b" x"
        return None
    p.target = path + b"\x00"
    return None


def m_target_form(rng, p):
    choice = rng.randrange(9)
    if choice == 0:
        scheme = rng.choice([b"http", b"https", b"HTTP", b"Https"])
        p.target = scheme + b"://" + rng.choice(ABSOLUTE_HOSTS) + rng.choice([b"", b"/", b"/x/y", b"?q=1", b"/a?b"])
        return None
    if choice == 1:
        p.target = b"http://" + rng.choice([b"a_b", b"a~b", b"a!b", b"a$b", b"a%41", b"a'b", b"a(b)", b"a*b",
                                            b"a+b", b"a,b", b"a;b", b"a=b"]) + b"/x"
        return "absolute-form host with a character nginx refuses"
    if choice == 2:
        p.target = rng.choice([b"ftp", b"foo", b"ws", b"h"]) + b"://a/x"
        return "absolute-form with another scheme"
    if choice == 3:
        p.target = rng.choice([b"http", b"https", b"http:", b"http:/", b"http:/x", b"http:x", b"http:///x",
                               b"http://", b"http://:80/", b"http://a..b/", b"http://u@a/", b"http://a:8x/",
                               b"http://[::1/x"])
        return None
    if choice == 4:
        p.method, p.target = b"OPTIONS", b"*"
        return "OPTIONS *"
    if choice == 5:
        p.method = rng.choice([b"GET", b"HEAD", b"POST"])
        p.target = b"*"
        return None
    if choice == 6:
        p.target = rng.choice([b"a.example:80", b"foo", b"a/b", b"?x", b"#x", b"\\x", b"./a", b"..", b"~"])
        return None
    if choice == 7:
        p.line = p.method + b"  " + p.version  # no target
        return None
    p.target = b"/" + b"a" * rng.randint(100, 4000)
    return None


def m_host(rng, p):
    p.version = b"HTTP/1.1" if rng.random() < 0.8 else b"HTTP/1.0"
    if p.version == b"HTTP/1.0" and p.field_index(b"Transfer-Encoding") is not None:
        use_length(p)
    choice = rng.randrange(8)
    index = p.field_index(b"Host")
    if choice == 0:
        if index is not None:
            del p.fields[index]
        return None
    if choice == 1:
        host_field(p, rng.choice([b"", b" ", b":80", b".", b"..", b"a..b", b"a.b..", b"a/b", b"a b",
                                  b"a\x00b", b"a\x01b"]))
        return None
    if choice == 2:
        host_field(p, b"a")
        p.fields.append(rng.choice([b"Host: a", b"Host: b", b"host: a", b"HOST:"]))
        return None
    if choice == 3:
        host_field(p, rng.choice([b"a@b", b"a\"b", b"<a>", b"a\\b", b"a^b", b"a`b", b"a{b}", b"a|b", b"a:b", b"a:1:2",
                                  b"[::1", b"a]b", b"[::1]x", b"caf\xe9", b"a?b", b"a#b"]))
        return "Host that is not a valid authority"
    if choice == 4:
        p.set_field(b"Host", rng.choice([b"Host:\ta", b"Host: a\t", b"Host:\t a \t"]))
        return "HTAB around a Host, Content-Length or Transfer-Encoding value"
    if choice == 5:
        p.set_field(b"Host", b"Host: " + rng.choice(HOSTS) + b" " * rng.randint(1, 3))
        return None
    if choice == 6:
        p.target = b"http://" + rng.choice(ABSOLUTE_HOSTS) + b"/x"
        p.set_field(b"Host", rng.choice([b"Host: other", b"Host:"]))
        return None
    host_field(p, rng.choice(HOSTS))
    return None


def m_field_name(rng, p):
    kind = rng.randrange(6)
    if kind == 0:
        name = b"X" + bytes([rng.choice(NON_TCHAR + OBS_TEXT[:4] + b"\xff")]) + b"y"
        p.fields.append(name + b": v")
        return "field name with a non-token character"
    if kind == 1:
        p.fields.append(b"X-" + pick(rng, ALPHA + DIGIT + b"-_", 1, 8))  # no colon
        return "field line without a colon"
    if kind == 2:
        p.fields.append(b"X" + bytes([rng.choice(CTLS + b" \t\x00")]) + b"y: v")
        return None
    if kind == 3:
        p.fields.append(rng.choice([b": v", b":v", b" X: v", b"\tX: v", b"X : v", b"X\t: v"]))
        return None
    if kind == 4:
        p.fields.append(b"X-Fold: a")
        p.fields.append(rng.choice([b" b", b"\tb"]))
        return None
    p.fields.append(pick(rng, ALPHA + DIGIT + TCHAR_SYMBOLS, 1, 12) + b": v")
    p.fields[-1] = b"X" + p.fields[-1]  # never a field with a meaning
    return None


def m_name_byte(rng, p):
    """Any octet inside a field name."""
    octet = rng.randrange(256)
    p.fields.append(b"X" + bytes([octet]) + b"y: v")
    if octet in ALPHA + DIGIT + TCHAR_SYMBOLS or octet == ord(":"):
        return None  # a token, or a colon that ends it early: a valid field either way
    if octet == ord("\n"):
        return "lines ending in a bare LF"
    if octet < 0x21 or octet == 0x7f:
        return None  # whitespace, CR, NUL and other CTLs: both refuse it
    return "field name with a non-token character"


def m_value_byte(rng, p):
    """Any octet inside a field value."""
    octet = rng.randrange(256)
    p.fields.append(b"X-Byte: a" + bytes([octet]) + b"b")
    if octet == ord("\n"):
        return "lines ending in a bare LF"  # "b" then is a line of its own, without a colon
    if octet in b"\r\x00":
        return None
    if (octet < 0x20 and octet != ord("\t")) or octet == 0x7f:
        return "control character in a field value"
    return None


def m_target_byte(rng, p):
    """Any octet inside an origin-form path."""
    octet = rng.randrange(256)
    p.target = b"/a" + bytes([octet]) + b"zz"
    if octet in PATH_OCTETS + b"/?":
        return None
    if octet == ord("#"):
        return "fragment in the target"
    if octet >= 0x80:
        return "non-ASCII octet in the target"
    if octet == ord("\n"):
        return "request line without a version"  # "GET /a" and a bare LF: HTTP/0.9 to nginx
    return None  # "%zz", SP, CTLs, DEL: both refuse it


def m_field_value(rng, p):
    kind = rng.randrange(5)
    if kind == 0:
        p.fields.append(b"X-Ctl: a" + bytes([rng.choice(CTLS)]) + b"b")
        return "control character in a field value"
    if kind == 1:
        p.fields.append(b"X-Nul: a\x00b")
        return None
    if kind == 2:
        p.fields.append(b"X-Obs: " + pick(rng, OBS_TEXT, 1, 6))
        return None
    if kind == 3:
        p.fields.append(b"X-Edge:" + rng.choice([b" ", b"\t", b"  \t"]) + b"v" + rng.choice([b"", b" ", b"\t", b" \t "]))
        return None
    p.fields.append(b"X-Long: " + b"v" * rng.randint(1000, 7000))
    return None


def m_content_length(rng, p):
    use_length(p)
    data = p.body
    kind = rng.randrange(8)
    if kind == 0:
        p.set_field(b"Content-Length", b"Content-Length: " + rng.choice([b"+5", b"-1", b"abc", b"5a", b"", b"0x5", b"5 5",
                                                                        b"99999999999999999999999", b"5.0"]))
        return None
    if kind == 1:
        p.set_field(b"Content-Length", b"Content-Length: 00%d" % len(data))
        return None
    if kind == 2:
        p.fields.append(b"Content-Length: %d" % len(data))
        return "identical Content-Length twice"
    if kind == 3:
        p.set_field(b"Content-Length", b"Content-Length: %d, %d" % (len(data), len(data)))
        return "identical Content-Length twice"
    if kind == 4:
        p.fields.append(b"Content-Length: %d" % (len(data) + 1))
        return None
    # No Content-Length over the 1 MiB limit: nginx answers 413 only after a
    # 5 s lingering close (http_corpus.py has that case once).
    if kind == 5:
        p.set_field(b"Content-Length", b"Content-Length: 1048576")
        p.body = b"x" * 1048576
        return None
    if kind == 6:
        p.set_field(b"Content-Length", rng.choice([b"Content-Length:\t5", b"Content-Length: 5\t"]))
        return "HTAB around a Host, Content-Length or Transfer-Encoding value"
    p.fields.append(b"Transfer-Encoding: chunked")
    p.body = chunked_body(rng, data) if rng.random() < 0.5 else data
    return None


def m_transfer_encoding(rng, p):
    use_chunked(rng, p)
    kind = rng.randrange(8)
    if kind == 0:
        p.set_field(b"Transfer-Encoding", b"Transfer-Encoding: " + rng.choice(
            [b"chunked, gzip", b"gzip", b"identity", b"chunked;q=1", b"", b"chunked, chunked", b"x-chunked", b"chunk"]))
        return "chunked not last"
    if kind == 1:
        p.set_field(b"Transfer-Encoding", b"Transfer-Encoding: " + rng.choice([b"gzip, chunked", b"deflate,chunked"]))
        return None
    if kind == 2:
        p.set_field(b"Transfer-Encoding", b"Transfer-Encoding: " + rng.choice([b"chunked,", b", chunked", b",chunked, ,"]))
        return "empty elements around chunked"
    if kind == 3:
        p.fields.append(rng.choice([b"Transfer-Encoding: chunked", b"Transfer-Encoding: identity"]))
        return None
    if kind == 4:
        p.version = b"HTTP/1.0"
        return None
    if kind == 5:
        p.fields.append(b"Content-Length: %d" % len(p.body))
        if rng.random() < 0.5:
            p.set_field(b"Transfer-Encoding", b"Transfer-Encoding: gzip")
            return "chunked not last"
        return None
    if kind == 6:
        p.set_field(b"Transfer-Encoding", rng.choice([b"Transfer-Encoding:\tchunked", b"Transfer-Encoding: chunked\t"]))
        return "HTAB around a Host, Content-Length or Transfer-Encoding value"
    p.set_field(b"Transfer-Encoding", b"Transfer-Encoding:  " + rng.choice([b"chunked", b"cHuNkEd"]) + b"  ")
    return None


def m_chunks(rng, p):
    use_chunked(rng, p)
    kind = rng.randrange(7)
    if kind == 0:
        p.body = rng.choice([b"5 ", b"5\t", b"5;", b"5;=x", b"5;a=", b"5;a=\"b", b"5;a b", b"5;a=b c"]) + CRLF + b"hello" + CRLF + b"0" + CRLF + CRLF
        return "chunk line outside the chunked grammar"
    if kind == 1:
        p.body = rng.choice([b"zz", b"-5", b"0x5", b"", b"fffffffffffffffffff", b" 5", b"5x"]) + CRLF + b"hello" + CRLF + b"0" + CRLF + CRLF
        return None
    if kind == 2:
        p.body = b"5" + CRLF + b"hello!" + CRLF + b"0" + CRLF + CRLF
        return None
    if kind == 3:
        p.body = b"5" + CRLF + b"hello" + CRLF + b"0" + CRLF + rng.choice([b"X : 1", b"NoColon", b" folded", b"X(: 1",
                                                                        b"X: a\x01"]) + CRLF + CRLF
        return "invalid trailer field"
    if kind == 4:
        p.body = b"5" + CRLF + b"hello" + CRLF + b"0" + CRLF + b"X-A: 1" + CRLF + b"X-B:" + CRLF + CRLF
        return None
    if kind == 5:
        p.body = rng.choice([b"5\nhello\r\n0\r\n\r\n", b"5\r\nhello\n0\r\n\r\n", b"5\r\nhello\r\n0\n\n"])
        return "lines ending in a bare LF"
    p.body = b"5;" + pick(rng, ALPHA, 1, 5) + b"=" + pick(rng, ALPHA + DIGIT + b"-", 1, 5) + CRLF + b"hello" + CRLF + b"0" + CRLF + CRLF
    return None


def m_limits(rng, p):
    """Field sections, field lines and chunk lines near each server's bounds:
    epolld's (100 field lines, 16 KiB a section, 1 KiB a chunk line) and
    nginx's (8 KiB a line, 32 KiB a head)."""
    choice = rng.randrange(6)
    if choice == 0:
        count = rng.randint(101 - len(p.fields), 200)
        p.fields += [b"X-%d: v" % i for i in range(count)]
        return "field section over epolld's limits" if len(p.fields) > 100 else None
    if choice == 1:
        p.fields += [b"X-%d: " % i + b"v" * 1000 for i in range(rng.randint(17, 25))]
        return "field section over epolld's limits"
    if choice == 2:
        p.fields.append(b"X-Long: " + b"v" * rng.randint(8300, 12000))
        return "field line over 8 KiB"
    if choice == 3:
        use_chunked(rng, p)
        p.body = b"5;a=" + b"b" * rng.randint(1100, 3000) + CRLF + b"hello" + CRLF + b"0" + CRLF + CRLF
        return "chunk line over 1 KiB"
    if choice == 4:
        use_chunked(rng, p)
        p.body = b"5" + CRLF + b"hello" + CRLF + b"0" + CRLF + b"".join(b"T%d: v" % i + CRLF for i in range(rng.randint(101, 150))) + CRLF
        return "field section over epolld's limits"
    # Within both servers' bounds.
    p.fields += [b"X-%d: " % i + b"v" * 100 for i in range(rng.randint(1, 90 - len(p.fields)))]
    use_chunked(rng, p)
    p.body = b"0" * rng.randint(0, 30) + b"5;a=" + b"b" * rng.randint(1, 900) + CRLF + b"hello" + CRLF + b"0" + CRLF + CRLF
    return None


# Fields nginx 1.22 refuses to see twice (beside Host, Content-Length and
# Transfer-Encoding, which epolld refuses twice too), and some it does not.
NGINX_UNIQUE = [b"Expect: 100-continue", b'If-Match: "a"', b'If-None-Match: "a"',
                b"If-Modified-Since: Sat, 22 Nov 2026 16:03:47 GMT",
                b"If-Unmodified-Since: Sat, 22 Nov 2026 16:03:47 GMT", b'If-Range: "a"',
                b"Content-Range: bytes 0-1/2", b"Authorization: Basic YTpi"]
REPEATABLE = [b"Accept: */*", b"Cookie: a=b", b"Range: bytes=0-1", b"User-Agent: x", b"TE: trailers",
              b"Via: 1.1 a", b"Upgrade: h2c", b"Content-Type: text/plain", b"X-Dup: 1"]


def m_repeated(rng, p):
    if rng.random() < 0.5:
        line = rng.choice(NGINX_UNIQUE)
        klass = "repeated field that nginx allows once"
    else:
        line, klass = rng.choice(REPEATABLE), None
    p.fields += [line, line.lower() if rng.random() < 0.3 else line]
    return klass


def m_expect(rng, p):
    use_length(p)
    p.fields.append(rng.choice([b"Expect: 100-continue", b"Expect: 100-Continue", b"Expect: other"]))
    return None


MUTATIONS = [m_method_case, m_method_symbols, m_method_unknown, m_method_trace, m_method_connect,
             m_method_not_token, m_request_line_spaces, m_request_line_broken, m_version, m_no_version,
             m_empty_lines, m_bare_lf, m_bare_cr, m_target_percent, m_query_percent, m_dot_segments,
             m_target_octet, m_target_form, m_target_form, m_host, m_host, m_field_name, m_field_value,
             m_content_length, m_transfer_encoding, m_chunks, m_chunks, m_expect, m_connection, m_name_byte,
             m_name_byte, m_value_byte, m_value_byte, m_target_byte, m_target_byte, m_limits,
             m_repeated]

# The GET that follows some requests on their connection: answered only when
# the server kept the connection open and framed the first request as the
# other server did.
PROBE = b"GET /probe HTTP/1.1" + CRLF + b"Host: probe" + CRLF + CRLF

Generated = namedtuple("Generated", "index request klass mutation")


def generate(seed, index):
    """The request numbered `index` under `seed`."""
    rng = random.Random(f"{seed}:{index}")
    p = neutral(rng)
    klass, mutation = None, "none"
    if rng.random() < 0.8:
        chosen = rng.choice(MUTATIONS)
        mutation = chosen.__name__
        klass = chosen(rng, p)
    request = p.bytes()
    # Only where both must agree: a difference class says nothing of the
    # connection after its response.
    if (klass is None and rng.random() < 0.3) or (klass and CLASSES[klass].whole) or mutation == "m_connection":
        request += PROBE
    return Generated(index, request, klass, mutation)


def generate_pair(seed, index):
    """A request bent by two mutations, each of which alone must agree: both
    servers then must agree too, unless they check the two faults in
    another order. For exploring (scripts/diff-nginx --pairs), not for CTest."""
    rng = random.Random(f"pair:{seed}:{index}")
    while True:
        p = neutral(rng)
        chosen = rng.sample(sorted(set(MUTATIONS), key=lambda m: m.__name__), 2)
        if all(mutation(rng, p) is None for mutation in chosen):
            request = p.bytes() + (PROBE if rng.random() < 0.3 else b"")
            return Generated(index, request, None, "+".join(m.__name__ for m in chosen))


def status_classes(data):
    """The final responses' status classes in order ("2", "4", ...; "0" for
    a reply that is not HTTP/1.x, as nginx's HTTP/0.9 one); 1xx are skipped.
    A response's body is skipped by its Content-Length unless the next
    response follows at once (a HEAD's, or a server that sent none)."""
    classes = []
    while data:
        if not data.startswith(b"HTTP/1."):
            classes.append("0")
            break
        end = data.find(b"\r\n\r\n")
        if end < 0:
            classes.append("truncated")
            break
        lines = data[:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        data = data[end + 4:]
        if 100 <= status < 200:
            continue
        classes.append(str(status // 100))
        if data.startswith(b"HTTP/1."):
            continue
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length is None:
            break
        data = data[length:]
    return ",".join(classes) or "closed"


def verdict(case, ours, theirs):
    """None when epolld's and nginx's answers fit the case, else why not."""
    if case.klass is None:
        if ours != theirs:
            return f"must agree, but epolld answered {ours} and nginx {theirs}"
        return None
    allowed = CLASSES[case.klass]
    if allowed.whole:
        if (ours, theirs) != (allowed.epolld, allowed.nginx):
            return f"class {case.klass!r} expects epolld {allowed.epolld} and nginx {allowed.nginx}, got {ours} and {theirs}"
        return None
    first_ours, first_theirs = ours.split(",")[0], theirs.split(",")[0]
    if first_ours not in allowed.epolld or first_theirs not in allowed.nginx:
        return (f"class {case.klass!r} expects epolld {'|'.join(allowed.epolld)} and nginx "
                f"{'|'.join(allowed.nginx)}, got {ours} and {theirs}")
    return None


def escaped(request):
    """The request's bytes as a Python bytes literal, CRLFs kept visible."""
    return repr(request)
