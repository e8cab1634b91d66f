"""Starts the real epolld binary on a generated configuration and talks to it.

Every listener is configured with port 0: the daemon binds an ephemeral port
and logs `listening on 127.0.0.1:PORT (proto)`, which is where the tests read
their ports from. Nothing here sleeps to synchronise: wait_until() polls a
condition against a deadline.
"""

import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BINARY = os.environ.get("EPOLLD_BINARY", "")
SOURCE_DIR = os.environ.get("EPOLLD_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
# Sanitizer builds run several times slower: every deadline is scaled by this.
SLOWDOWN = float(os.environ.get("EPOLLD_TEST_SLOWDOWN", "1"))

LINE_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - (?P<name>\S+) - "
                     r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL) - (?P<message>.*)$")
LISTENING_RE = re.compile(r"(?<!stopped )listening on (?:\[(?P<v6>[^\]]+)\]|(?P<v4>[0-9.]+)):(?P<port>\d+) \((?P<proto>\w+)\)")


# Run by Python in the child: moves the fds named in argv[1] to 3, 4, ...,
# sets LISTEN_PID to its own PID and execs argv[2:] (the PID stays the same).
PLACE_FDS_AND_EXEC = """
import fcntl, os, sys
fds = [int(fd) for fd in sys.argv[1].split(",")]
above = max(fds + [2 + len(fds)]) + 1
moved = [fcntl.fcntl(fd, fcntl.F_DUPFD, above) for fd in fds]
for fd in set(fds):
    os.close(fd)
for index, fd in enumerate(moved):
    os.dup2(fd, 3 + index)
    os.close(fd)
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[2], sys.argv[2:])
"""


def wait_until(predicate, timeout=10.0, interval=0.01, message="condition"):
    """Polls `predicate` until it returns a true value, which is returned."""
    deadline = time.monotonic() + timeout * SLOWDOWN
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(interval)


def read_text(path):
    """The file's text so far; empty while it does not exist."""
    try:
        with open(path, errors="replace") as text:
            return text.read()
    except FileNotFoundError:
        return ""


def connect_when_listening(port, process=None, host="127.0.0.1", timeout=10.0):
    """A connection to `port` once something listens there. Fails at once if
    `process`, the one expected to listen, exits meanwhile."""
    def attempt():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{process.args[0]} exited with {process.returncode}")
        try:
            return socket.create_connection((host, port), timeout=2 * SLOWDOWN)
        except ConnectionRefusedError:
            return None

    return wait_until(attempt, timeout, message=f"something to listen on port {port}")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def open_sockets(pid):
    """The process's socket descriptors only. UBSan opens and closes pipes at
    any moment to probe memory, so counting every descriptor can be off."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except FileNotFoundError:  # closed since the listing
            pass
    return count


def thread_names(pid):
    """The names of the process's threads (/proc/PID/task/*/comm), sorted."""
    names = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/comm") as comm:
            names.append(comm.read().strip())
    return sorted(names)


def connection_refused(port, host="127.0.0.1"):
    """True when nothing listens on `port` any more (for wait_until)."""
    try:
        socket.create_connection((host, port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def thread_count(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def cpu_seconds(pid):
    """utime + stime of the whole process."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def yaml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def to_yaml(config, indent=0):
    """A tiny YAML writer for the dicts, lists and scalars the tests use."""
    pad = " " * indent
    lines = []
    for key, value in config.items():
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines.append(to_yaml(value, indent + 2))
        elif isinstance(value, list):
            lines.append(f"{pad}{key}:")
            for item in value:
                body = to_yaml(item, indent + 4).splitlines()
                lines.append(f"{pad}  - {body[0].strip()}")
                lines.extend(body[1:])
        else:
            lines.append(f"{pad}{key}: {yaml_value(value)}")
    return "\n".join(lines)


def listener(protocol="echo", address="127.0.0.1", port=0, **options):
    """One entry of `listeners:`; options go under `http:`. Port 0 binds an
    ephemeral port, which the daemon logs."""
    entry = {"address": address, "port": port, "protocol": protocol}
    if options:
        entry["http"] = options
    return entry


class Daemon:
    """`with Daemon({...}) as d:` runs epolld until the block ends.

    The config dict gets a log section pointing into a private temp dir
    unless it has one; listeners default to one echo listener.
    """

    def __init__(self, config=None, env=None, rlimit_nofile=None, args=None, expect_listeners=None, passed_fds=None):
        self.config = dict(config or {})
        self.config.setdefault("listeners", [listener()])
        self.dir = tempfile.mkdtemp(prefix="epolld-test-")
        # INFO on stderr too, so the listener ports are known even when a
        # test turns the file's level up.
        log = {"file": os.path.join(self.dir, "network-server.log"), "file_level": "debug",
               "console_level": "info"}
        log.update(self.config.get("log", {}))
        self.config["log"] = log
        self.log_path = log["file"]
        self.config_path = os.path.join(self.dir, "epolld.yaml")
        self.env = dict(os.environ, **(env or {}))
        self.rlimit_nofile = rlimit_nofile
        self.args = args or []
        self.expect_listeners = len(self.config["listeners"]) if expect_listeners is None else expect_listeners
        # [(fd, name)]: passed as systemd passes them (LISTEN_FDS from fd 3,
        # LISTEN_FDNAMES, LISTEN_PID), as a restart's fd store does.
        self.passed_fds = passed_fds or []
        self.process = None
        self.ports = []

    def write_config(self, config=None):
        if config is not None:
            self.config = config
        # Whole or not at all: a reload reading the file meanwhile must never
        # see half of it.
        partial = self.config_path + ".partial"
        with open(partial, "w") as out:
            out.write(to_yaml(self.config) + "\n")
        os.replace(partial, self.config_path)

    def start(self):
        self.write_config()
        limit = self.rlimit_nofile

        def limit_fds():
            if limit:
                resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

        # O_APPEND: the daemon shares this open file, offset included, and
        # reading it seeks; appends land at the end whatever the offset.
        self.stderr = open(os.path.join(self.dir, "stderr"), "a+")
        command = [BINARY, "--config", self.config_path] + self.args
        env = self.env
        if self.passed_fds:
            fds = [fd for fd, _ in self.passed_fds]
            env = dict(env, LISTEN_FDS=str(len(fds)), LISTEN_FDNAMES=":".join(name for _, name in self.passed_fds))
            command = [sys.executable, "-c", PLACE_FDS_AND_EXEC, ",".join(map(str, fds))] + command
        self.process = subprocess.Popen(command, cwd=self.dir, env=env, stdout=subprocess.DEVNULL,
                                        stderr=self.stderr, preexec_fn=limit_fds,
                                        pass_fds=[fd for fd, _ in self.passed_fds])
        if self.expect_listeners:
            # "ready" comes once every listener is bound and every thread runs.
            wait_until(lambda: self.process.poll() is not None or " - INFO - ready: " in self.stderr_text(), 20,
                       message="the daemon to be ready")
            if self.process.poll() is not None:
                raise AssertionError(f"epolld exited with {self.process.returncode}: {self.stderr_text()}")
            self.ports = [port for _, port, _ in self.listening()]
        return self

    @property
    def pid(self):
        return self.process.pid

    @property
    def port(self):
        return self.ports[0]

    def listening(self):
        """(host, port, protocol) of every `listening on` line so far."""
        found = []
        for match in LISTENING_RE.finditer(self.stderr_text()):
            found.append((match.group("v6") or match.group("v4"), int(match.group("port")), match.group("proto")))
        return found

    def log_text(self):
        return read_text(self.log_path)

    def log_lines(self):
        return self.log_text().splitlines()

    def wait_for_log(self, pattern, timeout=10.0):
        regex = re.compile(pattern, re.MULTILINE)
        return wait_until(lambda: regex.search(self.log_text()), timeout, message=f"log line {pattern!r}")

    def stderr_text(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()

    def connect(self, port=None, host="127.0.0.1", timeout=10.0):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout * SLOWDOWN)
        sock.connect((host, port or self.port))
        return sock

    def send_signal(self, number):
        self.process.send_signal(number)

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Signals the daemon and returns its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            status = self.process.wait(timeout * SLOWDOWN)
            if status > 0:
                # A sanitizer report (exit 66 from TSan, say) is in stderr,
                # which goes with the temp dir: show it with the failure.
                print(f"epolld exited with {status}; its stderr:\n{self.stderr_text()}", file=sys.stderr)
            return status
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"epolld did not exit within {timeout}s of signal {sig}")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process:
            self.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


class SocketActivated:
    """`with SocketActivated({...}, [port, ...]) as a:` has
    systemd-socket-activate bind 127.0.0.1:PORT for each port and exec epolld
    on the first connection, passing them (LISTEN_FDS). The config gets a log
    file in a private temp dir (a.log_path)."""

    def __init__(self, config, ports):
        self.dir = tempfile.mkdtemp(prefix="epolld-activate-")
        self.log_path = os.path.join(self.dir, "network-server.log")
        self.config = dict(config, log={"file": self.log_path, "console_level": "error"})
        self.ports = ports
        self.process = None

    def __enter__(self):
        config_path = os.path.join(self.dir, "epolld.yaml")
        with open(config_path, "w") as out:
            out.write(to_yaml(self.config) + "\n")
        listen = [arg for port in self.ports for arg in ("-l", f"127.0.0.1:{port}")]
        self.process = subprocess.Popen(["systemd-socket-activate", *listen, BINARY, "--config", config_path],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.dir)
        return self

    def log_text(self):
        return read_text(self.log_path)

    def stop(self):
        """SIGTERM; returns the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30 * SLOWDOWN)

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def echo_round_trip(sock, payload):
    """Sends payload and reads exactly as many bytes back, concurrently."""
    import threading
    received = bytearray()
    error = []

    def reader():
        try:
            while len(received) < len(payload):
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                received.extend(chunk)
        except OSError as e:  # pragma: no cover - reported below
            error.append(e)

    thread = threading.Thread(target=reader)
    thread.start()
    sock.sendall(payload)
    thread.join(60 * SLOWDOWN)
    if error:
        raise error[0]
    return bytes(received)


def read_until_closed(sock, chunk_size=1 << 20):
    """Everything the peer sends until it closes its side."""
    received = bytearray()
    while True:
        chunk = sock.recv(chunk_size)
        if not chunk:
            return bytes(received)
        received.extend(chunk)


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
