#include "daemon/api_server.hpp"

#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include <boost/asio/write.hpp>

#include "daemon/api_session.hpp"

namespace postgate::daemon {

namespace {

using stream = asio::local::stream_protocol;

core::Status socket_error(const std::filesystem::path& path, std::string_view what,
                          const boost::system::error_code& ec) {
  return core::fail("socket_error", "api.socket",
                    std::string(what) + " " + path.string() + ": " + ec.message());
}

// A socket file left by a daemon that died is removed; one that still
// answers belongs to a live daemon and is left alone.
core::Status clear_stale(asio::io_context& io, const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return {};  // nothing there
  if (!S_ISSOCK(st.st_mode))
    return core::fail("socket_path_exists", "api.socket",
                      path.string() + " exists and is not a socket; refusing to replace it");
  stream::socket probe(io);
  boost::system::error_code ec;
  probe.connect(stream::endpoint(path.string()), ec);
  if (!ec)
    return core::fail("socket_in_use", "api.socket",
                      "another daemon is answering on " + path.string() + "; refusing to start");
  if (ec != asio::error::connection_refused && ec != asio::error::not_found)
    return socket_error(path, "cannot probe", ec);
  std::error_code fec;
  std::filesystem::remove(path, fec);
  if (fec)
    return core::fail("socket_error", "api.socket",
                      "cannot remove stale socket " + path.string() + ": " + fec.message());
  spdlog::info("api: removed stale socket {}", path.string());
  return {};
}

}  // namespace

ApiServer::ApiServer(asio::io_context& io, ApiBackend& backend, ApiLimits limits)
    : io_(io),
      backend_(backend),
      limits_(limits),
      acceptor_(io),
      retry_timer_(io),
      drain_timer_(io) {}

ApiServer::~ApiServer() {
  *alive_ = false;
  alive_.reset();
  for (const auto& s : sessions_) s->close();
}

core::Status ApiServer::check_free(asio::io_context& io, const std::filesystem::path& socket_path) {
  struct stat st {};
  if (::lstat(socket_path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return {};
  stream::socket probe(io);
  boost::system::error_code ec;
  probe.connect(stream::endpoint(socket_path.string()), ec);
  if (!ec)
    return core::fail(
        "socket_in_use", "api.socket",
        "another daemon is answering on " + socket_path.string() + "; refusing to start");
  return {};
}

core::Status ApiServer::listen(const std::filesystem::path& socket_path) {
  if (socket_path.string().size() >= sizeof(sockaddr_un{}.sun_path))
    return core::fail("socket_path_too_long", "api.socket",
                      "socket path " + socket_path.string() + " is longer than " +
                          std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes");
  if (auto s = clear_stale(io_, socket_path); !s) return s;
  if (socket_path.has_parent_path()) {
    std::error_code fec;
    std::filesystem::create_directories(socket_path.parent_path(), fec);
  }
  boost::system::error_code ec;
  const stream::endpoint ep(socket_path.string());
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (ec) return socket_error(socket_path, "cannot bind", ec);
  path_ = socket_path;
  // The umask (0077 under systemd) would keep the group out; postgatectl
  // users are in the group.
  if (::chmod(socket_path.c_str(), 0660) != 0)
    spdlog::warn("api: cannot chmod 0660 {}: {}", socket_path.string(), std::strerror(errno));
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return socket_error(socket_path, "cannot listen on", ec);
  accepting_ = true;
  accept_next();
  return {};
}

void ApiServer::accept_next() {
  if (!accepting_) return;
  acceptor_.async_accept([this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec,
                                                                     stream::socket socket) {
    if (alive.expired() || !accepting_) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // Out of descriptors and the like: back off instead of spinning.
      spdlog::warn("api: accept failed: {}", ec.message());
      retry_timer_.expires_after(std::chrono::milliseconds(200));
      retry_timer_.async_wait([this, alive](boost::system::error_code tec) {
        if (!tec && !alive.expired()) accept_next();
      });
      return;
    }
    if (sessions_.size() >= limits_.max_clients) {
      refuse(std::move(socket));
    } else {
      auto s = std::make_shared<ApiSession>(std::move(socket), *this, limits_);
      sessions_.insert(s);
      s->start();
    }
    accept_next();
  });
}

void ApiServer::refuse(stream::socket socket) {
  spdlog::warn("api: refusing a client: {} clients connected (api.max_clients)", sessions_.size());
  auto sock = std::make_shared<stream::socket>(std::move(socket));
  auto line = std::make_shared<std::string>(
      encode_line(error_answer("too_many_clients", "",
                               "the daemon serves at most " + std::to_string(limits_.max_clients) +
                                   " clients at once; try again later")));
  asio::async_write(*sock, asio::buffer(*line),
                    [sock, line](boost::system::error_code, std::size_t) {
                      boost::system::error_code ignored;
                      sock->close(ignored);
                    });
}

void ApiServer::session_closed(ApiSession* s) {
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->get() == s) {
      // Keep it alive until the current handler returns.
      asio::post(io_, [keep = *it] {});
      sessions_.erase(it);
      break;
    }
  }
  maybe_drained();
}

void ApiServer::stop_accepting() {
  if (!accepting_) return;
  accepting_ = false;
  boost::system::error_code ec;
  acceptor_.close(ec);
  retry_timer_.cancel();
  // Take no new requests; the ones taken are answered.
  for (const auto& s : std::vector(sessions_.begin(), sessions_.end())) s->finish();
}

void ApiServer::drain(std::chrono::milliseconds deadline, std::function<void()> done) {
  stop_accepting();
  draining_ = true;
  drained_ = std::move(done);
  drain_timer_.expires_after(deadline);
  drain_timer_.async_wait(
      [this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
        if (ec || alive.expired()) return;
        if (!sessions_.empty())
          spdlog::warn("api: {} client(s) did not take their answers in time; closing them",
                       sessions_.size());
        for (const auto& s : std::vector(sessions_.begin(), sessions_.end())) s->close();
      });
  maybe_drained();
}

void ApiServer::maybe_drained() {
  if (!draining_ || !sessions_.empty() || !drained_) return;
  drain_timer_.cancel();
  if (!path_.empty()) {
    std::error_code fec;
    std::filesystem::remove(path_, fec);
    path_.clear();
  }
  auto done = std::move(drained_);
  drained_ = nullptr;
  asio::post(io_, std::move(done));
}

}  // namespace postgate::daemon
