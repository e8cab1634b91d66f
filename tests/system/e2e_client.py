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


def main():
    commands = {"echo": cmd_echo, "hold": cmd_hold, "hammer": cmd_hammer}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    try:
        commands[sys.argv[1]](*sys.argv[2:])
    except Exception as e:
        print(f"e2e_client {sys.argv[1]}: {e!r}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
