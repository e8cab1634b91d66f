#include "protocols/admin/admin_pages.h"

#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "core/log/log.h"
#include "core/metrics/exposition.h"
#include "protocols/http/access_log_format.h"

namespace epolld::admin {
namespace {

using metrics::Exposition;
using metrics::ListenerSnapshot;
using metrics::MetricType;
using http::appendJsonString;

// The counters every listener has, one family each.
struct ListenerFamily {
  std::string_view name;
  std::string_view help;
  MetricType type;
  std::uint64_t (*value)(const ListenerSnapshot&);
};

constexpr std::array<ListenerFamily, 6> kListenerFamilies{{
    {"epolld_connections_open", "Client connections open now.", MetricType::kGauge,
     [](const ListenerSnapshot& s) { return s.open(); }},
    {"epolld_connections_accepted_total", "Client connections accepted.", MetricType::kCounter,
     [](const ListenerSnapshot& s) { return s.accepted; }},
    {"epolld_connections_adopted_total", "Client connections handed over by the previous process at a restart.",
     MetricType::kCounter, [](const ListenerSnapshot& s) { return s.adopted; }},
    {"epolld_connections_refused_total", "Client connections closed at once because max_connections were open.",
     MetricType::kCounter, [](const ListenerSnapshot& s) { return s.refused; }},
    {"epolld_bytes_received_total", "Bytes received from clients.", MetricType::kCounter,
     [](const ListenerSnapshot& s) { return s.bytes_received; }},
    {"epolld_bytes_sent_total", "Bytes handed to the kernel for clients, bodies included.", MetricType::kCounter,
     [](const ListenerSnapshot& s) { return s.bytes_sent; }},
}};

std::string_view withoutQuery(std::string_view path) { return path.substr(0, path.find('?')); }

std::string seconds(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", value);
  return text;
}

http::Reply text(int status, std::string body) { return {status, "text/plain; charset=utf-8", std::move(body)}; }

}  // namespace

std::string metricsText(const Stats& stats, std::uint64_t log_lines_dropped) {
  const std::vector<Stats::Listener> listeners = stats.listeners();
  std::vector<ListenerSnapshot> sums;
  sums.reserve(listeners.size());
  for (const Stats::Listener& listener : listeners) sums.push_back(listener.stats->sum());

  Exposition out;
  out.family("epolld_build_info", "The running epolld, by version; always 1.", MetricType::kGauge);
  out.sample("epolld_build_info", {{"version", EPOLLD_VERSION}}, 1);
  out.family("epolld_start_time_seconds", "When epolld started, in seconds since the Unix epoch.", MetricType::kGauge);
  out.sample("epolld_start_time_seconds", {},
             std::chrono::duration<double>(stats.startTime().time_since_epoch()).count());

  for (const ListenerFamily& family : kListenerFamilies) {
    out.family(family.name, family.help, family.type);
    for (std::size_t i = 0; i < listeners.size(); ++i) {
      out.sample(family.name, {{"listener", listeners[i].name}}, family.value(sums[i]));
    }
  }

  // How the kernel spreads new connections over the acceptor threads that
  // share each listening socket (docs/scaling.md): per listener, so that a
  // series never goes down when a reload removes a listener.
  out.family("epolld_acceptor_connections_accepted_total",
             "Client connections accepted, by the acceptor thread that accepted them.", MetricType::kCounter);
  for (const Stats::Listener& listener : listeners) {
    for (std::size_t acceptor = 0; acceptor < listener.stats->acceptors(); ++acceptor) {
      out.sample("epolld_acceptor_connections_accepted_total",
                 {{"listener", listener.name}, {"acceptor", std::to_string(acceptor)}},
                 listener.stats->acceptor(acceptor).accepted.load());
    }
  }

  out.family("epolld_connections_closed_total",
             "Client connections closed, by reason: peer (the client closed), done (epolld closed after answering), "
             "timeout, error (a reset, a broken limit), shutdown.",
             MetricType::kCounter);
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    for (std::size_t reason = 0; reason < metrics::kCloseReasonCount; ++reason) {
      out.sample("epolld_connections_closed_total",
                 {{"listener", listeners[i].name}, {"reason", metrics::kCloseReasonNames[reason]}},
                 sums[i].closed_by_reason[reason]);
    }
  }

  out.family("epolld_http_requests_total", "HTTP requests answered, by status code.", MetricType::kCounter);
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    if (!listeners[i].answers_requests) continue;
    bool any = false;
    for (std::size_t slot = 0; slot < metrics::kStatusSlotCount; ++slot) {
      if (const std::uint64_t count = sums[i].requests_by_status[slot]; count > 0) {
        const int status = metrics::statusOfSlot(slot);
        const std::string code = status != 0 ? std::to_string(status) : "other";
        out.sample("epolld_http_requests_total", {{"listener", listeners[i].name}, {"code", code}}, count);
        any = true;
      }
    }
    // A sample from the start, so that rate() sees the first request.
    if (!any) out.sample("epolld_http_requests_total", {{"listener", listeners[i].name}, {"code", "200"}}, 0);
  }
  out.family("epolld_http_request_duration_seconds",
             "HTTP requests by time from their first byte read to their last response byte handed to the kernel.",
             MetricType::kHistogram);
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    if (listeners[i].answers_requests) {
      out.histogram("epolld_http_request_duration_seconds", {{"listener", listeners[i].name}},
                    sums[i].request_duration);
    }
  }

  std::vector<metrics::WorkerSnapshot> workers;
  for (unsigned id = 0; id < stats.workerCount(); ++id) workers.push_back(metrics::snapshot(stats.worker(id)));
  const auto perWorker = [&](std::string_view name, std::string_view help, MetricType type, auto value) {
    out.family(name, help, type);
    for (unsigned id = 0; id < workers.size(); ++id) {
      out.sample(name, {{"worker", std::to_string(id)}}, value(workers[id]));
    }
  };
  perWorker("epolld_worker_connections_open", "Client connections a worker owns now.", MetricType::kGauge,
            [](const metrics::WorkerSnapshot& w) { return w.connections_open; });
  perWorker("epolld_worker_events_total", "Readiness events a worker's loop handled.", MetricType::kCounter,
            [](const metrics::WorkerSnapshot& w) { return w.events; });
  perWorker("epolld_worker_wakeups_total", "Times a worker's loop woke from epoll_wait.", MetricType::kCounter,
            [](const metrics::WorkerSnapshot& w) { return w.wakeups; });

  out.family("epolld_log_lines_dropped_total", "Log lines dropped because the log queue was full.",
             MetricType::kCounter);
  out.sample("epolld_log_lines_dropped_total", {}, log_lines_dropped);
  out.family("epolld_reloads_total", "Configuration reloads (SIGHUP), by result.", MetricType::kCounter);
  out.sample("epolld_reloads_total", {{"result", "ok"}}, stats.reloads(true));
  out.sample("epolld_reloads_total", {{"result", "failed"}}, stats.reloads(false));
  return out.take();
}

std::string statusJson(const Stats& stats, std::chrono::steady_clock::time_point now,
                       std::chrono::system_clock::time_point wall_now) {
  std::string out = "{\"version\":";
  appendJsonString(out, EPOLLD_VERSION);
  out += ",\"uptime_seconds\":" + seconds(std::chrono::duration<double>(wall_now - stats.startTime()).count());
  out += ",\"config\":";
  appendJsonString(out, stats.configSource());
  out += ",\"workers\":[";
  for (unsigned id = 0; id < stats.workerCount(); ++id) {
    const metrics::WorkerSnapshot worker = metrics::snapshot(stats.worker(id));
    if (id > 0) out += ',';
    out += "{\"id\":" + std::to_string(id) + ",\"connections\":" + std::to_string(worker.connections_open) +
           ",\"events\":" + std::to_string(worker.events) + ",\"wakeups\":" + std::to_string(worker.wakeups) +
           ",\"last_loop_age_seconds\":" + seconds(std::chrono::duration<double>(now - worker.last_loop).count()) +
           "}";
  }
  out += "],\"listeners\":[";
  bool first = true;
  for (const Stats::Listener& listener : stats.listeners()) {
    const ListenerSnapshot sum = listener.stats->sum();
    out += first ? "{\"name\":" : ",{\"name\":";
    first = false;
    appendJsonString(out, listener.name);
    out += ",\"protocol\":";
    appendJsonString(out, listener.protocol);
    out += ",\"connections\":" + std::to_string(sum.open()) + ",\"requests\":" + std::to_string(sum.requests()) + "}";
  }
  out += "]}\n";
  return out;
}

http::Reply health(const Stats& stats, std::chrono::steady_clock::time_point now) {
  if (const std::optional<unsigned> stalled = stats.stalledWorker(now)) {
    return text(503, "worker " + std::to_string(*stalled) + " has not turned its loop for over " +
                         std::to_string(Stats::kStallAfter.count()) + " s\n");
  }
  return text(200, "ok\n");
}

http::Reply page(std::string_view path, const Stats& stats) {
  const std::string_view name = withoutQuery(path);
  if (name == "/metrics") {
    return {200, std::string(Exposition::kContentType), metricsText(stats, log::droppedLines())};
  }
  if (name == "/status") {
    return {200, "application/json",
            statusJson(stats, std::chrono::steady_clock::now(), std::chrono::system_clock::now())};
  }
  if (name == "/healthz") return health(stats, std::chrono::steady_clock::now());
  return text(404, "404 Not Found: the admin listener serves /metrics, /status and /healthz\n");
}

}  // namespace epolld::admin
