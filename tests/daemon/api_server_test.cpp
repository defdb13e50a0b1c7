// The socket layer in-process: real Unix sockets, one io_context driven by
// the test, a backend whose answers the test releases in any order.
#include "daemon/api_server.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace postgate::daemon {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class HeldBackend : public ApiBackend {
 public:
  std::vector<Reply> held;  // status requests, answered by the test
  void submit(core::RawAcceptance, Reply reply) override { held.push_back(std::move(reply)); }
  void status(Reply reply) override { held.push_back(std::move(reply)); }
  void records(RecordsQuery, Reply reply) override { held.push_back(std::move(reply)); }
  void devices(Reply reply) override { held.push_back(std::move(reply)); }
  void answer(std::size_t i) { held.at(i)(json{{"ok", true}, {"n", i}}); }
};

class Client {
 public:
  explicit Client(const fs::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  void send(const std::string& s) {
    ASSERT_EQ(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // Non-blocking: takes what has arrived. Returns false once the peer closed.
  bool poll() {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        in_.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) eof_ = true;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) eof_ = true;
      return !eof_;
    }
  }
  std::vector<json> lines() const {
    std::vector<json> out;
    std::size_t start = 0;
    for (auto nl = in_.find('\n'); nl != std::string::npos; nl = in_.find('\n', start)) {
      out.push_back(json::parse(in_.substr(start, nl - start)));
      start = nl + 1;
    }
    return out;
  }
  bool eof() const { return eof_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string in_;
};

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pg-api-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    path = dir / "api.sock";
  }
  void TearDown() override {
    server.reset();
    fs::remove_all(dir);
  }
  void start(ApiLimits limits = {}) {
    server = std::make_unique<ApiServer>(io, backend, limits);
    ASSERT_TRUE(server->listen(path).has_value());
  }
  // Runs the loop and polls the clients until `done` or a deadline.
  template <class Pred>
  bool run_until(Pred done, std::chrono::milliseconds limit = 2000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      io.restart();
      io.run_for(5ms);
      if (done()) return true;
    }
    return done();
  }
  void settle() {
    run_until([] { return false; }, 50ms);
  }

  asio::io_context io;
  HeldBackend backend;
  std::unique_ptr<ApiServer> server;
  fs::path dir, path;
};

TEST_F(ApiServerTest, SocketHasMode0660) {
  start();
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                fs::perms::group_write);
}

TEST_F(ApiServerTest, AnswersLeaveInRequestOrderWhateverOrderTheyAreReady) {
  start();
  Client c(path);
  ASSERT_TRUE(c.connected());
  c.send("{\"op\":\"status\"}\n{\"op\":\"status\"}\n{\"op\":\"status\"}\n");
  ASSERT_TRUE(run_until([&] { return backend.held.size() == 3; }));
  backend.answer(2);
  settle();
  c.poll();
  EXPECT_TRUE(c.lines().empty());  // the first is still pending
  backend.answer(0);
  ASSERT_TRUE(run_until([&] { return c.poll(), c.lines().size() == 1; }));
  backend.answer(1);
  ASSERT_TRUE(run_until([&] { return c.poll(), c.lines().size() == 3; }));
  const auto l = c.lines();
  EXPECT_EQ(l[0]["n"], 0);
  EXPECT_EQ(l[1]["n"], 1);
  EXPECT_EQ(l[2]["n"], 2);
}

TEST_F(ApiServerTest, MalformedLinesAreAnsweredInPlace) {
  start();
  Client c(path);
  c.send("nope\n{\"op\":\"status\"}\n{\"op\":\"fly\"}\n");
  ASSERT_TRUE(run_until([&] { return backend.held.size() == 1; }));
  backend.answer(0);
  ASSERT_TRUE(run_until([&] { return c.poll(), c.lines().size() == 3; }));
  const auto l = c.lines();
  EXPECT_EQ(l[0]["error"]["code"], "bad_json");
  EXPECT_EQ(l[1]["ok"], true);
  EXPECT_EQ(l[2]["error"]["code"], "unknown_op");
}

TEST_F(ApiServerTest, OversizeLineIsAnsweredThenTheConnectionCloses) {
  ApiLimits limits;
  limits.max_line_bytes = 64;
  start(limits);
  Client c(path);
  c.send("{\"op\":\"status\"}\n" + std::string(100, 'x') + "\n{\"op\":\"status\"}\n");
  ASSERT_TRUE(run_until([&] { return backend.held.size() == 1; }));
  backend.answer(0);
  ASSERT_TRUE(run_until([&] { return !c.poll(); }));
  const auto l = c.lines();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0]["ok"], true);
  EXPECT_EQ(l[1]["error"]["code"], "line_too_long");
  EXPECT_EQ(backend.held.size(), 1u);  // nothing after the long line was taken
}

TEST_F(ApiServerTest, ClientsBeyondMaxClientsAreRefused) {
  ApiLimits limits;
  limits.max_clients = 1;
  start(limits);
  Client a(path);
  ASSERT_TRUE(run_until([&] { return server->clients() == 1; }));
  Client b(path);
  ASSERT_TRUE(run_until([&] { return !b.poll(); }));
  ASSERT_EQ(b.lines().size(), 1u);
  EXPECT_EQ(b.lines()[0]["error"]["code"], "too_many_clients");
  a.send("{\"op\":\"status\"}\n");
  ASSERT_TRUE(run_until([&] { return backend.held.size() == 1; }));
}

TEST_F(ApiServerTest, ClientThatVanishesWithRequestsInFlightIsForgotten) {
  start();
  {
    Client c(path);
    c.send("{\"op\":\"status\"}\n{\"op\":\"status\"}\n");
    ASSERT_TRUE(run_until([&] { return backend.held.size() == 2; }));
  }
  backend.answer(0);  // the write fails: answers are dropped from now on
  settle();
  backend.answer(1);  // late answer to a gone client: dropped quietly
  ASSERT_TRUE(run_until([&] { return server->clients() == 0; }));
  Client d(path);
  d.send("{\"op\":\"status\"}\n");
  ASSERT_TRUE(run_until([&] { return backend.held.size() == 3; }));
  backend.answer(2);
  ASSERT_TRUE(run_until([&] { return d.poll(), d.lines().size() == 1; }));
}

TEST_F(ApiServerTest, WhatAVanishedClientSentIsStillTaken) {
  ApiLimits limits;
  limits.max_in_flight = 1;  // one request at a time: the rest wait in the socket
  start(limits);
  {
    Client c(path);
    c.send("{\"op\":\"status\"}\n{\"op\":\"status\"}\n{\"op\":\"status\"}\n");
    ASSERT_TRUE(run_until([&] { return backend.held.size() == 1; }));
  }
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(run_until([&] { return backend.held.size() > i; })) << i;
    backend.answer(i);
  }
  ASSERT_TRUE(run_until([&] { return server->clients() == 0; }));
  EXPECT_EQ(backend.held.size(), 3u);
}

TEST_F(ApiServerTest, HalfClosedClientStillGetsItsAnswers) {
  start();
  Client c(path);
  c.send("{\"op\":\"status\"}\n{\"op\":\"status\"}");  // the last line has no newline
  c.shutdown_write();
  ASSERT_TRUE(run_until([&] { return backend.held.size() == 2; }));
  backend.answer(1);
  backend.answer(0);
  ASSERT_TRUE(run_until([&] { return !c.poll(); }));
  EXPECT_EQ(c.lines().size(), 2u);
}

TEST_F(ApiServerTest, BackpressureStopsReadingWhileTooManyAreUnanswered) {
  ApiLimits limits;
  limits.max_in_flight = 2;
  start(limits);
  Client c(path);
  std::string many;
  for (int i = 0; i < 10; ++i) many += "{\"op\":\"status\"}\n";
  c.send(many);
  ASSERT_TRUE(run_until([&] { return backend.held.size() == 2; }));
  settle();
  EXPECT_EQ(backend.held.size(), 2u);
  backend.answer(0);
  backend.answer(1);
  ASSERT_TRUE(run_until([&] { return backend.held.size() == 4; }));
  settle();
  EXPECT_EQ(backend.held.size(), 4u);
  for (std::size_t i = 2; i < 10; ++i) {
    ASSERT_TRUE(run_until([&] { return backend.held.size() > i; }));
    backend.answer(i);
  }
  ASSERT_TRUE(run_until([&] { return c.poll(), c.lines().size() == 10; }));
}

TEST_F(ApiServerTest, SlowReaderIsNotReadWhileItsAnswersPileUp) {
  ApiLimits limits;
  limits.max_unsent_bytes = 4096;
  start(limits);
  Client c(path);  // never reads its answers
  // Big answers fill the socket buffers; then the session must stop taking
  // requests rather than queue answers without bound.
  std::string out;
  std::size_t requests_sent = 0;
  for (int round = 0; round < 300; ++round) {
    while (out.size() < 4096) {
      out += "{\"op\":\"status\"}\n";
      ++requests_sent;
    }
    const ssize_t n = ::send(c.fd(), out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) out.erase(0, static_cast<std::size_t>(n));
    io.restart();
    io.run_for(1ms);
    for (auto& reply : backend.held)
      if (reply) {
        reply(json{{"ok", true}, {"pad", std::string(8192, 'p')}});
        reply = nullptr;
      }
  }
  settle();
  EXPECT_GT(requests_sent, backend.held.size() + 500);
  // Bounded by the socket buffers and the cap, not by what the client sent.
  EXPECT_LT(backend.held.size(), 300u);
  EXPECT_EQ(server->clients(), 1u);
}

TEST_F(ApiServerTest, IdleClientIsClosed) {
  ApiLimits limits;
  limits.idle_timeout = 100ms;
  start(limits);
  Client c(path);
  ASSERT_TRUE(run_until([&] { return !c.poll(); }, 1000ms));
  EXPECT_EQ(server->clients(), 0u);
}

TEST_F(ApiServerTest, ClientWaitingOnASlowAnswerIsNotIdle) {
  ApiLimits limits;
  limits.idle_timeout = 50ms;
  start(limits);
  Client c(path);
  c.send("{\"op\":\"status\"}\n");
  ASSERT_TRUE(run_until([&] { return backend.held.size() == 1; }));
  run_until([] { return false; }, 200ms);
  EXPECT_TRUE(c.poll());
  backend.answer(0);
  ASSERT_TRUE(run_until([&] { return c.poll(), c.lines().size() == 1; }));
}

TEST_F(ApiServerTest, LiveSocketIsNotTakenOverAndStaleOneIsReplaced) {
  start();
  HeldBackend other_backend;
  ApiServer other(io, other_backend, {});
  const auto s = other.listen(path);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, "socket_in_use");

  // A socket file nobody listens on (a daemon that was killed).
  const auto stale = dir / "stale.sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", stale.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::close(fd);
  ASSERT_TRUE(fs::exists(stale));
  EXPECT_TRUE(other.listen(stale).has_value());

  // A regular file is never removed.
  const auto file = dir / "file.sock";
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    std::fclose(f);
  }
  ApiServer third(io, other_backend, {});
  EXPECT_EQ(third.listen(file).error().code, "socket_path_exists");
}

TEST_F(ApiServerTest, DrainAnswersWhatWasTakenThenClosesAndRemovesTheSocket) {
  start();
  Client c(path);
  c.send("{\"op\":\"status\"}\n");
  ASSERT_TRUE(run_until([&] { return backend.held.size() == 1; }));
  bool drained = false;
  server->drain(5s, [&] { drained = true; });
  c.send("{\"op\":\"status\"}\n");  // after stop: not taken
  settle();
  EXPECT_FALSE(drained);
  EXPECT_EQ(backend.held.size(), 1u);
  backend.answer(0);
  ASSERT_TRUE(run_until([&] { return drained; }));
  c.poll();
  EXPECT_EQ(c.lines().size(), 1u);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(Client(path).connected());
}

}  // namespace
}  // namespace postgate::daemon
