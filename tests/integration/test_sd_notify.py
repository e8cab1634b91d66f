"""systemd on the host, without systemd: the sd_notify datagrams on a test
NOTIFY_SOCKET (path and abstract), the watchdog and a stalled worker, and
socket activation through systemd-socket-activate."""

import array
import os
import signal
import socket
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import (SLOWDOWN, Daemon, SocketActivated, connect_when_listening, echo_round_trip,  # noqa: E402
                             free_port, listener, wait_until)


class NotifySocket:
    """A datagram socket standing in for systemd's notify socket."""

    def __init__(self, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f"epolld-test-{uuid.uuid4().hex}"
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            self.dir = tempfile.mkdtemp(prefix="epolld-notify-")
            self.address = os.path.join(self.dir, "notify")
            self.sock.bind(self.address)
        self.messages = []

    def receive(self, timeout):
        """One datagram; descriptors sent with it (FDSTORE) are closed."""
        self.sock.settimeout(timeout * SLOWDOWN)
        fds = array.array("i")
        data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(16 * fds.itemsize))
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
        for fd in fds:
            os.close(fd)
        message = data.decode()
        self.messages.append(message)
        return message

    def wait_for(self, prefix, timeout=10):
        deadline = time.monotonic() + timeout * SLOWDOWN
        while time.monotonic() < deadline:
            message = self.receive(max(deadline - time.monotonic(), 0.01))
            if message.startswith(prefix):
                return message
        raise AssertionError(f"no {prefix!r} in {self.messages}")

    def close(self):
        self.sock.close()


class Notify(unittest.TestCase):
    def check_lifecycle(self, abstract):
        notify = NotifySocket(abstract)
        self.addCleanup(notify.close)
        with Daemon(env={"NOTIFY_SOCKET": notify.address}) as d:
            ready = notify.wait_for("READY=1")
            self.assertRegex(ready, r"STATUS=1 listeners, 0 connections, \d+ requests/s")
            self.assertTrue(any(m.startswith("FDSTORE=1\nFDNAME=listen-127.0.0.1-") for m in notify.messages),
                            "the listener is offered to the fd store")
            d.send_signal(signal.SIGHUP)
            notify.wait_for("RELOADING=1")
            notify.wait_for("READY=1")
            notify.wait_for("STATUS=", timeout=10)  # the periodic summary
            d.send_signal(signal.SIGTERM)
            self.assertEqual(notify.wait_for("STOPPING=1"), "STOPPING=1\nSTATUS=shutting down")
            self.assertEqual(d.stop(), 0)

    def test_lifecycle_on_a_path_socket(self):
        self.check_lifecycle(abstract=False)

    def test_lifecycle_on_an_abstract_socket(self):
        self.check_lifecycle(abstract=True)


class Watchdog(unittest.TestCase):
    def test_pings_while_workers_turn_and_stop_when_one_stalls(self):
        notify = NotifySocket()
        self.addCleanup(notify.close)
        env = {"NOTIFY_SOCKET": notify.address, "WATCHDOG_USEC": "400000", "EPOLLD_TEST_HOOKS": "1"}
        with Daemon({"workers": 2}, env=env) as d:
            notify.wait_for("READY=1")
            for _ in range(3):
                notify.wait_for("WATCHDOG=1", timeout=2)
            d.send_signal(signal.SIGUSR2)  # worker 0 stops turning for good
            d.wait_for_log("CRITICAL - worker 0's loop has stopped turning")
            # Listen for a fixed window, several ping periods long; STATUS
            # lines may come meanwhile, so the window, not silence, ends it.
            pings_after = 0
            window_end = time.monotonic() + 1.5 * SLOWDOWN
            while (left := window_end - time.monotonic()) > 0:
                try:
                    if notify.receive(left / SLOWDOWN) == "WATCHDOG=1":
                        pings_after += 1
                except socket.timeout:
                    break
            self.assertLessEqual(pings_after, 1, "pings went on with a stalled worker")
            self.assertEqual(d.stop(signal.SIGKILL), -signal.SIGKILL)


class SocketActivation(unittest.TestCase):
    def test_passed_socket_is_used_and_a_stray_one_is_closed(self):
        port, stray = free_port(), free_port()
        # systemd-socket-activate binds both and execs epolld at the first connection.
        with SocketActivated({"workers": 1, "listeners": [listener("echo", port=port)]}, [port, stray]) as activated:
            with connect_when_listening(port, activated.process) as sock:
                self.assertEqual(echo_round_trip(sock, b"activated"), b"activated")
            wait_until(lambda: "no listener is configured for" in activated.log_text(),
                       message="the stray socket's line")
            text = activated.log_text()
            self.assertIn("systemd passed 2 listening sockets", text)
            self.assertIn(f"socket on 127.0.0.1:{stray} that no listener is configured for; closing it", text)
            self.assertNotIn("bind", text)
            # systemd-socket-activate exec'd epolld: its copy was the only one.
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", stray), timeout=2).close()
            self.assertEqual(activated.stop(), 0)


if __name__ == "__main__":
    unittest.main()
