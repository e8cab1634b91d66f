"""A real Prometheus (Debian's, started here as an ordinary process on
loopback, never as a service) scrapes the admin listener, and its query API
gives back exactly the requests a known load made."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import unittest
import urllib.parse
import urllib.request

from epolld_harness import SLOWDOWN, Daemon, free_port, listener, wait_until

REQUESTS = 25


class Prometheus(unittest.TestCase):
    def start_prometheus(self, target_port):
        binary = shutil.which("prometheus")
        self.assertIsNotNone(binary, "prometheus (Debian package) is needed: scripts/install-deps test")
        work = tempfile.mkdtemp(prefix="epolld-prometheus-")
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        config = os.path.join(work, "prometheus.yml")
        with open(config, "w") as out:
            out.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                      "scrape_configs:\n"
                      "  - job_name: epolld\n"
                      f"    static_configs: [{{targets: ['127.0.0.1:{target_port}']}}]\n")
        port = free_port()
        process = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={work}/data",
                                    f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                                   stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "stderr"), "w"))

        def stop():
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

        self.addCleanup(stop)
        return port, process

    def query(self, port, expression):
        """The instant vector's values, or None while Prometheus is not up."""
        url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                answer = json.load(response)
        except OSError:
            return None
        self.assertEqual(answer["status"], "success", answer)
        return [float(sample["value"][1]) for sample in answer["data"]["result"]]

    def test_prometheus_reads_the_exact_request_count(self):
        with Daemon({"listeners": [listener("http"), {"port": 0, "protocol": "admin"}]}) as d:
            http_port, admin_port = d.ports
            with socket.create_connection(("127.0.0.1", http_port)) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n" * REQUESTS)
                got = b""
                while got.count(b"Hello, World!") < REQUESTS:
                    chunk = sock.recv(65536)
                    self.assertTrue(chunk, "closed early")
                    got += chunk
            port, process = self.start_prometheus(admin_port)
            expression = f'sum(epolld_http_requests_total{{listener="127.0.0.1:{http_port}",code="200"}})'

            def scraped():
                self.assertIsNone(process.poll(), "prometheus exited")
                values = self.query(port, expression)
                return values if values else None

            values = wait_until(scraped, 60 * SLOWDOWN, interval=0.2, message="Prometheus to scrape epolld")
            self.assertEqual(values, [REQUESTS])
            self.assertEqual(self.query(port, 'up{job="epolld"}'), [1])


if __name__ == "__main__":
    unittest.main()
