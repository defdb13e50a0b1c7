// The plain-publisher reference of bench/drain_run: N messages of B bytes,
// one per record, QoS 1, at most W unacknowledged at a time. It holds no
// backlog (payloads are built on the fly) and persists nothing, so a crash
// loses whatever it has not yet published.
//
//   bench_paho_qos1_pub URI TOPIC N BYTES [WINDOW=100]
//
// Connects with retries (the broker may not be up yet), prints
// "published N in S s" on stdout once every PUBACK has arrived, exits 0.
#include <mqtt/async_client.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include <unistd.h>

namespace {

class Window : public virtual mqtt::callback {
 public:
  explicit Window(int size) : free_(size) {}
  void delivery_complete(mqtt::delivery_token_ptr) override {
    std::lock_guard lock(m_);
    ++free_;
    ++acked_;
    cv_.notify_all();
  }
  void connection_lost(const std::string& cause) override {
    std::fprintf(stderr, "connection lost: %s\n", cause.c_str());
    std::lock_guard lock(m_);
    lost_ = true;
    cv_.notify_all();
  }
  // false if the connection was lost while waiting
  bool take() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return free_ > 0 || lost_; });
    if (lost_) return false;
    --free_;
    return true;
  }
  bool wait_acked(long n) {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return acked_ >= n || lost_; });
    return acked_ >= n;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int free_;
  long acked_ = 0;
  bool lost_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s URI TOPIC N BYTES [WINDOW]\n", argv[0]);
    return 2;
  }
  const std::string uri = argv[1], topic = argv[2];
  const long n = std::atol(argv[3]);
  const std::size_t bytes = static_cast<std::size_t>(std::atol(argv[4]));
  const int window = argc > 5 ? std::atoi(argv[5]) : 100;

  mqtt::async_client client(uri, "bench-pub-" + std::to_string(::getpid()), 0, nullptr);
  Window w(window);
  client.set_callback(w);
  auto opts = mqtt::connect_options_builder()
                  .clean_session(true)
                  .max_inflight(window)
                  .keep_alive_interval(std::chrono::seconds(30))
                  .finalize();
  for (int attempt = 0;; ++attempt) {
    try {
      client.connect(opts)->wait();
      break;
    } catch (const mqtt::exception& e) {
      if (attempt > 600) {
        std::fprintf(stderr, "cannot connect: %s\n", e.what());
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::string payload(bytes, 'x');
  for (long i = 0; i < n; ++i) {
    // A distinct, record-like head so the broker cannot treat messages alike.
    const std::string head = "{\"seq\":" + std::to_string(i + 1) + ",\"pad\":\"";
    payload.replace(0, std::min(head.size(), payload.size()), head.substr(0, payload.size()));
    if (!w.take()) return 1;
    try {
      client.publish(topic, payload.data(), payload.size(), 1, false);
    } catch (const mqtt::exception& e) {
      std::fprintf(stderr, "publish %ld: %s\n", i + 1, e.what());
      return 1;
    }
  }
  if (!w.wait_acked(n)) return 1;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("published %ld in %.3f s\n", n, s);
  std::fflush(stdout);
  client.disconnect()->wait();
  return 0;
}
