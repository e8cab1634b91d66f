"""Generated differential test against nginx: requests built by http_grammar.py
(every method, target form, percent-encoding, field byte class, Host and body
framing it knows, each bent at most once) go to epolld and to a real nginx,
one per connection, and both must answer with the same status classes, or as
the difference class of the request's mutation says, which is a row of the
README's table of deliberate differences. Some requests carry a second GET
behind them: whether it is answered shows whether the connection stayed open
and was framed alike.

CTest runs a fixed seed and one random seed, printed; scripts/diff-nginx runs
as many as asked. A failure prints the seed, the index, the request's bytes
and the command that sends that one request again."""

import concurrent.futures
import os
import random
import sys
import unittest
from collections import Counter

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import Daemon, listener  # noqa: E402
from http_grammar import CLASSES, escaped, generate, status_classes, verdict  # noqa: E402
from test_http_nginx_diff import NGINX, Nginx, exchange  # noqa: E402

FIXED_SEED = 1
FIXED_COUNT = 4000
RANDOM_COUNT = 2000
THREADS = 8
README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")


def answer(port, request):
    """The server's status classes, or what went wrong instead (a server that
    neither answers nor closes fails its request, seed and index printed)."""
    try:
        return status_classes(exchange(port, request))
    except (OSError, ValueError, IndexError) as error:
        return f"no answer ({type(error).__name__}: {error})"


def answers(case, epolld_port, nginx_port):
    """The case and both servers' status classes."""
    return case, answer(epolld_port, case.request), answer(nginx_port, case.request)


def run(seed, indices, epolld_port, nginx_port, threads=THREADS, make=generate):
    """Sends each request `make` builds to both servers; returns the failures
    (as text) and a count of the requests by class and by outcome."""
    failures = []
    counts = Counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        jobs = [pool.submit(answers, make(seed, index), epolld_port, nginx_port) for index in indices]
        for job in jobs:
            case, ours, theirs = job.result()
            problem = verdict(case, ours, theirs)
            counts[(case.klass or "(must agree)", "failed" if problem else "ok")] += 1
            if problem:
                failures.append(describe_failure(seed, case, ours, theirs, problem, make))
    return failures, counts


def describe_failure(seed, case, ours, theirs, problem, make=generate):
    pairs = " --pairs" if make is not generate else ""
    return (f"seed {seed} index {case.index} ({case.mutation}): {problem}\n"
            f"  request: {escaped(case.request)}\n"
            f"  reproduce: EPOLLD_BINARY={os.environ.get('EPOLLD_BINARY', 'build/daemon/epolld')} "
            f"scripts/diff-nginx 1 {seed} --only {case.index}{pairs}")


def summary(counts):
    lines = []
    for klass in sorted({klass for klass, _ in counts}):
        lines.append(f"{counts[(klass, 'ok')]:6} ok {counts[(klass, 'failed')]:4} failed  {klass}")
    return "\n".join(lines)


class Servers:
    """A started nginx and epolld (one worker, the configured body)."""

    def __enter__(self):
        self.nginx = Nginx()
        try:
            self.daemon = Daemon({"workers": 1, "listeners": [listener("http")]}).start()
        except BaseException:
            self.nginx.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.nginx.stop()
        status = self.daemon.stop()
        self.daemon.__exit__(None, None, None)
        assert status == 0, f"epolld exited with {status}"


@unittest.skipUnless(NGINX, "nginx is not installed (scripts/install-deps test installs it)")
class GeneratedRequestsAgreeWithNginx(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.servers = Servers().__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.servers.__exit__(None, None, None)

    def check_seed(self, seed, count):
        failures, counts = run(seed, range(count), self.servers.daemon.port, self.servers.nginx.port)
        print(f"\nseed {seed}, {count} requests:\n{summary(counts)}", file=sys.stderr)
        self.assertTrue(self.servers.daemon.process.poll() is None, "epolld is still running")
        if failures:
            self.fail(f"{len(failures)} of {count} generated requests failed:\n" + "\n".join(failures[:20]))

    def test_fixed_seed(self):
        self.check_seed(FIXED_SEED, FIXED_COUNT)

    def test_random_seed(self):
        seed = random.SystemRandom().randrange(1 << 32)
        print(f"\nrandom seed {seed}", file=sys.stderr)
        self.check_seed(seed, RANDOM_COUNT)


class DifferenceClasses(unittest.TestCase):
    def test_every_class_is_a_row_of_the_readme(self):
        with open(README) as readme:
            text = readme.read()
        for name in CLASSES:
            self.assertIn(f"| {name} |", text, f"README.md has no row for {name!r}")

    def test_the_generator_is_a_function_of_seed_and_index(self):
        self.assertEqual(generate(7, 123), generate(7, 123))
        self.assertNotEqual(generate(7, 123).request, generate(8, 123).request)

    def test_every_class_is_generated(self):
        seen = {generate(FIXED_SEED, index).klass for index in range(FIXED_COUNT)}
        self.assertEqual(set(CLASSES) - seen, set())


if __name__ == "__main__":
    unittest.main()
