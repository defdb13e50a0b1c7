#include "adapters/camera/http_snapshot_camera.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <optional>
#include <string_view>

#include "adapters/camera/codec/jpeg_normalize.hpp"
#include "adapters/camera/codec/snapshot_url.hpp"
#include "adapters/camera/codec/www_authenticate.hpp"
#include "adapters/camera/digest_hash.hpp"

namespace postgate::adapters::camera {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

std::unexpected<core::Error> err(std::string code, std::string message) {
  return core::fail(std::move(code), "camera", std::move(message));
}

std::string_view sv(beast::string_view s) {
  return {s.data(), s.size()};
}

// A value from the far side, fit for a log line: printable ASCII, short.
std::string printable(std::string_view s) {
  std::string out;
  for (const char c : s.substr(0, 60)) out += (c >= 0x20 && c < 0x7F) ? c : '?';
  return out;
}

std::string hex64(std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = digits[v & 0xF];
  return s;
}

}  // namespace

struct HttpSnapshotCamera::Shared {
  HttpCameraSettings settings;
  SnapshotUrl url;
  std::unique_ptr<ssl::context> tls;
};

// One capture: owns its sockets, timer and parser, and is kept alive by the
// handlers in flight, so a camera can stop or die while they unwind.
class HttpSnapshotCamera::Attempt : public std::enable_shared_from_this<Attempt> {
 public:
  using Done = std::function<void(core::Result<Still>)>;

  Attempt(asio::io_context& io, std::shared_ptr<Shared> shared, std::string cnonce,
          const core::Clock& clock, HttpSnapshotCamera* owner, Done done)
      : io_(io),
        shared_(std::move(shared)),
        cnonce_(std::move(cnonce)),
        clock_(clock),
        owner_(owner),
        done_(std::move(done)),
        resolver_(io),
        deadline_(io) {}

  void start() {
    const auto& s = shared_->settings;
    if (s.auth == HttpAuth::basic && !s.username.empty()) {
      auto basic = basic_authorization(s.username, s.password);
      if (basic) authorization_ = *basic;  // create() checked it
    }
    deadline_.expires_after(s.timeout);
    deadline_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->finished_) return;
      self->finish(
          err("camera_timeout", "no complete answer within " +
                                    std::to_string(self->shared_->settings.timeout.count()) +
                                    " ms (" + self->stage_ + ")"));
    });
    stage_ = "resolving " + shared_->url.host;
    resolver_.async_resolve(
        shared_->url.host, std::to_string(shared_->url.port), tcp::resolver::numeric_service,
        [self = shared_from_this()](error_code ec, tcp::resolver::results_type r) {
          if (self->finished_) return;
          if (ec)
            return self->finish(
                err("camera_unreachable",
                    "cannot resolve " + self->shared_->url.host + ": " + ec.message()));
          self->endpoints_ = std::move(r);
          self->connect();
        });
  }

  void cancel() { finish(core::fail("cancelled", "camera", "capture stopped")); }

 private:
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  template <class F>
  void with_stream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*plain_);
    }
  }

  void close_streams() {
    error_code ignored;
    if (plain_) plain_->socket().close(ignored);
    if (tls_) beast::get_lowest_layer(*tls_).socket().close(ignored);
  }

  void connect() {
    close_streams();
    plain_.reset();
    tls_.reset();
    buffer_.clear();
    if (shared_->url.tls) {
      tls_.emplace(io_, *shared_->tls);
    } else {
      plain_.emplace(io_);
    }
    stage_ = "connecting to " + shared_->url.host_header();
    lowest().async_connect(
        endpoints_, [self = shared_from_this()](error_code ec, const tcp::endpoint&) {
          if (self->finished_) return;
          if (ec)
            return self->finish(
                err("camera_unreachable",
                    "cannot connect to " + self->shared_->url.host_header() + ": " + ec.message()));
          if (self->tls_) return self->handshake();
          self->send();
        });
  }

  void handshake() {
    const auto& url = shared_->url;
    SSL* ssl_handle = tls_->native_handle();
    // SNI names a host, never an address (RFC 6066).
    error_code addr_ec;
    asio::ip::make_address(url.host, addr_ec);
    if (addr_ec && !SSL_set_tlsext_host_name(ssl_handle, url.host.c_str()))
      return finish(err("camera_tls_failed", "cannot set the TLS server name"));
    if (shared_->settings.verify_peer) {
      tls_->set_verify_mode(ssl::verify_peer);
      tls_->set_verify_callback(ssl::host_name_verification(url.host));
    } else {
      tls_->set_verify_mode(ssl::verify_none);
    }
    stage_ = "TLS handshake with " + url.host_header();
    tls_->async_handshake(ssl::stream_base::client, [self = shared_from_this()](error_code ec) {
      if (self->finished_) return;
      if (ec) {
        std::string why = ec.message();
        const long verify = SSL_get_verify_result(self->tls_->native_handle());
        if (verify != X509_V_OK)
          why += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
        return self->finish(
            err("camera_tls_failed",
                "TLS handshake with " + self->shared_->url.host_header() + " failed: " + why));
      }
      self->send();
    });
  }

  void send() {
    const auto& url = shared_->url;
    request_ = {};
    request_.method(http::verb::get);
    request_.target(url.target);
    request_.version(11);
    request_.set(http::field::host, url.host_header());
    request_.set(http::field::user_agent, "postgate/" POSTGATE_VERSION);
    request_.set(http::field::accept, "image/jpeg");
    if (!authorization_.empty()) request_.set(http::field::authorization, authorization_);
    stage_ = "sending the request";
    with_stream([&](auto& stream) {
      http::async_write(stream, request_, [self = shared_from_this()](error_code ec, std::size_t) {
        if (self->finished_) return;
        if (ec)
          return self->finish(
              err("camera_unreachable", "cannot send the request: " + ec.message()));
        self->read();
      });
    });
  }

  // The header first: Beast 1.74 drops the body_limit error of a
  // Content-Length read in one eager pass, so the length is checked here.
  void read() {
    parser_.emplace();
    parser_->body_limit(shared_->settings.max_bytes);
    stage_ = "waiting for the answer";
    with_stream([&](auto& stream) {
      http::async_read_header(stream, buffer_, *parser_,
                              [self = shared_from_this()](error_code ec, std::size_t) {
                                if (self->finished_) return;
                                if (ec) return self->read_failed(ec);
                                self->read_body();
                              });
    });
  }

  void read_body() {
    const auto length = parser_->content_length();
    if (length && *length > shared_->settings.max_bytes)
      return read_failed(http::error::body_limit);
    stage_ = "reading the body";
    with_stream([&](auto& stream) {
      http::async_read(stream, buffer_, *parser_,
                       [self = shared_from_this()](error_code ec, std::size_t) {
                         if (self->finished_) return;
                         if (ec) return self->read_failed(ec);
                         self->answered();
                       });
    });
  }

  void read_failed(error_code ec) {
    const auto& s = shared_->settings;
    if (ec == http::error::body_limit)
      return finish(err("camera_too_large", "the answer is larger than max_bytes (" +
                                                std::to_string(s.max_bytes) + ")"));
    if (ec == http::error::header_limit)
      return finish(err("camera_bad_status", "the answer's header is too large"));
    const bool cut = ec == http::error::partial_message || ec == ssl::error::stream_truncated ||
                     ec == asio::error::eof || ec == asio::error::connection_reset;
    if (cut && parser_->is_header_done() && parser_->get().result_int() == 200)
      return finish(err("camera_bad_jpeg",
                        "truncated: the connection closed mid-body (" + ec.message() + ")"));
    if (ec.category() == make_error_code(http::error::end_of_stream).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message)
      return finish(err("camera_bad_status", "a malformed HTTP answer: " + ec.message()));
    finish(err("camera_unreachable", "no answer: " + ec.message()));
  }

  void answered() {
    auto& res = parser_->get();
    const unsigned status = res.result_int();
    if (status == 401) return challenged();
    if (status == 403) return finish(err("camera_auth_failed", "HTTP 403 Forbidden"));
    if (status != 200)
      return finish(err("camera_bad_status",
                        "HTTP " + std::to_string(status) + " " + printable(sv(res.reason()))));
    const auto type = sv(res[http::field::content_type]);
    if (!is_jpeg_content_type(type))
      return finish(err("camera_bad_content_type",
                        type.empty() ? std::string("no Content-Type")
                                     : "Content-Type " + printable(type) + ", not image/jpeg"));
    auto jpeg = normalize_jpeg(res.body());
    if (!jpeg) return finish(err("camera_bad_jpeg", jpeg.error().message));
    Still still;
    still.camera_id = shared_->settings.id;
    still.width = jpeg->info.width;
    still.height = jpeg->info.height;
    still.jpeg = std::move(jpeg->bytes);
    still.captured_at = clock_.now();
    finish(std::move(still));
  }

  // 401: answer the challenge once; a second 401 means the credentials are wrong.
  void challenged() {
    const auto& s = shared_->settings;
    auto& res = parser_->get();
    if (answered_challenge_ || (s.auth == HttpAuth::basic && !authorization_.empty()))
      return finish(err("camera_auth_failed", "credentials refused (HTTP 401)"));
    if (s.username.empty())
      return finish(err("camera_auth_failed", "the camera asks for credentials; none configured"));
    std::vector<AuthChallenge> challenges;
    const auto [first, last] = res.equal_range(http::field::www_authenticate);
    for (auto field = first; field != last; ++field) {
      auto parsed = parse_www_authenticate(sv(field->value()));
      if (parsed) challenges.insert(challenges.end(), parsed->begin(), parsed->end());
    }
    core::Result<std::string> header =
        err("camera_auth_failed", "no challenge this client answers");
    if (const AuthChallenge* digest = pick_digest(challenges)) {
      DigestInput in;
      in.username = s.username;
      in.password = s.password;
      in.method = "GET";
      in.uri = shared_->url.target;
      in.cnonce = cnonce_;
      in.nc = 1;
      header = digest_authorization(*digest, in, openssl_digest_hex);
    } else if (s.auth == HttpAuth::automatic && find_scheme(challenges, "basic")) {
      if (!shared_->url.tls && !s.allow_basic_over_http)
        return finish(err("camera_auth_failed",
                          "the camera wants Basic credentials over plain http; refused "
                          "(allow_basic_over_http, or use https or Digest)"));
      header = basic_authorization(s.username, s.password);
    } else if (challenges.empty()) {
      header = err("camera_auth_failed", "HTTP 401 without a readable WWW-Authenticate");
    }
    if (!header) return finish(std::unexpected(header.error()));
    authorization_ = std::move(*header);
    answered_challenge_ = true;
    if (res.keep_alive()) return send();
    connect();
  }

  void finish(core::Result<Still> result) {
    if (finished_) return;
    finished_ = true;
    deadline_.cancel();
    resolver_.cancel();
    close_streams();
    if (owner_) {
      owner_->current_.reset();  // the caller holds a reference to this
      owner_ = nullptr;
    }
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(result));
  }

  asio::io_context& io_;
  std::shared_ptr<Shared> shared_;
  std::string cnonce_;
  const core::Clock& clock_;
  HttpSnapshotCamera* owner_;
  Done done_;
  bool finished_ = false;
  bool answered_challenge_ = false;
  std::string stage_;
  std::string authorization_;

  tcp::resolver resolver_;
  asio::steady_timer deadline_;
  tcp::resolver::results_type endpoints_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> request_;
  std::optional<http::response_parser<http::vector_body<std::uint8_t>>> parser_;
};

namespace {

std::unexpected<core::Error> bad_setting(std::string field, std::string message) {
  return core::fail("bad_setting", std::move(field), std::move(message));
}

}  // namespace

core::Result<std::unique_ptr<HttpSnapshotCamera>> HttpSnapshotCamera::create(
    asio::io_context& io, HttpCameraSettings settings, core::RandomSource& random,
    const core::Clock& clock) {
  if (settings.id.empty()) return bad_setting("id", "a camera needs an id");
  auto url = parse_snapshot_url(settings.url);
  if (!url) return std::unexpected(url.error());
  if (settings.timeout.count() <= 0) return bad_setting("timeout", "must be positive");
  if (settings.max_bytes == 0) return bad_setting("max_bytes", "must be positive");
  if (settings.auth != HttpAuth::automatic && settings.username.empty())
    return bad_setting("username", "auth basic or digest needs a username");
  if (settings.auth == HttpAuth::basic) {
    if (!url->tls && !settings.allow_basic_over_http)
      return bad_setting("auth",
                         "basic over plain http sends the password in the clear; "
                         "use https, digest, or allow_basic_over_http");
    if (auto b = basic_authorization(settings.username, settings.password); !b)
      return bad_setting("username", b.error().message);
  }
  auto shared = std::make_shared<Shared>();
  if (url->tls) {
    error_code ec;
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    ctx->set_options(
        ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3, ec);
    if (settings.ca_file.empty()) {
      ctx->set_default_verify_paths(ec);
      if (ec) return bad_setting("ca_file", "cannot load the system CA store: " + ec.message());
    } else {
      ctx->load_verify_file(settings.ca_file, ec);
      if (ec)
        return bad_setting("ca_file", "cannot load " + settings.ca_file + ": " + ec.message());
    }
    shared->tls = std::move(ctx);
  }
  shared->url = std::move(*url);
  shared->settings = std::move(settings);
  return std::unique_ptr<HttpSnapshotCamera>(
      new HttpSnapshotCamera(io, std::move(shared), random, clock));
}

HttpSnapshotCamera::HttpSnapshotCamera(asio::io_context& io, std::shared_ptr<Shared> shared,
                                       core::RandomSource& random, const core::Clock& clock)
    : io_(io), shared_(std::move(shared)), random_(random), clock_(clock) {}

HttpSnapshotCamera::~HttpSnapshotCamera() {
  stop();
}

const std::string& HttpSnapshotCamera::id() const {
  return shared_->settings.id;
}

void HttpSnapshotCamera::capture(std::function<void(core::Result<Still>)> done) {
  if (current_) {
    asio::post(io_, [done = std::move(done)] {
      done(err("camera_busy", "a capture of this camera is already running"));
    });
    return;
  }
  // 128 random bits: the client nonce of a Digest answer.
  std::string cnonce = hex64(random_.next());
  cnonce += hex64(random_.next());
  current_ =
      std::make_shared<Attempt>(io_, shared_, std::move(cnonce), clock_, this, std::move(done));
  current_->start();
}

void HttpSnapshotCamera::stop() {
  if (auto attempt = current_) attempt->cancel();
}

}  // namespace postgate::adapters::camera
