"""The command line: --check-config, --version, --help, bad options, start-up failures."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import BINARY, SOURCE_DIR, Daemon, SLOWDOWN  # noqa: E402


def run(*args, cwd=None):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30 * SLOWDOWN, cwd=cwd)


class CheckConfig(unittest.TestCase):
    def write(self, text):
        handle = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
        handle.write(text)
        handle.close()
        self.addCleanup(os.unlink, handle.name)
        return handle.name

    def assertErrorAt(self, text, line, what):
        path = self.write(text)
        result = run("--check-config", "--config", path)
        self.assertEqual(result.returncode, 1, result)
        self.assertRegex(result.stderr, rf"^{re.escape(path)}:{line}:\d+: .*{what}", result.stderr)
        self.assertEqual(result.stderr.count("\n"), 1, "one line")

    def test_repository_config_is_ok(self):
        path = os.path.join(SOURCE_DIR, "config", "epolld.yaml")
        result = run("--check-config", "--config", path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"configuration {path} is ok\n")

    def test_short_option_is_the_same(self):
        path = os.path.join(SOURCE_DIR, "config", "epolld.yaml")
        self.assertEqual(run("-t", "-c", path).returncode, 0)

    def test_unknown_key_is_reported_with_its_line(self):
        self.assertErrorAt("workers: 1\nlisteners:\n  - address: 127.0.0.1\n    port: 1\n    protocol: echo\n"
                           "    colour: blue\n", 6, "unknown key 'colour'")

    def test_bad_port_is_reported_with_its_line(self):
        self.assertErrorAt("listeners:\n  - address: 127.0.0.1\n    port: 99999\n    protocol: echo\n", 3, "port")

    def test_unknown_protocol_is_reported(self):
        self.assertErrorAt("listeners:\n  - address: 127.0.0.1\n    port: 1\n    protocol: gopher\n", 4, "gopher")

    def test_duplicate_listener_is_reported_at_the_second(self):
        self.assertErrorAt("listeners:\n  - address: 127.0.0.1\n    port: 5\n    protocol: echo\n"
                           "  - address: 127.0.0.1\n    port: 5\n    protocol: http\n", 5, "already used")

    def test_yaml_syntax_error_is_reported_with_its_line(self):
        self.assertErrorAt("workers: 1\nlisteners: [\n", 3, "")

    def test_missing_named_file_gives_strerror(self):
        result = run("--config", "/nonexistent/epolld.yaml")
        self.assertEqual(result.returncode, 1)
        self.assertIn("/nonexistent/epolld.yaml", result.stderr)
        self.assertIn("No such file or directory", result.stderr)


class Options(unittest.TestCase):
    def test_version(self):
        result = run("--version")
        self.assertEqual(result.returncode, 0)
        self.assertRegex(result.stdout, r"^epolld \d+\.\d+\.\d+\n$")

    def test_help_lists_the_options(self):
        result = run("--help")
        self.assertEqual(result.returncode, 0)
        for option in ("--config", "--check-config", "--version", "--help"):
            self.assertIn(option, result.stdout)

    def test_unknown_option_fails_with_usage(self):
        result = run("--frobnicate")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("unknown option '--frobnicate'", result.stderr)
        self.assertIn("usage:", result.stderr)


class StartFailures(unittest.TestCase):
    def test_port_in_use_exits_1_naming_the_listener(self):
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            daemon = Daemon({"listeners": [{"address": "127.0.0.1", "port": port, "protocol": "echo"}],
                             "log": {"console_level": "error"}}, expect_listeners=0)
            with daemon:
                status = daemon.process.wait(30 * SLOWDOWN)
                self.assertEqual(status, 1)
                errors = [line for line in daemon.stderr_text().splitlines() if line.strip()]
                self.assertEqual(len(errors), 1, errors)
                self.assertIn(f"127.0.0.1:{port}", errors[0])
                self.assertIn("Address already in use", errors[0])

    def test_http_root_that_does_not_exist_exits_1(self):
        config = {"listeners": [{"address": "127.0.0.1", "port": 0, "protocol": "http",
                                 "http": {"root": "/nonexistent/www"}}]}
        with Daemon(config, expect_listeners=0) as daemon:
            self.assertEqual(daemon.process.wait(30 * SLOWDOWN), 1)
            self.assertIn("/nonexistent/www", daemon.stderr_text())


if __name__ == "__main__":
    unittest.main()
