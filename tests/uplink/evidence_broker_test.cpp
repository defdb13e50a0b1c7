// Evidence through a real mosquitto into the real postgate-hq (a child
// process): the SHA-256 verified at HQ, resuming after a broker restart
// without starting over, and record latency while a large upload runs.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "broker_harness.hpp"
#include "memory_evidence.hpp"

#ifndef POSTGATE_HQ_BINARY
#define POSTGATE_HQ_BINARY ""
#endif

namespace postgate::uplink::testing {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// postgate-hq serve as a child process, its output in <dir>/hq.log.
class HqProcess {
 public:
  HqProcess(const fs::path& dir, const std::string& uri) : dir_(dir) {
    const std::vector<std::string> argv = {POSTGATE_HQ_BINARY,
                                           "--log-level",
                                           "info",
                                           "serve",
                                           "--broker",
                                           uri,
                                           "--db",
                                           db().string(),
                                           "--client-id",
                                           "hq-evidence-test"};
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open((dir / "hq.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~HqProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  fs::path db() const { return dir_ / "hq.db"; }
  std::string log() const {
    std::ifstream in(dir_ / "hq.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // `postgate-hq evidence --json` for the outlet.
  json evidence(const std::string& outlet) const {
    const std::string cmd = std::string(POSTGATE_HQ_BINARY) + " evidence --db " + db().string() +
                            " --outlet " + outlet + " --json";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
    auto j = json::parse(out, nullptr, false);
    return j.is_discarded() ? json::array() : j;
  }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
};

std::string file_sha256(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), {});
  return sha256_hex(std::vector<std::uint8_t>(s.begin(), s.end()));
}

class EvidenceBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!mosquitto_available()) GTEST_SKIP() << "mosquitto not installed";
    if (std::string(POSTGATE_HQ_BINARY).empty()) GTEST_SKIP() << "postgate-hq not built";
    broker = std::make_unique<Broker>(dir.path());
    ASSERT_TRUE(broker->start()) << broker->log();
    hq = std::make_unique<HqProcess>(dir.path(), broker->uri());
    // Until HQ has subscribed (a new session), the broker drops what the
    // edge publishes and only the ack timeout would resend it.
    ASSERT_TRUE(wait_until(
        [&] {
          return hq->log().find("subscribed to postgate/v1/+/evidence/chunk") != std::string::npos;
        },
        std::chrono::seconds(30)))
        << hq->log();
  }
  UplinkConfig config() {
    auto c = test_config(broker->uri());
    c.evidence_bytes_per_s = 0;
    return c;
  }
  // The item's row at HQ once it is verified.
  json verified_at_hq(const core::Uuid& id, std::chrono::milliseconds timeout) {
    json row;
    wait_until(
        [&] {
          for (const auto& e : hq->evidence("sh-0001"))
            if (e.value("id", "") == id.str() && e.value("state", "") == "verified") row = e;
          return !row.is_null();
        },
        timeout);
    return row;
  }

  TempDir dir;
  std::unique_ptr<Broker> broker;
  std::unique_ptr<HqProcess> hq;
};

TEST_F(EvidenceBrokerTest, FiveMegabytesArriveAndTheHashMatches) {
  MemoryOutbox outbox;
  outbox.append(5);
  MemoryEvidence evidence;
  const auto bytes = synthetic_bytes(5 * 1024 * 1024, 1);
  const auto id = evidence.add(bytes, 2);
  // The sanitizer build under a parallel ctest can take longer than the
  // harness's 5 s to store and ack megabytes: a timeout would resend (a
  // rewind) and make "nothing was sent twice" fail for the wrong reason.
  auto cfg = config();
  cfg.ack_timeout = std::chrono::seconds(30);
  Edge edge(cfg, outbox, true, {}, &evidence);
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return evidence.delivered_count() == 1; }, 60s)) << hq->log();
  EXPECT_EQ(outbox.pending(), 0u) << "records went too";
  const auto row = verified_at_hq(id, 10s);
  ASSERT_FALSE(row.is_null()) << hq->evidence("sh-0001").dump();
  EXPECT_EQ(row["size"], bytes.size());
  EXPECT_EQ(row["record_seq"], 2);
  const auto file = fs::path(hq->db().string() + ".evidence") / row["path"].get<std::string>();
  EXPECT_EQ(file_sha256(file), sha256_hex(bytes));
  const auto st = edge.status();
  EXPECT_EQ(st.evidence.delivered, 1u);
  EXPECT_EQ(st.evidence.rewinds, 0u);
  edge.stop();
}

TEST_F(EvidenceBrokerTest, ResumesAfterABrokerRestartWithoutStartingOver) {
  MemoryOutbox outbox;
  MemoryEvidence evidence;
  const std::size_t size = 6 * 1024 * 1024;
  const auto bytes = synthetic_bytes(size, 2);
  const auto id = evidence.add(bytes, 1);
  auto cfg = config();
  cfg.evidence_bytes_per_s = 2.0 * 1024 * 1024;  // about 3 s for the item
  Edge edge(cfg, outbox, true, {}, &evidence);
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return edge.status().evidence.current_acked >= size / 3; }, 30s))
      << hq->log();
  const auto acked_before = edge.status().evidence.current_acked;
  broker->kill();
  ASSERT_TRUE(wait_until([&] { return !edge.status().connected; }, 10s));
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(broker->start()) << broker->log();
  ASSERT_TRUE(wait_until([&] { return evidence.delivered_count() == 1; }, 60s)) << hq->log();
  const auto st = edge.status();
  // The item once, plus the chunks in flight at the kill and those lost
  // while HQ had not resubscribed (each window sent at most twice more),
  // plus the headers; starting over would add everything acked before.
  const std::uint64_t bound = size +
                              3 * (cfg.evidence_inflight_chunks + 1) * cfg.evidence_chunk_bytes +
                              st.evidence.chunks_sent * 1024;
  ASSERT_LT(bound, size + acked_before);
  std::printf("acked before the restart %llu of %zu; %llu payload bytes sent in %llu chunks\n",
              static_cast<unsigned long long>(acked_before), size,
              static_cast<unsigned long long>(st.evidence.sent_bytes),
              static_cast<unsigned long long>(st.evidence.chunks_sent));
  EXPECT_LE(st.evidence.sent_bytes, bound);
  EXPECT_GE(st.reconnects, 1u);
  const auto row = verified_at_hq(id, 10s);
  ASSERT_FALSE(row.is_null());
  EXPECT_EQ(file_sha256(fs::path(hq->db().string() + ".evidence") / row["path"].get<std::string>()),
            sha256_hex(bytes));
  edge.stop();
}

// Submit -> HQ ack latency of single records, one at a time.
std::vector<double> record_latencies(Edge& edge, MemoryOutbox& outbox, std::size_t n,
                                     const std::function<bool()>& go_on) {
  std::vector<double> ms;
  for (std::size_t i = 0; i < n && go_on(); ++i) {
    const auto seq = outbox.append(1);
    const auto t0 = SteadyClock::now();
    edge.notify_new_records();
    while (edge.status().delivered_upto < seq && SteadyClock::now() - t0 < 20s)
      std::this_thread::sleep_for(1ms);
    ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
  }
  return ms;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TEST_F(EvidenceBrokerTest, RecordsDoNotWaitBehindALargeUpload) {
  MemoryOutbox outbox;
  MemoryEvidence evidence;
  auto cfg = config();
  Edge edge(cfg, outbox, true, {}, &evidence);
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return edge.status().connected; }, 10s));
  // HQ subscribes in its own time: the first record is acked once it has.
  const auto first = outbox.append(1);
  edge.notify_new_records();
  ASSERT_TRUE(wait_until([&] { return edge.status().delivered_upto >= first; }, 20s)) << hq->log();
  const auto quiet = record_latencies(edge, outbox, 30, [] { return true; });

  // 20 MB, uncapped: the worst case for the records sharing the link.
  evidence.add(synthetic_bytes(20 * 1024 * 1024, 3), 0);
  edge.notify_new_evidence();
  ASSERT_TRUE(wait_until([&] { return edge.status().evidence.chunks_sent > 8; }, 10s));
  const auto busy =
      record_latencies(edge, outbox, 60, [&] { return evidence.delivered_count() == 0; });
  const bool finished = wait_until([&] { return evidence.delivered_count() == 1; }, 120s);
  const auto st = edge.status();
  std::printf(
      "record submit->ack: quiet median %.1f ms max %.1f ms (%zu); during a 20 MB upload median "
      "%.1f ms max %.1f ms (%zu); upload %s, %llu chunks\n",
      median(quiet), *std::max_element(quiet.begin(), quiet.end()), quiet.size(), median(busy),
      busy.empty() ? 0.0 : *std::max_element(busy.begin(), busy.end()), busy.size(),
      finished ? "verified" : "unfinished",
      static_cast<unsigned long long>(st.evidence.chunks_sent));
  ASSERT_GE(busy.size(), 5u) << "the upload ended before records could be measured";
  EXPECT_TRUE(finished) << hq->log();
  // Generous: records wait for at most the chunks already in flight (4 x
  // 64 KiB, one fsync each at HQ), never for the upload.
  EXPECT_LT(median(busy), std::max(4 * median(quiet), median(quiet) + 250.0));
  edge.stop();
}

}  // namespace
}  // namespace postgate::uplink::testing
