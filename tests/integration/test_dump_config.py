"""--dump-config (-T) on the real binary: it validates as --check-config does, and what it
prints is a configuration that --check-config accepts and that dumps to the same bytes."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import BINARY, SOURCE_DIR, SLOWDOWN  # noqa: E402

REPOSITORY_CONFIG = os.path.join(SOURCE_DIR, "config", "epolld.yaml")
# The top-level keys, in the order the dump promises (config/epolld.yaml's).
TOP_KEYS = ["workers", "acceptors", "trigger", "max_connections", "idle_timeout", "shutdown_timeout",
            "output_buffer_limit", "log", "listeners"]


def run(*args, cwd=None, stdout=subprocess.PIPE):
    """Bytes, not text: the dump must be compared byte for byte."""
    return subprocess.run([BINARY, *args], stdout=stdout, stderr=subprocess.PIPE, timeout=30 * SLOWDOWN, cwd=cwd)


class DumpConfig(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="epolld-dump-")
        self.addCleanup(shutil.rmtree, self.dir)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path

    def dump(self, path):
        """`epolld -T -c PATH`, which must succeed with nothing on stderr."""
        result = run("-T", "-c", path, cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, b"")
        return result.stdout

    def assertFixedPoint(self, path):
        """Dumps PATH, checks the dump with -t, dumps the dump: the same bytes. Returns the dump."""
        first = self.dump(path)
        dumped = self.write(os.path.basename(path) + ".dumped.yaml", first.decode("utf-8"))
        check = run("-t", "-c", dumped, cwd=self.dir)
        self.assertEqual((check.returncode, check.stdout), (0, f"configuration {dumped} is ok\n".encode()),
                         check.stderr)
        self.assertEqual(self.dump(dumped), first, "dumping the dump changed it")
        keys = [line.split(b":")[0].decode() for line in first.splitlines() if not line.startswith(b" ")]
        self.assertEqual(keys, TOP_KEYS)
        return first

    def test_repository_config(self):
        dumped = self.assertFixedPoint(REPOSITORY_CONFIG)
        self.assertIn(b'    http:\n      body: "Hello, World!"\n      content_type: text/plain\n', dumped)

    def test_defaults_are_filled_in(self):
        path = self.write("minimal.yaml", "listeners:\n  - address: 127.0.0.1\n    port: 0\n    protocol: http\n")
        dumped = self.assertFixedPoint(path)
        for line in (b"workers: 0\n", b"trigger: edge\n", b"max_connections: 65536\n", b"output_buffer_limit: 1MiB\n",
                     b"  file_level: debug\n", b"      max_body_bytes: 1MiB\n", b"      header_timeout: 10s\n"):
            self.assertIn(line, dumped)

    def test_every_key_set_and_strings_yaml_could_misread(self):
        path = self.write("full.yaml", f"""
workers: 2
acceptors: 3
trigger: level
max_connections: 500
idle_timeout: 90
shutdown_timeout: 2500ms
output_buffer_limit: 8k
log:
  name: "yes"
  file: "{self.dir}/my log #1.log"
  file_level: info
  console_level: critical
listeners:
  - address: "::1"
    port: 0
    protocol: echo
  - address: 127.0.0.1
    port: 0
    protocol: http
    http:
      body: " Héllo: wörld # ✓\\nnull\\n~\\t\\x7f\\r\\n"
      content_type: "123"
      root: {self.dir}
      max_request_line: 2048
      max_header_count: 9
      max_header_bytes: 4KiB
      max_body_bytes: 0
      header_timeout: 1.5
""")
        dumped = self.assertFixedPoint(path)
        # epolld reads every value as text: "yes" and "123" need no quotes to stay strings.
        for line in (b"idle_timeout: 90s\n", b"shutdown_timeout: 2500ms\n", b"output_buffer_limit: 8KiB\n",
                     b"  name: yes\n", b"      content_type: 123\n", b'  file: "' + self.dir.encode() + b'/my log #1.log"\n', b"      max_request_line: 2KiB\n", b"      header_timeout: 1500ms\n",
                     b'      body: " H\xc3\xa9llo: w\xc3\xb6rld # \xe2\x9c\x93\\nnull\\n~\\t\\x7f\\r\\n"\n'):
            self.assertIn(line, dumped)

    def test_creates_nothing(self):
        """Like -t: the log file is checked, not created."""
        log = os.path.join(self.dir, "never.log")
        path = self.write("log.yaml", f"log:\n  file: {log}\nlisteners:\n"
                                      "  - address: 127.0.0.1\n    port: 0\n    protocol: echo\n")
        self.dump(path)
        self.assertFalse(os.path.exists(log))

    def test_without_a_file_dumps_the_built_in_defaults(self):
        """The built-in defaults are the repository's configuration, so both dump alike."""
        if os.path.exists("/etc/epolld.yaml"):
            self.skipTest("/etc/epolld.yaml exists: -T would dump it")
        result = run("-T", cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, self.dump(REPOSITORY_CONFIG))

    def test_with_check_config_the_dump_wins(self):
        result = run("-t", "--dump-config", "-c", REPOSITORY_CONFIG, cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, self.dump(REPOSITORY_CONFIG))

    def test_bad_config_fails_as_check_config_does(self):
        for name, text in (("port.yaml", "listeners:\n  - address: 127.0.0.1\n    port: 99999\n    protocol: echo\n"),
                           ("syntax.yaml", "workers: 1\nlisteners: [\n"),
                           ("root.yaml", "listeners:\n  - address: 127.0.0.1\n    port: 0\n    protocol: http\n"
                                         "    http:\n      root: /nonexistent/www\n")):
            with self.subTest(name):
                path = self.write(name, text)
                dumped, checked = run("-T", "-c", path, cwd=self.dir), run("-t", "-c", path, cwd=self.dir)
                self.assertEqual(dumped.returncode, 1)
                self.assertEqual(dumped.stdout, b"", "nothing on stdout: a redirect must not get half a file")
                self.assertEqual(dumped.stderr, checked.stderr)
                self.assertRegex(dumped.stderr.decode(), rf"^{re.escape(path)}:\d+:\d+: .*\n$")

    def test_a_failed_write_is_an_error(self):
        """A full disk must not leave a truncated dump behind exit status 0."""
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        with open("/dev/full", "wb") as full:
            result = run("-T", "-c", REPOSITORY_CONFIG, cwd=self.dir, stdout=full)
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"cannot write the configuration", result.stderr)


if __name__ == "__main__":
    unittest.main()
