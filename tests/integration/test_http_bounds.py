"""HTTP limits that hold whatever the other settings are (SPEC.md: a client
cannot make epolld hold more than about output_buffer_limit of pending output
per connection), and input a session held back that must not be forgotten:

- pipelined requests behind a static file are all answered, with or without
  the client's half-close after them;
- clients that pipeline many requests for a large body and never read do
  not grow the daemon, and get every response once they read;
- a client that connects and stays silent meets header_timeout, not
  idle_timeout;
- a request head larger than output_buffer_limit, arriving in pieces, is
  answered (431 over max_header_bytes, 200 within it), not dropped;
- a request rejected at its head while its body is still arriving gets its
  400, not a reset that destroys it; nor is a large response to
  `Connection: close` destroyed by a request the client pipelined meanwhile.
"""

import os
import select
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import SLOWDOWN, Daemon, listener, open_fds, read_until_closed, rss_kib, wait_until  # noqa: E402
from epolld_probe import tcp_queues, unread_by_daemon  # noqa: E402
from test_http import closed, read_response  # noqa: E402

KIB = 1024
MIB = 1024 * KIB


def read_responses(sock, count):
    """`count` responses read off `sock`: [(status, body)], and what follows."""
    responses, leftover = [], b""
    for _ in range(count):
        status, _, body, leftover = read_response(sock, leftover)
        responses.append((status, body))
    return responses, leftover


class PipelinedFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.TemporaryDirectory(prefix="epolld-www-")
        cls.files = {"a.txt": b"alpha\n", "b.bin": os.urandom(200 * KIB)}
        for name, content in cls.files.items():
            with open(os.path.join(cls.root.name, name), "wb") as out:
                out.write(content)
        cls.daemon = Daemon({"workers": 1, "idle_timeout": "60s",
                             "listeners": [listener("http", root=cls.root.name)]}).start()

    @classmethod
    def tearDownClass(cls):
        assert cls.daemon.stop() == 0
        cls.daemon.__exit__(None, None, None)
        cls.root.cleanup()

    def test_two_pipelined_file_requests_in_one_write_get_two_responses(self):
        with self.daemon.connect() as sock:
            sock.settimeout(5 * SLOWDOWN)  # far below idle_timeout: a stall fails here
            sock.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n" * 2)
            responses, _ = read_responses(sock, 2)
            self.assertEqual(responses, [(200, self.files["a.txt"])] * 2)

    def test_pipelined_requests_then_half_close_are_all_answered_then_closed(self):
        paths = ["/a.txt", "/b.bin", "/a.txt", "/b.bin"]
        with self.daemon.connect() as sock:
            sock.settimeout(10 * SLOWDOWN)
            sock.sendall(b"".join(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % p.encode() for p in paths))
            sock.shutdown(socket.SHUT_WR)
            responses, leftover = read_responses(sock, len(paths))
            self.assertEqual(responses, [(200, self.files[p[1:]]) for p in paths])
            self.assertEqual(leftover, b"")
            self.assertTrue(closed(sock))


class LargeBodyPipelined(unittest.TestCase):
    BODY = b"b" * (100 * KIB)
    REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"

    def test_clients_that_pipeline_and_never_read_do_not_grow_the_daemon(self):
        # 32 KiB of requests each is ~1200 responses, 120 MB per client were
        # they all produced at once.
        count = (32 * KIB) // len(self.REQUEST)
        config = {"workers": 1, "output_buffer_limit": "1MiB",
                  "listeners": [listener("http", body=self.BODY.decode())]}
        with Daemon(config) as d:
            baseline_rss = rss_kib(d.pid)
            clients = []
            for _ in range(3):
                sock = d.connect()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * KIB)
                self.addCleanup(sock.close)
                sock.sendall(self.REQUEST * count)
                clients.append(sock)
            # Responses are on their way to each client: whatever a read
            # produces before its first send has been produced.
            for sock in clients:
                wait_until(lambda: (tcp_queues(d.port, sock.getsockname()[1]) or (0, 0))[0] > 0, timeout=30,
                           message="responses queued to every client")
            grown_mib = (rss_kib(d.pid) - baseline_rss) / KIB
            # Per client: the output limit, one response and the input held
            # back; far below the 360 MB the requests ask for.
            self.assertLess(grown_mib, 48, "daemon RSS grew by %.0f MiB" % grown_mib)
            # And reading resumes the stream: every response arrives, whole.
            sock = clients[0]
            sock.settimeout(30 * SLOWDOWN)
            responses, _ = read_responses(sock, count)
            self.assertEqual(len(responses), count)
            self.assertTrue(all(r == (200, self.BODY) for r in responses))


class SilentClient(unittest.TestCase):
    def test_a_silent_client_meets_header_timeout_not_idle_timeout(self):
        config = {"workers": 1, "idle_timeout": "60s",
                  "listeners": [listener("http", header_timeout="1s")]}
        with Daemon(config) as d, d.connect() as silent:
            started = time.monotonic()
            silent.settimeout(30 * SLOWDOWN)
            self.assertTrue(closed(silent))
            # The kernel holds it about a second (deferred accept), then 1 s.
            self.assertLess(time.monotonic() - started, 3 + 2 * SLOWDOWN)


class HeadOverOutputLimit(unittest.TestCase):
    """output_buffer_limit at its minimum, 4 KiB; max_header_bytes 16 KiB."""

    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon({"workers": 1, "output_buffer_limit": "4KiB",
                             "listeners": [listener("http", max_header_bytes="16KiB")]}).start()

    @classmethod
    def tearDownClass(cls):
        assert cls.daemon.stop() == 0
        cls.daemon.__exit__(None, None, None)

    def send_in_pieces(self, sock, data, piece=KIB):
        """Sends `data` a piece at a time, each once the daemon has read the
        last, so that it arrives in many reads."""
        for start in range(0, len(data), piece):
            try:
                sock.sendall(data[start:start + piece])
            except OSError:  # answered and closed before the last piece
                return
            wait_until(lambda: unread_by_daemon(self.daemon.port, sock) in (0, None),
                       message="epolld to read the piece")

    def head(self, field_bytes):
        fields = b"".join(b"X-Filler-%04d: %s\r\n" % (i, b"v" * 1000) for i in range(field_bytes // 1017))
        return b"GET / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n"

    def test_a_head_over_max_header_bytes_gets_431(self):
        baseline = open_fds(self.daemon.pid)
        with self.daemon.connect() as sock:
            sock.settimeout(10 * SLOWDOWN)
            sender = threading.Thread(target=self.send_in_pieces, args=(sock, self.head(20 * KIB)), daemon=True)
            sender.start()
            self.assertEqual(read_response(sock)[0], 431)
            sender.join(10 * SLOWDOWN)
        wait_until(lambda: open_fds(self.daemon.pid) == baseline, message="the connection to be closed")

    def test_a_head_over_the_output_limit_but_within_max_header_bytes_is_answered(self):
        with self.daemon.connect() as sock:
            sock.settimeout(10 * SLOWDOWN)
            self.send_in_pieces(sock, self.head(12 * KIB))
            self.assertEqual(read_response(sock)[0], 200)


class RejectedWhileSending(unittest.TestCase):
    # An invalid field name: rejected at the head, with 1 MiB of body behind it.
    HEAD = b"POST / HTTP/1.1\r\nHost: a\r\nX\x16y: v\r\nContent-Length: 1048576\r\n\r\n"
    BODY = b"x" * (1 << 20)

    def test_the_400_reaches_a_client_that_sends_its_body_after_the_answer(self):
        # The worst case, made certain: the body comes only once the 400 is
        # on its way, to a socket the daemon found empty when it answered.
        with Daemon({"workers": 1, "listeners": [listener("http")]}) as d:
            outcomes = []
            for _ in range(5):
                with d.connect() as sock:
                    try:
                        sock.sendall(self.HEAD)
                        select.select([sock], [], [], 10 * SLOWDOWN)
                        sock.sendall(self.BODY)
                        sock.shutdown(socket.SHUT_WR)
                        outcomes.append(read_until_closed(sock).split(b"\r\n", 1)[0])
                    except OSError as e:  # ECONNRESET, EPIPE, ENOTCONN: the reply was destroyed
                        outcomes.append(repr(e).encode())
            self.assertEqual(set(outcomes), {b"HTTP/1.1 400 Bad Request"})

class CloseAfterSlowResponse(unittest.TestCase):
    def test_a_request_sent_while_a_closing_response_drains_does_not_reset_it(self):
        # Larger than any socket send buffer: the daemon itself still holds
        # part of the response when the next request arrives, and has to
        # look again before it closes (closing on unread input is a reset).
        with tempfile.TemporaryDirectory(prefix="epolld-www-") as root:
            content = os.urandom(16 * MIB)
            with open(os.path.join(root, "big.bin"), "wb") as out:
                out.write(content)
            with Daemon({"workers": 1, "listeners": [listener("http", root=root)]}) as d:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                self.addCleanup(sock.close)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.settimeout(10 * SLOWDOWN)
                sock.connect(("127.0.0.1", d.port))
                sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                wait_until(lambda: (tcp_queues(d.port, sock.getsockname()[1]) or (0, 0))[0] > 0,
                           message="the response to wait for the client's window")
                sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                head, _, received = read_until_closed(sock).partition(b"\r\n\r\n")
                self.assertTrue(head.startswith(b"HTTP/1.1 200 OK\r\n"), head)
                self.assertIn(b"\r\nConnection: close", head)
                self.assertTrue(received == content, "the whole file, byte-exact, then the end")

if __name__ == "__main__":
    unittest.main()
