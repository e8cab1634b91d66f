"""The admin listener: /metrics counts exactly what clients did, /status and
/healthz tell an operator how the workers are, and nothing else is served."""

import json
import os
import shutil
import signal
import socket
import subprocess
import unittest

from epolld_harness import BINARY, SLOWDOWN, Daemon, listener, wait_until
from metrics_scrape import get, parse, scrape, value

GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"


def admin_listener(**options):
    entry = {"port": 0, "protocol": "admin"}  # the address defaults to 127.0.0.1
    if options:
        entry["admin"] = options
    return entry


def read_responses(sock, count):
    """Reads `count` whole responses (each with a Content-Length); returns
    their statuses and the bytes read."""
    data, statuses = b"", []
    while len(statuses) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, f"closed after {len(statuses)} responses"
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")))
        while len(rest) < length:
            chunk = sock.recv(65536)
            assert chunk, "closed inside a body"
            rest += chunk
        statuses.append(int(head.split(b" ")[1]))
        data = rest[length:]
    assert data == b"", data
    return statuses


class Counters(unittest.TestCase):
    def test_a_known_load_moves_each_counter_by_exactly_its_amount(self):
        config = {"workers": 2, "listeners": [listener("http"), listener("echo"), admin_listener()]}
        with Daemon(config) as d:
            http_port, echo_port, admin_port = d.ports
            http_name, echo_name = f"127.0.0.1:{http_port}", f"127.0.0.1:{echo_port}"
            before = scrape(admin_port)
            sent = received = 0
            # 4 keep-alive connections, 3 pipelined GETs each: 12 x 200.
            for _ in range(4):
                with socket.create_connection(("127.0.0.1", http_port)) as sock:
                    sock.sendall(GET * 3)
                    sent += 3 * len(GET)
                    self.assertEqual(read_responses(sock, 3), [200] * 3)
            # An unknown method (501) and a malformed request (400, closes).
            for request, status in ((b"BREW / HTTP/1.1\r\nHost: t\r\n\r\n", 501), (b"GET / HTTP/9.9\r\n\r\n", 505),
                                    (b"GET\x01 / HTTP/1.1\r\n\r\n", 400)):
                with socket.create_connection(("127.0.0.1", http_port)) as sock:
                    sock.sendall(request)
                    sent += len(request)
                    self.assertEqual(read_responses(sock, 1), [status])
            # 3 echo connections, 1000 bytes each.
            for _ in range(3):
                with socket.create_connection(("127.0.0.1", echo_port)) as sock:
                    sock.sendall(b"e" * 1000)
                    got = b""
                    while len(got) < 1000:
                        got += sock.recv(4096)
            after = wait_until(lambda: (lambda s: s if value(s, "epolld_connections_open", listener=http_name) == 0
                                        and value(s, "epolld_connections_open", listener=echo_name) == 0
                                        else None)(scrape(admin_port)),
                               10 * SLOWDOWN, message="every client connection to be closed")

            def delta(name, **labels):
                return value(after, name, **labels) - value(before, name, **labels)

            self.assertEqual(delta("epolld_connections_accepted_total", listener=http_name), 7)
            # The clients closed the keep-alive ones; epolld those it refused (505, 400).
            self.assertEqual(delta("epolld_connections_closed_total", listener=http_name, reason="peer"), 5)
            self.assertEqual(delta("epolld_connections_closed_total", listener=http_name, reason="done"), 2)
            self.assertEqual(delta("epolld_connections_closed_total", listener=echo_name, reason="peer"), 3)
            for reason in ("timeout", "error", "shutdown"):
                self.assertEqual(delta("epolld_connections_closed_total", listener=http_name, reason=reason), 0)
            self.assertEqual(delta("epolld_connections_accepted_total", listener=echo_name), 3)
            self.assertEqual(delta("epolld_connections_refused_total", listener=http_name), 0)
            self.assertEqual(delta("epolld_http_requests_total", listener=http_name, code="200"), 12)
            for code in ("501", "505", "400"):
                self.assertEqual(delta("epolld_http_requests_total", listener=http_name, code=code), 1, code)
            self.assertEqual(delta("epolld_http_request_duration_seconds_count", listener=http_name), 15)
            self.assertEqual(delta("epolld_http_request_duration_seconds_bucket", listener=http_name, le="+Inf"), 15)
            self.assertEqual(delta("epolld_bytes_received_total", listener=http_name), sent)
            self.assertEqual(delta("epolld_bytes_received_total", listener=echo_name), 3000)
            self.assertEqual(delta("epolld_bytes_sent_total", listener=echo_name), 3000)
            self.assertGreater(delta("epolld_bytes_sent_total", listener=http_name), 15 * 13)
            self.assertEqual(value(after, "epolld_build_info", version="0.1.0"), 1)
            events = sum(value(after, "epolld_worker_events_total", worker=str(w)) for w in range(2))
            self.assertGreater(events, 0)

    def test_every_family_is_described_before_its_first_sample_and_promtool_finds_it_clean(self):
        with Daemon({"listeners": [listener("http"), admin_listener()]}) as d:
            status, text = get(d.ports[1], "/metrics")
            self.assertEqual(status, 200)
            for family in ("epolld_connections_open", "epolld_connections_refused_total", "epolld_http_requests_total",
                           "epolld_http_request_duration_seconds", "epolld_worker_wakeups_total",
                           "epolld_acceptor_connections_accepted_total",
                           "epolld_log_lines_dropped_total", "epolld_reloads_total", "epolld_start_time_seconds"):
                self.assertIn(f"# TYPE {family} ", text)
            samples = parse(text)
            self.assertEqual(value(samples, "epolld_connections_accepted_total", listener=f"127.0.0.1:{d.ports[0]}"), 0)
            self.assertEqual(value(samples, "epolld_reloads_total", result="failed"), 0)
            promtool = shutil.which("promtool")
            self.assertIsNotNone(promtool, "promtool (Debian package prometheus) is needed: scripts/install-deps test")
            check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True,
                                   timeout=30)
            self.assertEqual((check.returncode, check.stdout + check.stderr), (0, ""))

    def test_reloads_are_counted_by_result(self):
        with Daemon({"listeners": [admin_listener()]}) as d:
            d.send_signal(signal.SIGHUP)
            d.wait_for_log("reloaded")
            with open(d.config_path, "a") as config:
                config.write("trigger: sideways\n")
            d.send_signal(signal.SIGHUP)
            d.wait_for_log("reload failed")
            samples = scrape(d.port)
            self.assertEqual(value(samples, "epolld_reloads_total", result="ok"), 1)
            self.assertEqual(value(samples, "epolld_reloads_total", result="failed"), 1)


class Pages(unittest.TestCase):
    def test_status_lists_each_worker_and_listener(self):
        with Daemon({"workers": 3, "listeners": [listener("echo"), admin_listener()]}) as d:
            status, body = get(d.ports[1], "/status")
            self.assertEqual(status, 200)
            page = json.loads(body)
            self.assertEqual(page["version"], "0.1.0")
            self.assertEqual(page["config"], d.config_path)
            self.assertEqual([w["id"] for w in page["workers"]], [0, 1, 2])
            self.assertTrue(all(w["last_loop_age_seconds"] < 2 for w in page["workers"]))
            self.assertEqual([(l["name"], l["protocol"]) for l in page["listeners"]],
                             [(f"127.0.0.1:{d.ports[0]}", "echo"), (f"127.0.0.1:{d.ports[1]}", "admin")])
            self.assertEqual(sum(w["connections"] for w in page["workers"]), 1)  # this request's

    def test_other_paths_are_404_and_other_methods_405(self):
        with Daemon({"listeners": [admin_listener()]}) as d:
            self.assertEqual(get(d.port, "/")[0], 404)
            self.assertEqual(get(d.port, "/metrics/x")[0], 404)
            self.assertEqual(get(d.port, "/metrics", method="POST")[0], 405)
            self.assertEqual(get(d.port, "/healthz?verbose=1"), (200, "ok\n"))
            self.assertEqual(get(d.port, "/healthz", method="HEAD"), (200, ""))

    def test_healthz_names_a_stalled_worker(self):
        with Daemon({"workers": 2, "listeners": [admin_listener()]}, env={"EPOLLD_TEST_HOOKS": "1"}) as d:
            self.assertEqual(get(d.port, "/healthz"), (200, "ok\n"))
            d.send_signal(signal.SIGUSR2)  # worker 0 stops turning for good
            d.wait_for_log("stalling for good")

            def unhealthy():
                # A connection handed to the stalled worker is never answered:
                # give up on it and try the next, which goes to the other.
                try:
                    return get(d.port, "/healthz", timeout=0.5)
                except (TimeoutError, socket.timeout):
                    return None

            status, body = wait_until(lambda: (lambda r: r if r and r[0] == 503 else None)(unhealthy()),
                                      15 * SLOWDOWN, message="/healthz to say 503")
            self.assertIn("worker 0 ", body)
            d.stop(signal.SIGKILL)


class Refusals(unittest.TestCase):
    def check(self, listener_yaml):
        with Daemon({"listeners": [listener()]}) as d:  # only for its directory
            path = os.path.join(d.dir, "admin.yaml")
            with open(path, "w") as config:
                config.write(f"log: {{file: {d.dir}/x.log}}\nlisteners:\n  - {listener_yaml}\n")
            return subprocess.run([BINARY, "-t", "-c", path], capture_output=True, text=True, timeout=30), path

    def test_a_remote_address_needs_allow_remote(self):
        result, path = self.check("{address: 0.0.0.0, port: 0, protocol: admin}")
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"{path}:3:15: listeners[0].address: an admin listener on a non-loopback address needs "
                      "admin: {allow_remote: true}", result.stderr)
        result, _ = self.check("{address: 0.0.0.0, port: 0, protocol: admin, admin: {allow_remote: true}}")
        self.assertEqual(result.returncode, 0, result.stderr)
        result, _ = self.check("{address: '::1', port: 0, protocol: admin}")
        self.assertEqual(result.returncode, 0, result.stderr)


if __name__ == "__main__":
    unittest.main()
