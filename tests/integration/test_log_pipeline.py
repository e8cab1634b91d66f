"""The batched log pipeline seen from outside: lines reach the file within a
second though they are written in batches, and none is lost on SIGTERM,
SIGUSR1 or SIGHUP; on the journal, console lines carry their priority."""

import os
import re
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import LINE_RE, Daemon, echo_round_trip, wait_until  # noqa: E402

# Round trips whose "receive" lines are counted: several batches' worth.
ROUND_TRIPS = 300


def send_numbered(daemon, first, count):
    """Echoes `count` numbered messages on one connection; each logs a line."""
    with daemon.connect() as sock:
        for i in range(first, first + count):
            payload = f"n{i}".encode()
            assert echo_round_trip(sock, payload) == payload


def received_numbers(text):
    return [int(n) for n in re.findall(r"(?m) - DEBUG - \d+ receive n(\d+)$", text)]


class Batching(unittest.TestCase):
    def test_a_line_reaches_the_file_within_a_second_when_traffic_stops(self):
        with Daemon({"workers": 1}) as d:
            send_numbered(d, 0, 1)
            # No stop, no signal: the batch must end by itself (tail -f).
            wait_until(lambda: received_numbers(d.log_text()) == [0], timeout=1.0,
                       message="the line in the file within 1 s")

    def test_sigterm_writes_every_line(self):
        with Daemon({"workers": 1}) as d:
            send_numbered(d, 0, ROUND_TRIPS)
            self.assertEqual(d.stop(), 0)
            self.assertEqual(received_numbers(d.log_text()), list(range(ROUND_TRIPS)))
            for line in d.log_lines():
                self.assertRegex(line, LINE_RE)

    def test_sigusr1_after_a_rename_splits_the_lines_and_loses_none(self):
        with Daemon({"workers": 1}) as d:
            send_numbered(d, 0, ROUND_TRIPS)
            os.rename(d.log_path, d.log_path + ".1")
            d.send_signal(signal.SIGUSR1)
            d.wait_for_log(r"received SIGUSR1, log file reopened$")
            send_numbered(d, ROUND_TRIPS, ROUND_TRIPS)
            self.assertEqual(d.stop(), 0)
            with open(d.log_path + ".1") as old:
                before = received_numbers(old.read())
            after = received_numbers(d.log_text())
            self.assertEqual(before, list(range(ROUND_TRIPS)))
            self.assertEqual(after, list(range(ROUND_TRIPS, 2 * ROUND_TRIPS)))

    def test_sighup_to_another_file_moves_the_lines_and_loses_none(self):
        with Daemon({"workers": 1}) as d:
            first = d.log_path
            send_numbered(d, 0, ROUND_TRIPS)
            second = os.path.join(d.dir, "second.log")
            d.config["log"]["file"] = second
            d.write_config()
            d.send_signal(signal.SIGHUP)
            wait_until(lambda: "reloaded" in d.stderr_text(), message="the reload")
            send_numbered(d, ROUND_TRIPS, ROUND_TRIPS)
            self.assertEqual(d.stop(), 0)
            with open(first) as old:
                self.assertEqual(received_numbers(old.read()), list(range(ROUND_TRIPS)))
            with open(second) as new:
                self.assertEqual(received_numbers(new.read()), list(range(ROUND_TRIPS, 2 * ROUND_TRIPS)))


class Journal(unittest.TestCase):
    PRIORITY = {"DEBUG": 7, "INFO": 6, "WARNING": 4, "ERROR": 3, "CRITICAL": 2}

    def test_console_lines_carry_their_priority_when_stderr_is_the_journal(self):
        d = Daemon({"workers": 1})
        # The harness appends stderr to this file: JOURNAL_STREAM names it, as
        # systemd names the journal's socket.
        stderr_path = os.path.join(d.dir, "stderr")
        open(stderr_path, "w").close()
        status = os.stat(stderr_path)
        d.env["JOURNAL_STREAM"] = f"{status.st_dev}:{status.st_ino}"
        with d:
            self.assertEqual(d.stop(), 0)
            lines = d.stderr_text().splitlines()
            file_lines = d.log_lines()
        self.assertGreater(len(lines), 2)
        for line in lines:
            match = re.match(r"<(\d)>(.*)$", line)
            self.assertIsNotNone(match, line)
            # After the prefix, exactly the tutorial's line.
            self.assertRegex(match.group(2), LINE_RE)
            self.assertEqual(int(match.group(1)), self.PRIORITY[LINE_RE.match(match.group(2)).group("level")])
        # The file never gets the prefix.
        self.assertGreater(len(file_lines), 2)
        for line in file_lines:
            self.assertRegex(line, LINE_RE)

    def test_console_lines_are_plain_when_the_journal_is_elsewhere(self):
        d = Daemon({"workers": 1}, env={"JOURNAL_STREAM": "1:1"})
        with d:
            self.assertEqual(d.stop(), 0)
            lines = d.stderr_text().splitlines()
        self.assertGreater(len(lines), 2)
        for line in lines:
            self.assertRegex(line, LINE_RE)


if __name__ == "__main__":
    unittest.main()
