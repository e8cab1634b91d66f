"""Every thread is named after its job, so that top -H, perf and
/proc/PID/task/*/comm tell them apart."""

import unittest

from epolld_harness import Daemon, thread_names


class ThreadNames(unittest.TestCase):
    def test_each_acceptor_each_worker_and_the_log_thread_are_named(self):
        with Daemon({"workers": 3, "acceptors": 2}) as d:
            names = thread_names(d.pid)
            # The main thread keeps the process's name; so does a sanitizer's
            # own background thread (TSan has one).
            self.assertIn("epolld", names)
            self.assertEqual([name for name in names if name != "epolld"],
                             ["acceptor-0", "acceptor-1", "log", "worker-0", "worker-1", "worker-2"])


if __name__ == "__main__":
    unittest.main()
