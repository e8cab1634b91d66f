"""Idle timeout, max_connections and running out of descriptors (EMFILE)."""

import errno
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import SLOWDOWN, Daemon, cpu_seconds, echo_round_trip, wait_until  # noqa: E402


def closed_by_peer(sock):
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


class IdleTimeout(unittest.TestCase):
    def test_silent_client_is_closed_while_an_active_one_stays(self):
        with Daemon({"idle_timeout": "300ms", "workers": 1}) as d:
            silent = d.connect()
            active = d.connect()
            started = time.monotonic()
            self.assertEqual(echo_round_trip(silent, b"once"), b"once")
            # The active client keeps talking past the timeout.
            while time.monotonic() - started < 0.8:
                self.assertEqual(echo_round_trip(active, b"tick"), b"tick")
            self.assertTrue(closed_by_peer(silent))
            self.assertEqual(echo_round_trip(active, b"still"), b"still")
            d.wait_for_log(r"\d+ timed out, closing")


class MaxConnections(unittest.TestCase):
    def test_extra_connection_is_refused_and_the_daemon_stays_responsive(self):
        with Daemon({"max_connections": 3, "workers": 2}) as d:
            admitted = [d.connect() for _ in range(3)]
            for sock in admitted:
                self.assertEqual(echo_round_trip(sock, b"in"), b"in")
            extra = d.connect()
            self.assertTrue(closed_by_peer(extra))
            d.wait_for_log(r"WARNING - max_connections \(3\) reached")
            for sock in admitted:
                self.assertEqual(echo_round_trip(sock, b"ok"), b"ok")
            admitted.pop().close()
            self.addCleanup(lambda: [sock.close() for sock in admitted + [extra]])

            def admitted_again():
                sock = d.connect()
                try:
                    return echo_round_trip(sock, b"again") == b"again"
                except OSError:
                    return False
                finally:
                    sock.close()

            wait_until(admitted_again, message="a slot to free up")


# UBSan's vptr check opens a pipe to probe memory; with no descriptor left
# it reports every object as invalid. The plain build runs these tests.
@unittest.skipIf(os.environ.get("EPOLLD_SANITIZER"), "sanitizer runtimes need descriptors themselves")
class DescriptorExhaustion(unittest.TestCase):
    def test_emfile_pauses_accepting_without_spinning_and_recovers(self):
        self.check_emfile_pause(acceptors=1, rlimit_nofile=32)

    def test_emfile_pauses_every_acceptor_without_spinning_and_they_recover(self):
        # Each acceptor thread has its own epoll, eventfd and timerfd: more room.
        self.check_emfile_pause(acceptors=3, rlimit_nofile=40)

    def check_emfile_pause(self, acceptors, rlimit_nofile):
        config = {"workers": 1, "acceptors": acceptors, "max_connections": 100000}
        with Daemon(config, rlimit_nofile=rlimit_nofile) as d:
            clients = []
            # Connect well past the daemon's descriptor limit; the kernel
            # completes the handshakes into the backlog either way.
            for _ in range(rlimit_nofile + 8):
                clients.append(d.connect())
            d.wait_for_log(r"ERROR - accept4: Too many open files")
            cpu_before, wall_before = cpu_seconds(d.pid), time.monotonic()
            time.sleep(0.5)  # measuring CPU over a period, not synchronising
            cpu_used = cpu_seconds(d.pid) - cpu_before
            self.assertLess(cpu_used, 0.5 * (time.monotonic() - wall_before), "the acceptor spins")
            for sock in clients:
                sock.close()
            clients.clear()

            def served():
                try:
                    with d.connect() as sock:
                        return echo_round_trip(sock, b"back") == b"back"
                except OSError as e:
                    if e.errno in (errno.ECONNRESET, errno.EPIPE):
                        return False
                    raise

            wait_until(served, timeout=10, message="accepting to resume")


if __name__ == "__main__":
    unittest.main()
