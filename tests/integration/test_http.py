"""HTTP/1.1 against the real binary with real clients: raw sockets, http.client,
curl, ab; keep-alive, pipelining, bodies, errors, smuggling, slowloris, files."""

import hashlib
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import SLOWDOWN, Daemon, listener, open_fds, read_until_closed, wait_until  # noqa: E402

HELLO = b"Hello, World!"


def read_response(sock, buffered=b"", head_only=False):
    """Reads one response; returns (status, headers dict, body, leftover bytes)."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response head: {data!r}")
        data += chunk
    head, data = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    length = 0 if head_only or status in (100, 304) else int(headers.get("content-length", "0"))
    while len(data) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside a body")
        data += chunk
    return status, headers, data[:length], data[length:]


def closed(sock):
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


class HelloWorld(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon({"workers": 2, "idle_timeout": "2s",
                             "listeners": [listener("http", header_timeout="1s", max_body_bytes=1 << 20)]}).start()
        cls.port = cls.daemon.port

    @classmethod
    def tearDownClass(cls):
        assert cls.daemon.stop() == 0
        cls.daemon.__exit__(None, None, None)

    def raw(self, request):
        sock = self.daemon.connect()
        sock.sendall(request)
        return sock

    def test_raw_get_has_every_required_field(self):
        with self.raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
            status, headers, body, _ = read_response(sock)
        self.assertEqual(status, 200)
        self.assertEqual(body, HELLO)
        self.assertEqual(headers["content-length"], "13")
        self.assertEqual(headers["content-type"], "text/plain")
        self.assertEqual(headers["server"], "epolld")
        self.assertRegex(headers["date"], r"^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$")

    def test_http_client_keeps_one_connection_for_1000_requests(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10 * SLOWDOWN)
        for i in range(1000):
            conn.request("GET", f"/{i}")
            response = conn.getresponse()
            self.assertEqual((response.status, response.read()), (200, HELLO))
        conn.close()

    def test_curl_get_and_head(self):
        url = f"http://127.0.0.1:{self.port}/any/path?q=1"
        body = subprocess.run(["curl", "-sS", "--fail", url], capture_output=True, timeout=30)
        self.assertEqual(body.stdout, HELLO, body.stderr)
        head = subprocess.run(["curl", "-sS", "-I", url], capture_output=True, text=True, timeout=30)
        self.assertIn("HTTP/1.1 200 OK", head.stdout)
        self.assertIn("Content-Length: 13", head.stdout)

    def test_ab_keepalive_10000_requests_without_failures(self):
        result = subprocess.run(["ab", "-q", "-k", "-n", "10000", "-c", "50", f"http://127.0.0.1:{self.port}/"],
                                capture_output=True, text=True, timeout=120 * SLOWDOWN)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"Complete requests:\s+10000")
        self.assertRegex(result.stdout, r"Failed requests:\s+0\n")
        self.assertRegex(result.stdout, r"Non-2xx responses:\s+0|^(?!.*Non-2xx)", "no errors")

    def test_100_pipelined_requests_are_answered_in_order(self):
        # GET and HEAD alternate: the order shows in which responses have bodies.
        methods = ["GET" if i % 3 else "HEAD" for i in range(100)]
        request = b"".join(f"{m} /{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for i, m in enumerate(methods))
        with self.raw(request) as sock:
            leftover = b""
            for method in methods:
                status, headers, body, leftover = read_response(sock, leftover, head_only=method == "HEAD")
                self.assertEqual(status, 200)
                self.assertEqual(body, b"" if method == "HEAD" else HELLO)
                self.assertEqual(headers["content-length"], "13")
            self.assertEqual(leftover, b"")

    def test_bodies_by_length_and_chunked_are_read_before_the_next_request(self):
        request = (b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world"
                   b"PUT /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n"
                   b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n")
        with self.raw(request) as sock:
            leftover = b""
            for _ in range(3):
                status, _, body, leftover = read_response(sock, leftover)
                self.assertEqual((status, body), (200, HELLO))

    def test_expect_100_continue_is_answered_before_the_body(self):
        with self.raw(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n") as sock:
            status, _, _, leftover = read_response(sock)
            self.assertEqual(status, 100)
            sock.sendall(b"body")
            status, _, body, _ = read_response(sock, leftover)
            self.assertEqual((status, body), (200, HELLO))

    def test_http10_closes_unless_keep_alive(self):
        with self.raw(b"GET / HTTP/1.0\r\n\r\n") as sock:
            status, headers, _, _ = read_response(sock)
            self.assertEqual((status, headers.get("connection")), (200, "close"))
            self.assertTrue(closed(sock))
        with self.raw(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") as sock:
            status, headers, _, _ = read_response(sock)
            self.assertEqual(headers.get("connection"), "keep-alive")
            sock.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            self.assertEqual(read_response(sock)[0], 200)
        # Whatever the status: a 1.0 client not told otherwise would close.
        with self.raw(b"BREW / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") as sock:
            status, headers, _, _ = read_response(sock)
            self.assertEqual((status, headers.get("connection")), (501, "keep-alive"))
            sock.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            self.assertEqual(read_response(sock)[0], 200)

    def test_connection_close_is_honoured(self):
        with self.raw(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") as sock:
            status, headers, _, _ = read_response(sock)
            self.assertEqual((status, headers.get("connection")), (200, "close"))
            self.assertTrue(closed(sock))

    def test_errors_get_their_status_and_close(self):
        cases = {
            b"GET / HTTP/1.1\r\n\r\n": 400,  # no Host
            b"GET / HTTP/1.1\nHost: x\n\n": 400,  # bare LF
            b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n": 400,  # obs-fold
            b"GET / HTTP/1.1\r\nHost : x\r\n\r\n": 400,  # space before colon
            b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n": 414,
            b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 200 + b"\r\n": 431,
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n": 413,
            b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n": 501,
            b"GET / HTTP/2.0\r\nHost: x\r\n\r\n": 505,
            b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n": 501,
        }
        for request, expected in cases.items():
            with self.subTest(request=request[:40]), self.raw(request) as sock:
                status, headers, body, _ = read_response(sock)
                self.assertEqual(status, expected)
                if expected != 501:
                    self.assertEqual(headers.get("connection"), "close")
                    self.assertTrue(closed(sock))

    def test_smuggling_attempts_are_rejected(self):
        attempts = [
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 5\r\n\r\nabcde",
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        ]
        for request in attempts:
            with self.subTest(request=request[:50]), self.raw(request + b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
                status, _, _, leftover = read_response(sock)
                self.assertEqual(status, 400)
                self.assertEqual(leftover, b"", "a second response was sent")
                self.assertTrue(closed(sock))

    def test_slowloris_is_closed_after_header_timeout_while_others_are_served(self):
        slow = self.raw(b"GET / HTTP/1.1\r\n")
        started = time.monotonic()
        cut_off = False
        while time.monotonic() - started < 5 * SLOWDOWN:
            try:
                slow.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                cut_off = True
                break
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5 * SLOWDOWN)
            conn.request("GET", "/")
            self.assertEqual(conn.getresponse().status, 200)
            conn.close()
            slow.settimeout(0.2)
            try:
                if slow.recv(1) == b"":
                    cut_off = True
                    break
            except socket.timeout:
                pass
        elapsed = time.monotonic() - started
        slow.close()
        self.assertTrue(cut_off, "the slow client was never closed")
        self.assertGreater(elapsed, 0.9)
        self.assertLess(elapsed, 1 + 2 * SLOWDOWN)

    def test_a_connection_is_accepted_once_its_request_arrives(self):
        # TCP_DEFER_ACCEPT: the kernel holds a connection until its first bytes
        # (or about a second), so one that speaks later is accepted later.
        silent = self.daemon.connect()
        connected = time.monotonic()
        silent_port = silent.getsockname()[1]
        with self.raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as other:
            self.assertEqual(read_response(other)[0], 200)
            other_port = other.getsockname()[1]
        self.daemon.wait_for_log(rf"accept connection from 127\.0\.0\.1, {other_port},")
        if time.monotonic() - connected < 0.5:  # well before the kernel's one second
            self.assertNotIn(f"accept connection from 127.0.0.1, {silent_port},", self.daemon.log_text())
        silent.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(read_response(silent)[0], 200)
        self.daemon.wait_for_log(rf"accept connection from 127\.0\.0\.1, {silent_port},")
        silent.close()

    def test_a_silent_connection_is_accepted_and_meets_the_header_timeout(self):
        with self.daemon.connect() as silent:
            port = silent.getsockname()[1]
            started = time.monotonic()
            silent.settimeout(10 * SLOWDOWN)
            self.assertTrue(closed(silent))
            elapsed = time.monotonic() - started
        # Held by the kernel for about a second, then header_timeout (1 s).
        self.assertGreater(elapsed, 0.9)
        self.assertLess(elapsed, 2 + 2 * SLOWDOWN)
        self.daemon.wait_for_log(rf"accept connection from 127\.0\.0\.1, {port},")

    def test_idle_keep_alive_connection_is_closed(self):
        with self.raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
            read_response(sock)
            sock.settimeout(10 * SLOWDOWN)
            self.assertTrue(closed(sock))


class Configured(unittest.TestCase):
    def test_body_and_content_type_come_from_the_config(self):
        with Daemon({"listeners": [listener("http", body="<p>hi</p>", content_type="text/html")]}) as d:
            conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
            conn.request("GET", "/")
            response = conn.getresponse()
            self.assertEqual(response.read(), b"<p>hi</p>")
            self.assertEqual(response.getheader("Content-Type"), "text/html")
            conn.close()

    def test_no_descriptor_leak_after_abuse(self):
        with Daemon({"listeners": [listener("http")]}) as d:
            baseline = open_fds(d.pid)
            for request in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"garbage\r\n\r\n", b"GET / HTTP/1.1\r\n"):
                for _ in range(20):
                    sock = d.connect()
                    sock.sendall(request)
                    sock.close()
            wait_until(lambda: open_fds(d.pid) == baseline, message="descriptors back to baseline")


class StaticFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="epolld-www-")
        cls.files = {"empty.txt": b"", "one.bin": b"x", "page.html": os.urandom(64 * 1024)}
        for name, content in cls.files.items():
            with open(os.path.join(cls.root, name), "wb") as out:
                out.write(content)
        with open(os.path.join(cls.root, "big.bin"), "wb") as out:
            for _ in range(100):
                out.write(os.urandom(1 << 20))
        os.mkdir(os.path.join(cls.root, "dir"))
        with open(os.path.join(cls.root, "dir", "index.html"), "wb") as out:
            out.write(b"<h1>index</h1>")
        cls.outside = tempfile.NamedTemporaryFile(delete=False)
        cls.outside.write(b"SECRET-MARKER-OUTSIDE-ROOT")
        cls.outside.close()
        os.symlink(cls.outside.name, os.path.join(cls.root, "escape"))
        cls.daemon = Daemon({"workers": 1, "listeners": [listener("http", root=cls.root)]}).start()

    @classmethod
    def tearDownClass(cls):
        assert cls.daemon.stop() == 0
        cls.daemon.__exit__(None, None, None)
        subprocess.run(["rm", "-rf", cls.root, cls.outside.name])

    def get(self, path, headers=None, method="GET"):
        conn = http.client.HTTPConnection("127.0.0.1", self.daemon.port, timeout=30 * SLOWDOWN)
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response, body

    def test_files_are_served_byte_exact(self):
        for name, content in self.files.items():
            response, body = self.get("/" + name)
            self.assertEqual((response.status, body), (200, content), name)
        self.assertEqual(self.get("/page.html")[0].getheader("Content-Type"), "text/html; charset=utf-8")

    def test_100_mib_file_by_curl(self):
        result = subprocess.run(["curl", "-sS", "--fail", f"http://127.0.0.1:{self.daemon.port}/big.bin"],
                                capture_output=True, timeout=120 * SLOWDOWN)
        with open(os.path.join(self.root, "big.bin"), "rb") as f:
            self.assertEqual(hashlib.sha256(result.stdout).hexdigest(), hashlib.sha256(f.read()).hexdigest())

    def test_slow_download_does_not_hold_up_others(self):
        slow = self.daemon.connect()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        slow.recv(100)  # started, then not read any more
        started = time.monotonic()
        self.assertEqual(self.get("/one.bin")[1], b"x")
        self.assertLess(time.monotonic() - started, 2 * SLOWDOWN)
        slow.close()

    def test_head_conditional_and_range(self):
        response, body = self.get("/page.html", method="HEAD")
        self.assertEqual((response.status, body, response.getheader("Content-Length")), (200, b"", str(64 * 1024)))
        etag, modified = response.getheader("ETag"), response.getheader("Last-Modified")
        self.assertEqual(self.get("/page.html", {"If-None-Match": etag})[0].status, 304)
        self.assertEqual(self.get("/page.html", {"If-Modified-Since": modified})[0].status, 304)
        response, body = self.get("/page.html", {"Range": "bytes=0-9"})
        self.assertEqual((response.status, body), (206, self.files["page.html"][:10]))
        self.assertEqual(response.getheader("Content-Range"), f"bytes 0-9/{64 * 1024}")
        response, body = self.get("/page.html", {"Range": "bytes=-5"})
        self.assertEqual((response.status, body), (206, self.files["page.html"][-5:]))
        self.assertEqual(self.get("/page.html", {"Range": "bytes=999999-"})[0].status, 416)

    def test_directories_and_missing_files(self):
        self.assertEqual(self.get("/dir/")[1], b"<h1>index</h1>")
        self.assertEqual(self.get("/dir")[0].status, 301)
        self.assertEqual(self.get("/missing")[0].status, 404)
        response, _ = self.get("/one.bin", method="POST")
        self.assertEqual((response.status, response.getheader("Allow")), (405, "GET, HEAD"))

    def test_nothing_outside_root_is_ever_served(self):
        for path in (b"/../../etc/passwd", b"/%2e%2e/%2e%2e/etc/passwd", b"/dir/../../x", b"/%2f..%2f..%2fetc/passwd",
                     b"/one.bin%00.html", b"/escape", b"/dir/%2e%2e/%2e%2e/" + os.path.basename(self.outside.name).encode()):
            with self.daemon.connect() as sock:
                sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = read_until_closed(sock)
            status = int(data.split()[1])
            self.assertIn(status, (400, 403, 404), path)
            self.assertNotIn(b"SECRET-MARKER", data)
            self.assertNotIn(b"root:", data)


if __name__ == "__main__":
    unittest.main()
