// echo_load: the load client scripts/bench drives epolld and memcached with.
// One thread, one epoll instance, non-blocking sockets, nothing but libc.
//
//   echo_load rtt    --port P [--connections C] [--message M] [--check-echo]
//   echo_load stream --port P [--write-size BYTES]
//   echo_load idle   --port P [--connections N]
//   common:          [--host IP] [--duration S] [--warmup S] [--server-pid PID]
//
// rtt: every connection sends M, waits for the whole reply, sends again. A reply
//   is complete when it holds as many '\n' as M does, which fits echo (a line
//   comes back) and memcached ("version\r\n" -> "VERSION 1.6.18\r\n") alike.
//   --check-echo also requires the reply to be M byte for byte.
// stream: one connection writes continuously and reads everything back; after
//   the run it half-closes and checks that every byte written came back.
// idle: opens N silent connections and holds them for the duration (0: until
//   SIGINT/SIGTERM); the server closing any of them is an error.
// Only the --duration window after --warmup is measured. With --server-pid the
// client samples that process's CPU time (utime+stime, /proc/PID/stat) at the
// edges of the window, so setup and warm-up do not count; idle reports its
// resident memory (VmRSS) before and after the connections.
// Prints one line of key=value; exits 1 on any connection error, 2 on usage.
// One file on purpose: it needs nothing but libc and core/unique_fd.h, so it
// can be copied to and built on a client machine by itself.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/unique_fd.h"

namespace {

using epolld::UniqueFd;
using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr int kConnectsInFlight = 256;  // stay well inside the server's listen backlog
constexpr std::chrono::seconds kConnectTimeout{20};
constexpr std::chrono::seconds kDrainTimeout{10};  // for replies still in flight when the run ends
constexpr int kMaxEvents = 256;

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  int port = 0;
  int connections = 1;
  double duration = 5.0;
  double warmup = 1.0;
  std::string message = std::string(63, 'x') + "\n";
  bool check_echo = false;
  std::size_t write_size = 256 * 1024;
  pid_t server_pid = 0;
};

[[noreturn]] __attribute__((format(printf, 1, 2))) void fail(const char* format, ...) {
  std::fputs("echo_load: ", stderr);
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
  std::exit(1);
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "echo_load: %s\n"
               "usage: echo_load rtt    --port P [--connections C] [--message M] [--check-echo]\n"
               "       echo_load stream --port P [--write-size BYTES]\n"
               "       echo_load idle   --port P [--connections N]\n"
               "       common: [--host IP] [--duration S] [--warmup S] [--server-pid PID]\n"
               "M takes the escapes \\n \\r \\t \\\\ \\xHH\n",
               why);
  std::exit(2);
}

// "version\\r\\n" as typed in a shell -> "version\r\n".
std::string unescape(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char next = text[++i];
    if (next == 'n') {
      out += '\n';
    } else if (next == 'r') {
      out += '\r';
    } else if (next == 't') {
      out += '\t';
    } else if (next == '\\') {
      out += '\\';
    } else if (next == 'x' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      usage("unknown escape in --message");
    }
  }
  return out;
}

double parseNumber(const std::string& name, const char* text) {
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || value < 0) usage(("bad value for " + name).c_str());
  return value;
}

Options parseOptions(int argc, char** argv) {
  if (argc < 2) usage("no mode given");
  Options options;
  options.mode = argv[1];
  if (options.mode != "rtt" && options.mode != "stream" && options.mode != "idle") usage("unknown mode");
  for (int i = 2; i < argc; ++i) {
    const std::string name = argv[i];
    if (name == "--check-echo") {
      options.check_echo = true;
      continue;
    }
    if (i + 1 == argc) usage(("missing value for " + name).c_str());
    const char* value = argv[++i];
    if (name == "--host") {
      options.host = value;
    } else if (name == "--port") {
      options.port = static_cast<int>(parseNumber(name, value));
    } else if (name == "--connections") {
      options.connections = static_cast<int>(parseNumber(name, value));
    } else if (name == "--duration") {
      options.duration = parseNumber(name, value);
    } else if (name == "--warmup") {
      options.warmup = parseNumber(name, value);
    } else if (name == "--message") {
      options.message = unescape(value);
    } else if (name == "--write-size") {
      options.write_size = static_cast<std::size_t>(parseNumber(name, value));
    } else if (name == "--server-pid") {
      options.server_pid = static_cast<pid_t>(parseNumber(name, value));
    } else {
      usage(("unknown option " + name).c_str());
    }
  }
  if (options.port <= 0 || options.port > 65535) usage("--port is required (1-65535)");
  if (options.connections < 1) usage("--connections must be at least 1");
  if (options.mode == "rtt" && std::count(options.message.begin(), options.message.end(), '\n') == 0) {
    usage("--message must contain a '\\n': it marks the end of the reply");
  }
  if (options.write_size == 0) usage("--write-size must be at least 1");
  return options;
}

// Each wait is bounded by the next deadline, so the window edges are met to
// within one batch of events.
int waitMs(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<std::int64_t>(left, 0, 1000));
}

// ---- the server under test, seen through /proc --------------------------------

// utime + stime of every thread of the process, in microseconds.
std::optional<double> serverCpuMicros(pid_t pid) {
  if (pid == 0) return std::nullopt;
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces: count fields after its ')'.
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) fail("cannot read /proc/%d/stat", static_cast<int>(pid));
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int number = 3; number <= 15 && fields >> field; ++number) {
    if (number == 14) utime = std::stoull(field);
    if (number == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) * 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long serverRssKib(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(file, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  fail("no VmRSS in /proc/%d/status", static_cast<int>(pid));
}

int serverFdCount(pid_t pid) {
  DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (dir == nullptr) fail("cannot list /proc/%d/fd: %s", static_cast<int>(pid), std::strerror(errno));
  int count = 0;
  while (const dirent* entry = readdir(dir)) count += entry->d_name[0] != '.';
  closedir(dir);
  return count;
}

// Prints " server_cpu_us=X server_us_per_OP=Y" for the window, when measured.
void printServerCpu(std::optional<double> before, std::optional<double> after, double operations,
                    const char* operation) {
  if (!before || !after) return;
  const double micros = *after - *before;
  std::printf(" server_cpu_us=%.0f server_us_per_%s=%.3f", micros, operation,
              operations > 0 ? micros / operations : 0.0);
}

// ---- connections ---------------------------------------------------------------

sockaddr_in resolve(const Options& options) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(options.port));
  if (inet_pton(AF_INET, options.host.c_str(), &address.sin_addr) != 1) {
    usage("--host must be an IPv4 literal");
  }
  return address;
}

// Opens `count` connections with non-blocking connects, a bounded number at a
// time; every one returned is connected, non-blocking and TCP_NODELAY.
std::vector<UniqueFd> connectAll(const sockaddr_in& address, int count) {
  const UniqueFd epoll(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) fail("epoll_create1: %s", std::strerror(errno));
  std::vector<UniqueFd> fds;
  fds.reserve(static_cast<std::size_t>(count));
  int pending = 0;
  const auto deadline = Clock::now() + kConnectTimeout;
  const auto connected = [](int fd) {
    const int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  };
  while (static_cast<int>(fds.size()) < count || pending > 0) {
    while (static_cast<int>(fds.size()) < count && pending < kConnectsInFlight) {
      UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      if (!fd) fail("socket (connection %zu): %s", fds.size(), std::strerror(errno));
      if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
        connected(fd.get());
      } else if (errno == EINPROGRESS) {
        epoll_event event{};
        event.events = EPOLLOUT;
        event.data.u64 = fds.size();
        if (epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd.get(), &event) != 0) fail("epoll_ctl: %s", std::strerror(errno));
        ++pending;
      } else {
        fail("connect (connection %zu): %s", fds.size(), std::strerror(errno));
      }
      fds.push_back(std::move(fd));
    }
    if (pending == 0) continue;
    epoll_event events[kMaxEvents];
    const int ready = epoll_wait(epoll.get(), events, kMaxEvents, waitMs(deadline));
    if (ready < 0 && errno != EINTR) fail("epoll_wait: %s", std::strerror(errno));
    if (ready == 0 && Clock::now() >= deadline) fail("%d connects still pending after %d s", pending, static_cast<int>(kConnectTimeout.count()));
    for (int i = 0; i < ready; ++i) {
      const std::size_t index = events[i].data.u64;
      const int fd = fds[index].get();
      int error = 0;
      socklen_t length = sizeof error;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) fail("connect (connection %zu): %s", index, std::strerror(error));
      epoll_ctl(epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
      connected(fd);
      --pending;
    }
  }
  return fds;
}

// Level-triggered registration of every fd, its index as the event's data.
UniqueFd watchAll(const std::vector<UniqueFd>& fds, std::uint32_t events) {
  UniqueFd epoll(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) fail("epoll_create1: %s", std::strerror(errno));
  for (std::size_t i = 0; i < fds.size(); ++i) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = i;
    if (epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fds[i].get(), &event) != 0) fail("epoll_ctl: %s", std::strerror(errno));
  }
  return epoll;
}

// The measured window: warm-up first, then `duration` seconds.
struct Window {
  explicit Window(const Options& options)
      : start(Clock::now() + std::chrono::duration_cast<Clock::duration>(Seconds(options.warmup))),
        end(start + std::chrono::duration_cast<Clock::duration>(Seconds(options.duration))) {}
  Clock::time_point start;
  Clock::time_point end;
};

// ---- rtt -----------------------------------------------------------------------

class RoundTripper {
 public:
  RoundTripper(const Options& options, std::vector<UniqueFd> fds)
      : options_(options),
        newlines_per_reply_(static_cast<int>(std::count(options.message.begin(), options.message.end(), '\n'))),
        fds_(std::move(fds)),
        states_(fds_.size()),
        epoll_(watchAll(fds_, EPOLLIN | EPOLLRDHUP)) {}

  int run() {
    for (std::size_t i = 0; i < fds_.size(); ++i) sendRequest(i);
    const Window window(options_);
    std::optional<double> cpu_before;
    std::uint64_t completed_before = 0;
    bool measuring = false;
    while (Clock::now() < window.end) {
      poll(measuring ? window.end : window.start);
      if (!measuring && Clock::now() >= window.start) {
        measuring = true;
        cpu_before = serverCpuMicros(options_.server_pid);
        completed_before = completed_;
      }
    }
    const auto cpu_after = serverCpuMicros(options_.server_pid);
    const double round_trips = static_cast<double>(completed_ - completed_before);
    // Let the requests in flight finish, so that the server sees orderly closes.
    sending_ = false;
    const auto drain_deadline = Clock::now() + kDrainTimeout;
    while (in_flight_ > 0 && Clock::now() < drain_deadline) poll(drain_deadline);
    if (in_flight_ > 0) fail("%d replies missing %d s after the run", in_flight_, static_cast<int>(kDrainTimeout.count()));

    std::printf("mode=rtt connections=%zu seconds=%.3f round_trips=%.0f rate=%.0f", fds_.size(), options_.duration,
                round_trips, round_trips / options_.duration);
    printServerCpu(cpu_before, cpu_after, round_trips, "round_trip");
    std::printf("\n");
    return 0;
  }

 private:
  struct State {
    std::size_t sent = 0;      // bytes of the message written
    std::size_t received = 0;  // bytes of the reply read
    int newlines = 0;          // '\n' in the reply so far
    bool writing = false;      // EPOLLOUT registered: the message went out short
  };

  void poll(Clock::time_point deadline) {
    epoll_event events[kMaxEvents];
    const int ready = epoll_wait(epoll_.get(), events, kMaxEvents, waitMs(deadline));
    if (ready < 0 && errno != EINTR) fail("epoll_wait: %s", std::strerror(errno));
    for (int i = 0; i < ready; ++i) {
      const std::size_t index = events[i].data.u64;
      if (events[i].events & EPOLLOUT) writeMore(index);
      // Errors and hang-ups surface through recv as 0 or an errno.
      if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readReply(index);
    }
  }

  void sendRequest(std::size_t index) {
    states_[index] = State{};
    ++in_flight_;
    writeMore(index);
  }

  void writeMore(std::size_t index) {
    State& state = states_[index];
    const std::string& message = options_.message;
    while (state.sent < message.size()) {
      const ssize_t n = send(fds_[index].get(), message.data() + state.sent, message.size() - state.sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) fail("send (connection %zu): %s", index, std::strerror(errno));
      state.sent += static_cast<std::size_t>(n);
    }
    const bool short_write = state.sent < message.size();
    if (short_write != state.writing) {
      state.writing = short_write;
      epoll_event event{};
      event.events = EPOLLIN | EPOLLRDHUP | (short_write ? EPOLLOUT : 0u);
      event.data.u64 = index;
      if (epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fds_[index].get(), &event) != 0) {
        fail("epoll_ctl: %s", std::strerror(errno));
      }
    }
  }

  void readReply(std::size_t index) {
    State& state = states_[index];
    const ssize_t n = recv(fds_[index].get(), buffer_, sizeof buffer_, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n < 0) fail("recv (connection %zu): %s", index, std::strerror(errno));
    if (n == 0) fail("the server closed connection %zu", index);
    const std::size_t size = static_cast<std::size_t>(n);
    if (options_.check_echo && (state.received + size > options_.message.size() ||
                                std::memcmp(buffer_, options_.message.data() + state.received, size) != 0)) {
      fail("connection %zu: the reply is not the message echoed", index);
    }
    state.received += size;
    const char* const end = buffer_ + size;
    for (const char* p = buffer_; (p = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p))));) {
      ++p;
      // One request is in flight per connection: nothing may follow its reply.
      if (++state.newlines == newlines_per_reply_ && p != end) {
        fail("connection %zu: bytes after the reply", index);
      }
    }
    if (state.newlines < newlines_per_reply_) return;
    ++completed_;
    --in_flight_;
    if (sending_) sendRequest(index);
  }

  const Options& options_;
  const int newlines_per_reply_;
  std::vector<UniqueFd> fds_;
  std::vector<State> states_;
  UniqueFd epoll_;
  std::uint64_t completed_ = 0;
  int in_flight_ = 0;
  bool sending_ = true;
  char buffer_[64 * 1024];
};

// ---- stream --------------------------------------------------------------------

int stream(const Options& options) {
  std::vector<UniqueFd> fds = connectAll(resolve(options), 1);
  const int fd = fds[0].get();
  const UniqueFd epoll = watchAll(fds, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
  const std::string chunk(options.write_size, 'x');
  std::vector<char> buffer(1 << 20);
  std::uint64_t sent = 0, received = 0, received_before = 0, received_after = 0;
  std::optional<double> cpu_before, cpu_after;
  const Window window(options);
  bool measuring = false;
  bool sending = true;
  Clock::time_point drain_deadline;
  for (;;) {
    const auto now = Clock::now();
    if (!measuring && sending && now >= window.start) {
      measuring = true;
      cpu_before = serverCpuMicros(options.server_pid);
      received_before = received;
    }
    if (sending && now >= window.end) {
      cpu_after = serverCpuMicros(options.server_pid);
      received_after = received;
      sending = false;
      // Half-close: the server sends what is pending, then closes (SPEC.md).
      if (shutdown(fd, SHUT_WR) != 0) fail("shutdown: %s", std::strerror(errno));
      epoll_event event{};
      event.events = EPOLLIN | EPOLLRDHUP;
      epoll_ctl(epoll.get(), EPOLL_CTL_MOD, fd, &event);
      drain_deadline = now + kDrainTimeout;
    }
    if (!sending && now >= drain_deadline) {
      fail("%" PRIu64 " of %" PRIu64 " bytes still missing %d s after the run", sent - received, sent,
           static_cast<int>(kDrainTimeout.count()));
    }
    epoll_event events[1];
    const int ready =
        epoll_wait(epoll.get(), events, 1, waitMs(sending ? (measuring ? window.end : window.start) : drain_deadline));
    if (ready < 0 && errno != EINTR) fail("epoll_wait: %s", std::strerror(errno));
    if (ready <= 0) continue;
    if (sending && (events[0].events & EPOLLOUT)) {
      const ssize_t n = send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR) fail("send: %s", std::strerror(errno));
      if (n > 0) sent += static_cast<std::uint64_t>(n);
    }
    if (events[0].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      const ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
      if (n < 0 && errno != EAGAIN && errno != EINTR) fail("recv: %s", std::strerror(errno));
      if (n > 0) received += static_cast<std::uint64_t>(n);
      if (n == 0 && sending) fail("the server closed the connection during the run");
      if (n == 0) break;
    }
  }
  if (received != sent) {
    fail("wrote %" PRIu64 " bytes, %" PRIu64 " came back before the server closed", sent, received);
  }
  // Throughput counts the bytes that came back while the window was open.
  const std::uint64_t in_window = received_after - received_before;
  const double megabytes = static_cast<double>(in_window) / 1e6;
  std::printf("mode=stream seconds=%.3f bytes=%" PRIu64 " mb_per_s=%.1f total_bytes=%" PRIu64, options.duration,
              in_window, megabytes / options.duration, sent);
  printServerCpu(cpu_before, cpu_after, megabytes, "mb");
  std::printf("\n");
  return 0;
}

// ---- idle ----------------------------------------------------------------------

volatile sig_atomic_t g_stop = 0;

int idle(const Options& options) {
  const pid_t server = options.server_pid;
  const long rss_before = server ? serverRssKib(server) : 0;
  const int fds_before = server ? serverFdCount(server) : 0;
  const std::vector<UniqueFd> fds = connectAll(resolve(options), options.connections);
  const UniqueFd epoll = watchAll(fds, EPOLLIN | EPOLLRDHUP);
  const auto connected_at = Clock::now();
  std::printf("mode=idle connections=%d", options.connections);
  if (server) {
    // A connect completes in the kernel before the server accepts it: wait
    // until the server holds them all and its memory has settled.
    const auto deadline = Clock::now() + kConnectTimeout;
    while (serverFdCount(server) < fds_before + options.connections) {
      if (Clock::now() >= deadline) fail("the server did not accept all connections in time");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    long rss = serverRssKib(server);
    for (long previous = -1; rss != previous && Clock::now() < deadline;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      previous = std::exchange(rss, serverRssKib(server));
    }
    std::printf(" server_rss_before_kib=%ld server_rss_after_kib=%ld server_rss_per_connection_bytes=%.0f", rss_before,
                rss, static_cast<double>(rss - rss_before) * 1024.0 / options.connections);
  }
  std::printf("\n");
  std::fflush(stdout);

  struct sigaction action {};
  action.sa_handler = [](int) { g_stop = 1; };
  sigaction(SIGINT, &action, nullptr);  // no SA_RESTART: epoll_wait returns EINTR
  sigaction(SIGTERM, &action, nullptr);
  const auto end = connected_at + std::chrono::duration_cast<Clock::duration>(Seconds(options.duration));
  while (g_stop == 0 && (options.duration == 0 || Clock::now() < end)) {
    epoll_event events[kMaxEvents];
    const int ready = epoll_wait(epoll.get(), events, kMaxEvents, options.duration == 0 ? 1000 : waitMs(end));
    if (ready < 0 && errno != EINTR) fail("epoll_wait: %s", std::strerror(errno));
    if (ready > 0) {
      fail("the server closed or wrote to %d idle connections (first: connection %" PRIu64 ")", ready,
           events[0].data.u64);
    }
  }
  return 0;
}

// 10,000 idle connections need more descriptors than the usual soft limit.
void raiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parseOptions(argc, argv);
  raiseFileLimit();
  if (options.mode == "rtt") {
    return RoundTripper(options, connectAll(resolve(options), options.connections)).run();
  }
  if (options.mode == "stream") return stream(options);
  return idle(options);
}
