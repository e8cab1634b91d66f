"""Read back-pressure in echo (SPEC: "a client that sends but does not read is
not allowed to grow epolld's memory without bound: epolld stops reading from
it until its pending output drains"), in both trigger modes:

- a client pushing 64 MiB without reading is throttled: it stalls well short
  of 64 MiB, the daemon's own receive queue for it fills (the kernel proves
  epolld stopped reading), RSS stays bounded, the daemon burns no CPU on it,
  and another client on the same worker is served all along;
- once the throttled client reads, reading resumes (the classic lost-edge
  stall), every byte comes back in order, and its half-close ends the stream;
- descriptors return to their baseline afterwards.
"""

import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import SLOWDOWN, Daemon, cpu_seconds, open_fds, rss_kib, wait_until  # noqa: E402
from epolld_probe import PatternStream, Sender, receive_stream, started_baseline, unread_by_daemon  # noqa: E402

STREAM = PatternStream()
KIB = 1024
MIB = 1024 * KIB


def largest_send_buffer():
    """tcp_wmem's maximum: how far the daemon's send buffer can autotune."""
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as wmem:
            return int(wmem.read().split()[2])
    except (OSError, ValueError, IndexError):
        return 4 * MIB


SEND_BUFFER = largest_send_buffer()


def small_round_trip(sock, message):
    """A message far below every buffer size: no reader thread needed."""
    sock.sendall(message)
    received = b""
    while len(received) < len(message):
        chunk = sock.recv(len(message) - len(received))
        if not chunk:
            raise ConnectionError(f"closed after {received!r}")
        received += chunk
    return received


def connect_with_small_receive_buffer(daemon, size=16 * KIB):
    """A client whose own receive buffer is small (set before connect, so no
    autotuning): little of the echo can hide in the kernel."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    sock.settimeout(10 * SLOWDOWN)
    sock.connect(("127.0.0.1", daemon.port))
    return sock


class BackPressure:
    trigger = "edge"
    limit_text = None  # the default, 1MiB
    limit = 1 * MIB

    def daemon(self, **config):
        config.setdefault("workers", 1)  # the hog and the others share a worker
        config.setdefault("trigger", self.trigger)
        if self.limit_text:
            config.setdefault("output_buffer_limit", self.limit_text)
        return Daemon(config)

    def test_sender_that_never_reads_is_throttled_while_another_client_is_served(self):
        with self.daemon() as d:
            baseline_fds = started_baseline(d)
            baseline_rss = rss_kib(d.pid)
            other = d.connect()
            hog = d.connect()
            self.addCleanup(other.close)
            self.addCleanup(hog.close)
            total = 64 * MIB
            peak_rss = baseline_rss
            rounds = 0
            sent = 0
            # Push until the hog stalls for half a second, then make sure it
            # is throttled and not just waiting for a slow daemon: the worker
            # serves `other` several times over (it is turning) while the
            # hog's bytes stay unread in the kernel. A slow daemon reads them
            # meanwhile, and the push goes on.
            for _ in range(50):
                sender = Sender(hog, STREAM, total, stall=0.5, offset=sent)
                sender.start()
                while sender.is_alive():
                    peak_rss = max(peak_rss, rss_kib(d.pid))
                    message = b"ping %d\n" % rounds
                    self.assertEqual(small_round_trip(other, message), message)
                    rounds += 1
                sender.join()
                sent = sender.sent
                self.assertIsNone(sender.error)
                if not sender.stalled:
                    break
                unread = unread_by_daemon(d.port, hog)
                self.assertIsNotNone(unread, "the daemon's side of the connection is gone")
                for check in range(5):
                    message = b"check %d\n" % check
                    self.assertEqual(small_round_trip(other, message), message)
                if unread > 0 and unread_by_daemon(d.port, hog) >= unread:
                    break
            peak_rss = max(peak_rss, rss_kib(d.pid))
            self.assertTrue(sender.stalled, f"epolld took all {sent} bytes from a client that reads nothing")
            self.assertLess(sent, total)
            self.assertGreaterEqual(sent, self.limit, "epolld should read at least up to its limit")
            self.assertGreater(unread, 0, "the daemon's receive queue is empty: it is still reading")
            self.assertGreaterEqual(unread_by_daemon(d.port, hog), unread, "the hog was read while it did not read")
            growth = peak_rss - baseline_rss
            self.assertLess(growth, (self.limit * 4 + 32 * MIB) // KIB,
                            f"RSS grew by {growth} KiB after taking {sent} bytes")
            self.assertGreater(rounds, 0)

            # Throttled is not busy: nothing to do until the hog reads.
            cpu_before, wall_before = cpu_seconds(d.pid), time.monotonic()
            time.sleep(0.5)  # measuring CPU over a period, not synchronising
            cpu_used = cpu_seconds(d.pid) - cpu_before
            wall = time.monotonic() - wall_before
            self.assertLess(cpu_used, 0.25 * wall, f"{cpu_used:.2f}s CPU in {wall:.2f}s with a throttled client")

            # Still served while the hog stays throttled: the old client and a new one.
            self.assertEqual(small_round_trip(other, b"after\n"), b"after\n")
            with d.connect() as newcomer:
                self.assertEqual(small_round_trip(newcomer, b"new\n"), b"new\n")
            self.assertGreaterEqual(unread_by_daemon(d.port, hog), unread, "the hog was read while it did not read")

            hog.close()  # unread data: the kernel sends RST
            other.close()
            wait_until(lambda: open_fds(d.pid) == baseline_fds, timeout=20,
                       message=f"descriptors back to {baseline_fds}")
            self.assertEqual(d.stop(), 0)

    def test_throttled_client_gets_every_byte_and_the_end_once_it_reads(self):
        total = max(16 * MIB, 2 * self.limit + 2 * SEND_BUFFER + 4 * MIB)
        with self.daemon() as d, d.connect() as sock:
            sender = Sender(sock, STREAM, total, stall=120 * SLOWDOWN, deadline=120 * SLOWDOWN,
                            shut_when_done=True)
            sender.start()
            # Read nothing until epolld has visibly stopped reading: bytes pile
            # up unread in its receive queue.
            wait_until(lambda: (unread_by_daemon(d.port, sock) or 0) >= 16 * KIB, timeout=30,
                       message="epolld to stop reading from a client that does not read")
            received, end = receive_stream(sock, STREAM, timeout=60 * SLOWDOWN)
            sender.join(30 * SLOWDOWN)
            self.assertIsNone(sender.error)
            self.assertEqual(sender.sent, total)
            self.assertEqual((received, end), (total, "eof"))

    def test_many_throttled_clients_resume_independently(self):
        # More than the daemon's send buffer and its output limit can hold,
        # so that every one of them is throttled.
        total = 2 * self.limit + SEND_BUFFER + 2 * MIB
        with self.daemon(workers=2) as d:
            socks = [connect_with_small_receive_buffer(d) for _ in range(4)]
            for sock in socks:
                self.addCleanup(sock.close)
            senders = [Sender(sock, STREAM, total, stall=120 * SLOWDOWN, deadline=120 * SLOWDOWN,
                              shut_when_done=True) for sock in socks]
            for sender in senders:
                sender.start()
            for sock in socks:
                wait_until(lambda: (unread_by_daemon(d.port, sock) or 0) > 0, timeout=30,
                           message="every client to be throttled")
            # Drain them one at a time: each one's resumption must not wait
            # for the others to read.
            for sock, sender in zip(socks, senders):
                received, end = receive_stream(sock, STREAM, timeout=60 * SLOWDOWN)
                sender.join(30 * SLOWDOWN)
                self.assertIsNone(sender.error)
                self.assertEqual((received, end), (total, "eof"))
                sock.close()


class EdgeTriggered(BackPressure, unittest.TestCase):
    trigger = "edge"


class LevelTriggered(BackPressure, unittest.TestCase):
    trigger = "level"


class SmallLimitEdge(BackPressure, unittest.TestCase):
    trigger = "edge"
    limit_text = "64KiB"
    limit = 64 * KIB


class SmallLimitLevel(BackPressure, unittest.TestCase):
    trigger = "level"
    limit_text = "64KiB"
    limit = 64 * KIB


if __name__ == "__main__":
    unittest.main()
