"""Random connections, run concurrently, against the real binary: HTTP (the
configured body, a large body, static files with conditionals and ranges,
bodies by length and chunked, malformed requests) and echo, sent pipelined or
in lockstep, cut into random writes with random pauses, read at random speeds
with stalls, ended by an early or late half-close or an RST. Every response
stream is checked against random_model's model: the same responses in order,
byte-exact bodies, nothing missing, nothing extra, closed exactly where the
model says. Afterwards the daemon must be alive, answer a fresh request,
have held its memory while readers stalled, and be back to its baseline of
descriptors.

Seeded: a few fixed seeds plus one random seed per run (EPOLLD_RANDOM_SEED
replaces them with one). A failure prints the seed, the connection and the
commands that replay it; scripts/random-connections runs many more.
"""

import concurrent.futures
import itertools
import os
import random
import socket
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import BINARY, SLOWDOWN, Daemon, listener, open_fds, rss_kib, wait_until  # noqa: E402
from epolld_probe import started_baseline  # noqa: E402
import random_model  # noqa: E402

FIXED_SEEDS = [1, 2, 3]
CONNECTIONS_PER_SEED = 24  # at SLOWDOWN 1; fewer under sanitizers
CONCURRENCY = 8
OUTPUT_BUFFER_LIMIT = 256 * random_model.KIB
# Not scaled by SLOWDOWN: a head takes as long to send to a sanitized binary.
# Generous, as a writer thread may wait for the GIL between its many writes.
HEADER_TIMEOUT = 4
IDLE_TIMEOUT = 20  # far above HEADER_TIMEOUT: a silent client shows which one it met
# Concurrent connections may each hold their output limit, their input
# limit and a response; anything far above that is a limit not holding.
RSS_GROWTH_LIMIT_KIB = (32 * random_model.MIB + CONCURRENCY * 4 * OUTPUT_BUFFER_LIMIT) // 1024
LISTENERS = ["hello", "big", "files", "echo"]


def seeds_for_this_run():
    """EPOLLD_RANDOM_SEED alone, or the fixed seeds and one fresh one."""
    if os.environ.get("EPOLLD_RANDOM_SEED"):
        return [os.environ["EPOLLD_RANDOM_SEED"]]
    fresh = random.SystemRandom().randrange(1 << 31)
    print(f"random connections: fixed seeds {FIXED_SEEDS}, random seed {fresh}", file=sys.stderr)
    return FIXED_SEEDS + [fresh]


def default_count(slowdown=SLOWDOWN):
    """Connections per seed: fewer, not slower, where the binary is slower."""
    return max(8, int(CONNECTIONS_PER_SEED / slowdown))


def reproduce_commands(seed, count, index=None):
    # The plans depend on the slowdown (sizes scale down with it).
    env = f"EPOLLD_TEST_SLOWDOWN={SLOWDOWN:g} " if SLOWDOWN != 1 else ""
    only = f" --only {index}" if index is not None else ""
    if random_model.LATE_BYTES_AFTER_CLOSE:
        only += " --late-after-close"
    return (f"  {env}scripts/random-connections --binary {BINARY} --seed {seed} --count {count}{only}\n"
            f"  {env}EPOLLD_BINARY={BINARY} EPOLLD_RANDOM_SEED={seed} EPOLLD_RANDOM_COUNT={count} "
            f"python3 tests/integration/test_random_connections.py")


class Fleet:
    """One daemon with the four listeners, the files of a seed under its root,
    and the validators the daemon announced for them."""

    def __init__(self, seed, slowdown=SLOWDOWN):
        self.seed = seed
        self.slowdown = slowdown
        self.files = random_model.make_files(seed)
        self.root = tempfile.mkdtemp(prefix="epolld-random-www-")
        for name, content in self.files.items():
            with open(os.path.join(self.root, name), "wb") as out:
                out.write(content)
        http = {"header_timeout": f"{HEADER_TIMEOUT}s"}
        self.daemon = Daemon({
            "workers": 2,
            "idle_timeout": f"{IDLE_TIMEOUT}s",
            "output_buffer_limit": f"{OUTPUT_BUFFER_LIMIT // 1024}KiB",
            "log": {"file_level": "info"},  # a DEBUG line per request would only slow it
            "listeners": [listener("http", **http),
                          listener("http", body=random_model.big_body().decode(), **http),
                          listener("http", root=self.root, **http),
                          listener("echo")],
        })

    def __enter__(self):
        try:
            self.daemon.start()
            self.ports = dict(zip(LISTENERS, self.daemon.ports))
            self.baseline_fds = started_baseline(self.daemon, port=self.ports["echo"])
            self.baseline_rss = rss_kib(self.daemon.pid)
            self.validators = self._learn_validators()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        self.daemon.__exit__(*exc)
        for name in self.files:
            os.unlink(os.path.join(self.root, name))
        os.rmdir(self.root)
        return False

    def _learn_validators(self):
        """Every file's ETag and Last-Modified, as a client learns them: HEAD."""
        request = b"".join(b"HEAD /%s HTTP/1.1\r\nHost: x\r\n\r\n" % name.encode() for name in self.files)
        with socket.create_connection(("127.0.0.1", self.ports["files"]), timeout=10 * self.slowdown) as sock:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
            data = bytearray()
            while chunk := sock.recv(65536):
                data += chunk
        heads = bytes(data).split(b"\r\n\r\n")[:-1]
        validators = {}
        for name, head in zip(self.files, heads):
            fields = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:])
            validators[name] = random_model.Validators(fields["ETag"], fields["Last-Modified"])
        if len(validators) != len(self.files):
            raise AssertionError(f"HEAD of every file got {len(heads)} responses: {bytes(data[:300])!r}")
        return validators

    def run(self, count, indices=None, concurrency=CONCURRENCY, on_result=None):
        """Plays connections 0..count-1 of the seed (or `indices`), `concurrency`
        at a time. Returns (failures, stats); a failure is (plan, what)."""
        indices = list(range(count)) if indices is None else indices
        peak = {"rss": rss_kib(self.daemon.pid)}
        sampling = threading.Event()

        def sample():
            while not sampling.wait(0.02):
                try:
                    peak["rss"] = max(peak["rss"], rss_kib(self.daemon.pid))
                except (OSError, AssertionError):
                    return

        def play(index):
            # Planned here, not up front: an echo plan holds its megabytes.
            plan = random_model.plan_connection(self.seed, index, self.files, self.slowdown)
            run = random_model.ConnectionRun(plan, self.ports, self.files, self.validators, self.slowdown,
                                             HEADER_TIMEOUT)
            what = run.run()
            return plan, what, run.requests

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        failures = []
        stats = {"connections": 0, "requests": 0, "echo_bytes": 0}
        try:
            # A window of `concurrency` connections at a time, not all queued
            # at once: a finished connection's plan (and its bytes) goes.
            upcoming = iter(indices)
            running = set()
            with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
                while True:
                    for index in itertools.islice(upcoming, concurrency - len(running)):
                        running.add(pool.submit(play, index))
                    if not running:
                        break
                    done, running = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                    for future in done:
                        plan, what, requests = future.result()
                        stats["connections"] += 1
                        stats["requests"] += requests
                        if plan.protocol == "echo":
                            stats["echo_bytes"] += sum(map(len, plan.units))
                        if what is not None:
                            failures.append((plan, what))
                        if on_result:
                            on_result(plan, what)
        finally:
            sampling.set()
            sampler.join()
        stats["rss_growth_kib"] = peak["rss"] - self.baseline_rss
        return sorted(failures, key=lambda failure: failure[0].index), stats

    def health_problems(self):
        """What is wrong with the daemon once every connection is over."""
        problems = []
        if self.daemon.process.poll() is not None:
            return [f"epolld exited with {self.daemon.process.returncode}: {self.daemon.stderr_text()[-2000:]}"]
        try:
            with socket.create_connection(("127.0.0.1", self.ports["hello"]), timeout=10 * self.slowdown) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = bytearray()
                while chunk := sock.recv(65536):
                    data += chunk
            if not (data.startswith(b"HTTP/1.1 200 ") and data.endswith(random_model.HELLO)):
                problems.append(f"a fresh request got {bytes(data[:200])!r}")
        except OSError as e:
            problems.append(f"a fresh request failed: {e!r}")
        try:
            wait_until(lambda: open_fds(self.daemon.pid) == self.baseline_fds, timeout=20,
                       message=f"descriptors back to {self.baseline_fds}")
        except AssertionError:
            problems.append(f"{open_fds(self.daemon.pid)} descriptors open, {self.baseline_fds} before")
        return problems


def play_seed(seed, count, indices=None, concurrency=CONCURRENCY, on_result=None):
    """Plays a seed's connections on a fresh daemon. Returns (failures,
    problems, stats): the connections that differed from the model, and what
    is wrong with the daemon afterwards (health, RSS, exit status)."""
    with Fleet(seed) as fleet:
        failures, stats = fleet.run(count, indices, concurrency, on_result)
        problems = fleet.health_problems()
        # A sanitizer's own memory (ASan's quarantine) would swamp the measure.
        if not os.environ.get("EPOLLD_SANITIZER") and stats["rss_growth_kib"] >= RSS_GROWTH_LIMIT_KIB:
            problems.append(f"RSS grew by {stats['rss_growth_kib']} KiB while readers stalled (limit "
                            f"{RSS_GROWTH_LIMIT_KIB} KiB for output_buffer_limit {OUTPUT_BUFFER_LIMIT // 1024} KiB)")
        status = fleet.daemon.stop()
        if status != 0:
            problems.append(f"epolld exited with {status} on SIGTERM")
    return failures, problems, stats


def failure_report(seed, count, failures, problems=()):
    lines = [f"seed {seed}: {problem}\nreproduce:\n{reproduce_commands(seed, count)}" for problem in problems]
    for plan, what in failures[:10]:
        lines.append(f"seed {seed} connection {plan.index}: {what}\n  {plan.describe()[:1500]}\n"
                     f"reproduce:\n{reproduce_commands(seed, count, plan.index)}")
    if len(failures) > 10:
        lines.append(f"... and {len(failures) - 10} more failures")
    return "\n".join(lines)


class RandomConnections(unittest.TestCase):
    def test_random_connections_get_what_the_model_says(self):
        seeds = seeds_for_this_run()
        count = int(os.environ.get("EPOLLD_RANDOM_COUNT", default_count()))
        # The seeds' daemons run side by side: most of a seed's time is
        # waiting (silent clients, stalled readers), not work.
        with concurrent.futures.ThreadPoolExecutor(len(seeds)) as pool:
            outcomes = list(pool.map(lambda seed: play_seed(seed, count), seeds))
        for seed, (failures, problems, stats) in zip(seeds, outcomes):
            with self.subTest(seed=seed):
                if failures or problems:
                    self.fail("\n" + failure_report(seed, count, failures, problems))
                self.assertEqual(stats["connections"], count)


if __name__ == "__main__":
    unittest.main()
