"""Several acceptor threads (`acceptors:`) sharing each listening socket:
every connection is served exactly once, max_connections holds across them,
reloads add and remove listeners in all of them while connections arrive,
and a socket passed by systemd is shared too."""

import os
import signal
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from epolld_harness import (SLOWDOWN, Daemon, SocketActivated, connect_when_listening, connection_refused,  # noqa: E402
                             echo_round_trip, free_port, listener, open_fds, read_until_closed, thread_names,
                             wait_until)
from metrics_scrape import scrape, value  # noqa: E402

ADMIN = {"address": "127.0.0.1", "port": 0, "protocol": "admin"}


def scrape_or_none(port):
    """/metrics, or None while max_connections refuses the request."""
    try:
        return scrape(port)
    except (ConnectionError, OSError):
        return None


def burst(port, clients, per_client):
    """Echo connections from several threads at once; returns the local port
    of each one that got its echo back, and the errors of the others."""
    served, errors = [], []
    lock = threading.Lock()

    def client(index):
        for n in range(per_client):
            payload = f"client {index} connection {n}\n".encode()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=10 * SLOWDOWN) as sock:
                    local = sock.getsockname()[1]
                    if echo_round_trip(sock, payload) != payload:
                        raise ValueError("echo differs")
                with lock:
                    served.append(local)
            except (OSError, ValueError) as e:
                with lock:
                    errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return served, errors


class Acceptors(unittest.TestCase):
    def check_every_connection_served_once(self, acceptors):
        with Daemon({"workers": 2, "acceptors": acceptors, "listeners": [listener("echo"), ADMIN]}) as d:
            names = thread_names(d.pid)
            self.assertEqual(sorted(n for n in names if n.startswith("acceptor")),
                             [f"acceptor-{i}" for i in range(acceptors)])
            served, errors = burst(d.ports[0], clients=8, per_client=40)
            self.assertEqual(errors, [])
            self.assertEqual(len(served), 320)
            # Each accepted once: one accept line per client port (a port is
            # reused only after its connection is gone, so count lines per port
            # against connections per port).
            wait_until(lambda: d.log_text().count("accept connection from 127.0.0.1, ") >= 320,
                       message="320 accept lines")
            accepted_lines = d.log_text().count("accept connection from 127.0.0.1, ")
            self.assertEqual(accepted_lines, 320)
            samples = scrape(d.ports[1])
            name = f"127.0.0.1:{d.ports[0]}"
            self.assertEqual(value(samples, "epolld_connections_accepted_total", listener=name), 320)
            by_acceptor = [value(samples, "epolld_acceptor_connections_accepted_total", listener=name,
                                 acceptor=str(i)) for i in range(acceptors)]
            self.assertEqual(sum(by_acceptor), 320, by_acceptor)
            # Eight clients at once keep the first acceptor busy at times, and
            # the kernel then wakes another: more than one takes connections.
            self.assertGreater(sum(1 for count in by_acceptor if count > 0), 1, by_acceptor)
            wait_until(lambda: value(scrape(d.ports[1]), "epolld_connections_open", listener=name) == 0,
                       message="every connection to be closed")
            self.assertEqual(d.stop(), 0)

    def test_two_acceptors_serve_every_connection_once(self):
        self.check_every_connection_served_once(2)

    def test_three_acceptors_serve_every_connection_once(self):
        self.check_every_connection_served_once(3)

    def test_max_connections_holds_across_acceptors(self):
        config = {"workers": 2, "acceptors": 3, "max_connections": 10, "listeners": [listener("echo"), ADMIN]}
        with Daemon(config) as d:
            admin = d.ports[1]
            # The admin scrapes count too: keep room for them by taking 9.
            held = [d.connect(d.ports[0]) for _ in range(9)]
            for sock in held:
                self.assertEqual(echo_round_trip(sock, b"held"), b"held")
            # 30 more at once, on whichever acceptor the kernel wakes: one
            # place is left, so exactly one is served and 29 are closed.
            extra = [d.connect(d.ports[0]) for _ in range(30)]
            answers = []
            for sock in extra:
                try:
                    sock.sendall(b"x")
                    answers.append(sock.recv(1))  # b"x" from the one that got in, b"" from the others
                except (ConnectionResetError, BrokenPipeError):
                    answers.append(b"")
            self.assertEqual(sorted(answers), [b""] * 29 + [b"x"])
            for sock in held + extra:
                sock.close()
            samples = wait_until(lambda: scrape_or_none(admin), message="room for the admin request")
            name = f"127.0.0.1:{d.ports[0]}"
            self.assertEqual(value(samples, "epolld_connections_refused_total", listener=name), 29)
            self.assertEqual(value(samples, "epolld_connections_accepted_total", listener=name), 10)
            self.assertEqual(d.stop(), 0)

    def test_reloads_add_and_remove_listeners_in_every_acceptor(self):
        fixed = listener("echo")
        with Daemon({"workers": 2, "acceptors": 3, "listeners": [fixed]}) as d:
            baseline = open_fds(d.pid)
            stop = threading.Event()
            results = {"served": 0, "errors": []}

            def hammer():
                while not stop.is_set():
                    served, errors = burst(d.ports[0], clients=2, per_client=5)
                    results["served"] += len(served)
                    results["errors"] += errors

            thread = threading.Thread(target=hammer)
            thread.start()
            try:
                for round_ in range(6):
                    port = free_port()
                    added = listener("http" if round_ % 2 else "echo", port=port)
                    d.write_config({**d.config, "listeners": [fixed, added]})
                    d.send_signal(signal.SIGHUP)
                    sock = connect_when_listening(port, d.process)
                    # Several connections, so that more than one acceptor is likely to take one.
                    for _ in range(6):
                        with connect_when_listening(port, d.process) as extra:
                            if added["protocol"] == "echo":
                                self.assertEqual(echo_round_trip(extra, b"added"), b"added")
                            else:
                                extra.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                                self.assertTrue(read_until_closed(extra).startswith(b"HTTP/1.1 200 "))
                    sock.close()
                    d.write_config({**d.config, "listeners": [fixed]})
                    d.send_signal(signal.SIGHUP)
                    d.wait_for_log(rf"stopped listening on 127\.0\.0\.1:{port} ")
                    wait_until(lambda: connection_refused(port),
                               message=f"port {port} to be closed by every acceptor")
            finally:
                stop.set()
                thread.join()
            self.assertEqual(results["errors"], [])
            self.assertGreater(results["served"], 0)
            # Every removed listener's socket is closed: no descriptor is left over.
            wait_until(lambda: open_fds(d.pid) <= baseline, message="descriptors back to the start")
            self.assertEqual(d.stop(), 0)

    def test_a_socket_passed_by_systemd_is_shared_by_the_acceptors(self):
        port = free_port()
        with SocketActivated({"workers": 2, "acceptors": 2, "listeners": [listener("echo", port=port)]},
                             [port]) as activated:
            with connect_when_listening(port, activated.process) as sock:
                self.assertEqual(echo_round_trip(sock, b"activated"), b"activated")
            wait_until(lambda: "systemd passed 1 listening sockets" in activated.log_text(),
                       message="the passed socket")
            served, errors = burst(port, clients=4, per_client=20)
            self.assertEqual((len(served), errors), (80, []))
            self.assertNotIn("bind", activated.log_text())
            self.assertEqual(activated.stop(), 0)


if __name__ == "__main__":
    unittest.main()
