"""SIGTERM lets pending echo output drain before closing (SPEC: "let open
requests finish within shutdown_timeout, then close everything and exit 0"),
and stays clean when it lands in the middle of busy transfers or on many
idle connections.
"""

import os
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import SLOWDOWN, Daemon, echo_round_trip, thread_count, wait_until  # noqa: E402
from epolld_probe import (PatternStream, Sender, receive_stream, started_baseline, unacked_by_daemon,  # noqa: E402
                          unread_by_daemon)

MIB = 1024 * 1024
STREAM = PatternStream(seed=11)


class Drain(unittest.TestCase):
    def test_echo_pending_at_sigterm_is_delivered_then_the_connection_ends_cleanly(self):
        # More output than the kernel's buffers hold (tcp_wmem tops out at a
        # few MiB), so most of it waits in epolld's own buffer at SIGTERM.
        payload = os.urandom(12 * MIB)
        config = {"workers": 1, "output_buffer_limit": "16MiB", "shutdown_timeout": "30s"}
        with Daemon(config) as d:
            sock = socket.socket()
            self.addCleanup(sock.close)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)  # a slow reader's window
            sock.settimeout(30 * SLOWDOWN)
            sock.connect(("127.0.0.1", d.port))
            sender = threading.Thread(target=sock.sendall, args=(payload,))
            sender.start()
            sender.join(60 * SLOWDOWN)
            self.assertFalse(sender.is_alive(), "epolld did not take 12 MiB below its 16 MiB output limit")
            # Everything sent has been read by epolld: nothing unacknowledged
            # on our side, nothing unread on its side.
            wait_until(lambda: unacked_by_daemon(sock) == 0 and unread_by_daemon(d.port, sock) == 0,
                       timeout=30, message="epolld to read all the input")
            d.send_signal(signal.SIGTERM)
            d.wait_for_log(r"received SIGTERM")
            received = bytearray()
            while True:
                chunk = sock.recv(1 << 20)  # ConnectionResetError here fails the test
                if not chunk:
                    break
                received.extend(chunk)
            self.assertEqual(len(received), len(payload), "pending output was dropped at SIGTERM")
            self.assertTrue(bytes(received) == payload, "the echo differs from what was sent")
            self.assertEqual(d.stop(timeout=30), 0)

    def test_half_closed_client_gets_its_echo_and_the_end_after_sigterm(self):
        payload = os.urandom(6 * MIB)
        with Daemon({"workers": 1, "output_buffer_limit": "8MiB", "shutdown_timeout": "30s"}) as d:
            sock = socket.socket()
            self.addCleanup(sock.close)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
            sock.settimeout(30 * SLOWDOWN)
            sock.connect(("127.0.0.1", d.port))
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            wait_until(lambda: unacked_by_daemon(sock) == 0 and unread_by_daemon(d.port, sock) == 0,
                       timeout=30, message="epolld to read all the input")
            d.send_signal(signal.SIGTERM)
            d.wait_for_log(r"received SIGTERM")
            received = bytearray()
            while True:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                received.extend(chunk)
            self.assertEqual(len(received), len(payload), "pending output was dropped at SIGTERM")
            self.assertTrue(bytes(received) == payload, "the echo differs from what was sent")
            self.assertEqual(d.stop(timeout=30), 0)


class BusyShutdown(unittest.TestCase):
    def test_sigterm_in_the_middle_of_busy_transfers_exits_0_within_the_timeout(self):
        clients = 8
        with Daemon({"workers": 2, "shutdown_timeout": "1s"}) as d:
            socks = [d.connect() for _ in range(clients)]
            for sock in socks:
                self.addCleanup(sock.close)
            senders = [Sender(sock, STREAM, 1 << 40, stall=60 * SLOWDOWN, deadline=120 * SLOWDOWN)
                       for sock in socks]
            results = [None] * clients

            def read(index):
                results[index] = receive_stream(socks[index], STREAM, timeout=60 * SLOWDOWN)

            readers = [threading.Thread(target=read, args=(i,), daemon=True) for i in range(clients)]
            for thread in senders + readers:
                thread.start()
            wait_until(lambda: all(sender.sent >= 512 * 1024 for sender in senders), timeout=30,
                       message="every client to be streaming")
            started = time.monotonic()
            self.assertEqual(d.stop(signal.SIGTERM, timeout=30), 0)
            self.assertLess(time.monotonic() - started, 1 + 5 * SLOWDOWN)
            for thread in readers:
                thread.join(30 * SLOWDOWN)
                self.assertFalse(thread.is_alive(), "a client never saw the end of its connection")
            for sender in senders:
                sender.stop.set()
                sender.join(30 * SLOWDOWN)
            for index, (received, end) in enumerate(results):
                # What arrived is an exact prefix of what was sent; then EOF or RST.
                self.assertIn(end, ("eof", "reset"), f"client {index}: {end} after {received} bytes")
                self.assertGreater(received, 0)
                self.assertLessEqual(received, senders[index].sent)
            self.assertNotIn("ERROR", d.log_text())

    def test_sigterm_with_hundreds_of_idle_connections_exits_0_promptly(self):
        with Daemon({"workers": 2}) as d:
            started_baseline(d)  # every thread is running once a connection is served
            threads = thread_count(d.pid)
            socks = []
            self.addCleanup(lambda: [sock.close() for sock in socks])
            for _ in range(300):
                socks.append(d.connect())
            self.assertEqual(echo_round_trip(socks[-1], b"last"), b"last")
            self.assertEqual(thread_count(d.pid), threads, "a thread per connection?")
            started = time.monotonic()
            self.assertEqual(d.stop(signal.SIGTERM), 0)
            self.assertLess(time.monotonic() - started, 5 * SLOWDOWN)
            for sock in socks:
                try:
                    self.assertEqual(sock.recv(1), b"")
                except ConnectionResetError:
                    pass


if __name__ == "__main__":
    unittest.main()
