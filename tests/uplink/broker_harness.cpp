#include "broker_harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

extern char** environ;

namespace postgate::uplink::testing {

bool mosquitto_available() {
  return ::access(kMosquitto, X_OK) == 0;
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "postgate-uplink-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(10ms);
  }
}

namespace {

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

int run(const std::string& cmd) {
  return std::system(("(" + cmd + ") >/dev/null 2>&1").c_str());
}

}  // namespace

std::optional<TlsFiles> make_tls_files(const fs::path& dir, std::string& error) {
  const std::string d = dir.string();
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  auto ca = [&](const std::string& name) {
    return "openssl req -x509" + ec + " -days 2 -subj /CN=" + name + " -keyout " + d + "/" + name +
           ".key -out " + d + "/" + name + ".crt";
  };
  auto leaf = [&](const std::string& name, const std::string& cn, const std::string& issuer,
                  const std::string& ext) {
    std::ofstream(dir / (name + ".ext")) << ext << "\n";
    return "openssl req" + ec + " -subj /CN=" + cn + " -keyout " + d + "/" + name + ".key -out " +
           d + "/" + name + ".csr && openssl x509 -req -days 2 -in " + d + "/" + name +
           ".csr -CA " + d + "/" + issuer + ".crt -CAkey " + d + "/" + issuer +
           ".key -CAcreateserial -out " + d + "/" + name + ".crt -extfile " + d + "/" + name +
           ".ext";
  };
  const std::vector<std::string> steps = {
      ca("test-ca"),
      leaf("server", "127.0.0.1", "test-ca",
           "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"),
      leaf("client", "postgate-sh-0001", "test-ca", "extendedKeyUsage=clientAuth"),
      leaf("wrongname", "wrong.example", "test-ca",
           "subjectAltName=DNS:wrong.example\nextendedKeyUsage=serverAuth"),
      ca("rogue-ca"),
      leaf("rogue", "postgate-rogue", "rogue-ca", "extendedKeyUsage=clientAuth"),
  };
  for (const auto& s : steps) {
    if (run(s) != 0) {
      error = "openssl failed: " + s;
      return std::nullopt;
    }
  }
  return TlsFiles{dir / "test-ca.crt", dir / "server.crt",    dir / "server.key",
                  dir / "client.crt",  dir / "client.key",    dir / "rogue.crt",
                  dir / "rogue.key",   dir / "wrongname.crt", dir / "wrongname.key"};
}

Broker::Broker(fs::path dir, int port)
    : dir_(std::move(dir)), port_(port > 0 ? port : free_port()) {}

Broker::~Broker() {
  kill();
}

std::string Broker::uri() const {
  return std::string(tls_ ? "ssl" : "tcp") + "://127.0.0.1:" + std::to_string(port_);
}

std::string Broker::log() const {
  std::ifstream in(dir_ / "mosquitto.log");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool Broker::start(std::optional<BrokerTls> tls) {
  if (pid_ > 0) return true;
  tls_ = tls.has_value();
  const fs::path conf = dir_ / "mosquitto.conf";
  {
    std::ofstream c(conf);
    c << "listener " << port_ << " 127.0.0.1\n"
      << "allow_anonymous true\n"
      << "persistence false\n"
      << "max_queued_messages 0\n"
      << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
    if (::geteuid() == 0) c << "user root\n";
    if (tls) {
      c << "cafile " << tls->ca.string() << "\n"
        << "certfile " << tls->cert.string() << "\n"
        << "keyfile " << tls->key.string() << "\n"
        << "require_certificate " << (tls->require_certificate ? "true" : "false") << "\n";
    }
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const std::string logpath = (dir_ / "mosquitto.log").string();
  posix_spawn_file_actions_addopen(&fa, 1, logpath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::string prog = kMosquitto, dash_c = "-c", conf_s = conf.string();
  char* argv[] = {prog.data(), dash_c.data(), conf_s.data(), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, kMosquitto, &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return false;
  pid_ = pid;
  const bool up = wait_until(
      [&] {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          return true;  // exited: reported below
        }
        return port_open(port_);
      },
      5s);
  return up && pid_ > 0;
}

void Broker::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void Broker::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

// ---- TestClient --------------------------------------------------------------

TestClient::TestClient(Options o) : opts_(std::move(o)) {
  mqtt::create_options co(MQTTVERSION_5);
  co.set_max_buffered_messages(100000);
  cli_ = std::make_unique<mqtt::async_client>(opts_.uri, opts_.client_id, co, nullptr);
  cli_->set_message_callback([this](mqtt::const_message_ptr m) {
    Message msg{m->get_topic(), m->get_payload_str(), m->is_retained()};
    {
      std::lock_guard lk(mu_);
      messages_.push_back(msg);
    }
    on_message(msg);
  });
  cli_->set_connected_handler([this](const std::string&) {
    // Runs after automatic reconnects too: subscriptions of a clean session
    // are gone.
    std::vector<std::pair<std::string, int>> f;
    {
      std::lock_guard lk(mu_);
      f = filters_;
    }
    for (const auto& [filter, qos] : f) {
      try {
        cli_->subscribe(filter, qos);
      } catch (...) {
      }
    }
  });
}

TestClient::~TestClient() {
  try {
    cli_->disable_callbacks();
    if (cli_->is_connected()) cli_->disconnect(0)->wait_for(2s);
  } catch (...) {
  }
}

bool TestClient::connect() {
  auto o = mqtt::connect_options_builder()
               .mqtt_version(MQTTVERSION_5)
               .clean_start(true)
               .connect_timeout(5s)
               .keep_alive_interval(5s)
               .finalize();
  if (opts_.auto_reconnect) o.set_automatic_reconnect(1, 1);
  if (opts_.ssl) o.set_ssl(*opts_.ssl);
  try {
    auto tok = cli_->connect(o);
    return tok->wait_for(5s) && cli_->is_connected();
  } catch (const mqtt::exception&) {
    return false;
  }
}

bool TestClient::subscribe(const std::string& filter, int qos) {
  {
    std::lock_guard lk(mu_);
    filters_.emplace_back(filter, qos);
  }
  try {
    return cli_->subscribe(filter, qos)->wait_for(5s);
  } catch (const mqtt::exception&) {
    return false;
  }
}

void TestClient::publish(const std::string& topic, const std::string& payload, int qos,
                         bool retained) {
  try {
    cli_->publish(topic, payload.data(), payload.size(), qos, retained)->wait_for(5s);
  } catch (const mqtt::exception&) {
  }
}

void TestClient::disconnect() {
  try {
    cli_->disconnect()->wait_for(5s);
  } catch (const mqtt::exception&) {
  }
}

std::vector<Message> TestClient::messages() const {
  std::lock_guard lk(mu_);
  return messages_;
}

std::vector<Message> TestClient::messages_on(const std::string& topic) const {
  std::lock_guard lk(mu_);
  std::vector<Message> out;
  for (const auto& m : messages_)
    if (m.topic == topic) out.push_back(m);
  return out;
}

std::optional<Message> TestClient::wait_for(const std::string& topic,
                                            const std::function<bool(const Message&)>& pred,
                                            std::chrono::milliseconds timeout) {
  std::optional<Message> found;
  wait_until(
      [&] {
        std::lock_guard lk(mu_);
        for (const auto& m : messages_)
          if (m.topic == topic && pred(m)) {
            found = m;
            return true;
          }
        return false;
      },
      timeout);
  return found;
}

void TestClient::on_message(const Message&) {}

// ---- HqPeer --------------------------------------------------------------------

HqPeer::HqPeer(std::string uri, std::string prefix, std::optional<mqtt::ssl_options> ssl)
    : TestClient(Options{std::move(uri), "hq-test", std::move(ssl), true}),
      prefix_(std::move(prefix)) {}

bool HqPeer::start() {
  return connect() && subscribe(prefix_ + "/+/records", 1);
}

void HqPeer::on_message(const Message& m) {
  const auto j = nlohmann::json::parse(m.payload, nullptr, false);
  if (j.is_discarded() || !j.contains("outlet") || !j.contains("batch")) return;
  const std::string outlet = j["outlet"].get<std::string>();
  std::uint64_t upto = 0;
  {
    std::lock_guard lk(mu_);
    ++batches_;
    largest_batch_ = std::max(largest_batch_, j["batch"].size());
    largest_payload_ = std::max(largest_payload_, m.payload.size());
    auto& seen = seen_[outlet];
    const auto now = std::chrono::steady_clock::now();
    for (const auto& r : j["batch"]) {
      ++seen[r["seq"].get<std::uint64_t>()];
      ++received_;
      times_.push_back(now);
    }
    auto& c = contiguous_[outlet];
    while (seen.contains(c + 1)) ++c;
    upto = c;
  }
  if (auto_ack_ && upto > 0) {
    const std::string ack = nlohmann::json{{"upto_seq", upto}}.dump();
    // No wait: this runs on Paho's callback thread.
    try {
      client().publish(prefix_ + "/" + outlet + "/ack", ack.data(), ack.size(), 1, false);
    } catch (const mqtt::exception&) {
    }
  }
}

std::uint64_t HqPeer::contiguous(const std::string& outlet) const {
  std::lock_guard lk(mu_);
  const auto it = contiguous_.find(outlet);
  return it == contiguous_.end() ? 0 : it->second;
}

std::size_t HqPeer::distinct(const std::string& outlet) const {
  std::lock_guard lk(mu_);
  const auto it = seen_.find(outlet);
  return it == seen_.end() ? 0 : it->second.size();
}

std::uint64_t HqPeer::received() const {
  std::lock_guard lk(mu_);
  return received_;
}

std::uint64_t HqPeer::batches() const {
  std::lock_guard lk(mu_);
  return batches_;
}

std::size_t HqPeer::largest_batch() const {
  std::lock_guard lk(mu_);
  return largest_batch_;
}

std::size_t HqPeer::largest_payload() const {
  std::lock_guard lk(mu_);
  return largest_payload_;
}

std::uint64_t HqPeer::count_of(const std::string& outlet, std::uint64_t seq) const {
  std::lock_guard lk(mu_);
  const auto it = seen_.find(outlet);
  if (it == seen_.end()) return 0;
  const auto s = it->second.find(seq);
  return s == it->second.end() ? 0 : s->second;
}

std::vector<std::chrono::steady_clock::time_point> HqPeer::receipt_times() const {
  std::lock_guard lk(mu_);
  return times_;
}

// ---- Peer (out of process) -----------------------------------------------------

namespace {
constexpr const char* kPython = "/usr/bin/python3";
}

bool Peer::available(std::string& why) {
  if (::access(kPython, X_OK) != 0) {
    why = std::string(kPython) + " is missing";
    return false;
  }
  if (std::system(
          (std::string(kPython) + " -c 'import paho.mqtt.client' >/dev/null 2>&1").c_str()) != 0) {
    why = "python3-paho-mqtt is missing";
    return false;
  }
  return true;
}

Peer::Peer(Options o) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  std::vector<std::string> args = {
      kPython, UPLINK_PEER_SCRIPT, "--port", std::to_string(o.port), "--client-id", o.client_id};
  if (o.ca) args.insert(args.end(), {"--ca", o.ca->string()});
  if (o.cert) args.insert(args.end(), {"--cert", o.cert->string()});
  if (o.key) args.insert(args.end(), {"--key", o.key->string()});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  const int rc = posix_spawn(&pid_, kPython, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  in_ = in[1];
  out_ = out[0];
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error("cannot start the peer");
  }
  reader_ = std::thread([this] { read_loop(); });
}

Peer::~Peer() {
  if (in_ >= 0) ::close(in_);  // the peer disconnects and exits at EOF
  if (pid_ > 0) {
    int status = 0;
    const bool exited = wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, 3s);
    if (!exited) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  if (reader_.joinable()) reader_.join();
  if (out_ >= 0) ::close(out_);
}

void Peer::read_loop() {
  std::string buf;
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::read(out_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    buf.append(chunk, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1)
      on_line(buf.substr(start, nl - start));
    buf.erase(0, start);
  }
}

void Peer::on_line(const std::string& line) {
  const auto j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object()) return;
  const std::string ev = j.value("ev", "");
  std::lock_guard lk(mu_);
  if (ev == "connected") {
    ++connects_;
  } else if (ev == "refused") {
    ++refusals_;
  } else if (ev == "done") {
    if (j["id"].is_number_integer()) done_.insert(j["id"].get<std::int64_t>());
  } else if (ev == "batch") {
    const std::string outlet = j["outlet"].get<std::string>();
    auto& seen = seen_[outlet];
    const auto now = std::chrono::steady_clock::now();
    ++batches_;
    largest_batch_ = std::max(largest_batch_, j["seqs"].size());
    largest_payload_ = std::max(largest_payload_, j["bytes"].get<std::size_t>());
    for (const auto& s : j["seqs"]) {
      ++seen[s.get<std::uint64_t>()];
      ++received_;
      times_.push_back(now);
    }
    auto& c = contiguous_[outlet];
    while (seen.contains(c + 1)) ++c;
  } else if (ev == "msg") {
    messages_.push_back({j["topic"].get<std::string>(), j["payload"].get<std::string>(),
                         j["retained"].get<bool>()});
  }
  cv_.notify_all();
}

bool Peer::command(nlohmann::json cmd, std::chrono::milliseconds timeout) {
  std::int64_t id = 0;
  {
    std::lock_guard lk(mu_);
    id = next_id_++;
  }
  cmd["id"] = id;
  const std::string line = cmd.dump() + "\n";
  if (::write(in_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return false;
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, timeout, [&] { return done_.contains(id); });
}

bool Peer::wait_connected(std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, timeout, [&] { return connects_ > 0; });
}

std::size_t Peer::connects() const {
  std::lock_guard lk(mu_);
  return connects_;
}

std::size_t Peer::refusals() const {
  std::lock_guard lk(mu_);
  return refusals_;
}

bool Peer::hq(const std::string& prefix) {
  return wait_connected() && command({{"op", "hq"}, {"prefix", prefix}});
}

bool Peer::subscribe(const std::string& filter, int qos) {
  return wait_connected() && command({{"op", "sub"}, {"filter", filter}, {"qos", qos}});
}

bool Peer::publish(const std::string& topic, const std::string& payload, int qos, bool retained) {
  return command(
      {{"op", "pub"}, {"topic", topic}, {"payload", payload}, {"qos", qos}, {"retain", retained}});
}

bool Peer::set_auto_ack(bool on) {
  return command({{"op", "ack"}, {"on", on}});
}

std::vector<Message> Peer::messages_on(const std::string& topic) const {
  std::lock_guard lk(mu_);
  std::vector<Message> out;
  for (const auto& m : messages_)
    if (m.topic == topic) out.push_back(m);
  return out;
}

std::optional<Message> Peer::wait_for(const std::string& topic,
                                      const std::function<bool(const Message&)>& pred,
                                      std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  std::optional<Message> found;
  cv_.wait_for(lk, timeout, [&] {
    for (const auto& m : messages_)
      if (m.topic == topic && pred(m)) {
        found = m;
        return true;
      }
    return false;
  });
  return found;
}

std::uint64_t Peer::contiguous(const std::string& outlet) const {
  std::lock_guard lk(mu_);
  const auto it = contiguous_.find(outlet);
  return it == contiguous_.end() ? 0 : it->second;
}

std::size_t Peer::distinct(const std::string& outlet) const {
  std::lock_guard lk(mu_);
  const auto it = seen_.find(outlet);
  return it == seen_.end() ? 0 : it->second.size();
}

std::uint64_t Peer::received() const {
  std::lock_guard lk(mu_);
  return received_;
}

std::uint64_t Peer::batches() const {
  std::lock_guard lk(mu_);
  return batches_;
}

std::size_t Peer::largest_batch() const {
  std::lock_guard lk(mu_);
  return largest_batch_;
}

std::size_t Peer::largest_payload() const {
  std::lock_guard lk(mu_);
  return largest_payload_;
}

std::uint64_t Peer::count_of(const std::string& outlet, std::uint64_t seq) const {
  std::lock_guard lk(mu_);
  const auto it = seen_.find(outlet);
  if (it == seen_.end()) return 0;
  const auto s = it->second.find(seq);
  return s == it->second.end() ? 0 : s->second;
}

std::vector<std::chrono::steady_clock::time_point> Peer::receipt_times() const {
  std::lock_guard lk(mu_);
  return times_;
}

// ---- Edge ------------------------------------------------------------------------

Edge::Edge(UplinkConfig cfg, MemoryOutbox& outbox, bool with_events, TelemetryProvider telemetry,
           core::EvidenceOutbox* evidence)
    : work_(boost::asio::make_work_guard(io_)) {
  uplink_ = std::make_unique<Uplink>(io_, std::move(cfg), outbox, with_events ? &outbox : nullptr,
                                     std::move(telemetry), clock_, random_);
  uplink_->set_evidence_outbox(evidence);
  thread_ = std::thread([this] { io_.run(); });
}

Edge::~Edge() {
  // Destroyed on the loop, like the daemon does; the will covers a missing stop.
  call([this] {
    uplink_.reset();
    return 0;
  });
  work_.reset();
  io_.stop();
  thread_.join();
}

core::Status Edge::start() {
  return call([this] { return uplink_->start(); });
}

bool Edge::stop(std::chrono::milliseconds timeout) {
  auto done = std::make_shared<std::promise<void>>();
  auto fut = done->get_future();
  call([this, done] {
    uplink_->stop([done] { done->set_value(); });
    return 0;
  });
  return fut.wait_for(timeout) == std::future_status::ready;
}

UplinkStatus Edge::status() {
  return call([this] { return uplink_->status(); });
}

UplinkConfig test_config(const std::string& uri, const std::string& outlet) {
  UplinkConfig c;
  c.outlet = outlet;
  c.brokers = {uri};
  c.keepalive = 5s;
  c.connect_timeout = 2s;
  c.linger = 5ms;
  c.ack_timeout = 5s;
  c.reconnect_min = 50ms;
  c.reconnect_max = 300ms;
  c.drain_records_per_s = 0;
  c.drain_bytes_per_s = 0;
  c.telemetry_interval = 0ms;
  c.max_inflight_batches = 8;  // the tests fill it with a few thousand records
  c.batch_max_records = 200;   // the tests count in windows of 8 x 200
  c.stop_timeout = 3s;
  c.version = "0.1.0-test";
  return c;
}

}  // namespace postgate::uplink::testing
