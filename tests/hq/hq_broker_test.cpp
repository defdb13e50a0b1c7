// postgate-hq against a real mosquitto: the built binary runs as a child
// process, and a Paho client in the test plays the edge. Each test starts
// its own broker on a free loopback port, so tests can run in parallel.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <mqtt/async_client.h>

#include "hq_test_data.hpp"

namespace postgate::hq {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::batch_json;
using testing::batch_payload;
using testing::make_records;

namespace fs = std::filesystem;

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// A child process with stdout and stderr appended to `log`.
pid_t spawn(const std::vector<std::string>& argv, const fs::path& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

// SIGTERM, then the exit status; SIGKILL after the grace period (-1).
int stop(pid_t pid, std::chrono::milliseconds grace = 10s) {
  if (pid <= 0) return -1;
  ::kill(pid, SIGTERM);
  int status = 0;
  const auto until = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < until) {
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

struct Output {
  int rc = -1;
  std::string out;
};

Output run(const std::string& command) {
  Output o;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return o;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) o.out.append(buf, n);
  const int status = ::pclose(p);
  o.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

// The test's edge: publishes like postgated would and collects the acks.
class Edge {
 public:
  Edge(const std::string& uri, std::string outlet, const std::string& prefix = "postgate/v1")
      : outlet_(std::move(outlet)),
        prefix_(prefix),
        client_(uri, "edge-" + outlet_, mqtt::create_options(MQTTVERSION_5)) {
    client_.set_message_callback([this](mqtt::const_message_ptr m) {
      const auto j = json::parse(m->get_payload_str(), nullptr, false);
      std::lock_guard lock(mu_);
      acks_.push_back(j.is_object() ? j.value("upto_seq", std::uint64_t{0}) : 0);
      cv_.notify_all();
    });
    mqtt::connect_options c;
    c.set_mqtt_version(MQTTVERSION_5);
    c.set_clean_session(false);
    c.set_clean_start(true);
    const std::string offline =
        json{{"state", "offline"}, {"outlet", outlet_}, {"reason", "connection_lost"}}.dump();
    c.set_will(mqtt::will_options(topic("status"), offline.data(), offline.size(), 1, true));
    client_.connect(c)->wait();
    client_.subscribe(topic("ack"), 1)->wait();
  }
  ~Edge() {
    try {
      if (client_.is_connected()) client_.disconnect()->wait();
    } catch (const mqtt::exception&) {
    }
  }

  std::string topic(const std::string& kind) const { return prefix_ + "/" + outlet_ + "/" + kind; }

  void publish(const std::string& kind, const std::string& payload, int qos = 1,
               bool retained = false) {
    client_.publish(topic(kind), payload.data(), payload.size(), qos, retained)->wait();
  }

  std::size_t ack_count() {
    std::lock_guard lock(mu_);
    return acks_.size();
  }

  // The ack that follows the publication: HQ handles messages in order and
  // answers every stored batch.
  std::optional<std::uint64_t> send(const std::string& payload, std::chrono::milliseconds t = 10s) {
    const auto before = ack_count();
    publish("records", payload);
    return ack_after(before, t);
  }

  std::optional<std::uint64_t> ack_after(std::size_t index, std::chrono::milliseconds t = 10s) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, t, [&] { return acks_.size() > index; })) return std::nullopt;
    return acks_[index];
  }

 private:
  std::string outlet_;
  std::string prefix_;
  mqtt::async_client client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::uint64_t> acks_;
};

// An MQTT 3.1.1 client that registers a will and then drops its TCP
// connection without DISCONNECT: what a powered-off outlet looks like to the
// broker, which then publishes the will.
void connect_with_will_and_vanish(int port, const std::string& client_id,
                                  const std::string& will_topic, const std::string& will) {
  auto str = [](std::string& out, const std::string& s) {
    out.push_back(static_cast<char>(s.size() >> 8));
    out.push_back(static_cast<char>(s.size() & 0xff));
    out += s;
  };
  std::string body;
  str(body, "MQTT");
  body.push_back(4);                          // protocol level 3.1.1
  body.push_back(0x02 | 0x04 | 0x08 | 0x20);  // clean session, will, will QoS 1, will retain
  body.push_back(0);
  body.push_back(60);  // keep alive
  str(body, client_id);
  str(body, will_topic);
  str(body, will);
  std::string packet(1, '\x10');
  for (std::size_t n = body.size();;) {  // remaining length, variable-length encoded
    char b = static_cast<char>(n % 128);
    n /= 128;
    if (n > 0) b = static_cast<char>(b | 0x80);
    packet.push_back(b);
    if (n == 0) break;
  }
  packet += body;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::write(fd, packet.data(), packet.size()), static_cast<ssize_t>(packet.size()));
  char connack[4] = {};
  ASSERT_EQ(::read(fd, connack, sizeof connack), 4);
  EXPECT_EQ(connack[0], 0x20);
  EXPECT_EQ(connack[3], 0) << "connection refused";
  ::close(fd);
}

class HqBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(MOSQUITTO_BINARY)) GTEST_SKIP() << MOSQUITTO_BINARY << " is not installed";
    dir_ = fs::temp_directory_path() /
           ("hq_broker_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    port_ = free_port();
    std::ofstream(dir_ / "mosquitto.conf")
        << "listener " << port_ << " 127.0.0.1\n"
        << "allow_anonymous true\npersistence false\nmax_queued_messages 0\n";
    broker_ =
        spawn({MOSQUITTO_BINARY, "-c", (dir_ / "mosquitto.conf").string()}, dir_ / "mosquitto.log");
    ASSERT_TRUE(eventually([&] { return port_open(port_); }, 5s)) << "mosquitto did not start";
    start_hq();
  }

  void TearDown() override {
    if (HasFailure() && !dir_.empty())
      std::cerr << "---- postgate-hq log ----\n" << read_file(dir_ / "hq.log");
    if (hq_ > 0) stop(hq_);
    if (broker_ > 0) stop(broker_);
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  fs::path db() const { return dir_ / "hq.db"; }

  void start_hq() { hq_ = start_receiver("hq", {"--client-id", "hq-test"}); }

  // Starts a receiver logging to <name>.log and waits until it subscribed.
  pid_t start_receiver(const std::string& name, const std::vector<std::string>& extra) {
    const auto log = dir_ / (name + ".log");
    const std::string needle = "postgate/v1/+/events";
    const auto subscribed = count_in_log(needle, name);
    std::vector<std::string> argv = {
        POSTGATE_HQ_BINARY,    "serve", "--broker", uri(), "--db", db().string(),
        "--max-payload-bytes", "65536"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const pid_t pid = spawn(argv, log);
    EXPECT_TRUE(eventually([&] { return count_in_log(needle, name) > subscribed; }))
        << name << " did not subscribe";
    return pid;
  }

  int stop_hq() {
    const int rc = stop(hq_);
    hq_ = -1;
    return rc;
  }

  std::size_t count_in_log(const std::string& needle, const std::string& name = "hq") const {
    const auto text = read_file(dir_ / (name + ".log"));
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  }

  json fleet_entry(const std::string& outlet) {
    const auto o =
        run(std::string(POSTGATE_HQ_BINARY) + " fleet --json --db " + db().string() + " 2>&1");
    EXPECT_EQ(o.rc, 0) << o.out;
    const auto j = json::parse(o.out, nullptr, false);
    if (j.is_array())
      for (const auto& e : j)
        if (e.value("outlet", "") == outlet) return e;
    return json();
  }

  fs::path dir_;
  int port_ = 0;
  pid_t broker_ = -1;
  pid_t hq_ = -1;
  core::SplitMix64 random_{2026};
};

TEST_F(HqBrokerTest, InOrderBatchesAreAcked) {
  Edge edge(uri(), "sh-0001");
  EXPECT_EQ(edge.send(batch_payload("sh-0001", make_records(1, 3, random_))), 3u);
  EXPECT_EQ(edge.send(batch_payload("sh-0001", make_records(4, 6, random_))), 6u);
  const auto f = fleet_entry("sh-0001");
  EXPECT_EQ(f["acked_seq"], 6);
  EXPECT_EQ(f["records"], 6);
}

TEST_F(HqBrokerTest, DuplicatesAreAbsorbedAndAckedAgain) {
  Edge edge(uri(), "sh-0002");
  const auto batch = batch_payload("sh-0002", make_records(1, 3, random_));
  EXPECT_EQ(edge.send(batch), 3u);
  EXPECT_EQ(edge.send(batch), 3u);
  const auto f = fleet_entry("sh-0002");
  EXPECT_EQ(f["records"], 3);
  EXPECT_EQ(f["duplicates"], 3);
  EXPECT_EQ(f["conflicts"], 0);
}

TEST_F(HqBrokerTest, ConflictIsReportedAndTheFirstKept) {
  Edge edge(uri(), "sh-0003");
  const auto first = make_records(1, 2, random_);
  EXPECT_EQ(edge.send(batch_payload("sh-0003", first)), 2u);
  const auto other = make_records(2, 2, random_);
  EXPECT_EQ(edge.send(batch_payload("sh-0003", other)), 2u);
  EXPECT_EQ(fleet_entry("sh-0003")["conflicts"], 1);
  EXPECT_EQ(count_in_log("CONFLICT: seq 2"), 1u);
  const auto o = run(std::string(POSTGATE_HQ_BINARY) + " records --json --clear --db " +
                     db().string() + " --outlet sh-0003");
  ASSERT_EQ(o.rc, 0);
  const auto held = json::parse(o.out);
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[1]["id"], first[1].id.str());
}

TEST_F(HqBrokerTest, GapIsShownAndFilled) {
  Edge edge(uri(), "sh-0004");
  EXPECT_EQ(edge.send(batch_payload("sh-0004", make_records(1, 5, random_))), 5u);
  EXPECT_EQ(edge.send(batch_payload("sh-0004", make_records(8, 10, random_))), 5u);
  auto f = fleet_entry("sh-0004");
  EXPECT_EQ(f["gaps"]["count"], 1);
  EXPECT_EQ(f["gaps"]["ranges"], json::parse("[[6,7]]"));
  const auto text = run(std::string(POSTGATE_HQ_BINARY) + " fleet --db " + db().string());
  EXPECT_NE(text.out.find("1 (6-7)"), std::string::npos) << text.out;
  EXPECT_EQ(edge.send(batch_payload("sh-0004", make_records(6, 7, random_))), 10u);
  f = fleet_entry("sh-0004");
  EXPECT_EQ(f["gaps"]["count"], 0);
  EXPECT_EQ(f["acked_seq"], 10);
}

TEST_F(HqBrokerTest, MalformedPayloadsAreIgnoredWithoutLosingGoodRecords) {
  Edge edge(uri(), "sh-0005");
  EXPECT_EQ(edge.send(batch_payload("sh-0005", make_records(1, 2, random_))), 2u);
  edge.publish("records", "this is not JSON");
  edge.publish("records", R"({"outlet":"sh-0005","records":[]})");                 // wrong shape
  edge.publish("records", batch_payload("sh-9999", make_records(3, 3, random_)));  // mismatch
  auto big = batch_json("sh-0005", make_records(3, 3, random_));
  big["padding"] = std::string(70 * 1024, 'x');  // over --max-payload-bytes 65536
  edge.publish("records", big.dump());
  auto mixed = batch_json("sh-0005", make_records(3, 5, random_));
  mixed["batch"][1].erase("sender");  // seq 4 is unusable, 3 and 5 are fine
  EXPECT_EQ(edge.send(mixed.dump()), 3u);
  const auto f = fleet_entry("sh-0005");
  EXPECT_EQ(f["records"], 4);
  EXPECT_EQ(f["ignored"], 5);
  EXPECT_EQ(f["gaps"]["ranges"], json::parse("[[4,4]]"));
  EXPECT_EQ(count_in_log("outlet sh-0005: records payload ignored"), 4u);
}

TEST_F(HqBrokerTest, RestartKeepsTheWatermark) {
  Edge edge(uri(), "sh-0006");
  EXPECT_EQ(edge.send(batch_payload("sh-0006", make_records(1, 3, random_))), 3u);
  EXPECT_EQ(stop_hq(), 0);
  // Published while HQ is down: the broker holds them for its session.
  const auto before = edge.ack_count();
  edge.publish("records", batch_payload("sh-0006", make_records(4, 6, random_)));
  start_hq();
  EXPECT_EQ(edge.ack_after(before), 6u);
  EXPECT_EQ(edge.send(batch_payload("sh-0006", make_records(7, 7, random_))), 7u);
  EXPECT_EQ(fleet_entry("sh-0006")["acked_seq"], 7);
  // A restart with nothing in flight: the next batch is acked from the database.
  EXPECT_EQ(stop_hq(), 0);
  start_hq();
  EXPECT_EQ(edge.send(batch_payload("sh-0006", make_records(8, 8, random_))), 8u);
}

TEST_F(HqBrokerTest, RetainedStatusShowsOnlineAndOffline) {
  {
    Edge edge(uri(), "sh-0007");
    edge.publish("status", json{{"state", "online"}, {"outlet", "sh-0007"}}.dump(), 1, true);
    edge.publish("telemetry", json{{"outlet", "sh-0007"}, {"pending", 7}}.dump(), 0);
    ASSERT_TRUE(eventually([&] {
      const auto f = fleet_entry("sh-0007");
      return f.is_object() && f["state"] == "online" && f["pending"] == 7;
    }));
    connect_with_will_and_vanish(
        port_, "raw-sh-0007", edge.topic("status"),
        json{{"state", "offline"}, {"outlet", "sh-0007"}, {"reason", "connection_lost"}}.dump());
    ASSERT_TRUE(eventually([&] { return fleet_entry("sh-0007")["state"] == "offline"; }));
  }
  // A receiver started later learns the state from the retained message.
  {
    Edge edge(uri(), "sh-0008");
    edge.publish("status", json{{"state", "online"}, {"outlet", "sh-0008"}}.dump(), 1, true);
  }
  EXPECT_EQ(stop_hq(), 0);
  fs::remove(db());
  fs::remove(dir_ / "hq.db-wal");
  fs::remove(dir_ / "hq.db-shm");
  start_hq();
  ASSERT_TRUE(eventually([&] {
    const auto f = fleet_entry("sh-0008");
    return f.is_object() && f["state"] == "online";
  }));
  const auto f = fleet_entry("sh-0008");
  EXPECT_TRUE(f["last_seen"].is_null()) << "a retained replay is not a sighting";
  EXPECT_EQ(fleet_entry("sh-0007")["state"], "offline");
}

TEST_F(HqBrokerTest, RecordsOutputIsMaskedUnlessClear) {
  Edge edge(uri(), "sh-0009");
  const auto rs = make_records(1, 2, random_);
  EXPECT_EQ(edge.send(batch_payload("sh-0009", rs)), 2u);
  const std::string cmd =
      std::string(POSTGATE_HQ_BINARY) + " records --db " + db().string() + " --outlet sh-0009";
  const auto masked = run(cmd);
  ASSERT_EQ(masked.rc, 0);
  const auto clear = run(cmd + " --clear");
  ASSERT_EQ(clear.rc, 0);
  for (const auto& r : rs) {
    const auto& s = r.acceptance.sender;
    EXPECT_EQ(masked.out.find(s.number), std::string::npos);
    EXPECT_EQ(masked.out.find(s.name), std::string::npos);
    EXPECT_NE(masked.out.find(core::mask_number(s.type, s.number)), std::string::npos);
    EXPECT_NE(clear.out.find(s.number), std::string::npos);
    EXPECT_NE(masked.out.find(r.acceptance.waybills[0].number), std::string::npos);
  }
}

TEST_F(HqBrokerTest, SharedSubscriptionSplitsBatchesOverOneDatabase) {
  EXPECT_EQ(stop_hq(), 0);
  const pid_t a =
      start_receiver("hq-a", {"--client-id", "hq-a", "--group", "g", "--log-level", "debug"});
  const pid_t b =
      start_receiver("hq-b", {"--client-id", "hq-b", "--group", "g", "--log-level", "debug"});
  Edge edge(uri(), "sh-0010");
  // All at once: the two receivers store concurrently, and whichever
  // commits last sees every record and acks the full range.
  for (std::uint64_t first = 1; first <= 100; first += 5)
    edge.publish("records", batch_payload("sh-0010", make_records(first, first + 4, random_)));
  EXPECT_TRUE(eventually([&] {
    for (std::size_t i = 0; i < edge.ack_count(); ++i)
      if (edge.ack_after(i, 0ms) == 100u) return true;
    return false;
  }));
  EXPECT_EQ(stop(a), 0);
  EXPECT_EQ(stop(b), 0);
  const auto f = fleet_entry("sh-0010");
  EXPECT_EQ(f["records"], 100);
  EXPECT_EQ(f["acked_seq"], 100);
  EXPECT_GT(count_in_log("outlet sh-0010: batch of 5", "hq-a"), 0u);
  EXPECT_GT(count_in_log("outlet sh-0010: batch of 5", "hq-b"), 0u);
}

}  // namespace
}  // namespace postgate::hq
