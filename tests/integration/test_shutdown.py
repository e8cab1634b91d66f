"""SIGTERM and SIGINT: stop accepting, let output drain within shutdown_timeout, exit 0."""

import os
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import SLOWDOWN, Daemon, connection_refused, echo_round_trip, wait_until  # noqa: E402


class Shutdown(unittest.TestCase):
    def test_sigterm_with_idle_connections_exits_0_promptly(self):
        with Daemon({"workers": 2}) as d:
            clients = [d.connect() for _ in range(10)]
            for sock in clients:
                self.assertEqual(echo_round_trip(sock, b"x"), b"x")
            started = time.monotonic()
            self.assertEqual(d.stop(signal.SIGTERM), 0)
            self.assertLess(time.monotonic() - started, 5 * SLOWDOWN)
            for sock in clients:
                self.assertEqual(sock.recv(10), b"", "idle connections are closed")
                sock.close()
            self.assertIn("shutdown complete", d.log_text())

    def test_sigint_exits_0(self):
        with Daemon() as d:
            self.assertEqual(d.stop(signal.SIGINT), 0)

    def test_pending_output_is_bounded_by_shutdown_timeout(self):
        with Daemon({"workers": 1, "shutdown_timeout": "500ms"}) as d:
            hog = d.connect()
            hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            hog.settimeout(0.2)
            try:
                while True:
                    hog.send(b"z" * 65536)  # never read: output stays pending
            except socket.timeout:
                pass
            started = time.monotonic()
            self.assertEqual(d.stop(signal.SIGTERM), 0)
            self.assertLess(time.monotonic() - started, 0.5 + 3 * SLOWDOWN)
            hog.close()

    def test_listener_refuses_after_sigterm(self):
        for acceptors in (1, 3):
            with self.subTest(acceptors=acceptors), \
                    Daemon({"shutdown_timeout": "10s", "acceptors": acceptors}) as d:
                port = d.port
                busy = d.connect()
                busy.sendall(b"keep")  # a connection with a reply it has not read
                d.send_signal(signal.SIGTERM)
                d.wait_for_log("received SIGTERM")
                wait_until(lambda: connection_refused(port), message="the listener to close in every acceptor")
                busy.close()
                self.assertEqual(d.stop(), 0)

    def test_every_thread_is_joined(self):
        for acceptors in (1, 3):
            with self.subTest(acceptors=acceptors), Daemon({"workers": 3, "acceptors": acceptors}) as d:
                self.assertEqual(d.stop(), 0)
                self.assertNotIn("terminate called", d.stderr_text())


if __name__ == "__main__":
    unittest.main()
