#include "adapters/camera/codec/yuyv.hpp"

#include <string>

namespace postgate::adapters::camera {

core::Result<Yuv422Planes> yuyv_to_planes(std::span<const std::uint8_t> frame, unsigned width,
                                          unsigned height, std::size_t bytes_per_line) {
  if (width == 0 || height == 0 || width % 2 != 0)
    return core::fail("camera_bad_frame", "frame", "YUYV needs an even, non-zero width");
  const std::size_t row = std::size_t{width} * 2;
  if (bytes_per_line == 0) bytes_per_line = row;
  if (bytes_per_line < row)
    return core::fail("camera_bad_frame", "frame", "row stride shorter than a row");
  if (frame.size() / bytes_per_line < height - 1 ||
      frame.size() < bytes_per_line * (height - 1) + row)
    return core::fail("camera_bad_frame", "frame",
                      "frame of " + std::to_string(frame.size()) + " bytes, short of " +
                          std::to_string(height) + " rows");
  Yuv422Planes p;
  p.width = width;
  p.height = height;
  const std::size_t half = width / 2;
  p.y.resize(std::size_t{width} * height);
  p.u.resize(half * height);
  p.v.resize(half * height);
  for (std::size_t r = 0; r < height; ++r) {
    const std::uint8_t* in = frame.data() + r * bytes_per_line;
    std::uint8_t* y = p.y.data() + r * width;
    std::uint8_t* u = p.u.data() + r * half;
    std::uint8_t* v = p.v.data() + r * half;
    for (std::size_t x = 0; x < half; ++x) {
      y[2 * x] = in[4 * x];
      u[x] = in[4 * x + 1];
      y[2 * x + 1] = in[4 * x + 2];
      v[x] = in[4 * x + 3];
    }
  }
  return p;
}

}  // namespace postgate::adapters::camera
