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
from epolld_harness import Daemon, echo_round_trip, listener, open_sockets, read_until_closed, wait_until  # noqa: E402


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
            received = read_until_closed(sock)
            sender.join()
            self.assertEqual(received, payload)

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
            baseline = open_sockets(d.pid)
            clients = [d.connect(host=self.address) for _ in range(50)]
            for sock in clients:
                self.assertEqual(echo_round_trip(sock, b"ping"), b"ping")
            self.assertEqual(open_sockets(d.pid), baseline + 50)
            for sock in clients:
                sock.close()
            wait_until(lambda: open_sockets(d.pid) == baseline, message="sockets back to baseline")


class EdgeTriggered(EchoBehaviour, unittest.TestCase):
    trigger = "edge"


class LevelTriggered(EchoBehaviour, unittest.TestCase):
    trigger = "level"


class OverIpv6(EchoBehaviour, unittest.TestCase):
    address = "::1"


if __name__ == "__main__":
    unittest.main()
