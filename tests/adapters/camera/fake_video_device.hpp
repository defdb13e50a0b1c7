#pragma once
// A VideoDevice that replays scripted frames: what it offers, what it
// negotiates, and per frame either bytes, an error (the device vanishing),
// or nothing at all (a camera that stops sending). Frames come through a
// timer on the io_context, never inline; nothing is called after close().
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/camera/v4l2/video_device.hpp"

namespace postgate::adapters::camera::test {

class FakeVideoDevice final : public VideoDevice {
 public:
  struct Step {
    core::Result<VideoFrame> frame = VideoFrame{};
    std::chrono::milliseconds after{1};  // delay before it is delivered
  };

  explicit FakeVideoDevice(boost::asio::io_context& io) : io_(io) {}
  ~FakeVideoDevice() override { close(); }

  // The script.
  std::vector<PixelFormat> offers{PixelFormat::mjpeg, PixelFormat::yuyv};
  unsigned native_width = 320, native_height = 240;  // what negotiate gives
  std::optional<core::Error> open_error;
  std::deque<Step> steps;  // consumed one per next_frame; when empty: no frame ever comes

  // What happened.
  std::string opened_path;
  std::optional<FormatRequest> requested;
  int opens = 0, starts = 0, stops = 0, closes = 0, frames_taken = 0;
  bool is_open = false;

  static Step frame(std::vector<std::uint8_t> bytes, bool corrupt = false) {
    VideoFrame f;
    f.bytes = std::move(bytes);
    f.corrupt = corrupt;
    return Step{std::move(f)};
  }
  static Step error(std::string code, std::string message) {
    return Step{core::fail(std::move(code), "device", std::move(message))};
  }

  core::Status open(const std::string& path) override {
    ++opens;
    opened_path = path;
    if (open_error) return std::unexpected(*open_error);
    is_open = true;
    return {};
  }

  core::Result<VideoFormat> negotiate(const FormatRequest& request) override {
    requested = request;
    const auto has = [&](PixelFormat f) {
      return std::find(offers.begin(), offers.end(), f) != offers.end();
    };
    VideoFormat out;
    if (request.preference == FormatPreference::mjpeg && !has(PixelFormat::mjpeg))
      return core::fail("camera_unsupported_format", "format", "no MJPEG");
    if (request.preference == FormatPreference::yuyv && !has(PixelFormat::yuyv))
      return core::fail("camera_unsupported_format", "format", "no YUYV");
    if (!has(PixelFormat::mjpeg) && !has(PixelFormat::yuyv))
      return core::fail("camera_unsupported_format", "format", "neither");
    out.pixel_format = request.preference == FormatPreference::yuyv || !has(PixelFormat::mjpeg)
                           ? PixelFormat::yuyv
                           : PixelFormat::mjpeg;
    out.width = native_width;
    out.height = native_height;
    out.bytes_per_line = out.pixel_format == PixelFormat::yuyv ? native_width * 2 : 0;
    out.image_size = out.pixel_format == PixelFormat::yuyv ? native_width * native_height * 2
                                                           : native_width * native_height;
    return out;
  }

  core::Status start() override {
    ++starts;
    return {};
  }

  void next_frame(std::function<void(core::Result<VideoFrame>)> handler) override {
    if (steps.empty()) {
      pending_ = std::move(handler);  // never called: a silent camera
      return;
    }
    Step step = std::move(steps.front());
    steps.pop_front();
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, step.after);
    timer->async_wait([this, timer, life = std::weak_ptr<int>(life_), handler = std::move(handler),
                       frame = std::move(step.frame)](boost::system::error_code) mutable {
      if (!life.lock()) return;
      ++frames_taken;
      handler(std::move(frame));
    });
  }

  void stop() override { ++stops; }

  void close() override {
    ++closes;
    is_open = false;
    pending_ = nullptr;
    life_ = std::make_shared<int>(0);
  }

 private:
  boost::asio::io_context& io_;
  std::function<void(core::Result<VideoFrame>)> pending_;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace postgate::adapters::camera::test
