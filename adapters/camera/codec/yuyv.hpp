#pragma once
// YUYV (YUY2, V4L2_PIX_FMT_YUYV) as UVC cameras send it uncompressed:
// per pair of pixels Y0 U Y1 V, 4:2:2, rows bytes_per_line apart. JPEG
// encoders take planes, so the frame is repacked into Y, U and V planes.
//
// Pure: standard library and core/ only (the fuzz build compiles it).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/result.hpp"

namespace postgate::adapters::camera {

struct Yuv422Planes {
  unsigned width = 0;
  unsigned height = 0;
  std::vector<std::uint8_t> y;  // width x height
  std::vector<std::uint8_t> u;  // width/2 x height
  std::vector<std::uint8_t> v;  // width/2 x height
};

// Errors: "camera_bad_frame" (an odd or zero width, a row stride shorter
// than the row, a frame shorter than height rows).
core::Result<Yuv422Planes> yuyv_to_planes(std::span<const std::uint8_t> frame, unsigned width,
                                          unsigned height, std::size_t bytes_per_line);

}  // namespace postgate::adapters::camera
