// An edge in its own process: the will test SIGKILLs it, which no in-process
// trick reproduces faithfully (the kernel closes the socket, no DISCONNECT).
// Usage: uplink_edge_child <broker-uri> <outlet>
#include <csignal>
#include <cstdio>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "broker_harness.hpp"

int main(int argc, char** argv) {
  using namespace postgate::uplink;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <broker-uri> <outlet>\n", argv[0]);
    return 2;
  }
  testing::MemoryOutbox outbox;
  outbox.append(5);
  boost::asio::io_context io;
  postgate::core::SystemClock clock;
  postgate::core::SplitMix64 random(1);
  Uplink up(io, testing::test_config(argv[1], argv[2]), outbox, &outbox, {}, clock, random);
  if (auto s = up.start(); !s) {
    std::fprintf(stderr, "start: %s\n", s.error().message.c_str());
    return 1;
  }
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int) { up.stop([&] { io.stop(); }); });
  io.run();
  return 0;
}
