"""More of the command line's contract: every kind of configuration error is one
`FILE:LINE:COLUMN: what` line pointing at the offending value, exit 1;
--check-config binds nothing; start-up failures name the listener and leave
nothing bound behind them.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import BINARY, SLOWDOWN, Daemon, echo_round_trip  # noqa: E402


def run(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30 * SLOWDOWN)


class ConfigErrors(unittest.TestCase):
    def write(self, text):
        handle = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
        handle.write(textwrap.dedent(text).lstrip("\n"))
        handle.close()
        self.addCleanup(os.unlink, handle.name)
        return handle.name

    def check(self, text):
        path = self.write(text)
        return path, run("--check-config", "--config", path)

    def assertErrorAt(self, text, line, column, *words):
        """The one stderr line names the file, the line and column (1-based)
        of the offending token, and `words`."""
        path, result = self.check(text)
        self.assertEqual(result.returncode, 1, result)
        self.assertEqual(result.stdout, "")
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertRegex(lines[0], rf"^{re.escape(path)}:{line}:{column}: ")
        for word in words:
            self.assertIn(word, lines[0])

    def test_wrong_type_points_at_the_value(self):
        self.assertErrorAt("workers: many\n", 1, 10, "workers", "many")

    def test_unknown_trigger(self):
        self.assertErrorAt("""
            workers: 1
            trigger: sideways
            """, 2, 10, "trigger", "sideways")

    def test_bad_durations(self):
        for value in ("5 parsecs", "-1s", "10 minutes"):
            with self.subTest(value=value):
                self.assertErrorAt(f"""
                    workers: 1
                    idle_timeout: {value}
                    """, 2, 15, "idle_timeout", value)

    def test_bad_sizes(self):
        for value in ("1 parsec", "0", "2GiB"):
            with self.subTest(value=value):
                self.assertErrorAt(f"output_buffer_limit: {value}\n", 1, 22, "output_buffer_limit")

    def test_log_level_is_checked(self):
        self.assertErrorAt("""
            log:
              file_level: loud
            """, 2, 15, "file_level", "loud")

    def test_duplicate_key(self):
        self.assertErrorAt("""
            workers: 1
            trigger: edge
            workers: 2
            """, 3, 1, "workers")

    def test_bad_address(self):
        self.assertErrorAt("""
            listeners:
              - address: 1.2.3.999
                port: 2003
                protocol: echo
            """, 2, 14, "1.2.3.999")

    def test_missing_listener_key_points_at_the_listener(self):
        path, result = self.check("""
            listeners:
              - address: 127.0.0.1
                protocol: echo
            """)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr, rf"^{re.escape(path)}:2:\d+: .*port")

    def test_duplicate_listener_written_differently_is_still_a_duplicate(self):
        # "::1" and "0:0::1" are the same address.
        self.assertErrorAt("""
            listeners:
              - address: "::1"
                port: 2003
                protocol: echo
              - address: "0:0::1"
                port: 2003
                protocol: echo
            """, 5, 5, "[::1]:2003")

    def test_units_are_accepted(self):
        path, result = self.check("""
            workers: 2
            trigger: level
            max_connections: 10
            idle_timeout: 5m
            shutdown_timeout: 250ms
            output_buffer_limit: 64KiB
            listeners:
              - address: 127.0.0.1
                port: 2003
                protocol: echo
            """)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"configuration {path} is ok\n")
        path, result = self.check("""
            idle_timeout: 2
            output_buffer_limit: 1MiB
            listeners:
              - {address: "::1", port: 2003, protocol: echo}
            """)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_a_directory_is_not_a_configuration(self):
        with tempfile.TemporaryDirectory() as directory:
            result = run("--check-config", "--config", directory)
            self.assertEqual(result.returncode, 1)
            self.assertIn(directory, result.stderr)
            self.assertIn("Is a directory", result.stderr)

    def test_check_config_binds_nothing(self):
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            path, result = self.check(f"""
                listeners:
                  - address: 127.0.0.1
                    port: {port}
                    protocol: echo
                """)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout, f"configuration {path} is ok\n")

    def test_option_without_its_argument_fails_with_usage(self):
        result = run("--config")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("usage:", result.stderr)


def reserve_port(host="127.0.0.1"):
    """A socket bound with SO_REUSEADDR but not listening: no ephemeral bind
    picks its port, yet epolld (also SO_REUSEADDR) can bind and listen on it."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


class StartFailures(unittest.TestCase):
    def failed_start(self, listeners):
        daemon = Daemon({"listeners": listeners, "log": {"console_level": "error"}}, expect_listeners=0)
        daemon.start()
        self.addCleanup(daemon.__exit__, None, None, None)
        self.assertEqual(daemon.process.wait(30 * SLOWDOWN), 1)
        return [line for line in daemon.stderr_text().splitlines() if line.strip()]

    def test_second_listener_in_use_fails_the_start_naming_only_that_one(self):
        with socket.socket() as holder, reserve_port() as reserved:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            busy = holder.getsockname()[1]
            free = reserved.getsockname()[1]
            errors = self.failed_start([{"address": "127.0.0.1", "port": free, "protocol": "echo"},
                                        {"address": "127.0.0.1", "port": busy, "protocol": "echo"}])
            self.assertEqual(len(errors), 1, errors)
            self.assertIn(f"127.0.0.1:{busy}", errors[0])
            self.assertIn("Address already in use", errors[0])
            self.assertNotIn(f":{free}", errors[0])

    def test_address_not_on_this_host_fails_naming_it(self):
        # TEST-NET-1 (RFC 5737): bind fails locally, nothing is ever sent.
        errors = self.failed_start([{"address": "192.0.2.1", "port": 2003, "protocol": "echo"}])
        self.assertEqual(len(errors), 1, errors)
        self.assertIn("192.0.2.1:2003", errors[0])
        self.assertIn("Cannot assign requested address", errors[0])

    def test_ipv6_listener_in_use_is_named_in_brackets(self):
        with socket.socket(socket.AF_INET6) as holder:
            holder.bind(("::1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            errors = self.failed_start([{"address": "::1", "port": port, "protocol": "echo"}])
            self.assertEqual(len(errors), 1, errors)
            self.assertIn(f"[::1]:{port}", errors[0])

    def test_same_port_on_ipv4_and_ipv6_loopback_both_serve(self):
        with reserve_port() as reserved:
            port = reserved.getsockname()[1]
            with socket.socket(socket.AF_INET6) as reserved_v6:
                reserved_v6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    reserved_v6.bind(("::1", port))
                except OSError:
                    self.skipTest(f"[::1]:{port} is taken")
                listeners = [{"address": "127.0.0.1", "port": port, "protocol": "echo"},
                             {"address": "::1", "port": port, "protocol": "echo"}]
                with Daemon({"listeners": listeners}) as d:
                    self.assertEqual(sorted(d.ports), [port, port])
                    for host in ("127.0.0.1", "::1"):
                        with d.connect(port=port, host=host) as sock:
                            self.assertEqual(echo_round_trip(sock, host.encode()), host.encode())
                    self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
