// Evidence benchmark (bench/evidence_run drives it): a
// backlog of records drained by the uplink into the real postgate-hq, on
// its own and with a concurrent evidence upload on the same link; then the
// evidence rate under its cap, with record submit->ack latency meanwhile.
// Records and evidence are held in memory at the edge (the test outboxes),
// so the figures are the link's and HQ's, not the edge store's.
//
//   bench_evidence --hq PATH [--records N] [--items K] [--item-mb M]
//                  [--cap BYTES_PER_S] [--measure-s S]
// Prints "key value" lines.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

#include "broker_harness.hpp"
#include "memory_evidence.hpp"

using namespace postgate;
using namespace postgate::uplink;
using namespace postgate::uplink::testing;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string hq;
  std::size_t records = 50'000;
  std::size_t items = 25;
  std::size_t item_mb = 2;
  double cap = 256 * 1024;
  int measure_s = 20;
};

pid_t spawn_hq(const Args& a, const fs::path& dir, const std::string& uri) {
  const std::vector<std::string> argv = {
      a.hq,          "--log-level", "warn", "serve",
      "--broker",    uri,           "--db", (dir / "hq.db").string(),
      "--client-id", "bench-hq"};
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open((dir / "hq.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> args;
    for (const auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

double secs(SteadyClock::duration d) {
  return std::chrono::duration<double>(d).count();
}

void out(const char* key, double v) {
  std::printf("%s %.3f\n", key, v);
  std::fflush(stdout);
}

// Drains `n` records (with `evidence` uploading meanwhile when given);
// returns records/s from connect to the last ack.
double drain(const std::string& uri, const std::string& outlet, std::size_t n,
             MemoryEvidence* evidence, double cap, std::uint64_t* evidence_bytes) {
  MemoryOutbox outbox;
  outbox.append(n);
  auto cfg = test_config(uri, outlet);
  cfg.max_inflight_batches = 32;
  cfg.linger = Millis(50);
  cfg.ack_timeout = Millis(30'000);
  cfg.evidence_bytes_per_s = cap;
  Edge edge(cfg, outbox, false, {}, evidence);
  if (!edge.start()) return 0;
  wait_until([&] { return edge.status().connected; }, 30s);
  const auto t0 = SteadyClock::now();
  wait_until([&] { return edge.status().delivered_upto >= n; }, 600s);
  const double s = secs(SteadyClock::now() - t0);
  if (evidence_bytes) *evidence_bytes = edge.status().evidence.sent_bytes;
  edge.stop();
  return static_cast<double>(n) / s;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--hq")
      a.hq = v;
    else if (k == "--records")
      a.records = std::stoul(v);
    else if (k == "--items")
      a.items = std::stoul(v);
    else if (k == "--item-mb")
      a.item_mb = std::stoul(v);
    else if (k == "--cap")
      a.cap = std::stod(v);
    else if (k == "--measure-s")
      a.measure_s = std::stoi(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (a.hq.empty() || !mosquitto_available()) {
    std::fprintf(stderr, "need --hq and /usr/sbin/mosquitto\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  TempDir dir;
  Broker broker(dir.path());
  if (!broker.start()) return 2;
  const pid_t hq = spawn_hq(a, dir.path(), broker.uri());
  std::this_thread::sleep_for(1s);  // HQ subscribes

  std::printf("records %zu\nevidence_items %zu\nevidence_item_bytes %zu\nevidence_cap %.0f\n",
              a.records, a.items, a.item_mb << 20, a.cap);
  const double alone = drain(broker.uri(), "bench-alone", a.records, nullptr, 0, nullptr);
  out("records_per_s_alone", alone);

  // The same drain with the whole upload queued, uncapped: the worst case
  // for records sharing the link.
  MemoryEvidence uncapped;
  for (std::size_t i = 0; i < a.items; ++i)
    uncapped.add(synthetic_bytes(a.item_mb << 20, i + 1), 0);
  std::uint64_t sent = 0;
  const double with = drain(broker.uri(), "bench-with", a.records, &uncapped, 0, &sent);
  out("records_per_s_with_upload_uncapped", with);
  out("evidence_bytes_during_drain_uncapped", static_cast<double>(sent));
  out("ratio_with_over_alone", with / alone);

  // Evidence under its cap, and single records meanwhile.
  MemoryEvidence capped;
  for (std::size_t i = 0; i < a.items; ++i)
    capped.add(synthetic_bytes(a.item_mb << 20, i + 100), 0);
  MemoryOutbox outbox;
  auto cfg = test_config(broker.uri(), "bench-capped");
  cfg.linger = Millis(50);
  cfg.evidence_bytes_per_s = a.cap;
  Edge edge(cfg, outbox, false, {}, &capped);
  edge.start();
  wait_until([&] { return edge.status().connected; }, 30s);
  const auto t0 = SteadyClock::now();
  const auto b0 = edge.status().evidence.sent_bytes;
  std::vector<double> lat;
  while (SteadyClock::now() - t0 < std::chrono::seconds(a.measure_s) &&
         capped.delivered_count() < a.items) {
    const auto seq = outbox.append(1);
    const auto s0 = SteadyClock::now();
    edge.notify_new_records();
    while (edge.status().delivered_upto < seq && SteadyClock::now() - s0 < 30s)
      std::this_thread::sleep_for(1ms);
    lat.push_back(secs(SteadyClock::now() - s0) * 1000);
    std::this_thread::sleep_for(200ms);
  }
  const double span = secs(SteadyClock::now() - t0);
  const auto st = edge.status();
  out("evidence_bytes_per_s_capped", static_cast<double>(st.evidence.sent_bytes - b0) / span);
  out("evidence_cap_use", static_cast<double>(st.evidence.sent_bytes - b0) / span / a.cap);
  out("evidence_items_verified_in_window", static_cast<double>(st.evidence.delivered));
  std::sort(lat.begin(), lat.end());
  if (!lat.empty()) {
    out("record_ack_ms_during_upload_median", lat[lat.size() / 2]);
    out("record_ack_ms_during_upload_p95", lat[std::min(lat.size() - 1, lat.size() * 95 / 100)]);
    out("record_ack_ms_during_upload_max", lat.back());
  }
  edge.stop();
  ::kill(hq, SIGTERM);
  ::waitpid(hq, nullptr, 0);
  return 0;
}
