#pragma once
// A scripted HTTP(S) server for the snapshot tests: listens on 127.0.0.1,
// port 0, and runs a script for each connection it accepts, one connection
// at a time, on a thread of its own (blocking Beast/Asio calls). The script
// reads requests and writes raw bytes, so it can answer well, badly, slowly
// or not at all. The destructor unblocks whatever the script waits on
// (shutdown of the sockets, a stop flag) and joins the thread.
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace postgate::adapters::camera::test {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Headers = std::vector<std::pair<std::string, std::string>>;

class TestHttpServer;

// One accepted connection, plain or TLS.
class Conn {
 public:
  virtual ~Conn() = default;
  // The next request, or nullopt when the client closed or the server stops.
  virtual std::optional<Request> read_request() = 0;
  // Raw bytes; false once the client is gone or the server stops.
  virtual bool write(std::string_view bytes) = 0;
  // Waits until the server stops (or `max` passes): a hung camera.
  void hang(std::chrono::milliseconds max = std::chrono::seconds(30));
  // Sleeps `d` unless the server stops first; false if it stopped.
  bool pause(std::chrono::milliseconds d);
  int index = 0;            // 0 for the first connection
  std::string server_name;  // TLS SNI the client sent (empty: none or plain)

 protected:
  explicit Conn(TestHttpServer& server) : server_(server) {}
  TestHttpServer& server_;
};

class TestHttpServer {
 public:
  using Script = std::function<void(Conn&)>;
  struct Tls {
    std::string cert_pem;
    std::string key_pem;
  };
  explicit TestHttpServer(Script script, std::optional<Tls> tls = std::nullopt);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(std::string_view target = "/snapshot.jpg") const;  // http(s)://127.0.0.1:port
  std::vector<Request> requests() const;                             // every request read so far
  int connections() const { return connections_.load(); }

 private:
  friend class Conn;
  template <class Stream>
  friend class StreamConn;
  void run();
  void serve(boost::asio::ip::tcp::socket socket);
  void record(const Request& r);
  void track(int fd, bool add);

  Script script_;
  std::optional<boost::asio::ssl::context> tls_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  std::vector<Request> requests_;
  std::set<int> live_fds_;
  std::thread thread_;
};

// Raw answers.
std::string response(unsigned status, const Headers& headers, std::string_view body);
std::string jpeg_response(std::string_view body, std::string_view content_type = "image/jpeg");
std::string chunked_response(const Headers& headers, const std::vector<std::string>& chunks);
std::string as_string(const std::vector<std::uint8_t>& bytes);

// A port on 127.0.0.1 with nothing listening (bound, then closed).
std::uint16_t unused_port();

}  // namespace postgate::adapters::camera::test
