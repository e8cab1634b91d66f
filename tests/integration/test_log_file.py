"""The log beyond the three connection lines: SIGUSR1 reopens the file (for
logrotate), console_level filters stderr, relative paths are relative to the
working directory, `off` writes nothing, escaping of Unicode that terminals
and log viewers treat as line breaks, and whole lines under concurrency.
"""

import os
import re
import signal
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import LINE_RE, LISTENING_RE, Daemon, echo_round_trip, wait_until  # noqa: E402


class Reopen(unittest.TestCase):
    def test_sigusr1_moves_logging_to_a_new_file_after_a_rename(self):
        with Daemon({"workers": 2}) as d:
            with d.connect() as sock:
                echo_round_trip(sock, b"before rotation")
            d.wait_for_log(r"receive before rotation$")
            rotated = d.log_path + ".1"
            os.rename(d.log_path, rotated)  # what logrotate does
            d.send_signal(signal.SIGUSR1)
            d.wait_for_log(r"INFO - received SIGUSR1, log file reopened$")
            with d.connect() as sock:
                port = sock.getsockname()[1]
                echo_round_trip(sock, b"after rotation")
            d.wait_for_log(rf"DEBUG - 127\.0\.0\.1, {port} closed$")
            self.assertEqual(d.stop(), 0)
            with open(rotated) as old:
                old_text = old.read()
            new_text = d.log_text()
            self.assertIn("receive before rotation", old_text)
            self.assertNotIn("after rotation", old_text)
            self.assertIn("receive after rotation", new_text)
            self.assertNotIn("before rotation", new_text)
            for line in new_text.splitlines():
                self.assertRegex(line, LINE_RE)

    def test_sigusr1_without_a_rename_keeps_appending(self):
        with Daemon() as d:
            d.send_signal(signal.SIGUSR1)
            d.wait_for_log(r"received SIGUSR1, log file reopened$")
            with d.connect() as sock:
                echo_round_trip(sock, b"same file")
            self.assertEqual(d.stop(), 0)
            text = d.log_text()
            self.assertIn("listening on", text, "the reopen truncated the file")
            self.assertIn("receive same file", text)


class Sinks(unittest.TestCase):
    def test_console_level_filters_stderr_and_keeps_the_format(self):
        daemon = Daemon({"log": {"console_level": "warning"}, "max_connections": 1}, expect_listeners=0)
        with daemon as d:
            # The ports come from the file this time: stderr shows no INFO.
            match = wait_until(lambda: LISTENING_RE.search(d.log_text()), message="the listener in the file")
            port = int(match.group("port"))
            with d.connect(port=port) as first, d.connect(port=port) as second:
                self.assertEqual(echo_round_trip(first, b"one"), b"one")
                try:
                    second.sendall(b"x")
                    self.assertEqual(second.recv(1), b"")
                except ConnectionResetError:
                    pass
            self.assertEqual(d.stop(), 0)
            stderr = [line for line in d.stderr_text().splitlines() if line]
            self.assertTrue(any(" - WARNING - max_connections" in line for line in stderr), stderr)
            for line in stderr:
                self.assertRegex(line, LINE_RE)
                self.assertRegex(line, r" - (WARNING|ERROR|CRITICAL) - ")
            self.assertIn(" - DEBUG - ", d.log_text())

    def test_relative_log_file_is_relative_to_the_working_directory(self):
        with Daemon({"log": {"file": "relative.log"}}) as d:
            path = os.path.join(d.dir, "relative.log")
            d.log_path = path
            with d.connect() as sock:
                echo_round_trip(sock, b"relative")
            self.assertEqual(d.stop(), 0)
            self.assertTrue(os.path.exists(path))
            self.assertIn("receive relative", d.log_text())

    def test_file_level_off_writes_nothing(self):
        with Daemon({"log": {"file_level": "off"}}) as d:
            with d.connect() as sock:
                echo_round_trip(sock, b"unseen")
            self.assertEqual(d.stop(), 0)
            self.assertEqual(d.log_text(), "")

    def test_log_file_in_a_missing_directory_fails_the_start(self):
        config = {"log": {"file": "/nonexistent/dir/epolld.log", "console_level": "error"}}
        with Daemon(config, expect_listeners=0) as d:
            self.assertEqual(d.process.wait(30), 1)
            lines = [line for line in d.stderr_text().splitlines() if line.strip()]
            self.assertTrue(lines)
            self.assertIn("/nonexistent/dir/epolld.log", lines[-1])


class Escaping(unittest.TestCase):
    def test_unicode_line_breaks_and_terminal_escapes_are_escaped(self):
        data = "héllo € \u2028 \u0085 \x1b[31m \x7f".encode() + b" \xff\xc3"
        with Daemon() as d:
            with d.connect() as sock:
                echo_round_trip(sock, data)
            self.assertEqual(d.stop(), 0)
            with open(d.log_path, "rb") as log:
                raw = log.read()
            line = next(line for line in raw.split(b"\n") if b" receive " in line)
            self.assertIn("héllo €".encode(), line, "valid printable UTF-8 is kept as it is")
            for forbidden in ("\u2028".encode(), "\u0085".encode(), b"\x1b", b"\x7f", b"\xff"):
                self.assertNotIn(forbidden, line)
            self.assertIn(rb"\xe2\x80\xa8", line)
            self.assertIn(rb"\x1b[31m", line)
            self.assertTrue(line.endswith(rb"\xff\xc3"), line)


class Concurrency(unittest.TestCase):
    def test_lines_stay_whole_with_many_clients_at_once(self):
        clients = 40
        with Daemon({"workers": 2}) as d:
            errors = []

            def client(number):
                try:
                    with d.connect() as sock:
                        for round_number in range(5):
                            message = b"client %02d round %d " % (number, round_number) + b"=" * 150
                            if echo_round_trip(sock, message) != message:
                                errors.append(number)
                except OSError as e:
                    errors.append(f"{number}: {e}")

            threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            self.assertEqual(errors, [])
            self.assertEqual(d.stop(), 0)
            lines = d.log_lines()
            for line in lines:
                self.assertRegex(line, LINE_RE)
            self.assertEqual(sum(" - DEBUG - accept connection from " in line for line in lines), clients)
            self.assertEqual(sum(bool(re.search(r" closed$", line)) for line in lines), clients)
            received = "\n".join(line for line in lines if " receive client " in line)
            for number in range(clients):
                for round_number in range(5):
                    # A message may arrive split over reads: find its start.
                    self.assertIn(f"receive client {number:02d} round {round_number} ", received)


if __name__ == "__main__":
    unittest.main()
