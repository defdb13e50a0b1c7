#include "adapters/camera/v4l2_camera.hpp"

#include <boost/asio/post.hpp>

#include "adapters/camera/codec/jpeg_normalize.hpp"
#include "adapters/camera/codec/yuyv.hpp"
#include "adapters/camera/jpeg_encoder.hpp"
#include "adapters/camera/v4l2/linux_video_device.hpp"

namespace postgate::adapters::camera {

namespace asio = boost::asio;

namespace {

std::unexpected<core::Error> bad_setting(std::string field, std::string message) {
  return core::fail("bad_setting", std::move(field), std::move(message));
}

}  // namespace

core::Result<std::unique_ptr<V4l2Camera>> V4l2Camera::create(asio::io_context& io,
                                                             V4l2CameraSettings settings,
                                                             const core::Clock& clock) {
  if (settings.id.empty()) return bad_setting("id", "a camera needs an id");
  if (settings.device.empty()) return bad_setting("device", "a V4L2 camera needs a device path");
  if (settings.width == 0 || settings.height == 0 || settings.width > 8192 ||
      settings.height > 8192)
    return bad_setting("width", "width and height must be 1..8192");
  if (settings.jpeg_quality < 1 || settings.jpeg_quality > 100)
    return bad_setting("jpeg_quality", "must be 1..100");
  if (settings.timeout.count() <= 0) return bad_setting("timeout", "must be positive");
  if (settings.warmup_frames > 100) return bad_setting("warmup_frames", "at most 100");
  auto device = std::make_unique<LinuxVideoDevice>(io);
  return std::make_unique<V4l2Camera>(io, std::move(settings), std::move(device), clock);
}

V4l2Camera::V4l2Camera(asio::io_context& io, V4l2CameraSettings settings,
                       std::unique_ptr<VideoDevice> device, const core::Clock& clock)
    : io_(io),
      settings_(std::move(settings)),
      device_(std::move(device)),
      clock_(clock),
      deadline_(io) {}

V4l2Camera::~V4l2Camera() {
  stop();
}

template <class F>
auto V4l2Camera::guarded(F f) {
  return [this, life = std::weak_ptr<int>(life_), generation = generation_,
          f = std::move(f)](auto&&... args) mutable {
    if (!life.lock() || !busy_ || generation != generation_) return;
    f(std::forward<decltype(args)>(args)...);
  };
}

void V4l2Camera::capture(std::function<void(core::Result<Still>)> done) {
  if (busy_) {
    asio::post(io_, [done = std::move(done)] {
      done(core::fail("camera_busy", "camera", "a capture of this camera is already running"));
    });
    return;
  }
  busy_ = true;
  ++generation_;
  done_ = std::move(done);
  frames_seen_ = 0;
  bad_frames_ = 0;
  deadline_.expires_after(settings_.timeout);
  deadline_.async_wait(guarded([this](boost::system::error_code ec) {
    if (ec) return;
    finish(core::fail("camera_timeout", "camera",
                      "no usable frame from " + settings_.device + " within " +
                          std::to_string(settings_.timeout.count()) + " ms"));
  }));
  asio::post(io_, guarded([this] { begin(); }));
}

void V4l2Camera::begin() {
  if (auto s = device_->open(settings_.device); !s) return finish(std::unexpected(s.error()));
  FormatRequest request;
  request.width = settings_.width;
  request.height = settings_.height;
  request.preference = settings_.format;
  auto format = device_->negotiate(request);
  if (!format) return finish(std::unexpected(format.error()));
  format_ = *format;
  if (auto s = device_->start(); !s) return finish(std::unexpected(s.error()));
  next();
}

void V4l2Camera::next() {
  device_->next_frame(
      guarded([this](core::Result<VideoFrame> frame) { on_frame(std::move(frame)); }));
}

void V4l2Camera::on_frame(core::Result<VideoFrame> frame) {
  if (!frame) return finish(std::unexpected(frame.error()));
  if (frames_seen_ < settings_.warmup_frames) {
    ++frames_seen_;
    return next();
  }
  auto still = frame->corrupt ? core::Result<Still>(core::fail("camera_bad_frame", "camera",
                                                               "the driver flagged the frame"))
                              : to_still(*frame);
  if (!still && bad_frames_ < settings_.bad_frame_retries) {
    ++bad_frames_;  // a torn frame now and then is normal on a busy USB bus
    return next();
  }
  finish(std::move(still));
}

core::Result<Still> V4l2Camera::to_still(const VideoFrame& frame) {
  Still still;
  still.camera_id = settings_.id;
  if (format_.pixel_format == PixelFormat::mjpeg) {
    auto jpeg = normalize_jpeg(frame.bytes);
    if (!jpeg) return std::unexpected(jpeg.error());
    still.width = jpeg->info.width;
    still.height = jpeg->info.height;
    still.jpeg = std::move(jpeg->bytes);
  } else {
    auto planes =
        yuyv_to_planes(frame.bytes, format_.width, format_.height, format_.bytes_per_line);
    if (!planes) return std::unexpected(planes.error());
    auto jpeg = encode_yuv422_jpeg(*planes, settings_.jpeg_quality);
    if (!jpeg) return std::unexpected(jpeg.error());
    still.width = format_.width;
    still.height = format_.height;
    still.jpeg = std::move(*jpeg);
  }
  still.captured_at = clock_.now();
  return still;
}

void V4l2Camera::finish(core::Result<Still> result) {
  if (!busy_) return;
  busy_ = false;
  ++generation_;
  deadline_.cancel();
  device_->stop();
  device_->close();
  auto done = std::move(done_);
  done_ = nullptr;
  done(std::move(result));
}

void V4l2Camera::stop() {
  if (busy_) finish(core::fail("cancelled", "camera", "capture stopped"));
}

}  // namespace postgate::adapters::camera
