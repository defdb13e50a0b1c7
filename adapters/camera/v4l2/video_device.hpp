#pragma once
// The narrow seam between the USB camera logic and V4L2: what V4l2Camera
// needs from a video device, and nothing else. LinuxVideoDevice implements
// it over ioctl and mmap; tests replay recorded frames through a fake.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace postgate::adapters::camera {

enum class PixelFormat { mjpeg, yuyv };
enum class FormatPreference {
  automatic,  // MJPEG if the device offers it (no conversion, less USB bandwidth), else YUYV
  mjpeg,
  yuyv,
};

struct FormatRequest {
  unsigned width = 640;
  unsigned height = 480;
  FormatPreference preference = FormatPreference::automatic;
};

// What the device agreed to send (drivers round sizes to what they can do).
struct VideoFormat {
  PixelFormat pixel_format = PixelFormat::mjpeg;
  unsigned width = 0;
  unsigned height = 0;
  std::size_t bytes_per_line = 0;  // YUYV row stride
  std::size_t image_size = 0;      // the largest frame
};

struct VideoFrame {
  std::vector<std::uint8_t> bytes;  // bytesused of the dequeued buffer
  bool corrupt = false;             // the driver flagged it (V4L2_BUF_FLAG_ERROR)
  std::uint32_t sequence = 0;
};

// Error codes: "camera_absent" (no such device, or it vanished),
// "camera_device_error" (permission, busy, not a capture device, an ioctl
// that failed), "camera_unsupported_format" (neither MJPEG nor YUYV).
class VideoDevice {
 public:
  virtual ~VideoDevice() = default;
  virtual core::Status open(const std::string& path) = 0;
  virtual core::Result<VideoFormat> negotiate(const FormatRequest& request) = 0;
  virtual core::Status start() = 0;  // buffers queued, streaming on
  // The next frame, asynchronously on the io_context the device was made
  // with: `handler` is called once, never inline, unless close() comes
  // first - then it is never called.
  virtual void next_frame(std::function<void(core::Result<VideoFrame>)> handler) = 0;
  virtual void stop() = 0;   // streaming off; idempotent
  virtual void close() = 0;  // buffers and descriptor released; idempotent
};

}  // namespace postgate::adapters::camera
