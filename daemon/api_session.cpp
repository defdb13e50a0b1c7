#include "daemon/api_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/write.hpp>

namespace postgate::daemon {

ApiSession::ApiSession(asio::local::stream_protocol::socket socket, ApiServer& server,
                       ApiLimits limits)
    : socket_(std::move(socket)),
      server_(&server),
      server_alive_(server.alive_),
      limits_(limits),
      framer_(limits.max_line_bytes),
      idle_timer_(socket_.get_executor()) {}

void ApiSession::start() {
  last_activity_ = std::chrono::steady_clock::now();
  arm_idle();
  pump();
}

void ApiSession::finish() {
  if (closed_) return;
  read_done_ = true;
  if (answered_all()) close();
}

void ApiSession::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  socket_.close(ec);
  idle_timer_.cancel();
  slots_.clear();
  write_buf_.clear();
  unsent_bytes_ = 0;
  if (!server_alive_.expired()) server_->session_closed(this);
}

bool ApiSession::over_cap() const {
  return slots_.size() >= limits_.max_in_flight || unsent_bytes_ >= limits_.max_unsent_bytes;
}

void ApiSession::pump() {
  if (closed_) return;
  // Sending (or, for a gone client, dropping) answers first frees room under
  // the caps for the requests still waiting in the framer.
  write_ready();
  take_lines();
  write_ready();
  read_more();
  if (read_done_ && answered_all()) close();
}

void ApiSession::take_lines() {
  std::string line;
  while (!closed_ && !read_done_ && !over_cap()) {
    switch (framer_.next(line)) {
      case LineFramer::Next::line:
        if (!line.empty()) take(std::move(line));
        line.clear();
        break;
      case LineFramer::Next::need_more:
        return;
      case LineFramer::Next::too_long: {
        read_done_ = true;
        const auto id = front_id_ + slots_.size();
        slots_.emplace_back();
        fill(id, encode_line(error_answer("line_too_long", "",
                                          "request line longer than " +
                                              std::to_string(limits_.max_line_bytes) +
                                              " bytes; closing the connection")));
        return;
      }
    }
  }
}

void ApiSession::take(std::string line) {
  const std::uint64_t id = front_id_ + slots_.size();
  slots_.emplace_back();
  if (!server_alive_.expired()) ++server_->requests_total_;
  auto self = shared_from_this();
  // The reply may run now (malformed request) or much later (durable commit),
  // possibly after this connection is gone: then it is dropped in fill().
  dispatch_line(line, server_->backend_,
                [self, id](json answer) { self->fill(id, encode_line(answer)); });
}

void ApiSession::fill(std::uint64_t id, std::string answer) {
  if (closed_ || id < front_id_ || id - front_id_ >= slots_.size()) return;
  auto& slot = slots_[id - front_id_];
  if (slot) return;  // answered twice: a backend bug; keep the first
  unsent_bytes_ += answer.size();
  slot = std::move(answer);
  // Defer the write so that answers filled in one burst (a group commit)
  // leave in one write.
  if (!writing_) {
    writing_ = true;
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->writing_ = false;
      self->pump();
    });
  }
}

void ApiSession::write_ready() {
  if (closed_ || writing_) return;
  while (!slots_.empty() && slots_.front()) {
    if (write_dead_)
      unsent_bytes_ -= slots_.front()->size();
    else
      write_buf_ += *slots_.front();
    slots_.pop_front();
    ++front_id_;
  }
  if (write_buf_.empty()) return;
  writing_ = true;
  asio::async_write(socket_, asio::buffer(write_buf_),
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                      self->writing_ = false;
                      if (self->closed_) return;
                      if (ec) {
                        // The client went away. Its answers are dropped, but what it
                        // sent before it went is still read and committed: a request
                        // that reached the daemon is not lost to a timing accident.
                        spdlog::debug("api: client gone while writing: {}", ec.message());
                        self->write_dead_ = true;
                        self->unsent_bytes_ -= self->write_buf_.size();
                        self->write_buf_.clear();
                        return self->pump();
                      }
                      self->unsent_bytes_ -= n;
                      self->write_buf_.clear();
                      self->last_activity_ = std::chrono::steady_clock::now();
                      self->pump();
                    });
}

void ApiSession::read_more() {
  if (closed_ || reading_ || read_done_ || over_cap() || framer_.has_complete_line()) return;
  reading_ = true;
  socket_.async_read_some(asio::buffer(read_buf_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                            self->reading_ = false;
                            if (self->closed_) return;
                            if (self->read_done_)
                              return self->pump();  // finish() was called meanwhile
                            if (ec == asio::error::eof) {
                              // Half-close: the client sent everything; it still gets its answers.
                              self->read_done_ = true;
                              std::string last;
                              if (self->framer_.finish(last) == LineFramer::Next::line)
                                self->take(std::move(last));
                              return self->pump();
                            }
                            if (ec) {
                              spdlog::debug("api: client gone while reading: {}", ec.message());
                              return self->close();
                            }
                            self->last_activity_ = std::chrono::steady_clock::now();
                            self->framer_.feed(std::string_view(self->read_buf_.data(), n));
                            self->pump();
                          });
}

void ApiSession::arm_idle() {
  if (closed_) return;
  idle_timer_.expires_at(last_activity_ + limits_.idle_timeout);
  idle_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->closed_) return;
    const auto now = std::chrono::steady_clock::now();
    bool waiting_on_us = false;
    for (const auto& s : self->slots_) waiting_on_us = waiting_on_us || !s;
    if (now - self->last_activity_ >= self->limits_.idle_timeout && !waiting_on_us) {
      spdlog::debug("api: closing idle client");
      return self->close();
    }
    if (waiting_on_us) self->last_activity_ = now;  // a slow commit is not the client's idleness
    self->arm_idle();
  });
}

}  // namespace postgate::daemon
