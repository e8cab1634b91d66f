"""A reload storm: SIGHUP after SIGHUP on the real binary while clients talk to
every port that exists or recently existed.

Why: a reload changes the listener set under the acceptor and the protocol
options under the workers while both are busy. Each step alone has its test
(test_sighup.py); what breaks is the interleaving: a listener freed while its
events are still being handled, a port-0 listener matched to the wrong socket,
an open connection handed the wrong protocol, a re-addressed listener that
cannot bind. Only many reloads against live traffic find those, and a
sanitizer makes a freed listener or a race visible on the first hit.

How it judges. The storm writes configurations from a seeded pool (listeners
added, removed, moved between 127.0.0.1:P and 0.0.0.0:P, or ::1 and ::, echo
switched to http on the same port, several `port: 0` listeners on one address,
http body and root changed, now and then an invalid file) and sends SIGHUP at
random gaps, some in bursts with no gap. Every configuration written gets an
index. Which one is in effect is pinned down at settle points: SIGUSR1 is sent
and its log line awaited; signals are handled in order and SIGHUP (1) is
dequeued before SIGUSR1 (10), so by then every reload signalled before has run
and logged, and the last one read the last file written. Between settle
points a connection may meet any configuration from the last settled one to
the last one written while it ran, and it is judged against all of them:

- an answer must be the protocol that the port's listener had in one of them
  (echo byte-exact; HTTP a whole, well-formed response whose body is one of
  the bodies configured there); a connection keeps that protocol for its
  whole life, whatever later reloads do to its listener;
- a refusal at connect, or a close before the first byte of an answer, is
  allowed only when the port's listener was removed or re-addressed in that
  span: a listener kept across reloads keeps its very socket and refuses
  nothing;
- a hang past the deadline, a short or garbled answer, or an open connection
  closed by the server is always wrong.

At each settle point the log must show the reload of a valid file applied
("reloaded: N listeners" with N as configured, the listening set as
configured) and an invalid one refused with its own error and nothing opened
or closed. At the end the daemon must answer on its first configuration
again, hold as many descriptors as it did then, have logged no other ERROR,
have no sanitizer report on stderr, and exit 0 on SIGTERM.

Environment: EPOLLD_STORM_SEED (default: random, printed), EPOLLD_STORM_SECONDS
(default 8), EPOLLD_STORM_RELOADS (default 400, divided by the slowdown under
a sanitizer: fewer reloads rather than longer deadlines),
EPOLLD_STORM_WITHOUT=feature,... to leave kinds of change out of the pool
(readdress, switch, zero, remove, invalid, ipv6, root), EPOLLD_STORM_CLIENTS
(default 6 client threads). scripts/reload-storm
runs it for minutes against the plain, ASan and TSan builds.
"""

import collections
import dataclasses
import os
import random
import re
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
import traceback
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import BINARY, LINE_RE, SLOWDOWN, Daemon, listener, open_fds, read_text, wait_until  # noqa: E402
from epolld_harness import free_port  # noqa: E402

SANITIZER = os.environ.get("EPOLLD_SANITIZER", "")
SEED = int(os.environ.get("EPOLLD_STORM_SEED") or random.SystemRandom().randrange(1 << 32))
SECONDS = float(os.environ.get("EPOLLD_STORM_SECONDS") or 8)
RELOADS = int(os.environ.get("EPOLLD_STORM_RELOADS") or 400 / SLOWDOWN)
WITHOUT = set(filter(None, os.environ.get("EPOLLD_STORM_WITHOUT", "").split(",")))
FEATURES = {"readdress", "switch", "zero", "remove", "invalid", "ipv6", "root"}

CLIENTS = int(os.environ.get("EPOLLD_STORM_CLIENTS") or 6)
# How long one answer may take: a hang past it is a finding.
DEADLINE = 5.0 * SLOWDOWN
# A settle point at least this often, so that a connection is judged against
# a handful of configurations, not all of them.
SETTLE_EVERY = 6

WILDCARD = {"127.0.0.1": "0.0.0.0", "::1": "::"}
# `port: 0` listeners have one protocol per address: which socket a reload
# keeps for which of several such entries is the daemon's business, so only
# the protocol is fixed, not the options.
ZERO_PROTOCOL = {"127.0.0.1": "http", "::1": "echo"}
BODIES = ["alpha", "", "bravo " * 40, "c" * 40000]
ROOT_FILE = "storm.txt"
# Echo payloads start with a TLS hello's first bytes: an HTTP listener
# refuses those at once (400) instead of waiting for the rest of a request.
ECHO_MAGIC = b"\x16\x03\x01"

SANITIZER_RE = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|WARNING: ThreadSanitizer|"
                          r"runtime error:|UndefinedBehaviorSanitizer")
LISTEN_LINE_RE = re.compile(r"^(?P<stopped>stopped )?listening on (?:\[(?P<v6>[^\]]+)\]|(?P<v4>[0-9.]+)):"
                            r"(?P<port>\d+) \((?P<proto>\w+)\)")
RELOADED_RE = re.compile(r"^configuration .* reloaded: (?P<count>\d+) listeners")
FAILED_PREFIX = "reload failed, keeping the running configuration: "
MARKER = "received SIGUSR1, log file reopened"


def loopback(address):
    """The loopback address of `address`'s family, where a client reaches a listener on it."""
    return "::1" if ":" in address else "127.0.0.1"


def ipv6_works():
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@dataclasses.dataclass(frozen=True)
class Listener:
    address: str
    port: int  # 0: an ephemeral port
    protocol: str
    body: str = None  # http only
    root: str = None  # http only; wins over body

    def yaml(self):
        options = {}
        if self.protocol == "http":
            options = {"root": self.root} if self.root else {"body": self.body}
        return listener(self.protocol, self.address, self.port, **options)

    def host(self):
        """The loopback address a client reaches this listener on."""
        return loopback(self.address)

    def __str__(self):
        address = f"[{self.address}]" if ":" in self.address else self.address
        options = f" root={os.path.basename(self.root)}" if self.root else (
            f" body={len(self.body)}B" if self.body is not None else "")
        return f"{address}:{self.port} {self.protocol}{options}"


@dataclasses.dataclass(frozen=True)
class Plan:
    """One valid configuration of the pool."""
    listeners: tuple
    # Settings a reload applies at once, and two it keeps until a restart (with a WARNING).
    file_level: str = "info"
    idle_timeout: str = "60s"
    output_buffer_limit: str = "1MiB"
    workers: int = 2
    trigger: str = "edge"
    acceptors: int = 1  # fixed per run: listeners are added and removed in every acceptor

    def yaml(self, log):
        return {"workers": self.workers, "acceptors": self.acceptors, "trigger": self.trigger, "max_connections": 10000,
                "idle_timeout": self.idle_timeout,
                "output_buffer_limit": self.output_buffer_limit, "log": dict(log, file_level=self.file_level),
                "listeners": [l.yaml() for l in self.listeners]}

    def serving(self, host, port):
        """The listener a connection to host:port reaches, or None."""
        for entry in self.listeners:
            if entry.port == port and entry.address in (host, WILDCARD[host]):
                return entry
        return None

    def zero(self, host):
        return [entry for entry in self.listeners if entry.port == 0 and entry.host() == host]

    def describe(self):
        return ", ".join(map(str, self.listeners))


@dataclasses.dataclass(frozen=True)
class Invalid:
    """A configuration the daemon must refuse, with the error it must give."""
    config: dict
    error: str  # a regex for the reason in the ERROR line: what is wrong, not how it is worded
    what: str


class Pool:
    """Seeded configurations over fixed ports (from free_port) and port 0."""

    def __init__(self, rng, v4_ports, v6_ports, roots, features):
        self.rng, self.v4_ports, self.v6_ports, self.roots, self.features = rng, v4_ports, v6_ports, roots, features
        # Per run: the worker count, trigger mode and acceptor threads the daemon starts with (a reload
        # cannot change them).
        self.workers, self.trigger = rng.choice([1, 2, 4]), rng.choice(["edge", "level"])
        self.acceptors = rng.choice([1, 2, 3])
        # One protocol per fixed port unless switching is on.
        self.fixed_protocol = {port: rng.choice(["echo", "http"]) for port in v4_ports + v6_ports}
        self.plans = []
        for _ in range(8):
            base = self.random_plan()
            self.plans.append(base)
            for _ in range(2):  # neighbours one change away, so single changes come often
                self.plans.append(self.mutate(base))
        self.invalid_count = 0

    def http_options(self):
        if "root" in self.features and self.rng.random() < 0.3:
            return {"root": self.rng.choice(self.roots)}
        return {"body": self.rng.choice(BODIES)}

    def fixed_listener(self, port, host):
        address = host
        if "readdress" in self.features and self.rng.random() < 0.5:
            address = WILDCARD[host]
        protocol = self.rng.choice(["echo", "http"]) if "switch" in self.features else self.fixed_protocol[port]
        options = self.http_options() if protocol == "http" else {}
        return Listener(address, port, protocol, **options)

    def zero_listener(self, host):
        protocol = ZERO_PROTOCOL[host]
        return Listener(host, 0, protocol, **(self.http_options() if protocol == "http" else {}))

    def random_plan(self):
        entries = []
        keep = 0.6 if "remove" in self.features else 1.0
        for ports, host in ((self.v4_ports, "127.0.0.1"), (self.v6_ports, "::1")):
            for port in ports:
                if self.rng.random() < keep:
                    entries.append(self.fixed_listener(port, host))
        if "zero" in self.features:
            for host in ZERO_PROTOCOL:
                if host == "::1" and not self.v6_ports:
                    continue
                entries.extend(self.zero_listener(host) for _ in range(self.rng.choice([0, 1, 2, 2, 3])))
        if not entries:
            entries.append(self.fixed_listener(self.v4_ports[0], "127.0.0.1"))
        self.rng.shuffle(entries)
        return Plan(tuple(entries), self.rng.choice(["info", "info", "warning", "debug"]), self.rng.choice(["30s", "60s"]),
                    self.rng.choice(["64KiB", "1MiB"]), self.workers + (self.rng.random() < 0.2), self.trigger,
                    self.acceptors)

    def mutate(self, plan):
        """`plan` with one listener changed, added or removed."""
        entries = list(plan.listeners)
        index = self.rng.randrange(len(entries))
        entry = entries[index]
        choices = ["options"]
        if entry.port and "readdress" in self.features:
            choices.append("readdress")
        if entry.port and "switch" in self.features:
            choices.append("switch")
        if "remove" in self.features and len(entries) > 1:
            choices.append("remove")
        if "zero" in self.features:
            choices.append("zero")
        change = self.rng.choice(choices)
        if change == "readdress":
            host = entry.host()
            entries[index] = dataclasses.replace(entry, address=WILDCARD[host] if entry.address == host else host)
        elif change == "switch":
            protocol = "echo" if entry.protocol == "http" else "http"
            options = dict({"body": None, "root": None}, **(self.http_options() if protocol == "http" else {}))
            entries[index] = dataclasses.replace(entry, protocol=protocol, **options)
        elif change == "remove":
            del entries[index]
        elif change == "zero":
            entries.append(self.zero_listener(self.rng.choice(["127.0.0.1", "::1"] if self.v6_ports else ["127.0.0.1"])))
        elif entry.protocol == "http":
            entries[index] = dataclasses.replace(entry, **dict({"body": None, "root": None}, **self.http_options()))
        return dataclasses.replace(plan, listeners=tuple(entries))

    def pick(self):
        return self.rng.choice(self.plans)

    def invalid(self, current, log):
        """A broken variant of `current`: the daemon must refuse it and keep running `current`."""
        self.invalid_count += 1
        config = current.yaml(log)
        kinds = ["unknown key", "duplicate", "port", "root"]
        fixed = [l for l in current.listeners if l.port]
        if "readdress" in self.features and fixed:
            kinds.append("collision")
        kind = self.rng.choice(kinds)
        if kind == "unknown key":
            key = f"storm_unknown_{self.invalid_count}"
            config[key] = 1
            return Invalid(config, f"unknown key '{key}'", kind)
        if kind == "duplicate" and fixed:
            entry = self.rng.choice(fixed)
            config["listeners"].append(entry.yaml())
            return Invalid(config, rf"\b{entry.port}\b", kind)
        if kind == "root":
            missing = os.path.join(self.roots[0], "missing")
            http = [i for i, l in enumerate(current.listeners) if l.protocol == "http" and l.port]
            if http and self.rng.random() < 0.5:  # a kept listener's new options cannot be used
                config["listeners"][self.rng.choice(http)]["http"] = {"root": missing}
                return Invalid(config, "missing", "root of a kept listener")
            if fixed and "readdress" in self.features and self.rng.random() < 0.5:
                # A listener moved to its port's other address and a listener that fails: the move
                # must not have happened (the old address still listens, nothing is logged).
                index = current.listeners.index(self.rng.choice(fixed))
                entry = current.listeners[index]
                moved = entry.host() if entry.address != entry.host() else WILDCARD[entry.host()]
                config["listeners"][index] = dataclasses.replace(entry, address=moved).yaml()
                kind = "root, with a listener re-addressed"
            config["listeners"].append(listener("http", "127.0.0.1", 0, root=missing))
            return Invalid(config, "missing", kind)
        if kind == "collision":
            # 127.0.0.1:P beside 0.0.0.0:P cannot both be bound (SPEC.md: refused).
            entry = self.rng.choice(fixed)
            other = entry.host() if entry.address != entry.host() else WILDCARD[entry.host()]
            config["listeners"].append(dataclasses.replace(entry, address=other).yaml())
            return Invalid(config, rf"\b{entry.port}\b", kind)
        config["listeners"].append(listener("echo", "127.0.0.1", 70000))
        return Invalid(config, "70000", "port")


class Finding(Exception):
    pass


class Storm:
    """Writes configurations and signals; keeps what is known about the daemon's state."""

    def __init__(self, daemon, pool, rng, fixed_targets, log):
        self.d, self.pool, self.rng, self.log = daemon, pool, rng, log
        self.fixed_targets = fixed_targets
        self.lock = threading.Lock()
        self.reload_sent = threading.Condition()
        self.stopping = threading.Event()
        self.written = []  # index -> Plan or Invalid
        self.lower = 0  # index of the configuration last known to be in effect
        self.pending = []  # indices written since the last settle point
        self.open = set()  # (address, port) listening, per the log
        self.closed_zero = collections.deque(maxlen=6)  # recently closed port-0 targets
        self.stderr = open(os.path.join(daemon.dir, "stderr"), errors="replace")
        self.unread = ""  # stderr read but not yet judged
        self.dead = False
        self.expected_errors = []  # regexes of the refusals, in order
        self.findings = collections.OrderedDict()  # kind -> [details]
        self.stats = collections.Counter()

    # -- bookkeeping ---------------------------------------------------------

    def finding(self, kind, detail):
        if kind != "daemon died" and self.d.process.poll() is not None:
            self.dead = True
        with self.lock:
            if self.dead and kind != "daemon died":
                return  # what clients see of a dead daemon says nothing more
            self.findings.setdefault(kind, [])
            if len(self.findings[kind]) < 3:
                self.findings[kind].append(detail)
            self.stats["findings"] += 1

    def count(self, what, n=1):
        with self.lock:
            self.stats[what] += n

    def snapshot(self):
        """What a client needs at the start of a connection."""
        with self.lock:
            return self.lower, frozenset(self.open)

    def span(self, lower):
        """The valid configurations possibly in effect since `lower` was known, up to the last written."""
        with self.lock:
            return [(i, p) for i, p in enumerate(self.written[lower:], lower) if isinstance(p, Plan)]

    def latest_plan(self):
        with self.lock:
            return next(p for p in reversed(self.written) if isinstance(p, Plan))

    def target(self, rng):
        """Mostly a port that the last configuration written listens on, else one that existed lately."""
        with self.lock:
            zero = [(a, p, (a, p) in self.open) for a, p in self.open | set(self.closed_zero)
                    if not self.fixed(a, p)]
        plan = self.latest_plan()
        targets = [(host, port, False, bool(plan.serving(host, port))) for host, port in self.fixed_targets]
        targets += [(loopback(a), p, True, is_open) for a, p, is_open in zero]
        live = [t for t in targets if t[3]]
        host, port, is_zero, _ = rng.choice(live if live and rng.random() < 0.8 else targets)
        return host, port, is_zero

    def fixed(self, address, port):
        """Whether a listening address:port is one of the fixed ports: by family, as an IPv6
        `port: 0` listener may get the number of an IPv4 fixed port, and the other way round."""
        return (loopback(address), port) in self.fixed_targets

    def alive(self):
        if self.d.process.poll() is not None:
            self.dead = True
            raise Finding(f"epolld exited with {self.d.process.returncode}")

    def read_stderr(self):
        self.unread += self.stderr.read()
        return self.unread

    # -- writing and signalling ----------------------------------------------

    def write(self, item):
        """Appends to `written` before the file changes: a client's span then covers it."""
        with self.lock:
            self.written.append(item)
            self.pending.append(len(self.written) - 1)
        self.d.write_config(item.yaml(self.log) if isinstance(item, Plan) else item.config)

    def hup(self):
        self.alive()
        self.d.send_signal(signal.SIGHUP)
        self.count("sighups")
        with self.reload_sent:
            self.reload_sent.notify_all()

    def settle(self):
        """Waits until every SIGHUP sent so far has been handled, then checks what the log says."""
        self.alive()
        self.d.send_signal(signal.SIGUSR1)

        def handled():
            self.alive()
            at = self.read_stderr().find(MARKER)
            return at + len(MARKER) if at >= 0 else None

        try:
            end = wait_until(handled, 10, message="SIGUSR1 to be handled after the SIGHUPs")
        except AssertionError as e:
            raise Finding(f"{e}: the supervisor hangs in a reload")
        segment, self.unread = self.unread[:end], self.unread[end:]
        self.count("settles")
        self.judge_segment(segment)

    def judge_segment(self, segment):
        received, completions, opened_or_closed = 0, [], False
        for line in segment.splitlines():
            if SANITIZER_RE.search(line):
                raise Finding("sanitizer report on stderr")
            match = LINE_RE.match(line)
            if not match:
                continue
            level, message = match.group("level"), match.group("message")
            listening = LISTEN_LINE_RE.match(message)
            if message.startswith("received SIGHUP"):
                received += 1
            elif RELOADED_RE.match(message):
                completions.append(("ok", int(RELOADED_RE.match(message).group("count"))))
            elif message.startswith(FAILED_PREFIX):
                completions.append(("failed", message[len(FAILED_PREFIX):]))
            elif listening:
                opened_or_closed = True
                key = (listening.group("v6") or listening.group("v4"), int(listening.group("port")))
                with self.lock:
                    if listening.group("stopped"):
                        self.open.discard(key)
                        if not self.fixed(*key):
                            self.closed_zero.append(key)
                    else:
                        self.open.add(key)
            elif level in ("ERROR", "CRITICAL"):
                self.finding("unexpected ERROR line", message)
            elif "log lines dropped" in message:
                # Lines the storm reads may be among them: what follows is not to be trusted.
                self.finding("log lines dropped", message)
        with self.lock:
            pending, self.pending = self.pending, []
        self.count("reloads", len(completions))
        if received != len(completions):
            self.finding("reload without an outcome", f"{received} 'received SIGHUP' lines, {len(completions)} outcomes")
        if not pending:
            return
        if not completions:
            self.finding("SIGHUP ignored", f"configurations {pending} written and signalled, no reload logged")
            return
        last_index = pending[-1]
        last = self.written[last_index]
        invalid = [self.written[i] for i in pending if isinstance(self.written[i], Invalid)]
        for outcome, detail in completions:
            if outcome == "failed":
                expected = next((bad for bad in invalid if re.search(bad.error, detail)), None)
                if expected is None:
                    self.finding("valid configuration refused", f"{detail} (configurations {pending[0]}..{last_index})")
                else:
                    self.expected_errors.append(expected.error)
                    self.count("refused as expected")
        outcome, detail = completions[-1]
        if isinstance(last, Invalid):
            if outcome != "failed" or not re.search(last.error, str(detail)):
                self.finding("invalid configuration applied", f"{last.what}: {outcome} {detail}")
            if opened_or_closed:
                self.finding("refused reload changed listeners", f"{last.what}: {segment}")
            return
        if outcome != "ok":
            return  # reported above; the daemon runs one of the earlier configurations
        if detail != len(last.listeners):
            self.finding("reload applied a different listener count",
                         f"'reloaded: {detail} listeners' for {len(last.listeners)}: {last.describe()}")
        with self.lock:
            self.lower = last_index
            fixed = {(a, p) for a, p in self.open if self.fixed(a, p)}
            zero = collections.Counter(a for a, p in self.open if not self.fixed(a, p))
        configured = {(l.address, l.port) for l in last.listeners if l.port}
        if fixed != configured:
            self.finding("listening set differs from the configuration",
                         f"listening on {sorted(fixed)}, configured {sorted(configured)}")
        for host in ZERO_PROTOCOL:
            want = len(last.zero(host))
            if zero.get(host, 0) != want:
                self.finding("port-0 listener count differs from the configuration",
                             f"{zero.get(host, 0)} port-0 listeners on {host} for {want} configured: {last.describe()}")

    # -- the storm -----------------------------------------------------------

    def run(self, seconds, reloads):
        end = time.monotonic() + seconds
        unsettled = 0
        while time.monotonic() < end and self.stats["sighups"] < reloads and not self.stopping.is_set():
            action = self.rng.random()
            if action < 0.08 and "invalid" in self.pool.features:
                self.settle()
                self.write(self.pool.invalid(self.written[self.lower], self.log))
                self.hup()
                self.settle()
                unsettled = 0
                continue
            burst = self.rng.randint(2, 5) if action < 0.35 else 1
            for _ in range(burst):
                self.write(self.pool.pick())
                self.hup()
            unsettled += burst
            if unsettled >= SETTLE_EVERY or self.rng.random() < 0.5:
                self.settle()
                unsettled = 0
            gap = self.rng.choice([0, 0, self.rng.uniform(0, 0.03), self.rng.uniform(0, 0.2)])
            self.stopping.wait(gap)
        self.settle()


class Connection:
    """One client connection, judged answer by answer."""

    def __init__(self, storm, host, port, zero):
        self.storm, self.host, self.port, self.zero = storm, host, port, zero
        self.lower, self.open_at_start = storm.snapshot()
        self.mode = None  # the protocol of the first answer
        self.sock = None
        self.buffer = b""

    def where(self, span):
        return f"{self.host}:{self.port}{' (port 0)' if self.zero else ''}, configurations {span[0][0]}..{span[-1][0]}"

    def allowed(self, span):
        """The protocols, bodies, and whether a refusal is allowed, over `span`."""
        protocols, bodies = set(), set()
        if self.zero:
            for _, plan in span:
                for entry in plan.zero(self.host):
                    protocols.add(entry.protocol)
                    if entry.protocol == "http":
                        bodies.add(content(entry))
            refusal = len(span) > 1 or (self.host, self.port) not in self.open_at_start and (
                WILDCARD[self.host], self.port) not in self.open_at_start
            protocols.add(ZERO_PROTOCOL[self.host])
            return protocols, bodies, refusal
        addresses = set()
        for _, plan in span:
            entry = plan.serving(self.host, self.port)
            addresses.add(entry.address if entry else None)
            if entry:
                protocols.add(entry.protocol)
                if entry.protocol == "http":
                    bodies.add(content(entry))
        return protocols, bodies, None in addresses or len(addresses) > 1

    def bodies(self, span):
        """The bodies a request may get: its listener's options as they were when it was sent or
        since, or as they were when the connection came, if its listener has gone or changed
        protocol since (the connection keeps its own listener's last options then)."""
        if not self.zero:
            identities = {(e.address, e.protocol) if e else None
                          for e in (plan.serving(self.host, self.port) for _, plan in span)}
            if len(identities) == 1:
                span = [(i, plan) for i, plan in span if i >= self.request_lower]
        return self.allowed(span)[1]

    def connect(self):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(DEADLINE)
        try:
            self.sock.connect((self.host, self.port))
            return True
        except (ConnectionRefusedError, ConnectionResetError) as e:  # reset: the listener closed with our SYN queued
            self.storm.count("refused at connect")
            self.refused(f"{e.strerror} at connect")
            return False
        except socket.timeout:
            self.storm.finding("hang", f"connect to {self.host}:{self.port} took over {DEADLINE}s")
            return False

    def refused(self, how):
        span = self.storm.span(self.lower)
        if not self.allowed(span)[2]:
            self.storm.finding("refused or reset by a listener that was kept",
                               f"{how} at {self.where(span)}: {describe_span(span, self)}")

    def close(self, reset=False):
        if self.sock is None:
            return
        if reset:  # RST instead of FIN
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
        self.sock = None

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False  # what the peer did shows in what comes back

    def receive(self):
        """More bytes into the buffer; False at EOF or reset."""
        try:
            chunk = self.sock.recv(1 << 18)
        except socket.timeout:
            raise
        except OSError:
            return False
        self.buffer += chunk
        return bool(chunk)

    def exchange(self, request, method=None):
        """Sends `request` and reads its answer; returns the mode ('echo', 'http') or None when it ended the connection."""
        self.buffer = b""
        self.request_lower = self.storm.snapshot()[0]
        sent = self.send(request)
        deadline = time.monotonic() + DEADLINE
        try:
            answer = self.read_answer(request, method, deadline)
        except socket.timeout:
            span = self.storm.span(self.lower)
            self.storm.finding("hang", f"no whole answer within {DEADLINE}s at {self.where(span)}: got {self.buffer[:120]!r}"
                               f" for {request[:60]!r}")
            return None
        if answer is None:
            if self.mode is None:
                self.storm.count("reset before an answer")
                self.refused("closed before any byte of the answer" + ("" if sent else " (send failed)"))
            else:
                span = self.storm.span(self.lower)
                self.storm.finding("open connection closed by the server",
                                   f"after {self.mode} answers at {self.where(span)}")
            return None
        return answer

    def read_answer(self, request, method, deadline):
        # "HEAD ..." echoed and "HTTP/1.1 ..." part at the second byte.
        need = min(len(request), 5)
        while len(self.buffer) < need:
            self.check_deadline(deadline)
            if not self.receive():
                if not self.buffer:
                    return None
                break
        if request.startswith(self.buffer[:need]):
            return self.read_echo(request, deadline)
        if self.buffer.startswith(b"HTTP/"):
            return self.read_http(request, method, deadline)
        self.garbage("an answer that is neither an echo nor HTTP", request)
        return "garbage"

    def read_echo(self, request, deadline):
        while len(self.buffer) < len(request) and request.startswith(self.buffer):
            self.check_deadline(deadline)
            if not self.receive():
                self.judge("echo")
                self.storm.finding("half answer", f"echo cut after {len(self.buffer)} of {len(request)} bytes at "
                                   f"{self.where(self.storm.span(self.lower))}")
                return "garbage"
        if self.buffer != request:
            self.garbage("an echo that differs from what was sent", request)
            return "garbage"
        self.judge("echo")
        return "echo"

    def read_http(self, request, method, deadline):
        while b"\r\n\r\n" not in self.buffer:
            self.check_deadline(deadline)
            if not self.receive():
                self.storm.finding("half answer", f"HTTP head cut: {self.buffer[:200]!r}")
                return "garbage"
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = re.match(r"HTTP/1\.1 (\d{3}) \S", lines[0])
        headers = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                self.garbage("a malformed HTTP header line", request)
                return "garbage"
            headers[name.strip().lower()] = value.strip()
        missing = [h for h in ("date", "server", "content-length", "content-type") if h not in headers]
        if not status or missing or not headers.get("content-length", "x").isdigit():
            self.garbage(f"a malformed HTTP response (missing {missing})", request)
            return "garbage"
        length = int(headers["content-length"])
        body_length = 0 if method == "HEAD" else length
        while len(rest) < body_length:
            self.check_deadline(deadline)
            if not self.receive():
                self.storm.finding("half answer", f"HTTP body cut after {len(rest)} of {body_length} bytes")
                return "garbage"
            rest = self.buffer.partition(b"\r\n\r\n")[2]
        if len(rest) > body_length:
            self.garbage("bytes after the HTTP response", request)
            return "garbage"
        code = int(status.group(1))
        span = self.judge("http")
        bodies = self.bodies(span)
        if method is None:  # an echo payload: HTTP must refuse it
            if code != 400:
                self.storm.finding("wrong HTTP status", f"{code} for a TLS hello at {self.where(span)}")
        elif code != 200:
            self.storm.finding("wrong HTTP status", f"{code} for {request[:40]!r} at {self.where(span)}")
        elif method == "GET" and rest.decode("latin-1") not in bodies:
            self.storm.finding("HTTP body from no configuration in effect",
                               f"{len(rest)} bytes {rest[:30]!r} at {self.where(span)}; bodies: "
                               f"{sorted((len(b), b[:20]) for b in bodies)}")
        elif method == "HEAD" and length not in {len(b.encode()) for b in bodies}:
            self.storm.finding("HTTP body from no configuration in effect", f"HEAD Content-Length {length} at {self.where(span)}")
        if method is None or headers.get("connection", "").lower() == "close":
            return "http-closing"
        return "http"

    def judge(self, mode):
        """The protocol of an answer: one of the span's, and the connection's own from its first answer on."""
        span = self.storm.span(self.lower)
        protocols, _, _ = self.allowed(span)
        self.storm.count("answers")
        if self.mode is None:
            self.mode = mode
            self.storm.count(f"{mode} connections")
            if mode not in protocols:
                self.storm.finding("answer in a protocol the listener never had",
                                   f"{mode} answer at {self.where(span)}: {describe_span(span, self)}")
        elif mode != self.mode:
            self.storm.finding("open connection changed protocol",
                               f"{self.mode} connection answered in {mode} at {self.where(span)}: {describe_span(span, self)}")
        return span

    def garbage(self, what, request):
        span = self.storm.span(self.lower)
        self.storm.finding("garbled answer", f"{what} at {self.where(span)}: got {self.buffer[:120]!r} for {request[:60]!r}")

    def check_deadline(self, deadline):
        if time.monotonic() > deadline:
            raise socket.timeout()


def content(entry):
    """What GET /storm.txt answers on an http listener."""
    if entry.root:
        return read_text(os.path.join(entry.root, ROOT_FILE))
    return entry.body


def describe_span(span, connection):
    if connection.zero:
        return f"port-0 listener{'' if connection.open_at_start else ' not'} open at the start"
    return "; ".join(f"#{i}: {plan.serving(connection.host, connection.port) or 'none'}" for i, plan in span[-6:])


def http_request(method, close):
    extra = "Connection: close\r\n" if close else ""
    return f"{method} /{ROOT_FILE} HTTP/1.1\r\nHost: storm\r\n{extra}\r\n".encode()


def echo_payload(rng):
    return ECHO_MAGIC + rng.randbytes(rng.choice([1, 100, 3000, 70000]))


class Client(threading.Thread):
    """Connects, talks and closes in a loop, every kind of way."""

    def __init__(self, storm, number):
        super().__init__(name=f"storm-client-{number}", daemon=True)
        self.storm = storm
        self.rng = random.Random(f"{SEED}-{number}")

    def run(self):
        while not self.storm.stopping.is_set():
            try:
                self.one()
            except Exception:  # a bug in the test itself: show it
                self.storm.finding("client error", traceback.format_exc())
                self.storm.stopping.set()

    def one(self):
        host, port, zero = self.storm.target(self.rng)
        believed = ZERO_PROTOCOL[host] if zero else getattr(self.storm.latest_plan().serving(host, port), "protocol", None)
        kind = self.rng.choices(["echo", "keep-alive", "close", "reset"], [3, 3, 2, 2])[0]
        if kind in ("echo", "keep-alive", "close") and believed and self.rng.random() < 0.8:
            kind = "echo" if believed == "echo" else self.rng.choice(["keep-alive", "close"])
        connection = Connection(self.storm, host, port, zero)
        if not connection.connect():
            connection.close()
            return
        self.storm.count("connections")
        try:
            if kind == "reset":
                self.reset(connection)
            else:
                self.talk(connection, kind)
        finally:
            connection.close(reset=self.rng.random() < 0.2)

    def talk(self, connection, kind):
        # Some connections live through many reloads: their protocol must stay, their options follow.
        for _ in range(1 if kind == "close" else self.rng.choice([1, 2, 3, 4, 12])):
            if kind == "echo":
                answer = connection.exchange(echo_payload(self.rng))
            else:
                method = self.rng.choice(["GET", "GET", "GET", "HEAD"])
                answer = connection.exchange(http_request(method, kind == "close"), method)
                if answer == "http" and kind == "close":
                    answer = "http-closing"
            if answer == "http-closing":
                self.expect_close(connection)
            if answer not in ("echo", "http"):
                return
            # Let a reload happen between two requests on one connection.
            with self.storm.reload_sent:
                self.storm.reload_sent.wait(self.rng.uniform(0, 0.05))

    def expect_close(self, connection):
        connection.buffer = b""
        deadline = time.monotonic() + DEADLINE
        try:
            while connection.receive():
                connection.check_deadline(deadline)
            if connection.buffer:
                connection.garbage("bytes after a closing HTTP response", b"")
        except socket.timeout:
            self.storm.finding("hang", f"no close after a closing HTTP response on {connection.host}:{connection.port}")

    def reset(self, connection):
        """Abrupt ends: nothing, half a request, or a whole one left unread, then RST."""
        how = self.rng.choice(["silent", "half", "unread", "echo"])
        if how == "half":
            connection.send(b"GET /storm.txt HT")
        elif how == "unread":
            connection.send(http_request("GET", False))
        elif how == "echo":
            connection.send(echo_payload(self.rng))
        connection.close(reset=True)
        self.storm.count("resets")


def repro_command():
    env = f"EPOLLD_STORM_SEED={SEED} EPOLLD_STORM_SECONDS={SECONDS:g} EPOLLD_STORM_RELOADS={RELOADS}"
    env += f" EPOLLD_STORM_CLIENTS={CLIENTS}" if CLIENTS != 6 else ""
    if WITHOUT:
        env += f" EPOLLD_STORM_WITHOUT={','.join(sorted(WITHOUT))}"
    env += f" EPOLLD_BINARY={BINARY} EPOLLD_SOURCE_DIR={os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))}"
    env += f" EPOLLD_TEST_SLOWDOWN={SLOWDOWN:g}" + (f" EPOLLD_SANITIZER={SANITIZER}" if SANITIZER else "")
    build = os.path.dirname(os.path.dirname(BINARY))
    return (f"{env} python3 {os.path.abspath(__file__)} -v\n"
            f"  or, without the cap on reloads: {'EPOLLD_STORM_WITHOUT=' + ','.join(sorted(WITHOUT)) + ' ' if WITHOUT else ''}"
            f"scripts/reload-storm --build {build} {SECONDS:g} {SEED}")


class ReloadStorm(unittest.TestCase):
    def setUp(self):
        self.roots = []
        for name in ("one", "two"):
            root = tempfile.mkdtemp(prefix=f"epolld-storm-root-{name}-")
            with open(os.path.join(root, ROOT_FILE), "w") as out:
                out.write(f"served from root {name}\n" * (1 if name == "one" else 500))
            self.roots.append(root)
        self.placeholders = []

    def tearDown(self):
        for root in self.roots:
            shutil.rmtree(root, ignore_errors=True)
        for placeholder in self.placeholders:
            placeholder.close()

    def reserve(self, host):
        """A fixed port for the storm, held by a bound socket that never listens.

        The daemon binds beside it (SO_REUSEADDR on both, ours not
        listening), while the kernel picks neither it for a `port: 0`
        listener nor as a client's local port: a port the storm has just
        removed from the configuration is still free when it comes back."""
        port = free_port(host)
        holder = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind((host, port))
        self.placeholders.append(holder)
        return port

    def test_reload_storm(self):
        print(f"\nreload storm: seed {SEED}, {SECONDS:g}s, at most {RELOADS} SIGHUPs, binary {BINARY}", file=sys.stderr)
        features = FEATURES - WITHOUT
        if not ipv6_works():
            features.discard("ipv6")
        rng = random.Random(SEED)
        v4_ports = [self.reserve("127.0.0.1") for _ in range(3)]
        v6_ports = [self.reserve("::1") for _ in range(2)] if "ipv6" in features else []
        pool = Pool(rng, v4_ports, v6_ports, self.roots, features)
        first = dataclasses.replace(pool.pick(), workers=pool.workers)
        print(f"reload storm: {pool.workers} workers, {pool.acceptors} acceptors, trigger {pool.trigger}, "
              f"features {' '.join(sorted(features))}",
              file=sys.stderr)
        fixed_targets = [("127.0.0.1", p) for p in v4_ports] + [("::1", p) for p in v6_ports]
        with Daemon(first.yaml({})) as d:
            storm = Storm(d, pool, rng, fixed_targets, d.config["log"])
            storm.written.append(first)
            storm.judge_segment(storm.read_stderr())  # the listeners it started with
            storm.unread = ""
            baseline = open_fds(d.pid)
            clients = [Client(storm, n) for n in range(CLIENTS)]
            started = time.monotonic()
            try:
                for client in clients:
                    client.start()
                storm.run(SECONDS, RELOADS)
                storm.stopping.set()
                for client in clients:
                    client.join(2 * DEADLINE + 5)
                    if client.is_alive():
                        storm.finding("hang", f"{client.name} still waiting {2 * DEADLINE + 5:g}s after the storm")
                self.finish(storm, d, first, baseline)
            except Finding as e:
                storm.finding("daemon died" if storm.dead else "storm stopped", str(e))
                storm.stopping.set()
                for client in clients:
                    client.join(2 * DEADLINE + 5)
            elapsed = time.monotonic() - started
            storm.stderr.close()
            stats = storm.stats
            print(f"reload storm: {elapsed:.1f}s, {stats['sighups']} SIGHUPs, {stats['reloads']} reloads "
                  f"({stats['refused as expected']} refused as expected), {stats['settles']} settle points, "
                  f"{stats['connections']} connections, {stats['answers']} answers ({stats['echo connections']} echo, {stats['http connections']} "
                  f"http connections, {stats['resets']} reset by the client, {stats['refused at connect']} refused at connect, "
                  f"{stats['reset before an answer']} closed before an answer), findings: {len(storm.findings)}",
                  file=sys.stderr)
            if storm.findings:
                report = []
                for kind, details in storm.findings.items():
                    report.append(f"- {kind}:")
                    report.extend(f"    {detail}" for detail in details)
                stderr = d.stderr_text()
                sanitizer = SANITIZER_RE.search(stderr)
                if sanitizer:
                    report.append("daemon stderr from the sanitizer report on:\n" + stderr[sanitizer.start():][:6000])
                elif d.process.poll() not in (None, 0):
                    report.append("daemon stderr, last lines:\n" + "\n".join(stderr.splitlines()[-30:]))
                if storm.dead:
                    report.insert(0, "the daemon died: what clients saw just before may be its doing")
                self.fail(f"reload storm found {len(storm.findings)} kinds of problem (seed {SEED}):\n" +
                          "\n".join(report) + f"\nreproduce (timing varies; the same seed makes the same configurations "
                          f"and choices):\n  {repro_command()}")

    def finish(self, storm, d, first, baseline):
        """Back to the first configuration: it answers, descriptors are as at the start, nothing else logged."""
        storm.write(first)
        storm.hup()
        storm.settle()
        lower, open_now = storm.snapshot()
        zero = [(loopback(a), p) for a, p in open_now if not storm.fixed(a, p)]
        for host, port, is_zero in [(h, p, False) for h, p in storm.fixed_targets if first.serving(h, p)] + [
                (h, p, True) for h, p in zero]:
            connection = Connection(storm, host, port, is_zero)
            if connection.connect():
                protocol = ZERO_PROTOCOL[host] if is_zero else first.serving(host, port).protocol
                request = echo_payload(storm.rng) if protocol == "echo" else http_request("GET", False)
                if connection.exchange(request, None if protocol == "echo" else "GET") is None:
                    storm.finding("final configuration does not answer", f"{host}:{port}")
                connection.close()
        try:
            wait_until(lambda: open_fds(d.pid) <= baseline, 5, message="descriptors")
        except AssertionError:
            storm.finding("descriptors leaked", f"{open_fds(d.pid)} open, {baseline} at the start: "
                          f"{sorted(os.readlink(f'/proc/{d.pid}/fd/{fd}') for fd in os.listdir(f'/proc/{d.pid}/fd'))}")
        status = d.stop()
        if status != 0:
            storm.finding("exit status", f"epolld exited with {status} on SIGTERM")
        rest = storm.read_stderr()
        if SANITIZER_RE.search(rest):
            storm.finding("sanitizer report on stderr", "at shutdown")
        for line in rest.splitlines():
            match = LINE_RE.match(line)
            if match and match.group("level") in ("ERROR", "CRITICAL"):
                storm.finding("unexpected ERROR line", match.group("message"))
        # The log file says the same: only the refusals the storm provoked.
        errors = [m.group("message") for m in map(LINE_RE.match, read_text(d.log_path).splitlines())
                  if m and m.group("level") in ("ERROR", "CRITICAL")]
        expected = list(storm.expected_errors)
        unexpected = []
        for message in errors:
            if expected and message.startswith(FAILED_PREFIX) and re.search(expected[0], message):
                expected.pop(0)
            else:
                unexpected.append(message)
        if unexpected and not any(kind in storm.findings for kind in ("unexpected ERROR line", "valid configuration refused")):
            storm.finding("unexpected ERROR line in the log file", unexpected[0])


if __name__ == "__main__":
    unittest.main()
