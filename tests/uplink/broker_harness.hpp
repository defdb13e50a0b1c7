#pragma once
// Test harness for the uplink: a real mosquitto on a free loopback port with
// a config written by the test, a test-side HQ peer (Paho C++) that stores
// seqs and acknowledges them, and an edge (Uplink on its own io_context
// thread) driven from the test thread.
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <mqtt/async_client.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "core/synthetic.hpp"
#include "core/time.hpp"
#include "memory_outbox.hpp"
#include "uplink/uplink.hpp"

namespace postgate::uplink::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline constexpr const char* kMosquitto = "/usr/sbin/mosquitto";
bool mosquitto_available();

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

int free_port();
// Polls `pred` every 10 ms until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

struct TlsFiles {
  fs::path ca, server_cert, server_key, client_cert, client_key;
  fs::path rogue_cert, rogue_key;            // signed by another CA
  fs::path wrong_name_cert, wrong_name_key;  // server cert for DNS:wrong.example only
};
// CA, server (SAN IP 127.0.0.1, DNS localhost) and client certificates made
// with openssl in `dir`; nullopt (with the reason in `error`) on failure.
std::optional<TlsFiles> make_tls_files(const fs::path& dir, std::string& error);

struct BrokerTls {
  fs::path ca, cert, key;
  bool require_certificate = true;
};

class Broker {
 public:
  explicit Broker(fs::path dir, int port = 0);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Writes the config and starts mosquitto; returns once it accepts
  // connections (false after 5 s).
  bool start(std::optional<BrokerTls> tls = std::nullopt);
  void stop();  // SIGTERM, wait
  void kill();  // SIGKILL, wait
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string uri() const;  // tcp://127.0.0.1:port or ssl://...
  std::string log() const;

 private:
  fs::path dir_;
  int port_;
  bool tls_ = false;
  pid_t pid_ = -1;
};

struct Message {
  std::string topic;
  std::string payload;
  bool retained = false;
};

// A Paho client driven from the test thread; callbacks store messages.
class TestClient {
 public:
  struct Options {
    std::string uri;
    std::string client_id;
    std::optional<mqtt::ssl_options> ssl;
    bool auto_reconnect = false;
  };
  explicit TestClient(Options o);
  virtual ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connect();  // blocking, up to 5 s
  // Subscribes now and again after every automatic reconnect.
  bool subscribe(const std::string& filter, int qos = 1);
  void publish(const std::string& topic, const std::string& payload, int qos = 1,
               bool retained = false);
  void disconnect();

  std::vector<Message> messages() const;
  std::vector<Message> messages_on(const std::string& topic) const;
  // Waits for a message on `topic` satisfying `pred`.
  std::optional<Message> wait_for(const std::string& topic,
                                  const std::function<bool(const Message&)>& pred,
                                  std::chrono::milliseconds timeout);

 protected:
  virtual void on_message(const Message& m);
  mqtt::async_client& client() { return *cli_; }

 private:
  Options opts_;
  std::unique_ptr<mqtt::async_client> cli_;
  mutable std::mutex mu_;
  std::vector<Message> messages_;
  std::vector<std::pair<std::string, int>> filters_;
};

// Headquarters as the tests need it: stores every seq of every outlet and,
// when acking, publishes the highest contiguous seq after each batch.
class HqPeer final : public TestClient {
 public:
  HqPeer(std::string uri, std::string prefix = "postgate/v1",
         std::optional<mqtt::ssl_options> ssl = std::nullopt);
  bool start();  // connect and subscribe to <prefix>/+/records

  void set_auto_ack(bool on) { auto_ack_ = on; }
  std::uint64_t contiguous(const std::string& outlet) const;
  std::size_t distinct(const std::string& outlet) const;
  std::uint64_t received() const;  // records, duplicates included
  std::uint64_t batches() const;
  std::size_t largest_batch() const;
  std::size_t largest_payload() const;
  std::uint64_t count_of(const std::string& outlet, std::uint64_t seq) const;
  // Receipt times of records (steady clock), for rate checks.
  std::vector<std::chrono::steady_clock::time_point> receipt_times() const;

 protected:
  void on_message(const Message& m) override;

 private:
  std::string prefix_;
  std::atomic<bool> auto_ack_{true};
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::uint64_t, std::uint64_t>> seen_;  // outlet -> seq -> count
  std::map<std::string, std::uint64_t> contiguous_;
  std::uint64_t received_ = 0, batches_ = 0;
  std::size_t largest_batch_ = 0, largest_payload_ = 0;
  std::vector<std::chrono::steady_clock::time_point> times_;
};

// The test-side peer in its own process (hq_peer.py on python3-paho-mqtt):
// HQ for <prefix>/+/records and a watcher of any topic. Out of process
// because Paho C notices a second in-process client's connection up to two
// seconds late (its receive thread idles in poll for a second).
class Peer {
 public:
  struct Options {
    int port = 0;
    std::string client_id = "hq-test";
    std::optional<fs::path> ca, cert, key;
  };
  // python3 with paho-mqtt present; otherwise why not in `why`.
  static bool available(std::string& why);

  explicit Peer(Options o);
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  bool wait_connected(std::chrono::milliseconds timeout = 5s);
  std::size_t connects() const;
  std::size_t refusals() const;
  bool hq(const std::string& prefix = "postgate/v1");  // subscribe to records and ack
  bool subscribe(const std::string& filter, int qos = 1);
  bool publish(const std::string& topic, const std::string& payload, int qos = 1,
               bool retained = false);
  bool set_auto_ack(bool on);

  std::vector<Message> messages_on(const std::string& topic) const;
  std::optional<Message> wait_for(const std::string& topic,
                                  const std::function<bool(const Message&)>& pred,
                                  std::chrono::milliseconds timeout = 5s);

  std::uint64_t contiguous(const std::string& outlet) const;
  std::size_t distinct(const std::string& outlet) const;
  std::uint64_t received() const;  // records, duplicates included
  std::uint64_t batches() const;
  std::size_t largest_batch() const;
  std::size_t largest_payload() const;
  std::uint64_t count_of(const std::string& outlet, std::uint64_t seq) const;
  std::vector<std::chrono::steady_clock::time_point> receipt_times() const;

 private:
  bool command(nlohmann::json cmd, std::chrono::milliseconds timeout = 5s);
  void read_loop();
  void on_line(const std::string& line);

  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::int64_t> done_;
  std::int64_t next_id_ = 1;
  std::size_t connects_ = 0, refusals_ = 0;
  std::vector<Message> messages_;
  std::map<std::string, std::map<std::uint64_t, std::uint64_t>> seen_;
  std::map<std::string, std::uint64_t> contiguous_;
  std::uint64_t received_ = 0, batches_ = 0;
  std::size_t largest_batch_ = 0, largest_payload_ = 0;
  std::vector<std::chrono::steady_clock::time_point> times_;
};

// An Uplink on its own io_context thread.
class Edge {
 public:
  Edge(UplinkConfig cfg, MemoryOutbox& outbox, bool with_events = true,
       TelemetryProvider telemetry = {}, core::EvidenceOutbox* evidence = nullptr);
  ~Edge();
  Edge(const Edge&) = delete;
  Edge& operator=(const Edge&) = delete;

  core::Status start();
  // Clean stop; true when `done` came within `timeout`.
  bool stop(std::chrono::milliseconds timeout = 10s);
  UplinkStatus status();
  void notify_new_records() { uplink_->notify_new_records(); }
  void notify_new_events() { uplink_->notify_new_events(); }
  void notify_new_evidence() { uplink_->notify_new_evidence(); }

  template <class F>
  auto call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto fut = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return fut.get();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  core::SystemClock clock_;
  core::SplitMix64 random_{42};
  std::unique_ptr<Uplink> uplink_;
  std::thread thread_;
};

// Test defaults: short back-off, timeouts and linger; no telemetry.
UplinkConfig test_config(const std::string& uri, const std::string& outlet = "sh-0001");

}  // namespace postgate::uplink::testing
