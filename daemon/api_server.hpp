#pragma once
// The local API's Unix socket: accepts clients, frames their lines, keeps
// answers in request order per connection, and bounds what one client can
// make the daemon hold (line size, answers in flight, unsent bytes).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <unordered_set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/result.hpp"
#include "daemon/api_protocol.hpp"

namespace postgate::daemon {

namespace asio = boost::asio;

struct ApiLimits {
  std::size_t max_line_bytes = 65536;
  std::size_t max_clients = 64;
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(300)};
  // Backpressure: a connection's requests are not read while it has this
  // many requests unanswered or this many answer bytes not yet taken.
  std::size_t max_in_flight = 1024;
  std::size_t max_unsent_bytes = 1 << 20;
};

class ApiSession;

class ApiServer {
 public:
  ApiServer(asio::io_context& io, ApiBackend& backend, ApiLimits limits);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Removes a stale socket file (nothing answers on it), refuses to start
  // when another daemon answers ("socket_in_use"), binds, sets mode 0660 and
  // starts accepting.
  core::Status listen(const std::filesystem::path& socket_path);
  // The same check listen() makes first, so a daemon can refuse to start
  // before it opens anything else: fails with "socket_in_use" when another
  // daemon answers there.
  static core::Status check_free(asio::io_context& io, const std::filesystem::path& socket_path);

  // Applies to connections accepted from now on (and max_clients at once).
  void set_limits(const ApiLimits& limits) { limits_ = limits; }
  const ApiLimits& limits() const { return limits_; }

  // Shutdown, step 1: no new connections, no new requests; requests already
  // taken still get their answers.
  void stop_accepting();
  // Step 2: closes each connection once its answers are written, or all of
  // them at `deadline`; then removes the socket file and calls `done`.
  void drain(std::chrono::milliseconds deadline, std::function<void()> done);

  std::size_t clients() const { return sessions_.size(); }
  std::uint64_t requests_total() const { return requests_total_; }

 private:
  friend class ApiSession;
  void accept_next();
  void refuse(asio::local::stream_protocol::socket socket);
  void session_closed(ApiSession* s);
  void maybe_drained();

  asio::io_context& io_;
  ApiBackend& backend_;
  ApiLimits limits_;
  asio::local::stream_protocol::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  asio::steady_timer drain_timer_;
  std::filesystem::path path_;
  std::unordered_set<std::shared_ptr<ApiSession>> sessions_;
  std::function<void()> drained_;
  bool accepting_ = false;
  bool draining_ = false;
  std::uint64_t requests_total_ = 0;
  // Cleared on destruction, so late completions of a closed session do not
  // touch a destroyed server.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace postgate::daemon
