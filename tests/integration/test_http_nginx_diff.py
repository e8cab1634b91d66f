"""Differential test: the raw requests of http_corpus.py go to epolld and to a
real nginx (scripts/install-deps test installs nginx-light; it is started here
on a free loopback port, the way scripts/bench runs it). For each request both
must answer with the same sequence of status classes (2xx, 4xx, ...), except
the deliberate differences that the README lists, which must still differ
exactly as listed, so the table cannot go stale."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import SLOWDOWN, SOURCE_DIR, Daemon, connect_when_listening, free_port, listener  # noqa: E402
from http_corpus import CASES, DELIBERATE  # noqa: E402
from http_grammar import status_classes  # noqa: E402

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def exchange(port, request):
    """Sends request, half-closes, and reads until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10 * SLOWDOWN) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                # A server may reset after answering while input is unread.
                break
            if not chunk:
                break
            data += chunk
    return data


class Nginx:
    """nginx as scripts/bench runs it (scripts/nginx-peer.conf)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="epolld-nginx-")
        self.port = free_port()
        config = os.path.join(self.dir, "nginx.conf")
        with open(os.path.join(SOURCE_DIR, "scripts", "nginx-peer.conf")) as template:
            text = template.read()
        with open(config, "w") as out:
            out.write(text.replace("@DIR@", self.dir).replace("@PORT@", str(self.port))
                      .replace("@LISTEN_OPTIONS@", ""))
        self.process = subprocess.Popen([NGINX, "-p", self.dir, "-c", config],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        connect_when_listening(self.port, self.process).close()

    def stop(self):
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(NGINX, "nginx is not installed (scripts/install-deps test installs it)")
class SameStatusClassAsNginx(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.nginx = Nginx()
        try:
            cls.daemon = Daemon({"workers": 1, "listeners": [listener("http")]}).start()
        except BaseException:
            cls.nginx.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        assert cls.daemon.stop() == 0
        cls.daemon.__exit__(None, None, None)

    def test_every_case_gets_the_same_status_classes_unless_listed_as_deliberate(self):
        table = []
        for case in CASES:
            ours = status_classes(exchange(self.daemon.port, case.request))
            theirs = status_classes(exchange(self.nginx.port, case.request))
            table.append(f"{ours:>8} {theirs:>8}  {case.name} ({case.source})")
            with self.subTest(case.name):
                self.assertEqual((ours, theirs), DELIBERATE.get(case.name, (theirs, theirs)))
        print("\n  epolld    nginx  request", *table, sep="\n  ", file=sys.stderr)
        self.assertTrue(self.daemon.process.poll() is None, "epolld is still running")

    def test_every_deliberate_difference_is_a_case_and_a_row_of_the_readme(self):
        names = {case.name for case in CASES}
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")) as readme:
            text = readme.read()
        for name in DELIBERATE:
            self.assertIn(name, names)
            self.assertTrue(f"| {name} |" in text, f"README.md has no row for {name!r}")

    def test_the_corpus_names_are_unique(self):
        self.assertEqual(len({case.name for case in CASES}), len(CASES))


if __name__ == "__main__":
    unittest.main()
