#pragma once
// One API connection. Answers leave in request order: each request takes a
// slot when it is read, the backend fills it whenever it is ready, and the
// writer sends the filled prefix.
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/api_server.hpp"
#include "daemon/line_framer.hpp"

namespace postgate::daemon {

class ApiSession : public std::enable_shared_from_this<ApiSession> {
 public:
  ApiSession(asio::local::stream_protocol::socket socket, ApiServer& server, ApiLimits limits);

  void start();
  // No more requests are taken; close once every taken one is answered.
  void finish();
  void close();
  bool closed() const { return closed_; }

 private:
  void pump();
  void take_lines();
  void take(std::string line);
  void fill(std::uint64_t id, std::string answer);
  void read_more();
  void write_ready();
  void arm_idle();
  bool over_cap() const;
  bool answered_all() const { return slots_.empty() && !writing_; }

  asio::local::stream_protocol::socket socket_;
  ApiServer* server_;
  std::weak_ptr<bool> server_alive_;
  ApiLimits limits_;
  LineFramer framer_;
  std::array<char, 16384> read_buf_{};
  std::deque<std::optional<std::string>> slots_;  // front is the oldest unanswered request
  std::uint64_t front_id_ = 0;                    // id of slots_.front()
  std::string write_buf_;
  std::size_t unsent_bytes_ = 0;  // filled slots plus write_buf_
  asio::steady_timer idle_timer_;
  std::chrono::steady_clock::time_point last_activity_;
  bool reading_ = false;
  bool writing_ = false;
  bool read_done_ = false;  // EOF, line too long, or finish(): take no more requests
  // The client stopped taking answers (write failed): what it sent is still
  // read and committed, the answers are dropped.
  bool write_dead_ = false;
  bool closed_ = false;
};

}  // namespace postgate::daemon
