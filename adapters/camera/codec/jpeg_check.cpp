#include "adapters/camera/codec/jpeg_check.hpp"

#include <string>

namespace postgate::adapters::camera {

namespace {

constexpr std::uint8_t kSoi = 0xD8;
constexpr std::uint8_t kEoi = 0xD9;
constexpr std::uint8_t kSos = 0xDA;
constexpr std::uint8_t kDqt = 0xDB;
constexpr std::uint8_t kDht = 0xC4;
constexpr std::uint8_t kTem = 0x01;

bool is_rst(std::uint8_t m) {
  return m >= 0xD0 && m <= 0xD7;
}

// Every SOFn (C0-CF except DHT C4, JPG C8 and DAC CC).
bool is_sof(std::uint8_t m) {
  return m >= 0xC0 && m <= 0xCF && m != kDht && m != 0xC8 && m != 0xCC;
}

std::string hex(unsigned v) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string s = "0x";
  s += digits[(v >> 4) & 0xF];
  s += digits[v & 0xF];
  return s;
}

std::unexpected<core::Error> bad(std::string reason) {
  return core::fail("camera_bad_jpeg", "jpeg", std::move(reason));
}

class Walker {
 public:
  explicit Walker(std::span<const std::uint8_t> b) : b_(b) {}

  core::Result<JpegInfo> run() {
    if (b_.size() < 2 || b_[0] != 0xFF || b_[1] != kSoi) return bad("no SOI at the start");
    pos_ = 2;
    for (;;) {
      auto marker = next_marker();
      if (!marker) return std::unexpected(marker.error());
      const std::uint8_t m = *marker;
      if (m == kEoi) return finish();
      if (m == kSoi) return bad("a second SOI at offset " + std::to_string(pos_ - 2));
      if (is_rst(m))
        return bad("a restart marker outside a scan at offset " + std::to_string(pos_ - 2));
      if (m == kTem) continue;
      const std::size_t marker_at = pos_ - 2;
      auto payload = segment(m);
      if (!payload) return std::unexpected(payload.error());
      if (is_sof(m)) {
        if (auto s = frame_header(m, *payload); !s) return std::unexpected(s.error());
      } else if (m == kDht) {
        info_.has_huffman_tables = true;
      } else if (m == kDqt) {
        has_dqt_ = true;
      } else if (m == kSos) {
        if (auto s = scan(marker_at, *payload); !s) return std::unexpected(s.error());
      }
    }
  }

 private:
  // After a segment or scan: optional 0xFF fill bytes, then a marker code.
  core::Result<std::uint8_t> next_marker() {
    if (pos_ >= b_.size()) return bad("truncated: no EOI");
    if (b_[pos_] != 0xFF)
      return bad("garbage where a marker belongs at offset " + std::to_string(pos_));
    while (pos_ < b_.size() && b_[pos_] == 0xFF) ++pos_;
    if (pos_ >= b_.size()) return bad("truncated: no EOI");
    const std::uint8_t m = b_[pos_++];
    if (m == 0x00)
      return bad("a stuffed 0xFF00 outside a scan at offset " + std::to_string(pos_ - 2));
    return m;
  }

  // The payload of a segment with a length (the length counts itself).
  core::Result<std::span<const std::uint8_t>> segment(std::uint8_t m) {
    if (b_.size() - pos_ < 2) return bad("truncated in the length of segment " + hex(m));
    const std::size_t len = (std::size_t{b_[pos_]} << 8) | b_[pos_ + 1];
    if (len < 2) return bad("segment " + hex(m) + " has length " + std::to_string(len));
    if (b_.size() - pos_ < len) return bad("truncated in segment " + hex(m));
    auto payload = b_.subspan(pos_ + 2, len - 2);
    pos_ += len;
    return payload;
  }

  core::Status frame_header(std::uint8_t m, std::span<const std::uint8_t> p) {
    if (m != 0xC0 && m != 0xC1 && m != 0xC2)
      return bad("unsupported coding process (SOF " + hex(m) + ")");
    if (seen_sof_) return bad("more than one frame header");
    seen_sof_ = true;
    if (p.size() < 6) return bad("frame header too short");
    const unsigned precision = p[0];
    const unsigned height = (unsigned{p[1]} << 8) | p[2];
    const unsigned width = (unsigned{p[3]} << 8) | p[4];
    const unsigned components = p[5];
    if (precision != 8 && precision != 12)
      return bad("sample precision " + std::to_string(precision));
    if (width == 0 || height == 0) return bad("zero width or height in the frame header");
    if (components != 1 && components != 3 && components != 4)
      return bad(std::to_string(components) + " components");
    if (p.size() != 6 + 3 * std::size_t{components}) return bad("frame header length mismatch");
    for (unsigned i = 0; i < components; ++i) {
      const std::uint8_t sampling = p[6 + 3 * i + 1];
      const unsigned h = sampling >> 4, v = sampling & 0xF;
      if (h < 1 || h > 4 || v < 1 || v > 4) return bad("bad sampling factors");
      if (p[6 + 3 * i + 2] > 3) return bad("bad quantization table number");
    }
    info_.width = width;
    info_.height = height;
    info_.components = components;
    info_.progressive = m == 0xC2;
    return {};
  }

  // The scan header, then its entropy-coded data up to the next marker.
  core::Status scan(std::size_t marker_at, std::span<const std::uint8_t> p) {
    if (!seen_sof_) return bad("a scan before the frame header");
    if (!has_dqt_) return bad("a scan without quantization tables");
    if (p.empty()) return bad("empty scan header");
    const unsigned n = p[0];
    if (n < 1 || n > 4 || n > info_.components)
      return bad("scan with " + std::to_string(n) + " components");
    if (p.size() != 1 + 2 * std::size_t{n} + 3) return bad("scan header length mismatch");
    ++scans_;
    if (info_.first_scan == 0) info_.first_scan = marker_at;
    // Entropy-coded data: 0xFF is followed by 0x00 (a stuffed byte), a
    // restart marker, or more 0xFF fill; anything else ends the scan.
    while (pos_ < b_.size()) {
      if (b_[pos_] != 0xFF) {
        ++pos_;
        continue;
      }
      std::size_t q = pos_ + 1;
      while (q < b_.size() && b_[q] == 0xFF) ++q;
      if (q >= b_.size()) break;
      if (b_[q] == 0x00 || is_rst(b_[q])) {
        pos_ = q + 1;
        continue;
      }
      pos_ = q - 1;  // at the last 0xFF before the marker code
      return {};
    }
    return bad("truncated in the entropy-coded data of scan " + std::to_string(scans_));
  }

  core::Result<JpegInfo> finish() {
    if (scans_ == 0) return bad("EOI before any scan");
    info_.end = pos_;
    return info_;
  }

  std::span<const std::uint8_t> b_;
  std::size_t pos_ = 0;
  JpegInfo info_;
  bool seen_sof_ = false;
  bool has_dqt_ = false;
  unsigned scans_ = 0;
};

}  // namespace

core::Result<JpegInfo> check_jpeg(std::span<const std::uint8_t> bytes) {
  return Walker(bytes).run();
}

}  // namespace postgate::adapters::camera
