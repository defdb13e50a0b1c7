#pragma once
// A USB (UVC) camera's still, through any VideoDevice: per capture, open,
// negotiate, stream, skip the warm-up frames, take one, close. MJPEG frames
// are checked and given the standard Huffman tables when they lack them;
// YUYV frames are encoded to JPEG (4:2:2, libjpeg-turbo). One deadline
// covers it all; on it the device is closed and the capture ends with
// camera_timeout.
//
// Keeping the camera closed between captures costs the warm-up each time
// (a few frames, ~100-200 ms at 30 fps) and means nothing else holds the
// device, and a replugged camera is simply opened again.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "adapters/camera/camera.hpp"
#include "adapters/camera/v4l2/video_device.hpp"
#include "adapters/camera/v4l2_camera_settings.hpp"
#include "adapters/driver_core.hpp"
#include "core/time.hpp"

namespace postgate::adapters::camera {

class V4l2Camera final : public Camera {
 public:
  // With the real device (LinuxVideoDevice). Checks the settings; errors:
  // "bad_setting" with the setting as field. A missing device is not an
  // error here: cameras are configured before they are plugged in (its
  // captures end with camera_absent).
  static core::Result<std::unique_ptr<V4l2Camera>> create(
      boost::asio::io_context& io, V4l2CameraSettings settings,
      const core::Clock& clock = system_clock());
  // Over any device (tests pass a fake). The settings are not checked.
  V4l2Camera(boost::asio::io_context& io, V4l2CameraSettings settings,
             std::unique_ptr<VideoDevice> device, const core::Clock& clock = system_clock());
  ~V4l2Camera() override;
  V4l2Camera(const V4l2Camera&) = delete;
  V4l2Camera& operator=(const V4l2Camera&) = delete;

  const std::string& id() const override { return settings_.id; }
  void capture(std::function<void(core::Result<Still>)> done) override;
  void stop() override;

 private:
  void begin();
  void next();
  void on_frame(core::Result<VideoFrame> frame);
  core::Result<Still> to_still(const VideoFrame& frame);
  void finish(core::Result<Still> result);
  template <class F>
  auto guarded(F f);  // runs f only while this capture is the one running

  boost::asio::io_context& io_;
  V4l2CameraSettings settings_;
  std::unique_ptr<VideoDevice> device_;
  const core::Clock& clock_;
  boost::asio::steady_timer deadline_;
  std::function<void(core::Result<Still>)> done_;
  bool busy_ = false;
  std::uint64_t generation_ = 0;
  VideoFormat format_;
  unsigned frames_seen_ = 0;
  unsigned bad_frames_ = 0;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace postgate::adapters::camera
