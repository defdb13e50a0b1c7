#pragma once
// YUV 4:2:2 planes to JPEG with libjpeg-turbo, for cameras that send raw
// YUYV. The planes go in as they are (no colour conversion, no upsampling):
// 4:2:2 is what the frame holds, and a JPEG at 4:2:2 keeps all of it.
#include <cstdint>
#include <vector>

#include "adapters/camera/codec/yuyv.hpp"
#include "core/result.hpp"

namespace postgate::adapters::camera {

// quality 1..100 (clamped). Errors: "camera_encode_failed" with turbojpeg's
// message.
core::Result<std::vector<std::uint8_t>> encode_yuv422_jpeg(const Yuv422Planes& planes, int quality);

}  // namespace postgate::adapters::camera
