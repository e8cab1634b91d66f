"""The access log: one line per answered request, in order, in nginx's
combined format plus the request time or as JSON lines; reopened on SIGUSR1."""

import json
import os
import re
import signal
import socket
import subprocess
import unittest

from epolld_harness import BINARY, SLOWDOWN, Daemon, listener, read_text, wait_until

COMBINED_RE = re.compile(r'^(?P<addr>\S+) - - \[(?P<time>\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] '
                         r'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<bytes>\d+) '
                         r'"(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)" (?P<seconds>\d+\.\d{6})$')


def lines_of(path, count):
    """The first `count` lines of `path`, once it has them (within a second
    or so: the log thread writes when its queue runs empty)."""
    return wait_until(lambda: (lambda l: l[:count] if len(l) >= count else None)(read_text(path).splitlines()),
                      3 * SLOWDOWN, message=f"{count} lines in {path}")


def exchange(port, payload, responses):
    """Sends `payload`, reads until `responses` responses have come."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(payload)
        data = b""
        while data.count(b"HTTP/1.1 ") < responses:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


class AccessLog(unittest.TestCase):
    def start(self, **http):
        d = Daemon({"listeners": [listener("http", **http)]})
        path = http.get("access_log")
        if path and not os.path.isabs(path):
            http["access_log"] = os.path.join(d.dir, path)
            d.config["listeners"] = [listener("http", **http)]
        d.start()
        self.addCleanup(d.__exit__, None, None, None)
        return d, http.get("access_log")

    def test_pipelined_requests_are_logged_in_order_with_their_fields(self):
        d, path = self.start(access_log="access.log")
        requests = b"".join(b"GET /%d HTTP/1.1\r\nHost: t\r\nUser-Agent: probe/%d\r\n\r\n" % (i, i) for i in range(5))
        requests += b'HEAD /h HTTP/1.1\r\nHost: t\r\nReferer: http://r/\r\nUser-Agent: a "quoted"\tone \xe9\r\n\r\n'
        exchange(d.port, requests, 6)
        lines = lines_of(path, 6)
        fields = [COMBINED_RE.match(line) for line in lines]
        self.assertTrue(all(fields), lines)
        self.assertEqual([f["request"] for f in fields], [f"GET /{i} HTTP/1.1" for i in range(5)] + ["HEAD /h HTTP/1.1"])
        self.assertEqual([f["agent"] for f in fields[:5]], [f"probe/{i}" for i in range(5)])
        self.assertEqual({(f["addr"], f["status"], f["referer"]) for f in fields[:5]}, {("127.0.0.1", "200", "-")})
        self.assertEqual([f["bytes"] for f in fields], ["13"] * 5 + ["0"])  # HEAD: no body
        self.assertEqual((fields[5]["referer"], fields[5]["agent"]), ("http://r/", 'a \\"quoted\\"\\x09one \\xE9'))
        self.assertTrue(all(float(f["seconds"]) < 10 for f in fields))

    def test_a_request_that_cannot_be_parsed_is_logged_with_its_line(self):
        d, path = self.start(access_log="access.log")
        exchange(d.port, b"GET /x\x7f HTTP/1.1\r\n\r\n", 1)
        match = COMBINED_RE.match(lines_of(path, 1)[0])
        self.assertIsNotNone(match)
        self.assertEqual((match["request"], match["status"], match["agent"]), ("GET /x\\x7F HTTP/1.1", "400", "-"))

    def test_json_lines_parse(self):
        d, path = self.start(access_log="access.json", access_log_format="json")
        exchange(d.port, b"GET /a%20b?q=\"1\" HTTP/1.1\r\nHost: t\r\n\r\nBREW / HTTP/1.1\r\nHost: t\r\nUser-Agent: \xc3\xa9\xff\r\n\r\n", 2)
        first, second = (json.loads(line) for line in lines_of(path, 2))
        self.assertEqual(list(first), ["time", "remote_addr", "remote_port", "method", "target", "protocol", "status",
                                       "bytes_sent", "user_agent", "duration_us"])
        self.assertRegex(first["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")
        self.assertEqual((first["method"], first["target"], first["status"], first["bytes_sent"], first["user_agent"]),
                         ("GET", '/a%20b?q="1"', 200, 13, None))
        self.assertIsInstance(first["duration_us"], int)
        self.assertIsInstance(first["remote_port"], int)
        self.assertEqual((second["method"], second["status"], second["user_agent"]), ("BREW", 501, "é\u00ff"))

    def test_sigusr1_reopens_it_and_no_line_is_lost(self):
        d, path = self.start(access_log="access.log")
        exchange(d.port, b"GET /before HTTP/1.1\r\nHost: t\r\n\r\n", 1)
        lines_of(path, 1)
        os.rename(path, path + ".1")
        d.send_signal(signal.SIGUSR1)
        d.wait_for_log("reopened")
        exchange(d.port, b"GET /after HTTP/1.1\r\nHost: t\r\n\r\n", 1)
        self.assertIn('"GET /after HTTP/1.1"', lines_of(path, 1)[0])
        self.assertEqual(len(read_text(path + ".1").splitlines()), 1)

    def test_check_config_refuses_an_access_log_it_cannot_create(self):
        d, _ = self.start()
        bad = os.path.join(d.dir, "bad.yaml")
        with open(bad, "w") as out:
            out.write(f"log: {{file: {d.dir}/x.log}}\nlisteners:\n  - {{address: 127.0.0.1, port: 0, protocol: http, "
                      f"http: {{access_log: {d.dir}/no/such/dir/a.log}}}}\n")
        result = subprocess.run([BINARY, "-t", "-c", bad], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr, rf"^{re.escape(bad)}:3:\d+: listeners\[0\]\.http\.access_log: ")


if __name__ == "__main__":
    unittest.main()
