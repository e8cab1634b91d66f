"""The tutorial's log: Python's format, the three per-connection lines, escaping."""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import LINE_RE, Daemon, echo_round_trip, wait_until  # noqa: E402


class ConnectionLines(unittest.TestCase):
    def test_three_lines_carry_the_real_port_and_fd(self):
        with Daemon() as d:
            sock = d.connect()
            port = sock.getsockname()[1]
            self.assertEqual(echo_round_trip(sock, b"hello"), b"hello")
            sock.close()
            closed = d.wait_for_log(rf"DEBUG - 127\.0\.0\.1, {port} closed$")
            text = d.log_text()
            accept = re.search(rf"DEBUG - accept connection from 127\.0\.0\.1, {port}, fd = (\d+)$", text, re.M)
            self.assertIsNotNone(accept, text)
            fd = accept.group(1)
            self.assertRegex(text, rf"(?m)DEBUG - {fd} receive hello$")
            self.assertLess(accept.start(), closed.start())

    def test_every_line_has_pythons_format(self):
        with Daemon() as d:
            with d.connect() as sock:
                echo_round_trip(sock, b"x")
            self.assertEqual(d.stop(), 0)
            lines = d.log_lines()
            self.assertGreater(len(lines), 4)
            for line in lines:
                self.assertRegex(line, LINE_RE, line)
                self.assertEqual(LINE_RE.match(line).group("name"), "network-server")

    def test_forged_newline_stays_on_one_line(self):
        with Daemon() as d:
            forged = b"hi\n2026-01-01 00:00:00,000 - network-server - CRITICAL - forged\r\x00\xff'\""
            with d.connect() as sock:
                self.assertEqual(echo_round_trip(sock, forged), forged)
            d.wait_for_log(r"closed$")
            self.assertNotRegex(d.log_text(), r"(?m)^2026-01-01")
            self.assertIn(r"receive hi\n2026-01-01 00:00:00,000 - network-server - CRITICAL - forged\r\x00\xff\'\"",
                          d.log_text())

    def test_long_data_is_cut_with_a_marker(self):
        with Daemon({"workers": 1}) as d:
            with d.connect() as sock:
                echo_round_trip(sock, b"a" * 5000)
            line = d.wait_for_log(r"receive a+.*$").group(0)
            self.assertLess(len(line), 400)
            self.assertRegex(line, r"\[\+\d+ bytes\]$")

    def test_name_and_file_level_come_from_the_config(self):
        with Daemon({"log": {"name": "my-echo", "file_level": "warning"}}) as d:
            with d.connect() as sock:
                echo_round_trip(sock, b"quiet")
            self.assertEqual(d.stop(), 0)
            self.assertNotIn("DEBUG", d.log_text())
            self.assertNotIn("INFO", d.log_text())
        with Daemon({"log": {"name": "my-echo", "file_level": "info"}}) as d:
            wait_until(lambda: " - my-echo - INFO - " in d.log_text(), message="a line named my-echo")

    def test_ipv6_peers_print_the_same_way(self):
        with Daemon({"listeners": [{"address": "::1", "port": 0, "protocol": "echo"}]}) as d:
            sock = d.connect(host="::1")
            port = sock.getsockname()[1]
            echo_round_trip(sock, b"v6")
            sock.close()
            d.wait_for_log(rf"DEBUG - ::1, {port} closed$")
            self.assertRegex(d.log_text(), rf"accept connection from ::1, {port}, fd = \d+")


if __name__ == "__main__":
    unittest.main()
