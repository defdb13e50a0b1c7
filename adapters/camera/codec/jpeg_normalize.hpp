#pragma once
// What both camera sources do to a JPEG before it becomes a Still: check its
// structure, give it Huffman tables if it has none, and cut what follows EOI.
//
// Why the tables: a UVC camera in MJPEG mode sends "abbreviated" frames that
// omit DHT and rely on the standard tables of the JPEG spec (Annex K.3, the
// convention of Motion-JPEG in AVI). A decoder that does not know that
// convention rejects such a file, and a Still must decode anywhere.
//
// Pure: standard library and core/ only (the fuzz build compiles it).
#include <cstdint>
#include <span>
#include <vector>

#include "adapters/camera/codec/jpeg_check.hpp"
#include "core/result.hpp"

namespace postgate::adapters::camera {

// The DHT segment (marker, length and the four tables: DC and AC for
// luminance and chrominance) with the Annex K.3 tables.
std::span<const std::uint8_t> standard_huffman_segment();

struct NormalizedJpeg {
  std::vector<std::uint8_t> bytes;
  JpegInfo info;  // of `bytes`
  bool inserted_huffman = false;
};

// check_jpeg, then the standard DHT inserted before the first scan when the
// file has no DHT at all, and the bytes after EOI dropped.
core::Result<NormalizedJpeg> normalize_jpeg(std::span<const std::uint8_t> bytes);

}  // namespace postgate::adapters::camera
