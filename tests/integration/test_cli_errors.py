"""More of the command line's contract: every kind of configuration error is one
`FILE:LINE:COLUMN: what` line pointing at the offending value, exit 1;
--check-config binds nothing; start-up failures name the listener and leave
nothing bound behind them.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import BINARY, SLOWDOWN, Daemon, echo_round_trip, listener  # noqa: E402


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

    # Issue 10, defect 6: -t said ok to these, then the start failed.
    def test_wildcard_beside_another_address_on_its_port(self):
        for wildcard, other in (("0.0.0.0", "127.0.0.1"), ('"::"', '"::1"')):
            with self.subTest(wildcard=wildcard):
                self.assertErrorAt(f"""
                    listeners:
                      - {{address: {wildcard}, port: 8080, protocol: echo}}
                      - {{address: {other}, port: 8080, protocol: http}}
                    """, 3, 5, "listeners[1]", "cannot be bound beside", ":8080")

    def test_wildcards_of_both_families_share_a_port(self):
        # IPv6 listeners are IPV6_V6ONLY: 0.0.0.0:P and [::]:P both bind.
        path, result = self.check("""
            listeners:
              - {address: 0.0.0.0, port: 8080, protocol: echo}
              - {address: "::", port: 8080, protocol: echo}
            """)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_root_that_is_not_a_directory(self):
        with tempfile.TemporaryDirectory() as directory:
            for root, why in ((os.path.join(directory, "missing"), "No such file or directory"),
                              (self.write("listeners: []\n"), "is not a directory")):
                with self.subTest(root=root):
                    self.assertErrorAt(f"""
                        listeners:
                          - address: 127.0.0.1
                            port: 0
                            protocol: http
                            http:
                              root: {root}
                        """, 6, 13, "root", root, why)

    def test_log_file_that_cannot_be_created_fails_check_and_start_alike(self):
        """-t and a real start give the same positioned line, and -t creates nothing."""
        with tempfile.TemporaryDirectory() as directory:
            log = os.path.join(directory, "missing", "epolld.log")
            text = f"""
                log:
                  file: {log}
                listeners:
                  - {{address: 127.0.0.1, port: 0, protocol: echo}}
                """
            self.assertErrorAt(text, 2, 9, "log.file", log, "No such file or directory")
            path = self.write(textwrap.dedent(text).lstrip("\n"))
            start = run("--config", path)
            self.assertEqual(start.returncode, 1, start)
            self.assertRegex(start.stderr, rf"^{re.escape(path)}:2:9: log.file: ")
            self.assertEqual(os.listdir(directory), [])

    # Issue 10, defect 10: /dev/zero was read until std::bad_alloc (exit 134).
    def test_devices_fifos_and_huge_files_are_refused_at_once(self):
        with tempfile.TemporaryDirectory() as directory:
            fifo = os.path.join(directory, "fifo.yaml")
            os.mkfifo(fifo)
            huge = os.path.join(directory, "huge.yaml")
            with open(huge, "w") as out:
                out.write("#" * (2 << 20))
            for path, why in (("/dev/zero", "not a regular file"), (fifo, "not a regular file"),
                              (huge, "larger than 1 MiB")):
                with self.subTest(path=path):
                    result = run("--check-config", "--config", path)
                    self.assertEqual(result.returncode, 1, result)
                    self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
                    self.assertIn(why, result.stderr)

    # Issue 10, defect 11: yaml-cpp's words ("bad file", "illegal block entry") and raw bytes.
    def test_deep_nesting_is_refused_in_words(self):
        for opener in "[{":
            with self.subTest(opener=opener):
                self.assertErrorAt(opener * 100_000, 1, r"\d+", "nested deeper than 32 levels")

    def test_tab_indentation_is_named(self):
        self.assertErrorAt("listeners:\n\t- address: 127.0.0.1\n", 2, 2, "tabs cannot indent YAML; use spaces")

    def test_binary_bytes_are_refused_and_shown_escaped(self):
        garbage = b"workers: 1\nlog: \x1b[31m\x00\xff\xfe\x9b\n"
        with tempfile.NamedTemporaryFile(suffix=".yaml", delete=False) as handle:
            handle.write(garbage)
        self.addCleanup(os.unlink, handle.name)
        result = subprocess.run([BINARY, "-t", "-c", handle.name], capture_output=True, timeout=30 * SLOWDOWN)
        self.assertEqual(result.returncode, 1, result)
        self.assertEqual(result.stderr,
                         f"{handle.name}:2:6: byte '\\x1b' is not text: is this a configuration file?\n".encode())

    def test_escaped_bytes_in_values_are_shown_escaped(self):
        self.assertErrorAt('trigger: "\\e[31m\\x9b\\xff"\n', 1, 10, r"'\x1b[31m\xc2\x9b\xc3\xbf'")

    def test_comma_after_a_complete_value_is_refused_not_looped_on(self):
        # Found by scripts/fuzz-config: yaml-cpp's LoadAll never returned, growing.
        self.assertErrorAt("[a], b\n", 1, 4, "','")

    def test_option_without_its_argument_fails_with_usage(self):
        result = run("--config")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("usage:", result.stderr)


class Reload(unittest.TestCase):
    def test_reload_refuses_what_check_config_refuses_at_the_same_position(self):
        """SIGHUP runs the same checks as -t: a missing root is refused with its
        FILE:LINE:COLUMN and the running configuration stays."""
        with Daemon() as d:
            config = dict(d.config, listeners=[listener("http", root="/nonexistent/www")])
            d.write_config(config)
            d.send_signal(signal.SIGHUP)
            d.wait_for_log(r"ERROR - reload failed, keeping the running configuration: " + re.escape(d.config_path) +
                           r":\d+:\d+: listeners\[0\]\.http\.root: '/nonexistent/www': No such file or directory")
            checked = run("--check-config", "--config", d.config_path)
            self.assertEqual(checked.returncode, 1)
            self.assertIn(checked.stderr.strip(), d.log_text())
            self.assertEqual(d.stop(), 0)


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
