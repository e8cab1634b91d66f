"""What the kernel knows about a connection, for tests that must tell
"epolld stopped reading" from "epolld is slow" without sleeping.

/proc/net/tcp{,6} shows, per socket, the bytes queued for sending (tx_queue)
and the bytes received but not yet read by the application (rx_queue). The
daemon's side of a connection is the socket whose local port is the
listener's and whose remote port is the client's.
"""

import fcntl
import os
import random
import selectors
import socket
import struct
import termios
import threading
import time


def tcp_queues(local_port, remote_port):
    """(tx_queue, rx_queue) of the connected socket local_port <-> remote_port
    (established, or half-closed: CLOSE_WAIT, FIN_WAIT…), or None."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    local, remote, state, queues = fields[1], fields[2], fields[3], fields[4]
                    if state == "0A":  # TCP_LISTEN: a listener, not a connection
                        continue
                    if int(local.rsplit(":", 1)[1], 16) != local_port:
                        continue
                    if int(remote.rsplit(":", 1)[1], 16) != remote_port:
                        continue
                    tx, rx = queues.split(":")
                    return int(tx, 16), int(rx, 16)
        except FileNotFoundError:
            continue
    return None


def unread_by_daemon(daemon_port, client_sock):
    """Bytes the client sent that sit in the daemon's receive queue, unread."""
    queues = tcp_queues(daemon_port, client_sock.getsockname()[1])
    return None if queues is None else queues[1]


def unacked_by_daemon(client_sock):
    """Bytes in the client's send queue (not yet acknowledged by the daemon's kernel)."""
    return struct.unpack("i", fcntl.ioctl(client_sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]


class PatternStream:
    """A long deterministic byte stream: one random block repeated, each copy
    stamped with its index so that a lost, repeated or reordered block is
    caught, not just a wrong byte."""

    def __init__(self, block_size=1 << 20, seed=7):
        self.block = random.Random(seed).randbytes(block_size)
        self._stamped = {}
        self._lock = threading.Lock()

    def _copy(self, index):
        with self._lock:
            copy = self._stamped.get(index)
            if copy is None:
                if len(self._stamped) > 8:
                    self._stamped.clear()
                copy = self._stamped[index] = struct.pack(">Q", index) + self.block[8:]
            return copy

    def chunk(self, offset, size):
        """The `size` bytes at `offset`."""
        out = bytearray()
        while size > 0:
            index, within = divmod(offset, len(self.block))
            piece = self._copy(index)[within:within + size]
            out += piece
            offset += len(piece)
            size -= len(piece)
        return bytes(out)


class Sender(threading.Thread):
    """Sends up to `total` bytes of `stream` on a non-blocking socket until it
    is done, told to stop, or no byte has been taken for `stall` seconds."""

    def __init__(self, sock, stream, total, stall, chunk=65536, deadline=120.0, shut_when_done=False, offset=0):
        super().__init__(daemon=True)
        self.shut_when_done = shut_when_done
        self.sock = sock
        self.stream = stream
        self.total = total
        self.stall = stall
        self.chunk_size = chunk
        self.deadline = deadline
        self.sent = offset  # bytes of `stream` sent, counting those before this thread
        self.stalled = False
        self.error = None
        self.stop = threading.Event()

    def run(self):
        self.sock.setblocking(False)
        last_progress = time.monotonic()
        give_up = last_progress + self.deadline
        with selectors.DefaultSelector() as selector:
            selector.register(self.sock, selectors.EVENT_WRITE)
            while self.sent < self.total and not self.stop.is_set():
                now = time.monotonic()
                if now - last_progress > self.stall:
                    self.stalled = True
                    return
                if now > give_up:
                    return
                if not selector.select(0.05):
                    continue
                data = self.stream.chunk(self.sent, min(self.chunk_size, self.total - self.sent))
                try:
                    count = self.sock.send(data)
                except BlockingIOError:
                    continue
                except OSError as e:
                    self.error = e
                    return
                if count:
                    self.sent += count
                    last_progress = time.monotonic()
        if self.sent == self.total and self.shut_when_done:
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError as e:
                self.error = e


def receive_stream(sock, stream, timeout, limit=None):
    """Reads from a (possibly non-blocking) socket until EOF, checking every
    byte against `stream`. Returns (bytes matched, how it ended): "eof",
    "reset", "timeout" or "mismatch at OFFSET"."""
    received = 0
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        while limit is None or received < limit:
            left = deadline - time.monotonic()
            if left <= 0:
                return received, "timeout"
            if not selector.select(min(left, 0.5)):
                continue
            try:
                data = sock.recv(1 << 20)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                return received, "reset"
            if not data:
                return received, "eof"
            if data != stream.chunk(received, len(data)):
                expected = stream.chunk(received, len(data))
                first = next(i for i in range(len(data)) if data[i] != expected[i])
                return received + first, f"mismatch at {received + first}"
            received += len(data)
    return received, "limit"



def _socket_inodes_by_state():
    """{inode: state} of every TCP socket in this network namespace."""
    states = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    states[fields[9]] = fields[3]
        except FileNotFoundError:
            continue
    return states


def connection_fds(pid):
    """How many of the process's descriptors are TCP connections (sockets
    that are not listening)."""
    states = _socket_inodes_by_state()
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue
        if target.startswith("socket:["):
            inode = target[len("socket:["):-1]
            if states.get(inode, "0A") != "0A":
                count += 1
    return count


def started_baseline(daemon, host="127.0.0.1", port=None):
    """The daemon's descriptor count once it is fully started.

    The `listening on` lines come before the workers and the acceptor exist,
    so a count taken right after them can be short. A connection served end
    to end proves the start is over; once it is closed again, the count is
    the baseline."""
    from epolld_harness import echo_round_trip, open_fds, wait_until
    with daemon.connect(port=port, host=host) as sock:
        if echo_round_trip(sock, b"ready?") != b"ready?":
            raise AssertionError("the daemon does not echo")
    wait_until(lambda: connection_fds(daemon.pid) == 0, timeout=20, message="the probe connection to close")
    return open_fds(daemon.pid)
