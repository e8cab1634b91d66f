// A small load client for scripts/bench: one thread, epoll, non-blocking.
//
//   echo_load rtt    HOST PORT CONNECTIONS SECONDS MESSAGE
//       Each connection sends MESSAGE, waits until the reply's '\n' has come
//       back, and sends again. Works for echo (a message ending in '\n') and
//       for memcached's "version\r\n" alike.
//   echo_load stream HOST PORT SECONDS
//       One connection sends 64 KiB writes and reads everything back; checks
//       that every byte returned.
//   echo_load idle   HOST PORT CONNECTIONS SECONDS
//       Opens CONNECTIONS and holds them, silent, then closes them.
// MESSAGE takes \r and \n escapes. Prints one line of key=value results.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "echo_load: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

int connectTo(const char* host, int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host, &address.sin_addr) != 1) die("inet_pton");
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) die("connect");
  const int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

std::string unescape(const char* text) {
  std::string out;
  for (const char* p = text; *p; ++p) {
    if (p[0] == '\\' && p[1] == 'n') {
      out += '\n';
      ++p;
    } else if (p[0] == '\\' && p[1] == 'r') {
      out += '\r';
      ++p;
    } else {
      out += *p;
    }
  }
  return out;
}

void sendAll(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      die("send");
    }
  }
}

int roundTrips(const char* host, int port, int connections, double seconds, const std::string& message) {
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  std::vector<int> fds;
  for (int i = 0; i < connections; ++i) {
    const int fd = connectTo(host, port);
    epoll_event event{.events = EPOLLIN, .data = {.fd = fd}};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
    fds.push_back(fd);
    sendAll(fd, message);
  }
  std::uint64_t completed = 0;
  char buffer[65536];
  epoll_event events[256];
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    const int ready = epoll_wait(epoll_fd, events, 256, 100);
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n == 0) {
        errno = ECONNRESET;
        die("server closed the connection");
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        die("recv");
      }
      // One reply ends with one '\n'; a connection has one request in flight.
      if (std::memchr(buffer, '\n', static_cast<std::size_t>(n)) != nullptr) {
        ++completed;
        sendAll(fd, message);
      }
    }
  }
  std::printf("round_trips=%llu seconds=%.3f rate=%.0f\n", static_cast<unsigned long long>(completed), seconds,
              static_cast<double>(completed) / seconds);
  for (int fd : fds) close(fd);
  return 0;
}

int stream(const char* host, int port, double seconds) {
  const int fd = connectTo(host, port);
  const std::string chunk(64 * 1024, 'x');
  std::vector<char> buffer(1 << 20);
  std::uint64_t sent = 0, received = 0;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  bool sending = true;
  while (sending || received < sent) {
    if (sending && Clock::now() >= end) {
      sending = false;
      shutdown(fd, SHUT_WR);
    }
    if (sending) {
      const ssize_t n = send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::uint64_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) die("send");
    }
    const ssize_t n = recv(fd, buffer.data(), buffer.size(), sending ? MSG_DONTWAIT : 0);
    if (n > 0) received += static_cast<std::uint64_t>(n);
    if (n == 0) break;
    if (n < 0 && errno != EAGAIN && errno != EINTR) die("recv");
  }
  close(fd);
  if (received != sent) {
    std::fprintf(stderr, "echo_load: sent %llu bytes, got %llu back\n", static_cast<unsigned long long>(sent),
                 static_cast<unsigned long long>(received));
    return 1;
  }
  std::printf("bytes=%llu seconds=%.3f mb_per_s=%.1f\n", static_cast<unsigned long long>(received), seconds,
              static_cast<double>(received) / seconds / 1e6);
  return 0;
}

int idle(const char* host, int port, int connections, double seconds) {
  std::vector<int> fds;
  for (int i = 0; i < connections; ++i) fds.push_back(connectTo(host, port));
  std::printf("connected=%d\n", connections);
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  for (int fd : fds) close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "rtt" && argc == 7) {
    return roundTrips(argv[2], std::atoi(argv[3]), std::atoi(argv[4]), std::atof(argv[5]), unescape(argv[6]));
  }
  if (mode == "stream" && argc == 5) return stream(argv[2], std::atoi(argv[3]), std::atof(argv[4]));
  if (mode == "idle" && argc == 6) return idle(argv[2], std::atoi(argv[3]), std::atoi(argv[4]), std::atof(argv[5]));
  std::fprintf(stderr,
               "usage: echo_load rtt HOST PORT CONNECTIONS SECONDS MESSAGE\n"
               "       echo_load stream HOST PORT SECONDS\n"
               "       echo_load idle HOST PORT CONNECTIONS SECONDS\n");
  return 2;
}
