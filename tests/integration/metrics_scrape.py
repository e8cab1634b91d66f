"""Reads epolld's admin listener as a monitoring system would."""

import http.client
import re

from epolld_harness import SLOWDOWN

SAMPLE_RE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$')
LABEL_RE = re.compile(r'(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\]|\\.)*)"')


def get(port, path, method="GET", timeout=5.0):
    """(status, body) of one request on a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout * SLOWDOWN)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def parse(text):
    """{(name, frozenset of (label, value)): value} for every sample line;
    comments are checked to be HELP or TYPE."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert line.startswith(("# HELP ", "# TYPE ")), line
            continue
        match = SAMPLE_RE.match(line)
        assert match, f"not a sample line: {line!r}"
        labels = frozenset((m.group("name"), m.group("value")) for m in LABEL_RE.finditer(match.group("labels") or ""))
        samples[(match.group("name"), labels)] = float(match.group("value"))
    return samples


def scrape(port):
    status, body = get(port, "/metrics")
    assert status == 200, (status, body)
    return parse(body)


def value(samples, name, **labels):
    """The sample's value; 0 when it is absent (a code not seen yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)
