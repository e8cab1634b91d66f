"""echo against the real binary: byte-exact at any size, half-close, resets,
back-pressure, no descriptor leaks; in both trigger modes and over IPv6."""

import hashlib
import os
import random
import socket
import struct
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import Daemon, echo_round_trip, listener, open_fds, rss_kib, wait_until  # noqa: E402


class EchoBehaviour:
    trigger = "edge"
    address = "127.0.0.1"

    def daemon(self, **config):
        config.setdefault("workers", 2)
        config.setdefault("trigger", self.trigger)
        config.setdefault("listeners", [listener("echo", self.address)])
        return Daemon(config)

    def test_echoes_1_byte_1_mib_and_16_mib_byte_exact(self):
        with self.daemon() as d:
            for size in (1, 1 << 20, 16 << 20):
                payload = os.urandom(size)
                with d.connect(host=self.address) as sock:
                    self.assertEqual(echo_round_trip(sock, payload), payload, f"size {size}")

    def test_200_concurrent_clients_get_their_own_bytes_back(self):
        with self.daemon() as d:
            rng = random.Random(3)
            sizes = [rng.randrange(0, 256 * 1024) for _ in range(200)]
            failures = []

            def client(size):
                try:
                    payload = os.urandom(size)
                    with d.connect(host=self.address) as sock:
                        echoed = echo_round_trip(sock, payload)
                    if hashlib.sha256(echoed).digest() != hashlib.sha256(payload).digest():
                        failures.append(f"{size} bytes: got {len(echoed)}")
                except OSError as e:
                    failures.append(f"{size} bytes: {e}")

            threads = [threading.Thread(target=client, args=(size,)) for size in sizes]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            self.assertEqual(failures, [])

    def test_one_byte_writes_come_back_in_order(self):
        with self.daemon() as d, d.connect(host=self.address) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            payload = bytes(random.Random(5).randrange(256) for _ in range(1000))
            received = bytearray()
            for byte in payload:
                sock.sendall(bytes([byte]))
            while len(received) < len(payload):
                chunk = sock.recv(4096)
                self.assertTrue(chunk, "connection closed early")
                received.extend(chunk)
            self.assertEqual(bytes(received), payload)

    def test_half_close_sends_everything_then_closes(self):
        with self.daemon() as d, d.connect(host=self.address) as sock:
            payload = os.urandom(3 << 20)

            def send_and_shut():
                sock.sendall(payload)
                sock.shutdown(socket.SHUT_WR)

            sender = threading.Thread(target=send_and_shut)
            sender.start()
            received = bytearray()
            while True:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                received.extend(chunk)
            sender.join()
            self.assertEqual(bytes(received), payload)

    def test_client_reset_does_not_disturb_others(self):
        with self.daemon() as d:
            with d.connect(host=self.address) as steady:
                for _ in range(20):
                    rude = d.connect(host=self.address)
                    rude.sendall(b"x" * 100000)
                    rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    rude.close()  # RST
                self.assertEqual(echo_round_trip(steady, b"still here\n"), b"still here\n")

    def test_descriptors_return_to_baseline_after_clients_leave(self):
        with self.daemon() as d:
            baseline = open_fds(d.pid)
            clients = [d.connect(host=self.address) for _ in range(50)]
            for sock in clients:
                self.assertEqual(echo_round_trip(sock, b"ping"), b"ping")
            wait_until(lambda: open_fds(d.pid) >= baseline + 50, message="connections to be adopted")
            for sock in clients:
                sock.close()
            wait_until(lambda: open_fds(d.pid) == baseline, message="descriptors back to baseline")

    def test_client_that_does_not_read_is_not_read_either(self):
        limit = 1 << 20
        with self.daemon(output_buffer_limit=limit, workers=1) as d:
            baseline = rss_kib(d.pid)
            hog = d.connect(host=self.address)
            hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            hog.settimeout(0.2)
            sent = 0
            chunk = b"y" * 65536
            # Keep pushing until the daemon stops reading and the kernel
            # buffers fill; 64 MiB is far beyond what may be held.
            while sent < (64 << 20):
                try:
                    sent += hog.send(chunk)
                except socket.timeout:
                    break
            self.assertLess(sent, 64 << 20, "the daemon kept reading from a client that does not read")
            growth = rss_kib(d.pid) - baseline
            self.assertLess(growth, (limit * 4) // 1024 + 32 * 1024, f"RSS grew by {growth} KiB")
            with d.connect(host=self.address) as other:
                self.assertEqual(echo_round_trip(other, b"served\n"), b"served\n")
            hog.close()


class EdgeTriggered(EchoBehaviour, unittest.TestCase):
    trigger = "edge"


class LevelTriggered(EchoBehaviour, unittest.TestCase):
    trigger = "level"


class OverIpv6(EchoBehaviour, unittest.TestCase):
    address = "::1"


if __name__ == "__main__":
    unittest.main()
