#pragma once
// What the camera tests share: a fixed clock, a counting random source, and
// a runner that captures once on an io_context and checks the port's
// contract (done exactly once, never inline).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>

#include "adapters/camera/camera.hpp"
#include "core/time.hpp"
#include "core/uuid.hpp"

namespace postgate::adapters::camera::test {

struct FixedClock final : core::Clock {
  core::TimePoint t{std::chrono::sys_days{std::chrono::year{2026} / 11 / 23} +
                    std::chrono::hours{9}};
  core::TimePoint now() const override { return t; }
};

struct CountingRandom final : core::RandomSource {
  std::uint64_t n = 0x0123456789abcdefull;
  std::uint64_t next() override { return n++; }
};

struct Outcome {
  std::optional<core::Result<Still>> result;
  int calls = 0;
  std::chrono::milliseconds elapsed{0};  // capture() to done

  const core::Error& error() const { return result->error(); }
  bool ok() const { return result && result->has_value(); }
  std::string code() const { return result && !*result ? result->error().code : std::string(); }
};

inline Outcome capture_once(Camera& camera, boost::asio::io_context& io,
                            std::chrono::seconds limit = std::chrono::seconds(20)) {
  Outcome out;
  const auto t0 = std::chrono::steady_clock::now();
  camera.capture([&](core::Result<Still> r) {
    ++out.calls;
    out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    out.result = std::move(r);
  });
  EXPECT_EQ(out.calls, 0) << "done was called inline from capture()";
  io.restart();
  io.run_for(limit);
  EXPECT_EQ(out.calls, 1) << "done must be called exactly once";
  return out;
}

}  // namespace postgate::adapters::camera::test
