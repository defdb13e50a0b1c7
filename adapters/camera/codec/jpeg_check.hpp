#pragma once
// A structural check of a JPEG file as it comes from a camera: the marker
// walk a decoder does before it decodes, without decoding. It catches what
// cameras and networks actually produce (a body cut short, an HTML error page
// sent as image/jpeg, a frame torn by a USB hiccup) and reads the size from
// the frame header, so a Still carries width and height without a decoder.
//
// Pure: standard library and core/ only (the fuzz build compiles it).
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/result.hpp"

namespace postgate::adapters::camera {

struct JpegInfo {
  unsigned width = 0;
  unsigned height = 0;
  unsigned components = 0;
  bool progressive = false;         // SOF2
  bool has_huffman_tables = false;  // any DHT segment (UVC MJPEG often has none)
  std::size_t first_scan = 0;       // offset of the first SOS marker
  std::size_t end = 0;              // offset just past EOI; later bytes are not the image
};

// Accepts SOI, then segments with lengths (one SOF0, SOF1 or SOF2 with a
// non-zero size, at least one DQT), scans of entropy-coded data, and EOI.
// Anything else fails with code "camera_bad_jpeg" and a reason for people:
// "truncated in the entropy-coded data of scan 1", "no SOI", ...
// Bytes after EOI are tolerated (padding); JpegInfo::end says where to cut.
core::Result<JpegInfo> check_jpeg(std::span<const std::uint8_t> bytes);

}  // namespace postgate::adapters::camera
