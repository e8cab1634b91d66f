"""A restart that no client notices, on the host: a fake systemd (a notify
socket with an fd store) takes the bundle of connections a stopping epolld
hands over, and passes it to the next epolld as systemd does (LISTEN_FDS from
fd 3, LISTEN_FDNAMES, LISTEN_PID). Clients keep their connections across it:
idle ones, ones whose request arrived while no process ran, and a busy one
that finishes its request first. A full store, and bundled descriptors that
are not what their listener's name says, are closed and logged."""

import array
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import (SLOWDOWN, Daemon, echo_round_trip, free_port, listener, read_until_closed,  # noqa: E402
                             wait_until)

# The most descriptors one notify message may carry (SCM_MAX_FD).
MAX_FDS = 253
HTTP_REQUEST = b"GET / HTTP/1.1\r\nHost: handover\r\n\r\n"


class FakeSystemd:
    """systemd's notify socket and fd store, as much as a restart needs:
    FDSTORE=1 with FDNAME= keeps descriptors (up to `store_max`; the rest are
    closed, as systemd closes them), FDSTOREREMOVE=1 drops a name's, and
    BARRIER=1 is answered by closing its descriptor."""

    def __init__(self, store_max=1000):
        self.dir = tempfile.mkdtemp(prefix="epolld-fdstore-")
        self.address = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.address)
        self.sock.settimeout(0.05)
        self.store_max = store_max
        self.store = []  # [(fd, name)]
        self.messages = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._serve)
        self.thread.start()

    def env(self):
        # FDSTORE: the store's size, as systemd 254 and later tell a service.
        return {"NOTIFY_SOCKET": self.address, "FDSTORE": str(self.store_max)}

    def _serve(self):
        while self.running:
            fds = array.array("i")
            try:
                data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
            except socket.timeout:
                continue
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            with self.lock:
                self.messages.append(data.decode())
                if fields.get("FDSTORE") == "1":
                    for fd in fds:
                        if len(self.store) < self.store_max:
                            self.store.append((fd, fields.get("FDNAME", "stored")))
                        else:
                            os.close(fd)
                    continue
                for fd in fds:  # BARRIER=1's pipe: closing it answers
                    os.close(fd)
                if fields.get("FDSTOREREMOVE") == "1":
                    for fd, name in [entry for entry in self.store if entry[1] == fields.get("FDNAME")]:
                        os.close(fd)
                        self.store.remove((fd, name))

    def names(self):
        with self.lock:
            return [name for _, name in self.store]

    def stored(self):
        with self.lock:
            return list(self.store)

    def removed(self):
        with self.lock:
            return [m.split("FDNAME=", 1)[1] for m in self.messages if m.startswith("FDSTOREREMOVE=1")]

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()
        for fd, _ in self.store:
            os.close(fd)
        shutil.rmtree(self.dir, ignore_errors=True)


def http_exchange(sock, request=HTTP_REQUEST):
    """Sends one keep-alive request and reads its whole response."""
    sock.sendall(request)
    return read_response(sock)


def read_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed inside a body")
        body += chunk
    return head.split(b"\r\n")[0], body


def unread_bytes(server_port, client_port):
    """Bytes waiting in the kernel, unread by the daemon, on its side of the
    connection from `client_port` (the rx_queue of /proc/net/tcp)."""
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
            if int(local, 16) == server_port and int(remote, 16) == client_port:
                return int(fields[4].split(":")[1], 16)
    raise AssertionError(f"no connection {server_port} <- {client_port} in /proc/net/tcp")


class Handover(unittest.TestCase):
    def setUp(self):
        self.systemd = None
        self.echo_port, self.http_port = free_port(), free_port()

    def tearDown(self):
        if self.systemd:
            self.systemd.close()

    def config(self, **extra):
        config = {"workers": 2, "shutdown_timeout": "2s",
                  "listeners": [listener("echo", port=self.echo_port), listener("http", port=self.http_port)]}
        config.update(extra)
        return config

    def fake_systemd(self, store_max=1000):
        self.systemd = FakeSystemd(store_max)
        return self.systemd

    def successor(self, config=None, **kwargs):
        """The next epolld, given what the store holds, as systemd passes it."""
        return Daemon(config or self.config(), env=self.systemd.env(), passed_fds=self.systemd.stored(), **kwargs)

    def connect(self, port, count):
        socks = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10 * SLOWDOWN)
            self.addCleanup(sock.close)
            socks.append(sock)
        return socks

    def test_idle_connections_and_requests_sent_meanwhile_cross_a_restart(self):
        systemd = self.fake_systemd()
        with Daemon(self.config(), env=systemd.env()) as first:
            echoes = self.connect(self.echo_port, 20)
            https = self.connect(self.http_port, 20)
            for i, sock in enumerate(echoes):
                self.assertEqual(echo_round_trip(sock, f"before {i}\n".encode()), f"before {i}\n".encode())
            for sock in https:
                self.assertEqual(http_exchange(sock), (b"HTTP/1.1 200 OK", b"Hello, World!"))
            first.send_signal(signal.SIGTERM)
            self.assertEqual(first.process.wait(30 * SLOWDOWN), 0)
            first.wait_for_log("handed 40 connections over to the next process")
        # Two listeners and one bundle of the forty connections.
        self.assertEqual(sorted(systemd.names()), sorted(["connections", f"listen-127.0.0.1-{self.echo_port}",
                                                          f"listen-127.0.0.1-{self.http_port}"]))
        # No process serves them now: what clients send waits in the kernel.
        for i, sock in enumerate(echoes[:10]):
            sock.sendall(f"meanwhile {i}\n".encode())
        for sock in https[:10]:
            sock.sendall(HTTP_REQUEST)
        with self.successor() as second:
            for i, sock in enumerate(echoes[:10]):
                expected = f"meanwhile {i}\n".encode()
                self.assertEqual(sock.recv(len(expected), socket.MSG_WAITALL), expected)
            for sock in https[:10]:
                self.assertEqual(read_response(sock), (b"HTTP/1.1 200 OK", b"Hello, World!"))
            for i, sock in enumerate(echoes):
                payload = f"after {i}\n".encode() * 50
                self.assertEqual(echo_round_trip(sock, payload), payload)
            for sock in https:
                self.assertEqual(http_exchange(sock), (b"HTTP/1.1 200 OK", b"Hello, World!"))
            second.wait_for_log("took in 40 of the 40 connections the previous process handed over")
            local = {sock.getsockname()[1] for sock in echoes + https}
            adopted = {int(port) for port in re.findall(r"adopt connection from 127\.0\.0\.1, (\d+), fd = \d+",
                                                        second.log_text())}
            self.assertEqual(adopted, local)
            # Taken out of the store, so that a close here is a close.
            wait_until(lambda: "connections" not in systemd.names(), message="the bundle to leave the store")
            self.assertEqual(systemd.removed(), ["connections"])
            # A client that closes now is seen closing: no copy is left behind.
            echoes[0].shutdown(socket.SHUT_WR)
            self.assertEqual(read_until_closed(echoes[0]), b"")
            second.send_signal(signal.SIGTERM)
            self.assertEqual(second.process.wait(30 * SLOWDOWN), 0)
            second.wait_for_log("handed 39 connections over to the next process")
        self.assertEqual(systemd.names().count("connections"), 1)

    def test_several_acceptors_hand_over_and_take_in_every_connection(self):
        systemd = self.fake_systemd()
        config = self.config(acceptors=3)
        with Daemon(config, env=systemd.env()) as first:
            socks = self.connect(self.echo_port, 12) + self.connect(self.http_port, 12)
            for sock in socks[:12]:
                self.assertEqual(echo_round_trip(sock, b"before\n"), b"before\n")
            for sock in socks[12:]:
                self.assertEqual(http_exchange(sock), (b"HTTP/1.1 200 OK", b"Hello, World!"))
            first.send_signal(signal.SIGTERM)
            self.assertEqual(first.process.wait(30 * SLOWDOWN), 0)
            first.wait_for_log("handed 24 connections over to the next process")
        with self.successor(config) as second:
            second.wait_for_log("took in 24 of the 24 connections the previous process handed over")
            for sock in socks[:12]:
                self.assertEqual(echo_round_trip(sock, b"after\n"), b"after\n")
            for sock in socks[12:]:
                self.assertEqual(http_exchange(sock), (b"HTTP/1.1 200 OK", b"Hello, World!"))
            # New connections still reach every listener through the acceptors.
            for port in (self.echo_port, self.http_port):
                with socket.create_connection(("127.0.0.1", port), timeout=10 * SLOWDOWN) as fresh:
                    if port == self.echo_port:
                        self.assertEqual(echo_round_trip(fresh, b"new\n"), b"new\n")
                    else:
                        self.assertEqual(http_exchange(fresh), (b"HTTP/1.1 200 OK", b"Hello, World!"))
            self.assertEqual(second.stop(), 0)

    def test_a_request_half_received_is_answered_first_and_one_never_finished_is_closed(self):
        systemd = self.fake_systemd()
        with Daemon(self.config(), env=systemd.env()) as first:
            busy, stalled, idle = self.connect(self.http_port, 3)
            self.assertEqual(http_exchange(idle)[0], b"HTTP/1.1 200 OK")
            busy.sendall(b"GET / HTTP/1.1\r\nHost: busy\r\n")
            stalled.sendall(b"GET / HTTP/1.1\r\nHost: stalled\r\n")
            # Read by the daemon, not just queued in the kernel: those
            # sessions are mid-request when the stop begins.
            for sock in (busy, stalled):
                wait_until(lambda: unread_bytes(self.http_port, sock.getsockname()[1]) == 0,
                           message="the daemon to read the half request")
            first.send_signal(signal.SIGTERM)
            first.wait_for_log("received SIGTERM")
            # The old process still answers the request it had begun to read.
            busy.sendall(b"\r\n")
            self.assertEqual(read_response(busy), (b"HTTP/1.1 200 OK", b"Hello, World!"))
            # One never finished is closed at shutdown_timeout, with nothing sent.
            self.assertEqual(read_until_closed(stalled), b"")
            self.assertEqual(first.process.wait(30 * SLOWDOWN), 0)
            first.wait_for_log("handed 2 connections over to the next process")
        with self.successor():
            self.assertEqual(http_exchange(busy), (b"HTTP/1.1 200 OK", b"Hello, World!"))
            self.assertEqual(http_exchange(idle), (b"HTTP/1.1 200 OK", b"Hello, World!"))

    def test_with_no_room_in_the_store_the_connections_are_closed(self):
        # Room for the two listeners only.
        systemd = self.fake_systemd(store_max=2)
        with Daemon(self.config(), env=systemd.env()) as first:
            echoes = self.connect(self.echo_port, 10)
            for sock in echoes:
                self.assertEqual(echo_round_trip(sock, b"ping"), b"ping")
            first.send_signal(signal.SIGTERM)
            self.assertEqual(first.process.wait(30 * SLOWDOWN), 0)
            first.wait_for_log(r"the fd store has no room left \(FileDescriptorStoreMax=\): "
                               "closing 10 of the 10 connections to hand over")
        for sock in echoes:
            self.assertEqual(read_until_closed(sock), b"")
        self.assertNotIn("connections", systemd.names())

    def test_stored_descriptors_that_are_not_live_connections_of_a_listener_are_closed(self):
        systemd = self.fake_systemd()
        other_port = free_port()
        with Daemon(self.config(), env=systemd.env()) as first:
            kept = self.connect(self.echo_port, 3)
            gone = self.connect(self.echo_port, 1)[0]
            for sock in kept + [gone]:
                self.assertEqual(echo_round_trip(sock, b"x"), b"x")
            first.send_signal(signal.SIGTERM)
            self.assertEqual(first.process.wait(30 * SLOWDOWN), 0)
        gone.close()  # its peer closes while it waits in the store
        # What a broken or foreign store could hold, under connection names.
        pipe_read, pipe_write = os.pipe()
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        listening = socket.socket()
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        stray_peer = socket.create_connection(("127.0.0.1", listening.getsockname()[1]))
        stray, _ = listening.accept()
        for sock in (udp, listening, stray_peer, stray):
            self.addCleanup(sock.close)
        os.close(pipe_write)
        # The bundle as the first daemon left it, with more messages queued
        # behind its own: what a broken or foreign sender could put there.
        bundle = dict((name, fd) for fd, name in systemd.stored())["connections"]
        sender, receiver = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.addCleanup(sender.close)
        self.addCleanup(receiver.close)
        with socket.socket(fileno=os.dup(bundle)) as first_bundle:
            while True:  # move the first daemon's messages over, then add ours
                message, fds, _, _ = socket.recv_fds(first_bundle, 256, MAX_FDS, socket.MSG_DONTWAIT)
                if not message and not fds:
                    break  # its sender is gone and the queue is empty
                socket.send_fds(sender, [message], fds)
                for fd in fds:
                    os.close(fd)
        echo_key = f"echo 127.0.0.1:{self.echo_port}".encode()
        for key, fds in ((echo_key, [pipe_read, udp.fileno(), listening.fileno(), stray.fileno()]),
                         (f"echo 127.0.0.1:{other_port}".encode(), [stray.fileno()]),
                         (f"http 127.0.0.1:{self.echo_port}".encode(), [stray.fileno()]),
                         (b"not a listener", [stray.fileno()])):
            socket.send_fds(sender, [key], fds)
        passed = [(fd, name) for fd, name in systemd.stored() if name != "connections"]
        passed.append((receiver.fileno(), "connections"))
        with Daemon(self.config(max_connections=2), env=systemd.env(), passed_fds=passed) as second:
            # Three live ones pass the checks; seven do not.
            second.wait_for_log("took in 3 of the 10 connections the previous process handed over")
            text = second.log_text()
            for reason in ("not a socket", "not a TCP socket", "a listening socket, not a connection",
                           "the client has closed it", "no http listener is configured on it any more",
                           f"bound to 127.0.0.1:{listening.getsockname()[1]}, not to 127.0.0.1:{self.echo_port}",
                           f"127.0.0.1:{other_port} (echo): no echo listener is configured on it any more"):
                self.assertIn(reason, text)
            self.assertIn("1 connections under 'not a listener', which names no listener", text)
            # max_connections counts adopted connections: one of the three is refused.
            second.wait_for_log(r"max_connections \(2\) reached: refusing 127\.0\.0\.1")
            served = []
            for sock in kept:
                try:
                    if echo_round_trip(sock, b"still there") == b"still there":
                        served.append(sock)
                except OSError:
                    pass  # the one refused: reset
            self.assertEqual(len(served), 2)
            # The daemon goes on serving: once one leaves, a new client gets in.
            port = served[0].getsockname()[1]
            served[0].close()
            second.wait_for_log(r"127\.0\.0\.1, %d closed" % port)
            with socket.create_connection(("127.0.0.1", self.echo_port), timeout=10 * SLOWDOWN) as fresh:
                self.assertEqual(echo_round_trip(fresh, b"new"), b"new")
            self.assertEqual(second.stop(), 0)
        os.close(pipe_read)


if __name__ == "__main__":
    unittest.main()
