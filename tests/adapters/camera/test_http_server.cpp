#include "test_http_server.hpp"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>

namespace postgate::adapters::camera::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

void Conn::hang(std::chrono::milliseconds max) {
  (void)pause(max);
}

bool Conn::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(server_.mutex_);
  return !server_.stop_cv_.wait_for(lock, d, [&] { return server_.stopping_.load(); });
}

template <class Stream>
class StreamConn final : public Conn {
 public:
  StreamConn(TestHttpServer& server, Stream& stream) : Conn(server), stream_(stream) {}

  std::optional<Request> read_request() override {
    if (server_.stopping_) return std::nullopt;
    Request req;
    boost::system::error_code ec;
    http::read(stream_, buffer_, req, ec);
    if (ec) return std::nullopt;
    server_.record(req);
    return req;
  }

  bool write(std::string_view bytes) override {
    if (server_.stopping_) return false;
    boost::system::error_code ec;
    asio::write(stream_, asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }

 private:
  Stream& stream_;
  beast::flat_buffer buffer_;
};

TestHttpServer::TestHttpServer(Script script, std::optional<Tls> tls)
    : script_(std::move(script)), acceptor_(io_) {
  if (tls) {
    tls_.emplace(asio::ssl::context::tls_server);
    tls_->use_certificate_chain(asio::buffer(tls->cert_pem));
    tls_->use_private_key(asio::buffer(tls->key_pem), asio::ssl::context::pem);
  }
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  thread_ = std::thread([this] { run(); });
}

TestHttpServer::~TestHttpServer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    // Unblocks accept() and any read or write the script is in.
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    for (int fd : live_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  stop_cv_.notify_all();
  thread_.join();
}

std::string TestHttpServer::url(std::string_view target) const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) +
         std::string(target);
}

std::vector<Request> TestHttpServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void TestHttpServer::record(const Request& r) {
  std::lock_guard lock(mutex_);
  requests_.push_back(r);
}

void TestHttpServer::track(int fd, bool add) {
  std::lock_guard lock(mutex_);
  if (add) {
    live_fds_.insert(fd);
    if (stopping_) ::shutdown(fd, SHUT_RDWR);
  } else {
    live_fds_.erase(fd);
  }
}

void TestHttpServer::run() {
  while (!stopping_) {
    tcp::socket socket(io_);
    boost::system::error_code ec;
    acceptor_.accept(socket, ec);
    if (ec || stopping_) break;
    serve(std::move(socket));
  }
}

void TestHttpServer::serve(tcp::socket socket) {
  const int fd = socket.native_handle();
  track(fd, true);
  const int index = connections_++;
  if (tls_) {
    asio::ssl::stream<tcp::socket&> stream(socket, *tls_);
    boost::system::error_code ec;
    stream.handshake(asio::ssl::stream_base::server, ec);
    if (!ec) {
      StreamConn<asio::ssl::stream<tcp::socket&>> conn(*this, stream);
      conn.index = index;
      if (const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name))
        conn.server_name = sni;
      script_(conn);
    }
  } else {
    StreamConn<tcp::socket> conn(*this, socket);
    conn.index = index;
    script_(conn);
  }
  track(fd, false);
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

std::string response(unsigned status, const Headers& headers, std::string_view body) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " Scripted\r\n";
  bool has_length = false;
  for (const auto& [k, v] : headers) {
    r += k + ": " + v + "\r\n";
    if (k == "Content-Length" || k == "Transfer-Encoding") has_length = true;
  }
  if (!has_length) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += "\r\n";
  r += body;
  return r;
}

std::string jpeg_response(std::string_view body, std::string_view content_type) {
  return response(200, {{"Content-Type", std::string(content_type)}}, body);
}

std::string chunked_response(const Headers& headers, const std::vector<std::string>& chunks) {
  std::string r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n";
  for (const auto& [k, v] : headers) r += k + ": " + v + "\r\n";
  r += "\r\n";
  static constexpr char digits[] = "0123456789abcdef";
  for (const auto& c : chunks) {
    std::string size;
    for (std::size_t n = c.size(); n > 0 || size.empty(); n >>= 4)
      size.insert(size.begin(), digits[n & 0xF]);
    r += size + "\r\n" + c + "\r\n";
  }
  r += "0\r\n\r\n";
  return r;
}

std::string as_string(const std::vector<std::uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

std::uint16_t unused_port() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

}  // namespace postgate::adapters::camera::test
