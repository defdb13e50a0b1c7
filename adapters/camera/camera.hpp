#pragma once
// The port between counter cameras and the daemon: one still on request.
// A camera that is slow, absent or answers garbage must never hold up an
// acceptance, so every capture ends exactly once, within its timeout, with
// a Still or a core::Error whose code says what went wrong:
//   camera_timeout          the whole capture took longer than its timeout
//   camera_unreachable      name not resolved, connection refused or reset
//   camera_tls_failed       TLS handshake or certificate verification failed
//   camera_auth_failed      credentials refused, missing or not sendable
//   camera_bad_status       an HTTP status other than 200 (and 401)
//   camera_bad_content_type the answer is not image/jpeg
//   camera_bad_jpeg         the image is not a complete, well-formed JPEG
//   camera_bad_frame        a raw (YUYV) frame of the wrong size
//   camera_too_large        the answer is larger than max_bytes
//   camera_absent           the video device is missing or vanished
//   camera_device_error     the video device refused (permission, busy, ioctl)
//   camera_unsupported_format the video device offers neither MJPEG nor YUYV
//   camera_busy             a capture of this camera is already running
//   cancelled               stop() was called during the capture
// Messages are for the log; they hold no credentials and no image data.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"

namespace postgate::adapters {

struct Still {
  std::string camera_id;
  std::vector<std::uint8_t> jpeg;  // a complete, structurally valid JPEG
  core::TimePoint captured_at{};
  unsigned width = 0, height = 0;  // from the JPEG SOF
};

class Camera {
 public:
  virtual ~Camera() = default;
  virtual const std::string& id() const = 0;
  // Asynchronous, on the daemon's single Asio thread (the io_context given
  // at construction). `done` is called exactly once, never inline from
  // capture(), within the configured timeout (plus the time the thread takes
  // to get to it). A second capture while one runs gets "camera_busy"
  // (posted) and does not disturb the first.
  virtual void capture(std::function<void(core::Result<Still>)> done) = 0;
  // Cancels the capture in flight: its `done` is called with "cancelled"
  // BEFORE stop() returns (inline, from within stop()), and nothing of that
  // capture is called afterwards. Without a capture in flight it does
  // nothing. The camera stays usable: a later capture() starts afresh.
  // The destructor calls stop().
  virtual void stop() = 0;
};

}  // namespace postgate::adapters
