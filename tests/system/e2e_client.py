#!/usr/bin/python3
"""Clients that systemd_e2e.sh runs inside the container, against epolld on
127.0.0.1. Only modules of python3-minimal (socket, threading, os, time).

  echo PORT TEXT          one connection: send TEXT, expect it back, close;
                          prints "LOCAL_PORT" (for finding its log lines)
  hold PORT DIR           opens an echo connection and proves it works, writes
                          DIR/held, waits for DIR/go, then proves the same
                          connection still echoes and writes DIR/result
  hammer ECHO HTTP DIR    new connections in a loop (echo and HTTP, a few
                          threads) until DIR/stop exists (60 s at most);
                          writes DIR/started once going and counts refused
                          and failed ones
  keepalive ECHO HTTP N DIR
                          N echo and N keep-alive HTTP connections, each
                          pinged every 0.2 s until DIR/stop exists (120 s at
                          most): echoes byte-exact, HTTP 200 each time;
                          writes DIR/started once all are open and DIR/summary
                          with the longest pause between two answers
  closing PORT N DIR      N echo connections, proven to work; writes
                          DIR/started, then waits (60 s at most) for the
                          server to close every one and writes DIR/summary
Exit status 0 when every check held, 1 otherwise (the reason on stderr).
"""
import os
import socket
import sys
import threading
import time

HOST = "127.0.0.1"


def recv_exactly(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(data)} of {size} bytes")
        data += chunk
    return data


class Stage:
    """Where a connection failed, for the report: connect, send, receive."""
    name = "connect"


def echo_once(port, payload, timeout=10.0, stage=Stage()):
    stage.name = "connect"
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        local_port = sock.getsockname()[1]
        stage.name = f"send (local port {local_port})"
        sock.sendall(payload)
        stage.name = f"receive (local port {local_port})"
        got = recv_exactly(sock, len(payload))
        if got != payload:
            raise ValueError(f"echo sent {payload!r}, got {got!r}")
        # A clean end: the server closes after our half-close, as SPEC says.
        sock.shutdown(socket.SHUT_WR)
        rest = sock.recv(1)
        if rest:
            raise ValueError(f"unexpected bytes after the echo: {rest!r}")
        return local_port


def http_once(port, timeout=10.0, stage=Stage()):
    request = b"GET / HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n"
    stage.name = "connect"
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        local_port = sock.getsockname()[1]
        stage.name = f"send (local port {local_port})"
        sock.sendall(request)
        stage.name = f"receive (local port {local_port})"
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    if not data.startswith(b"HTTP/1.1 200 "):
        raise ValueError(f"HTTP answer {data[:60]!r}")


def wait_for(path, seconds):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {seconds} s")
        time.sleep(0.05)


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)  # the watcher never reads half a file


def cmd_echo(port, text):
    print(echo_once(int(port), text.encode()))


def cmd_hold(port, directory):
    with socket.create_connection((HOST, int(port)), timeout=10.0) as sock:
        for round_, name in ((1, "held"), (2, None)):
            payload = f"same connection, round {round_}\n".encode() * 100
            sock.sendall(payload)
            got = recv_exactly(sock, len(payload))
            if got != payload:
                raise ValueError(f"round {round_}: the echo differs from what was sent")
            if name:
                write(os.path.join(directory, name), str(sock.getsockname()[1]))
                wait_for(os.path.join(directory, "go"), 120)
        sock.shutdown(socket.SHUT_WR)
        if sock.recv(1):
            raise ValueError("unexpected bytes after the echo")
    write(os.path.join(directory, "result"), "ok")


def cmd_hammer(echo_port, http_port, directory, threads=4):
    stop = os.path.join(directory, "stop")
    deadline = time.monotonic() + 60  # never outlive the test
    lock = threading.Lock()
    counts = {"ok": 0, "refused": 0, "failed": 0}
    failures = []

    def run(index):
        n = 0
        stage = Stage()
        kind = "echo" if index % 2 == 0 else "http"
        while not os.path.exists(stop) and time.monotonic() < deadline:
            n += 1
            try:
                if kind == "echo":
                    echo_once(int(echo_port), f"hammer {index} {n}".encode(), stage=stage)
                else:
                    http_once(int(http_port), stage=stage)
                key = "ok"
            except ConnectionRefusedError as e:
                key = "refused"
                error = e
            except Exception as e:  # reset, timeout, short answer
                key = "failed"
                error = e
            with lock:
                counts[key] += 1
                if key != "ok" and len(failures) < 10:
                    stamp = time.strftime("%H:%M:%S") + f".{int(time.time() * 1000) % 1000:03d}"
                    failures.append(f"{stamp} {kind} {key} at {stage.name}: {error!r}")

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    write(os.path.join(directory, "started"), "")
    for w in workers:
        w.join()
    summary = f"ok={counts['ok']} refused={counts['refused']} failed={counts['failed']}"
    write(os.path.join(directory, "summary"), summary + "\n" + "\n".join(failures) + "\n")
    print(summary)
    for line in failures:
        print(line, file=sys.stderr)
    if counts["refused"] or counts["failed"] or not counts["ok"]:
        sys.exit(1)


class Pinged:
    """One connection of `keepalive`: a ping in flight or due."""

    def __init__(self, sock, kind, index):
        self.sock, self.kind, self.index = sock, kind, index
        self.sent = 0
        self.expected = b""
        self.received = b""
        self.due = time.monotonic()
        self.last_answer = None
        self.longest_pause = 0.0

    def ping(self):
        self.sent += 1
        if self.kind == "echo":
            self.expected = f"connection {self.index} ping {self.sent}\n".encode() * 4
            request = self.expected
        else:
            request = f"GET /?ping={self.sent} HTTP/1.1\r\nHost: e2e\r\n\r\n".encode()
        self.received = b""
        self.sock.sendall(request)

    def answered(self):
        """True once the whole answer to the ping in flight is in; raises if it is wrong."""
        if self.kind == "echo":
            if not self.expected.startswith(self.received):
                raise ValueError(f"echo differs: sent {self.expected!r}, got {self.received!r}")
            return len(self.received) == len(self.expected)
        head, found, body = self.received.partition(b"\r\n\r\n")
        if not found:
            return False
        if not head.startswith(b"HTTP/1.1 200 "):
            raise ValueError(f"HTTP answer {head[:40]!r}")
        length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        if len(body) > length:
            raise ValueError("more bytes than the response holds")
        return len(body) == length


def cmd_keepalive(echo_port, http_port, count, directory):
    import selectors
    period = 0.2
    deadline = time.monotonic() + 120  # never outlive the test
    stop = os.path.join(directory, "stop")
    connections = []
    for kind, port in (("echo", int(echo_port)), ("http", int(http_port))):
        for i in range(int(count)):
            sock = socket.create_connection((HOST, port), timeout=10.0)
            connections.append(Pinged(sock, kind, i))
    selector = selectors.DefaultSelector()
    for c in connections:
        c.sock.setblocking(False)
        selector.register(c.sock, selectors.EVENT_READ, c)
    write(os.path.join(directory, "started"), "")
    in_flight = set()
    failures = []
    answers = 0
    stopping = False
    while time.monotonic() < deadline and (in_flight or not stopping):
        stopping = stopping or os.path.exists(stop)
        now = time.monotonic()
        if not stopping:
            for c in connections:
                if c not in in_flight and c.due <= now:
                    try:
                        c.ping()
                        in_flight.add(c)
                    except OSError as e:
                        failures.append(f"{c.kind} {c.index}: send: {e!r}")
                        selector.unregister(c.sock)
                        connections.remove(c)
        for key, _ in selector.select(timeout=0.02):
            c = key.data
            try:
                chunk = c.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed by the server")
                c.received += chunk
                if c not in in_flight:
                    raise ValueError(f"unasked-for bytes {chunk[:40]!r}")
                if c.answered():
                    now = time.monotonic()
                    if c.last_answer is not None:
                        c.longest_pause = max(c.longest_pause, now - c.last_answer)
                    c.last_answer = now
                    c.due = now + period
                    in_flight.discard(c)
                    answers += 1
            except (OSError, ValueError) as e:
                failures.append(f"{c.kind} {c.index} (local port {c.sock.getsockname()[1]}): {e!r}")
                selector.unregister(c.sock)
                in_flight.discard(c)
                connections.remove(c)
    pause = max((c.longest_pause for c in connections), default=0.0)
    summary = (f"connections={2 * int(count)} answers={answers} failed={len(failures)} "
               f"unanswered={len(in_flight)} longest_pause={pause:.2f}s")
    write(os.path.join(directory, "summary"), summary + "\n" + "\n".join(failures[:10]) + "\n")
    print(summary)
    if failures or in_flight or len(connections) != 2 * int(count):
        sys.exit(1)


def cmd_closing(port, count, directory):
    socks = []
    for i in range(int(count)):
        sock = socket.create_connection((HOST, int(port)), timeout=10.0)
        payload = f"closing {i}\n".encode()
        sock.sendall(payload)
        if recv_exactly(sock, len(payload)) != payload:
            raise ValueError("the echo differs from what was sent")
        socks.append(sock)
    write(os.path.join(directory, "started"), "")
    deadline = time.monotonic() + 60
    closed = 0
    for sock in socks:
        sock.settimeout(max(deadline - time.monotonic(), 0.1))
        try:
            closed += sock.recv(1) == b""
        except ConnectionResetError:
            closed += 1
        except socket.timeout:
            pass
    write(os.path.join(directory, "summary"), f"closed={closed} of {count}\n")
    if closed != int(count):
        sys.exit(1)


def main():
    commands = {"echo": cmd_echo, "hold": cmd_hold, "hammer": cmd_hammer, "keepalive": cmd_keepalive,
                "closing": cmd_closing}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    try:
        commands[sys.argv[1]](*sys.argv[2:])
    except Exception as e:
        print(f"e2e_client {sys.argv[1]}: {e!r}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
