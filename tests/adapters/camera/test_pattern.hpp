#pragma once
// Synthetic test images for the camera tests and fixtures: smooth colour
// gradients (what a JPEG keeps well, so a decode-back comparison is fair),
// computed with integers so every machine makes the same bytes.
#include <cstdint>
#include <span>
#include <vector>

namespace postgate::adapters::camera::test {

using Bytes = std::vector<std::uint8_t>;

// A YUYV frame (Y0 U Y1 V per pixel pair), rows of width*2 bytes.
Bytes yuyv_pattern(unsigned width, unsigned height);

// The pattern encoded by libjpeg-turbo at 4:2:2 (standard Huffman tables,
// one DHT segment), optionally progressive.
Bytes jpeg_pattern(unsigned width, unsigned height, int quality = 85, bool progressive = false);

// The same file without its DHT segments, as UVC cameras send MJPEG.
Bytes strip_huffman_tables(std::span<const std::uint8_t> jpeg);

// The payloads of every DHT segment, concatenated (for comparing tables).
Bytes huffman_payloads(std::span<const std::uint8_t> jpeg);

}  // namespace postgate::adapters::camera::test
