"""SIGHUP reload on the host: listeners added, changed and removed while
connections stay open; a bad file is not applied; log levels change; a busy
listener removed and added again; a connection keeps its protocol; a listener
re-addressed on its port; several port-0 listeners on one address."""

import http.client
import os
import signal
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import (SLOWDOWN, Daemon, echo_round_trip, free_port, listener, read_text, thread_names,  # noqa: E402
                            read_until_closed, wait_until)


ROUNDS = int(os.environ.get("EPOLLD_RELOAD_ROUNDS", "60"))


def get(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10 * SLOWDOWN)
    conn.request("GET", "/")
    body = conn.getresponse().read()
    conn.close()
    return body


class Reload(unittest.TestCase):
    def reload(self, d, config):
        """Writes `config` (built from d.config, so the log stays where it is) and reloads."""
        # stderr carries INFO whatever file_level the reload sets.
        def finished():
            return d.stderr_text().count("reloaded:") + d.stderr_text().count("reload failed")

        before = finished()
        d.write_config(config)
        d.send_signal(signal.SIGHUP)
        wait_until(lambda: finished() > before, message="the reload to finish")

    def test_listeners_come_and_go_while_connections_stay(self):
        echo_port, http_port, new_port = free_port(), free_port(), free_port()
        config = {"workers": 2, "listeners": [listener("echo", port=echo_port), listener("http", port=http_port, body="old")]}
        with Daemon(config) as d:
            echo = d.connect(echo_port)
            keep_alive = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10 * SLOWDOWN)
            keep_alive.request("GET", "/")
            self.assertEqual(keep_alive.getresponse().read(), b"old")
            self.assertEqual(echo_round_trip(echo, b"before"), b"before")

            # Add a listener, change the body, remove the echo listener.
            self.reload(d, dict(d.config, listeners=[listener("http", port=http_port, body="new"), listener("echo", port=new_port)]))
            self.assertIn("stopped listening on 127.0.0.1:%d" % echo_port, d.log_text())
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", echo_port), timeout=2).close()
            self.assertEqual(echo_round_trip(echo, b"after"), b"after", "an open connection outlives its listener")
            with d.connect(new_port) as added:
                self.assertEqual(echo_round_trip(added, b"added"), b"added")
            self.assertEqual(get(http_port), b"new")
            keep_alive.request("GET", "/")
            self.assertEqual(keep_alive.getresponse().read(), b"new", "the next request on an open connection")
            keep_alive.close()
            echo.close()
            self.assertEqual(d.stop(), 0)

    def test_streaming_client_and_connecting_clients_survive_reloads(self):
        port = free_port()
        config = {"workers": 2, "listeners": [listener("echo", port=port)]}
        with Daemon(config) as d:
            stream = d.connect(port)
            failures = []
            stop = threading.Event()

            def connect_in_a_loop():
                while not stop.is_set():
                    try:
                        with socket.create_connection(("127.0.0.1", port), timeout=5 * SLOWDOWN) as sock:
                            if echo_round_trip(sock, b"hi") != b"hi":
                                failures.append("wrong echo")
                    except OSError as e:
                        failures.append(repr(e))

            connector = threading.Thread(target=connect_in_a_loop)
            connector.start()
            for round_number in range(5):
                payload = os.urandom(256 * 1024)
                self.assertEqual(echo_round_trip(stream, payload), payload)
                self.reload(d, dict(d.config, idle_timeout=f"{30 + round_number}s"))
            stop.set()
            connector.join()
            self.assertEqual(failures, [])
            self.assertEqual(echo_round_trip(stream, b"end"), b"end")
            stream.close()

    def test_bad_file_is_not_applied(self):
        port = free_port()
        with Daemon({"listeners": [listener("echo", port=port)]}) as d:
            with open(d.config_path, "a") as config:
                config.write("colour: blue\n")
            line = read_text(d.config_path).count("\n")
            d.send_signal(signal.SIGHUP)
            error = d.wait_for_log(r"ERROR - reload failed, keeping the running configuration: .*:(\d+):\d+: .*colour")
            self.assertEqual(int(error.group(1)), line)
            with d.connect(port) as sock:
                self.assertEqual(echo_round_trip(sock, b"still"), b"still")

    def test_log_level_changes_and_restart_only_keys_warn(self):
        port = free_port()
        config = {"workers": 1, "listeners": [listener("echo", port=port)]}
        with Daemon(config) as d:
            self.reload(d, dict(d.config, workers=3, acceptors=2, log=dict(d.config["log"], file_level="warning")))
            self.assertIn("WARNING - workers: changing it needs a restart; keeping 1", d.log_text())
            self.assertIn("WARNING - acceptors: changing it needs a restart; keeping 1", d.log_text())
            self.assertEqual(sorted(name for name in thread_names(d.pid) if name.startswith(("acceptor", "worker"))),
                             ["acceptor-0", "worker-0"])
            lines = len(d.log_lines())
            with d.connect(port) as sock:
                echo_round_trip(sock, b"quiet")
            with d.connect(port) as sock:  # a second connection: the first one's close line had time to come
                echo_round_trip(sock, b"quiet")
            self.assertNotIn("DEBUG", "\n".join(d.log_lines()[lines:]))

    def test_a_busy_listener_removed_and_added_again_is_never_used_after_it_is_freed(self):
        # A client opens Connection: close requests on the second listener as
        # fast as it can while reloads take it away and bring it back: the
        # acceptor meets events for a listener the same batch removed.
        first, second = free_port(), free_port()
        with_second = {"workers": 2, "listeners": [listener("echo", port=first), listener("http", port=second)]}
        with Daemon(with_second) as d:
            without_second = dict(d.config, listeners=[listener("echo", port=first)])
            stop = threading.Event()
            answered, wrong = [], []

            def request_in_a_loop():
                while not stop.is_set():
                    try:
                        with socket.create_connection(("127.0.0.1", second), timeout=5 * SLOWDOWN) as sock:
                            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                            answer = read_until_closed(sock)
                            (answered if answer.startswith(b"HTTP/1.1 200 ") else wrong).append(answer[:64])
                    except OSError:
                        pass  # refused or reset while the listener is away: fine

            clients = [threading.Thread(target=request_in_a_loop) for _ in range(3)]
            for client in clients:
                client.start()
            try:
                for round_number in range(int(ROUNDS / SLOWDOWN)):
                    self.reload(d, without_second if round_number % 2 == 0 else dict(with_second, log=d.config["log"]))
            finally:
                stop.set()
                for client in clients:
                    client.join()
            self.assertEqual([line for line in d.log_lines() if " - ERROR - " in line], [])
            self.assertEqual(wrong, [], "every answer is a 200")
            self.assertGreater(len(answered), 0)
            self.assertEqual(d.stop(), 0)

    def test_an_open_connection_keeps_its_protocol_when_its_listener_changes_protocol(self):
        port = free_port()
        with Daemon({"workers": 1, "listeners": [listener("http", port=port, body="http")]}) as d:
            keep_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=10 * SLOWDOWN)
            keep_alive.request("GET", "/")
            self.assertEqual(keep_alive.getresponse().read(), b"http")
            self.reload(d, dict(d.config, listeners=[listener("echo", port=port)]))
            keep_alive.request("GET", "/")
            self.assertEqual(keep_alive.getresponse().read(), b"http", "still HTTP, with the options it had")
            with d.connect(port) as new:
                self.assertEqual(echo_round_trip(new, b"echo"), b"echo", "new connections get the new protocol")
            # And the next reload of the echo listener's options does not reach it either.
            self.reload(d, dict(d.config, idle_timeout="30s"))
            keep_alive.request("GET", "/")
            self.assertEqual(keep_alive.getresponse().read(), b"http")
            keep_alive.close()

    def test_a_listener_re_addressed_on_its_port_is_bound_anew(self):
        port = free_port()
        with Daemon({"listeners": [listener("echo", address="127.0.0.1", port=port)]}) as d:
            for address in ("0.0.0.0", "127.0.0.1", "0.0.0.0"):
                self.reload(d, dict(d.config, listeners=[listener("echo", address=address, port=port)]))
                self.assertNotIn("reload failed", d.stderr_text())
                with d.connect(port) as sock:
                    self.assertEqual(echo_round_trip(sock, address.encode()), address.encode())
            self.assertIn(f"listening on 0.0.0.0:{port} (echo)", d.stderr_text())

    def test_two_port_0_listeners_on_one_address_both_survive_a_reload(self):
        with Daemon({"listeners": [listener("echo"), listener("http")]}) as d:
            echo_port, http_port = d.ports
            self.reload(d, dict(d.config, idle_timeout="30s"))
            self.assertEqual(len(d.listening()), 2, "nothing bound anew")
            self.assertNotIn("stopped listening", d.log_text())
            with d.connect(echo_port) as sock:
                self.assertEqual(echo_round_trip(sock, b"one"), b"one")
            self.assertEqual(get(http_port), b"Hello, World!")

    def test_burst_of_hups_is_survived(self):
        port = free_port()
        with Daemon({"listeners": [listener("echo", port=port)]}) as d:
            for _ in range(10):
                d.send_signal(signal.SIGHUP)
            d.wait_for_log("reloaded:")
            with d.connect(port) as sock:
                self.assertEqual(echo_round_trip(sock, b"alive"), b"alive")
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
