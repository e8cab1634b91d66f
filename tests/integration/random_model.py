"""Random connections against epolld, and what each one must get back.

A connection is planned from (seed, index) alone, so a failure is replayed by
the same two numbers: what it sends (HTTP requests or echo bytes), how the
bytes are cut into writes and paced, how fast its reader reads and whether it
stalls, and how it ends (half-close early or late, or an RST). The model says
what the daemon owes it: for HTTP every response's status, the fields that
matter and its exact body, and where the daemon closes; for echo the exact
bytes. ConnectionRun plays one plan against a live daemon and returns the
first difference, if any.

Nothing here starts a daemon: the caller gives the ports (epolld_harness
does the starting).
"""

import errno
import fcntl
import functools
import random
import selectors
import socket
import struct
import termios
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime

KIB = 1024
MIB = 1024 * KIB

# The body configured on the listener that serves a large `body` (no root):
# big enough that a few hundred pipelined GETs dwarf output_buffer_limit.
BIG_BODY_SIZE = 64 * KIB
MAX_BODY_BYTES = 1 * MIB  # the listeners' http.max_body_bytes (the default)
HELLO = b"Hello, World!"
MAX_TOTAL_PAUSE = 0.3  # seconds of writer pauses in one connection
MAX_RECVS = 3000  # a slow reader reads in pieces no smaller than its share of this many
# How often requests follow one after which the daemon closes: they must
# get nothing, and must not make the daemon's TCP reset destroy the answers
# before them. They are sent only in a stream of at most TRAILING_BYTES, in
# the same write as the closing request, so that they are there when the
# daemon closes: bytes that arrive only after it has closed (cut into a later
# write, or held back by flow control) draw an RST that destroys whatever of
# its answers the client has not received yet (RFC 9112 §9.6 says to close
# in stages; like nginx's default, epolld lingers only when input is
# waiting). LATE_BYTES_AFTER_CLOSE (scripts/random-connections
# --late-after-close) lifts both limits.
TRAILING_AFTER_CLOSE = 0.3
TRAILING_BYTES = 32 * KIB
LATE_BYTES_AFTER_CLOSE = False
FLOOD_EVERY = 20  # one connection in this many floods the large body (and a few more at random)

REASONS = {100: "Continue", 200: "OK", 206: "Partial Content", 304: "Not Modified", 400: "Bad Request",
           404: "Not Found", 405: "Method Not Allowed", 413: "Content Too Large",
           416: "Range Not Satisfiable", 501: "Not Implemented", 505: "HTTP Version Not Supported"}

# Requests the daemon must refuse, with the status it must refuse them with;
# each one ends the connection after its response.
MALFORMED = [
    ("no-host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("space-before-colon", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    ("bare-lf", b"GET / HTTP/1.1\nHost: x\n\n", 400),
    ("tls-hello", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 400),
    ("cl-and-te", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     400),
    ("two-cl", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
    ("bad-chunk-size", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    ("bad-percent", b"GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("encoded-nul", b"GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("empty-host", b"GET / HTTP/1.1\r\nHost:\r\n\r\n", 400),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),
    ("http2", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ("body-too-large", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n", 413),
]

OTHER_METHODS = ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


def status_body(status):
    """The body of a response whose content is its own status line."""
    return f"{status} {REASONS[status]}\n".encode()


@functools.lru_cache(maxsize=1)
def big_body():
    """The large configured body: printable, so that it fits a YAML string."""
    alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789"
    return bytes(alphabet[byte % len(alphabet)] for byte in random.Random("big-body").randbytes(BIG_BODY_SIZE))


def make_files(seed):
    """{name: content} for the root directory: empty, tiny, small, medium and
    several over 1 MiB (sendfile goes out in 1 MiB slices)."""
    rng = random.Random(f"{seed}:files")
    sizes = [0, 1, rng.randrange(2, 1000), rng.randrange(1000, 64 * KIB), rng.randrange(64 * KIB, 400 * KIB),
             rng.randrange(MIB + 1, 2 * MIB), rng.randrange(2 * MIB, 5 * MIB)]
    names = ["empty.txt", "one.bin", "small.html", "medium.txt", "large.bin", "over1m.bin", "huge.bin"]
    return {name: rng.randbytes(size) for name, size in zip(names, sizes)}


@dataclass
class Validators:
    """A file's ETag and Last-Modified as the daemon announced them (learnt
    once with HEAD, then used in conditional requests)."""
    etag: str
    last_modified: str

    @property
    def modified_time(self):
        return int(parsedate_to_datetime(self.last_modified).timestamp())


# --- HTTP requests ------------------------------------------------------------


@dataclass
class Request:
    """One request, symbolic enough to be described and modelled, rendered
    to bytes once the files' validators are known."""
    listener: str  # "hello", "big" (no root) or "files" (root)
    method: str = "GET"
    path: str = "/"
    version: str = "1.1"
    connection: str = ""  # "", "close" or "keep-alive"
    body: bytes = b""
    framing: str = ""  # "", "length" or "chunked"
    condition: str = ""  # see CONDITIONS
    range_spec: str = ""  # the value after "bytes="
    expect_continue: bool = False
    padding: int = 0  # size of an extra header field, to vary request sizes
    malformed: str = ""  # a name from MALFORMED: the request is that raw text
    truncate: float = 0.0  # when set, only this fraction of its head is sent (then the client half-closes)
    chunk_seed: int = 0

    def describe(self):
        if self.malformed:
            return f"BAD({self.malformed})"
        text = f"{self.method} {self.path}"
        if self.version != "1.1":
            text += f" 1.{self.version[-1]}"
        if self.framing:
            text += f" {'cl' if self.framing == 'length' else 'te'}={len(self.body)}"
        if self.expect_continue:
            text += " 100c"
        if self.condition:
            text += f" {self.condition}"
        if self.range_spec:
            text += f" range={self.range_spec}"
        if self.connection:
            text += f" conn={self.connection}"
        if self.truncate:
            text = f"PARTIAL({text}, {self.truncate:.2f} of its head)"
        return text

    def closes(self):
        """Whether the daemon closes after answering this request."""
        if self.malformed:
            return True
        if self.truncate:
            return False  # unanswered: the client's half-close ends the connection
        if self.version == "1.0":
            return self.connection != "keep-alive"
        return self.connection == "close"

    def render(self, validators):
        if self.malformed:
            return next(raw for name, raw, _ in MALFORMED if name == self.malformed)
        lines = [f"{self.method} {self.path} HTTP/{self.version}"]
        if self.version == "1.1" or self.padding % 2:
            lines.append("Host: x")
        if self.connection:
            lines.append(f"Connection: {self.connection}")
        if self.padding:
            lines.append("X-Pad: " + "p" * self.padding)
        lines.extend(condition_fields(self.condition, validators.get(self.path.lstrip("/"))))
        if self.range_spec:
            lines.append(f"Range: bytes={self.range_spec}")
        if self.expect_continue:
            lines.append("Expect: 100-continue")
        body = self.body
        if self.framing == "length":
            lines.append(f"{'content-length' if self.padding % 3 == 1 else 'Content-Length'}: {len(body)}")
        elif self.framing == "chunked":
            lines.append("Transfer-Encoding: chunked")
            body = chunked(self.body, random.Random(self.chunk_seed))
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        if self.truncate:
            return head[:max(1, int((len(head) - 1) * self.truncate))]
        return head + body


CONDITIONS = ["inm-match", "inm-weak", "inm-star", "inm-other", "ims-same", "ims-later", "ims-older",
              "inm-other+ims-same"]


def condition_fields(condition, validators):
    if not condition:
        return []
    if validators is None:  # a missing file: any tag will do
        validators = Validators('"none"', formatdate(0, usegmt=True))
    fields = []
    for part in condition.split("+"):
        if part == "inm-match":
            fields.append(f"If-None-Match: \"x\", {validators.etag}")
        elif part == "inm-weak":
            fields.append(f"If-None-Match: W/{validators.etag}")
        elif part == "inm-star":
            fields.append("If-None-Match: *")
        elif part == "inm-other":
            fields.append('If-None-Match: "not-this-one"')
        elif part == "ims-same":
            fields.append(f"If-Modified-Since: {validators.last_modified}")
        elif part == "ims-later":
            fields.append(f"If-Modified-Since: {formatdate(validators.modified_time + 3600, usegmt=True)}")
        elif part == "ims-older":
            fields.append(f"If-Modified-Since: {formatdate(validators.modified_time - 86400, usegmt=True)}")
    return fields


def chunked(body, rng):
    """`body` in chunks of random sizes, with an occasional extension, upper
    case hex and a trailer field."""
    out = bytearray()
    offset = 0
    while offset < len(body):
        size = min(len(body) - offset, rng.choice([1, 7, 100, 4096, 70000]))
        size_text = f"{size:x}" if rng.random() < 0.5 else f"{size:X}"
        out += size_text.encode() + (b";ext=1" if rng.random() < 0.2 else b"") + b"\r\n"
        out += body[offset:offset + size] + b"\r\n"
        offset += size
    out += b"0\r\n" + (b"X-Trailer: t\r\n" if rng.random() < 0.3 else b"") + b"\r\n"
    return bytes(out)


@dataclass
class Expected:
    """What one response must be. `fields`: lower-case name -> exact value,
    or None where the field must be absent."""
    status: int
    body: bytes = b""
    length: int = 0
    head: bool = False  # HEAD (or 1xx/304): no body on the wire
    closes: bool = False
    fields: dict = field(default_factory=dict)


def select_range(spec, size):
    """(first, length), "unsatisfiable", or None (ignored) for a single
    `bytes=` range (RFC 9110 §14.1.2, §14.2)."""
    if "," in spec:
        return None  # epolld serves a single range; a list is ignored
    first_text, _, last_text = spec.partition("-")
    if not first_text:
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            return "unsatisfiable"
        length = min(suffix, size)
        return size - length, length
    first = int(first_text)
    last = int(last_text) if last_text else None
    if last is not None and last < first:
        return None
    if first >= size:
        return "unsatisfiable"
    end = size - 1 if last is None else min(last, size - 1)
    return first, end - first + 1


def condition_holds(condition, validators):
    """True when a conditional GET/HEAD gets 304 (RFC 9110 §13.2.2: If-None-Match
    first, If-Modified-Since only without it)."""
    parts = condition.split("+") if condition else []
    inm = [p for p in parts if p.startswith("inm")]
    if inm:
        return inm[0] in ("inm-match", "inm-weak", "inm-star")
    ims = [p for p in parts if p.startswith("ims")]
    return bool(ims) and ims[0] in ("ims-same", "ims-later")


def expect_response(request, files, validators):
    """The model: the responses (a 100 Continue, then the final one) that
    `request` must get."""
    closes = request.closes()
    connection = "close" if closes else ("keep-alive" if request.version == "1.0" else None)
    responses = []
    if request.truncate:
        return responses  # an incomplete request before the client's half-close gets nothing
    if request.expect_continue and request.framing and not request.malformed:
        responses.append(Expected(100, head=True, fields={"content-length": None}))
    if request.malformed:
        status = next(s for name, _, s in MALFORMED if name == request.malformed)
        body = status_body(status)
        responses.append(Expected(status, body, len(body), closes=True, fields={"connection": "close"}))
        return responses

    head = request.method == "HEAD"
    base = {"connection": connection, "etag": None, "content-range": None}

    def simple(status, extra=None):
        body = status_body(status)
        return Expected(status, b"" if head else body, len(body), head, closes, dict(base, **(extra or {})))

    if request.method not in ("GET", "HEAD") + tuple(OTHER_METHODS):
        responses.append(simple(501))
    elif request.listener != "files":
        body = HELLO if request.listener == "hello" else big_body()
        responses.append(Expected(200, b"" if head else body, len(body), head, closes,
                                  dict(base, **{"content-type": "text/plain"})))
    elif request.method not in ("GET", "HEAD"):
        responses.append(simple(405, {"allow": "GET, HEAD"}))
    else:
        name = request.path.lstrip("/")
        content = files.get(name)
        if content is None:
            responses.append(simple(404))
            return responses
        tag = validators[name].etag
        if condition_holds(request.condition, validators[name]):
            responses.append(Expected(304, b"", len(content), True, closes, dict(base, etag=tag)))
            return responses
        selection = select_range(request.range_spec, len(content)) if request.range_spec and not head else None
        if selection == "unsatisfiable":
            responses.append(simple(416, {"content-range": f"bytes */{len(content)}"}))
        elif selection is None:
            responses.append(Expected(200, b"" if head else content, len(content), head, closes, dict(base, etag=tag)))
        else:
            first, length = selection
            responses.append(Expected(206, content[first:first + length], length, False, closes,
                                      dict(base, etag=tag, **{
                                          "content-range": f"bytes {first}-{first + length - 1}/{len(content)}"})))
    return responses


def random_range(rng, size):
    kind = rng.choice(["first-last", "first-", "past-end", "suffix", "unsatisfiable", "invalid", "two"])
    if kind == "first-last" and size:
        first = rng.randrange(size)
        return f"{first}-{rng.randrange(first, size)}"
    if kind == "first-" and size:
        return f"{rng.randrange(size)}-"
    if kind == "past-end" and size:
        return f"{rng.randrange(size)}-{size + rng.randrange(1, 1000)}"
    if kind == "suffix":
        return f"-{rng.choice([0, 1, rng.randrange(1, size + 2), size + 5])}"
    if kind == "invalid" and size > 1:
        first = rng.randrange(1, size)
        return f"{first}-{rng.randrange(first)}"
    if kind == "two":
        return "0-0,2-3"
    return f"{size + rng.randrange(0, 100)}-"


def random_body(rng):
    size = rng.choice([0, 1, rng.randrange(2, 200), rng.randrange(200, 20000), rng.randrange(20000, 300 * KIB)])
    if rng.random() < 0.03:
        size = rng.randrange(300 * KIB, MAX_BODY_BYTES)
    return rng.randbytes(size)


def random_request(rng, listener, files):
    """A valid request for `listener`; malformed ones are added by the plan."""
    request = Request(listener)
    request.padding = rng.choice([0, 0, 0, rng.randrange(1, 50), rng.randrange(50, 3000)])
    roll = rng.random()
    if roll < 0.12:
        request.method = "HEAD"
    elif roll < 0.30:
        request.method = rng.choice(OTHER_METHODS)
    elif roll < 0.33:
        request.method = "BREW"
    if listener == "files" and request.method in ("GET", "HEAD"):
        request.path = "/" + rng.choice(list(files) + ["missing.bin"])
    else:
        request.path = rng.choice(["/", "/x", "/a/b?c=d"])
    if request.method != "GET" or rng.random() < 0.1:
        if request.method not in ("HEAD",) and rng.random() < 0.8:
            request.framing = rng.choice(["length", "chunked"])
            request.body = random_body(rng)
            request.chunk_seed = rng.randrange(1 << 30)
            request.expect_continue = rng.random() < 0.1
    if request.method in ("GET", "HEAD") and rng.random() < 0.3:
        request.condition = rng.choice(CONDITIONS)
    if request.method == "GET" and rng.random() < 0.3:
        size = len(files.get(request.path.lstrip("/"), b"")) if listener == "files" else 100
        request.range_spec = random_range(rng, size)
    if rng.random() < 0.06:
        request.version = "1.0"
        request.framing = "length" if request.framing else ""  # chunked is HTTP/1.1 only
        request.expect_continue = False
        request.connection = "keep-alive" if rng.random() < 0.7 else ""
    elif rng.random() < 0.03:
        request.connection = "close"
    return request


# --- Plans --------------------------------------------------------------------


@dataclass
class Reader:
    """How the client reads: recv sizes, think time between recvs, its
    receive buffer, and a stall (stop reading until the daemon's output has
    filled every buffer on the way) after `stall_at` bytes."""
    recv_size: int = 1 << 20
    pause: float = 0.0  # probability of a short pause after a recv
    rcvbuf: int = 0  # 0: the kernel's default
    stall_at: int = -1  # -1: never

    def describe(self):
        parts = [f"recv={self.recv_size}"]
        if self.pause:
            parts.append(f"pause={self.pause}")
        if self.rcvbuf:
            parts.append(f"rcvbuf={self.rcvbuf}")
        if self.stall_at >= 0:
            parts.append(f"stall@{self.stall_at}")
        return ",".join(parts)


@dataclass
class Plan:
    seed: object
    index: int
    protocol: str  # "http" or "echo"
    listener: str  # which listener (a key of the ports given to ConnectionRun)
    units: list  # Requests (http) or bytes (echo)
    lockstep: list  # per unit: wait for the answers to every earlier unit before sending it
    cuts: list  # offsets into the stream where a new write starts (see _pace)
    pauses: dict  # write index -> seconds to wait before it
    reader: Reader
    end: str  # "shut-early", "shut-late", "rst", "silent"
    rst_after_writes: int = 0
    rst_after_bytes: int = 0
    cut_units: set = field(default_factory=set)
    close_unit: int = -1  # the first request after which the daemon closes

    def describe(self):
        if self.end == "silent":
            return f"#{self.index} {self.protocol}/{self.listener}: a client that connects and never speaks"
        if self.protocol == "http":
            items = " | ".join(f"{text} x{count}" if count > 1 else text
                               for text, count in run_lengths(unit.describe() for unit in self.units))
        else:
            items = " ".join(str(len(unit)) for unit in self.units) + " bytes"
        step = "lockstep" if all(self.lockstep) else ("mixed" if any(self.lockstep) else "pipelined")
        end = self.end
        if end == "rst":
            end += f"(after {self.rst_after_writes} writes, {self.rst_after_bytes} bytes read)"
        writes = len(self.cuts) + len(self.cut_units) + 1
        return (f"#{self.index} {self.protocol}/{self.listener}: [{items}] {step} writes={writes} "
                f"pauses={len(self.pauses)} reader={self.reader.describe()} end={end}")


def run_lengths(items):
    """[(item, how many times in a row)]: a flood of GETs reads as one."""
    runs = []
    for item in items:
        if runs and runs[-1][0] == item:
            runs[-1][1] += 1
        else:
            runs.append([item, 1])
    return runs


def stream_of(plan, validators):
    """The bytes the client sends, and where each unit starts in them."""
    starts = []
    out = bytearray()
    for unit in plan.units:
        starts.append(len(out))
        out += unit.render(validators) if plan.protocol == "http" else unit
    return bytes(out), starts


def plan_connection(seed, index, files, slowdown=1.0):
    """The plan for connection `index` of `seed`: a pure function of both
    (and of the files, themselves made from the seed)."""
    rng = random.Random(f"{seed}:{index}")
    scale = 1.0 / max(1.0, slowdown)
    roll = rng.random()
    if index % FLOOD_EVERY == 3 or roll < 0.02:
        # One write: as many requests as possible in one read of the daemon's.
        return _flood_plan(rng, seed, index, scale)
    if roll < 0.34:
        plan = _echo_plan(rng, seed, index, scale)
    else:
        plan = _http_plan(rng, seed, index, files)
    if plan.end != "silent":
        _pace(rng, plan)
    return plan


def _reader(rng, expected_bytes):
    """A reader for a connection owed about `expected_bytes`: slow readers
    read in small pieces, but never so many that a run takes seconds."""
    reader = Reader()
    style = rng.random()
    if style < 0.4:
        reader.recv_size = rng.choice([1 << 20, 65536])
    elif style < 0.8:
        reader.recv_size = rng.choice([512, 4096, 16384])
        reader.pause = rng.choice([0.0, 0.02])
    else:
        reader.recv_size = rng.choice([1, 7, 100])
    reader.recv_size = max(reader.recv_size, expected_bytes // MAX_RECVS)
    if rng.random() < 0.2:
        reader.rcvbuf = rng.choice([2048, 8192, 65536])
    if rng.random() < 0.2:
        reader.stall_at = rng.choice([0, rng.randrange(0, 100000)])
    return reader


def _http_plan(rng, seed, index, files):
    listener = rng.choice(["files", "files", "hello", "big"])
    count = rng.choice([1, 2, 3, rng.randrange(4, 12), rng.randrange(12, 40)])
    units = [random_request(rng, listener, files) for _ in range(count)]
    # The daemon closes after the first closing request: later ones are
    # trailing bytes it must ignore, sent only now and then.
    if rng.random() < 0.12:
        units.insert(rng.randrange(len(units) + 1), Request(listener, malformed=rng.choice(MALFORMED)[0]))
    first_close = next((i for i, unit in enumerate(units) if unit.closes()), None)
    if first_close is not None and rng.random() >= TRAILING_AFTER_CLOSE:
        units = units[:first_close + 1]
    elif first_close is not None and not LATE_BYTES_AFTER_CLOSE:
        # Only in a short stream, whose every byte has reached the daemon by
        # the time it closes (see TRAILING_AFTER_CLOSE).
        if sum(len(unit.render({})) for unit in units) > TRAILING_BYTES:
            units = units[:first_close + 1]
    end = rng.choice(["shut-early", "shut-late", "shut-late", "rst"])
    if first_close is None and end != "rst" and rng.random() < 0.15:
        # Half of a request, then the half-close: the complete ones are
        # answered, this one is not, and the daemon closes.
        partial = random_request(rng, listener, files)
        partial.truncate = rng.uniform(0.01, 0.99)
        units.append(partial)
    mode = rng.choice(["pipelined", "pipelined", "lockstep", "mixed"])
    lockstep = [mode == "lockstep" or (mode == "mixed" and rng.random() < 0.5) for _ in units]
    if first_close is not None:
        lockstep = [step and i <= first_close for i, step in enumerate(lockstep)]
    lockstep[0] = False
    lockstep[-1] = lockstep[-1] and not units[-1].truncate
    answer_bytes = {"hello": len(HELLO) + 200, "big": BIG_BODY_SIZE}
    reader = _reader(rng, sum(len(files.get(u.path.lstrip("/"), b"")) + 300 if listener == "files"
                              else answer_bytes[listener] for u in units))
    if rng.random() < 0.04:
        end = "silent"
        units = []
    plan = Plan(seed, index, "http", listener, units, lockstep, [], {}, reader, end)
    plan.close_unit = -1 if first_close is None else first_close
    return plan


def _flood_plan(rng, seed, index, scale):
    """Many pipelined GETs of the large body from a client that stalls: the
    daemon must hold about output_buffer_limit for it, not their sum."""
    count = max(50, int(rng.randrange(1000, 2000) * scale))
    units = [Request("big") for _ in range(count)]
    reader = Reader(recv_size=1 << 20, stall_at=0)
    return Plan(seed, index, "http", "big", units, [False] * count, [], {}, reader,
                rng.choice(["shut-early", "shut-late"]))


def _echo_plan(rng, seed, index, scale):
    count = rng.choice([1, 2, rng.randrange(3, 20)])
    units = []
    for _ in range(count):
        size = rng.choice([1, rng.randrange(2, 100), rng.randrange(100, 64 * KIB), rng.randrange(64 * KIB, MIB)])
        if rng.random() < 0.08:
            size = int(rng.randrange(MIB, 5 * MIB) * scale)
        units.append(rng.randbytes(max(1, size)))
    mode = rng.choice(["pipelined", "pipelined", "lockstep", "mixed"])
    lockstep = [mode == "lockstep" or (mode == "mixed" and rng.random() < 0.5) for _ in units]
    lockstep[0] = False
    total = sum(map(len, units))
    reader = _reader(rng, total)
    end = rng.choice(["shut-early", "shut-late", "rst"])
    return Plan(seed, index, "echo", "echo", units, lockstep, [], {}, reader, end)


def _pace(rng, plan):
    """Cuts the stream into writes and picks pauses and the RST point. The
    cuts are offsets into the stream (its exact length is known only once the
    validators are), plus the start of every unit in `cut_units`: a lockstep
    unit always starts a write."""
    total = sum(len(unit.render({})) if plan.protocol == "http" else len(unit) for unit in plan.units)
    plan.cut_units = {i for i, step in enumerate(plan.lockstep) if step}
    style = rng.choice(["one-write", "per-unit", "random", "random", "tiny"])
    cuts = set()
    if style == "per-unit":
        plan.cut_units = set(range(len(plan.units)))
    elif style == "random":
        offset = 0
        while True:
            offset += int(2 ** rng.uniform(0, 17))
            if offset >= total:
                break
            cuts.add(offset)
    elif style == "tiny":
        # Byte by byte through the first request line, then larger pieces.
        cuts |= set(range(1, min(total, 64), rng.choice([1, 2, 3])))
        cuts |= set(range(64, min(total, 2048), rng.choice([100, 500])))
        cuts |= set(range(2048, total, 8192))
    plan.cuts = sorted(cuts)
    writes = len(plan.cuts) + len(plan.cut_units) + 1
    pause_chance = rng.choice([0.0, 0.0, 0.05, 0.3])
    plan.pauses = {i: rng.uniform(0.001, 0.03) for i in range(1, writes) if rng.random() < pause_chance}
    # Well inside header_timeout, which a request head split by them must meet.
    total_pause = sum(plan.pauses.values())
    if total_pause > MAX_TOTAL_PAUSE:
        plan.pauses = {i: pause * MAX_TOTAL_PAUSE / total_pause for i, pause in plan.pauses.items()}
    if plan.end == "rst":
        plan.rst_after_writes = rng.randrange(writes + 1)
        plan.rst_after_bytes = rng.choice([0, rng.randrange(1, 200000)])


def write_bounds(plan, stream_length, starts):
    """Where each write begins, and the end of the stream."""
    bounds = {0} | {cut for cut in plan.cuts if cut < stream_length} | {starts[i] for i in plan.cut_units}
    if 0 <= plan.close_unit < len(starts) and not LATE_BYTES_AFTER_CLOSE:
        # The closing request and all after it in one write (see TRAILING_AFTER_CLOSE).
        bounds = {bound for bound in bounds if bound < starts[plan.close_unit]} | {starts[plan.close_unit]}
    return sorted(bounds) + [stream_length]


# --- Parsing the daemon's responses ------------------------------------------


class Mismatch(Exception):
    pass


class ResponseParser:
    """Parses a stream of HTTP/1.1 responses as it arrives and checks each
    one, in order, against the expected list."""

    def __init__(self, expected, describe_unit):
        self.expected = expected  # [(unit index, Expected)]
        self.describe_unit = describe_unit
        self.buffer = bytearray()
        self.done = 0  # responses parsed and checked
        self.finals = 0  # of them, final (non-1xx) responses

    def feed(self, data):
        self.buffer += data
        while self.done < len(self.expected):
            if not self._parse_one():
                return
        if self.buffer:
            raise Mismatch(f"{len(self.buffer)} bytes after the last expected response: {bytes(self.buffer[:80])!r}")

    def _parse_one(self):
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > 64 * KIB:
                raise Mismatch(f"no response head in {bytes(self.buffer[:80])!r}")
            return False
        unit, expected = self.expected[self.done]
        where = f"response {self.done} (to request {unit}: {self.describe_unit(unit)})"
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or parts[0] != "HTTP/1.1" or not parts[1].isdigit():
            raise Mismatch(f"{where}: bad status line {lines[0]!r}")
        fields = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                raise Mismatch(f"{where}: bad field line {line!r}")
            fields[name.strip().lower()] = value.strip()
        status = int(parts[1])
        if status != expected.status:
            raise Mismatch(f"{where}: status {status}, expected {expected.status}")
        if status != 100:
            for name in ("date", "server", "content-length"):
                if name not in fields:
                    raise Mismatch(f"{where}: no {name} field")
        length = int(fields.get("content-length", "0"))
        if status != 100 and length != expected.length:
            raise Mismatch(f"{where}: Content-Length {length}, expected {expected.length}")
        for name, value in expected.fields.items():
            if fields.get(name) != value:
                raise Mismatch(f"{where}: {name}: {fields.get(name)!r}, expected {value!r}")
        wire = 0 if expected.head else length
        if len(self.buffer) < end + 4 + wire:
            return False
        body = bytes(self.buffer[end + 4:end + 4 + wire])
        if body != expected.body:
            first = next((i for i in range(min(len(body), len(expected.body))) if body[i] != expected.body[i]),
                         min(len(body), len(expected.body)))
            raise Mismatch(f"{where}: body differs at byte {first} of {len(expected.body)}")
        del self.buffer[:end + 4 + wire]
        self.done += 1
        if status >= 200:
            self.finals += 1
        return True

    def complete(self):
        return self.done == len(self.expected)


class EchoChecker:
    """Checks echoed bytes against what was sent, as they arrive."""

    def __init__(self, expected):
        self.expected = expected
        self.received = 0

    def feed(self, data):
        want = self.expected[self.received:self.received + len(data)]
        if data != want:
            first = next((i for i in range(min(len(data), len(want))) if data[i] != want[i]), len(want))
            raise Mismatch(f"echo differs at byte {self.received + first} of {len(self.expected)}")
        self.received += len(data)

    def complete(self):
        return self.received == len(self.expected)


# --- Playing a plan -----------------------------------------------------------


def receive_queue(sock):
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


class ConnectionRun:
    """Plays one plan against the daemon. run() returns None when the daemon
    did exactly what the model says, else a description of the difference."""

    def __init__(self, plan, ports, files, validators, slowdown=1.0, header_timeout=None):
        self.plan = plan
        self.ports = ports
        self.files = files
        self.validators = validators
        self.slowdown = slowdown
        self.header_timeout = header_timeout
        self.timeout = 30 * slowdown  # no progress at all for this long: a hang
        self.progress = 0  # final responses (http) or bytes (echo) received
        self.changed = threading.Condition()
        self.reader_done = False
        self.sender_done = threading.Event()
        self.sender_error = None
        self.requests = 0
        self.writing_to = 0  # the end of the write being sent
        self.sender_note = ""

    def _expected(self):
        """[(unit, Expected)] up to and including the response after which the
        daemon closes; and whether it closes there."""
        expected = []
        for i, request in enumerate(self.plan.units):
            for response in expect_response(request, self.files, self.validators):
                expected.append((i, response))
            if request.closes():
                return expected, True
        return expected, False

    def run(self):
        self.started = time.monotonic()
        self.last_byte = None
        self.port = None
        try:
            what = self._run()
        except Mismatch as e:
            what = str(e)
        except OSError as e:
            what = f"{e!r}"
        if what is None:
            return None
        last = "no byte" if self.last_byte is None else f"last byte at {self.last_byte - self.started:.2f}s"
        return f"{what} (client port {self.port}, after {time.monotonic() - self.started:.2f}s, {last})"

    def _run(self):
        plan = self.plan
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Every write goes out as it is cut, not merged by Nagle's algorithm.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if plan.reader.rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, plan.reader.rcvbuf)
        sock.settimeout(self.timeout)
        sock.connect(("127.0.0.1", self.ports[plan.listener]))
        self.port = sock.getsockname()[1]
        try:
            if plan.end == "silent":
                return self._silent(sock)
            self.stream, self.starts = stream_of(plan, self.validators)
            if plan.protocol == "http":
                expected, self.server_closes = self._expected()
                last = expected[-1][0] if expected else len(self.starts) - 1
                self.closing_unit_start = self.starts[last]
                self.close_offset = self.starts[last + 1] if last + 1 < len(self.starts) else len(self.stream)
                self.checker = ResponseParser(expected, lambda i: plan.units[i].describe())
                self.requests = len({unit for unit, _ in expected})
            else:
                self.server_closes = False
                self.closing_unit_start = self.close_offset = len(self.stream)
                self.checker = EchoChecker(self.stream)
            sender = threading.Thread(target=self._send, args=(sock,), daemon=True)
            sender.start()
            try:
                return self._read(sock)
            finally:
                with self.changed:
                    self.reader_done = True
                    self.changed.notify_all()
                if sender.is_alive():
                    # The reader gave up: a sender blocked in sendall fails at once.
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                sender.join(self.timeout)
        finally:
            sock.close()

    def _silent(self, sock):
        """A client that connects and never speaks is closed after
        header_timeout (plus the kernel's deferred accept), not idle_timeout."""
        started = time.monotonic()
        limit = self.header_timeout + 1 + 3 * self.slowdown
        sock.settimeout(limit)
        try:
            data = sock.recv(1024)
        except socket.timeout:
            return f"a silent client is still open after {limit:.1f}s (header_timeout {self.header_timeout}s)"
        except ConnectionResetError:
            data = b""
        elapsed = time.monotonic() - started
        if data:
            return f"a silent client got {data[:80]!r}"
        if elapsed < self.header_timeout * 0.8:
            return f"a silent client was closed after {elapsed:.2f}s, before header_timeout"
        return None

    def _wait_for(self, needed):
        with self.changed:
            return self.changed.wait_for(lambda: self.progress >= needed or self.reader_done, self.timeout)

    def _needed_before(self, unit):
        if self.plan.protocol == "http":
            return unit  # every earlier request answered
        return self.starts[unit]  # every earlier byte echoed

    def _send(self, sock):
        plan = self.plan
        bounds = write_bounds(plan, len(self.stream), self.starts)
        unit_at = {start: i for i, start in enumerate(self.starts)}
        try:
            for write, (begin, end) in enumerate(zip(bounds, bounds[1:])):
                if plan.end == "rst" and write >= plan.rst_after_writes:
                    break
                unit = unit_at.get(begin)
                if unit is not None and plan.lockstep[unit] and not self._wait_for(self._needed_before(unit)):
                    self.sender_error = f"waited in vain for the answers before unit {unit}"
                    return
                if self.reader_done:
                    return
                if write in plan.pauses:
                    time.sleep(plan.pauses[write])  # the client's think time, not synchronisation
                self.writing_to = end
                sock.sendall(self.stream[begin:end])
            if plan.end == "shut-early":
                sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            if e.errno in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                # Writing after the daemon closed is expected only past the
                # point where the model says it closes.
                if plan.end != "rst" and not (self.server_closes and self.writing_to > self.closing_unit_start):
                    self.sender_error = f"send failed: {e!r}"
                # An RST seen here is not seen by the reader, which gets EOF instead.
                self.sender_note = f"; a write after the close point failed with {e!r}"
            elif plan.end != "rst" and not self.reader_done:
                self.sender_error = f"send failed: {e!r}"
        finally:
            self.sender_done.set()

    def _stall(self, sock):
        """Stops reading until the receive queue stops growing: every buffer
        between the daemon and here is full, or the daemon sends nothing more."""
        last, steady_since = -1, time.monotonic()
        give_up = time.monotonic() + 2 * self.slowdown
        while time.monotonic() < give_up:
            queued = receive_queue(sock)
            if queued != last:
                last, steady_since = queued, time.monotonic()
            elif time.monotonic() - steady_since > 0.1:
                return
            time.sleep(0.01)  # polling the kernel's count, against a deadline

    def _read(self, sock):
        plan = self.plan
        reader = plan.reader
        rng = random.Random(f"{plan.seed}:{plan.index}:reader")
        received = 0
        stalled = reader.stall_at < 0
        shut_late_done = False
        last_progress = time.monotonic()
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            while True:
                if plan.end == "rst" and self.sender_done.is_set() and (
                        received >= plan.rst_after_bytes or self.checker.complete()
                        or time.monotonic() - last_progress > 0.2):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return None  # the RST: what came before it was checked as it came
                if not stalled and received >= reader.stall_at:
                    stalled = True
                    self._stall(sock)
                if (plan.end == "shut-late" and not shut_late_done and self.checker.complete()
                        and not self.server_closes and self.sender_done.is_set()):
                    shut_late_done = True
                    sock.shutdown(socket.SHUT_WR)
                if time.monotonic() - last_progress > self.timeout:
                    return self._report_hang()
                if not selector.select(0.05):
                    continue
                try:
                    data = sock.recv(reader.recv_size)
                except BlockingIOError:
                    continue
                except socket.timeout:
                    continue
                except ConnectionResetError:
                    if plan.end == "rst":
                        return None
                    if self.checker.complete() and self.close_offset < len(self.stream):
                        return None  # bytes sent after the close point may draw an RST
                    return f"connection reset by the daemon after {self._where()}{self.sender_note}"
                if not data:
                    if self.sender_error:
                        return self.sender_error
                    if not self.checker.complete():
                        return f"the daemon closed after {self._where()}{self.sender_note}"
                    if not self.server_closes and not (plan.end == "shut-early" or shut_late_done):
                        return "the daemon closed a connection the model keeps open, before the client's half-close"
                    return None
                received += len(data)
                last_progress = self.last_byte = time.monotonic()
                self.checker.feed(data)
                with self.changed:
                    self.progress = self.checker.finals if plan.protocol == "http" else self.checker.received
                    self.changed.notify_all()
                if reader.pause and rng.random() < reader.pause:
                    time.sleep(rng.uniform(0, 0.005))  # a slow reader's think time

    def _where(self):
        if self.plan.protocol == "http":
            return f"{self.checker.done} of {len(self.checker.expected)} responses"
        return f"{self.checker.received} of {len(self.stream)} bytes"

    def _report_hang(self):
        if self.sender_error:
            return self.sender_error
        return (f"no byte for {self.timeout:.0f}s after {self._where()} "
                f"(sender {'done' if self.sender_done.is_set() else 'still sending'})")
