"""Every way a connection can end gives back its max_connections slot and its
descriptor exactly once; refusals leak nothing and their WARNING is rate
limited; running out of descriptors (EMFILE) pauses accepting without losing
the clients waiting in the backlog.

A slot that leaks shows up as a refusal after max_connections rounds; a slot
given back twice shows up as an extra connection admitted past the limit.
"""

import os
import re
import selectors
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import SLOWDOWN, Daemon, cpu_seconds, echo_round_trip, open_fds, read_until_closed, wait_until  # noqa: E402
from epolld_probe import started_baseline  # noqa: E402

MAX = 2


def refused(sock):
    """True when the daemon closes a fresh connection without echoing."""
    try:
        sock.sendall(b"?")
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def try_admitted(daemon, message=b"hello"):
    """A connected client that got its echo back, or None if refused."""
    sock = daemon.connect()
    try:
        if echo_round_trip(sock, message) == message:
            return sock
    except (ConnectionResetError, BrokenPipeError):
        pass
    sock.close()
    return None


def admit(daemon, count):
    """`count` admitted clients; waits for slots freed asynchronously."""
    admitted = []
    for _ in range(count):
        admitted.append(wait_until(lambda: try_admitted(daemon), message="a free slot"))
    return admitted


def leave_by_close(sock):
    sock.close()


def leave_by_reset(sock):
    sock.sendall(b"r" * 100000)  # with echo pending in both directions
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def leave_by_half_close(sock):
    sock.sendall(b"last words")
    sock.shutdown(socket.SHUT_WR)
    received = read_until_closed(sock)
    assert received == b"last words", received
    sock.close()


def leave_without_reading_the_echo(sock):
    # The echo arrives in a socket nobody reads: close() sends RST, and the
    # daemon's next send or recv fails (EPIPE / ECONNRESET).
    sock.sendall(os.urandom(1 << 20))
    sock.close()


def leave_by_shutting_down_both_ways(sock):
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class ConnectionSlots(unittest.TestCase):
    def run_paths(self, trigger):
        with Daemon({"max_connections": MAX, "workers": 2, "trigger": trigger}) as d:
            baseline = started_baseline(d)
            paths = [leave_by_close, leave_by_reset, leave_by_half_close, leave_without_reading_the_echo,
                     leave_by_shutting_down_both_ways]
            for leave in paths:
                # More rounds than slots: one leaked slot per round would
                # leave no room by the last one.
                for round_number in range(MAX + 1):
                    clients = admit(d, MAX)
                    for sock in clients:
                        leave(sock)
                    wait_until(lambda: open_fds(d.pid) == baseline, timeout=20,
                               message=f"descriptors back to {baseline} after {leave.__name__}")
            # Not given back twice either: the limit still holds exactly.
            clients = admit(d, MAX)
            with d.connect() as extra:
                self.assertTrue(refused(extra), "a connection past max_connections was admitted")
            for sock in clients:
                sock.close()
            wait_until(lambda: open_fds(d.pid) == baseline, timeout=20, message="descriptors back to baseline")
            self.assertEqual(d.stop(), 0)
            # The tutorial's closed line is logged once for every accepted connection.
            text = d.log_text()
            accepted = re.findall(r"(?m)DEBUG - accept connection from 127\.0\.0\.1, (\d+), fd = \d+$", text)
            closed = re.findall(r"(?m)DEBUG - 127\.0\.0\.1, (\d+) closed$", text)
            self.assertEqual(sorted(accepted), sorted(closed))
            self.assertEqual(len(accepted), 1 + len(paths) * (MAX + 1) * MAX + MAX)  # with the start-up probe

    def test_every_way_of_leaving_gives_back_the_slot_and_descriptor_edge(self):
        self.run_paths("edge")

    def test_every_way_of_leaving_gives_back_the_slot_and_descriptor_level(self):
        self.run_paths("level")

    def test_idle_timeout_gives_back_the_slot(self):
        with Daemon({"max_connections": MAX, "workers": 2, "idle_timeout": "300ms"}) as d:
            baseline = started_baseline(d)
            for _ in range(MAX + 1):
                silent = admit(d, MAX)
                for sock in silent:
                    self.assertEqual(sock.recv(1), b"", "the idle client was not closed")
                    sock.close()
            wait_until(lambda: open_fds(d.pid) == baseline, timeout=20, message="descriptors back to baseline")
            self.assertEqual(d.stop(), 0)  # flushes the log
            self.assertEqual(len(re.findall(r"(?m) timed out, closing$", d.log_text())), (MAX + 1) * MAX)


class Refusals(unittest.TestCase):
    def test_refused_connections_leak_nothing_and_the_warning_is_rate_limited(self):
        with Daemon({"max_connections": 1, "workers": 1}) as d:
            baseline = started_baseline(d)
            holder = try_admitted(d)
            self.assertIsNotNone(holder)
            self.addCleanup(holder.close)
            for _ in range(40):
                with d.connect() as extra:
                    self.assertTrue(refused(extra))
            self.assertEqual(echo_round_trip(holder, b"still mine"), b"still mine")
            wait_until(lambda: open_fds(d.pid) == baseline + 1, timeout=20, message="refused descriptors closed")
            self.assertEqual(d.stop(), 0)  # flushes the log
            warnings = re.findall(r"(?m) - WARNING - max_connections \(1\) reached.*$", d.log_text())
            self.assertGreaterEqual(len(warnings), 1)
            self.assertLessEqual(len(warnings), 20, "one WARNING per refusal: a client can flood the log")
            self.assertRegex(warnings[0], r"refusing 127\.0\.0\.1, \d+")


class DescriptorExhaustion(unittest.TestCase):
    # UBSan's vptr check needs a pipe to probe memory and fails without a
    # descriptor; ThreadSanitizer and the plain build run this test.
    @unittest.skipIf(os.environ.get("EPOLLD_SANITIZER") == "address", "UBSan needs descriptors itself")
    def test_backlogged_clients_are_all_served_as_descriptors_free_up(self):
        limit = 40
        clients = 100
        with Daemon({"workers": 2, "max_connections": 100000}, rlimit_nofile=limit) as d:
            socks = []
            self.addCleanup(lambda: [sock.close() for sock in socks])
            for number in range(clients):
                sock = d.connect()
                sock.sendall(b"client %03d\n" % number)
                socks.append(sock)
            d.wait_for_log(r"ERROR - accept4: Too many open files")

            # Paused, not spinning, and the connections it holds are served.
            cpu_before, wall_before = cpu_seconds(d.pid), time.monotonic()
            time.sleep(0.5)  # measuring CPU over a period, not synchronising
            cpu_used = cpu_seconds(d.pid) - cpu_before
            self.assertLess(cpu_used, 0.5 * (time.monotonic() - wall_before), "the acceptor spins at EMFILE")

            # Whoever got their echo leaves; that frees descriptors for the
            # ones waiting in the backlog, until everyone has been served.
            pending = {sock: b"client %03d\n" % number for number, sock in enumerate(socks)}
            received = {sock: b"" for sock in socks}
            deadline = time.monotonic() + 60 * SLOWDOWN
            with selectors.DefaultSelector() as selector:
                for sock in socks:
                    sock.setblocking(False)
                    selector.register(sock, selectors.EVENT_READ)
                while pending and time.monotonic() < deadline:
                    for key, _ in selector.select(0.5):
                        sock = key.fileobj
                        try:
                            chunk = sock.recv(64)
                        except BlockingIOError:
                            continue
                        except ConnectionResetError:
                            chunk = b""
                        if not chunk:
                            self.fail(f"{pending.get(sock)!r} was closed before its echo")
                        received[sock] += chunk
                        if received[sock] == pending[sock]:
                            del pending[sock]
                            selector.unregister(sock)
                            sock.close()
            self.assertEqual(len(pending), 0, f"{len(pending)} of {clients} clients never served")
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
