#pragma once
// HID POS barcode scanners (usage page 0x8C): scanned-data reports in the
// vendor layout of DOMAIN.md section 4:
//   [report id][length][AIM id, 3 bytes][data, `capacity` bytes][continuation]
// `length` counts the valid data bytes; the continuation flag is the last byte
// of the report (non-zero: more data follows in the next report). A scan
// longer than one report arrives as several, reassembled here up to
// max_length. Sans-IO like the keyboard decoder.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "adapters/scanner/codec/scan_item.hpp"
#include "core/time.hpp"

namespace postgate::adapters::scanner {

struct HidPosSettings {
  std::uint8_t report_id = 0x02;  // the scanned-data report; other ids are ignored
  std::size_t capacity = 56;      // data bytes per report
  std::size_t max_length = 4096;  // bytes of one reassembled scan
  // The next part of a continued scan must arrive within this.
  std::chrono::milliseconds continuation_timeout{500};
  // Scanners configured with a suffix send it in POS mode too: trailing CR, LF
  // and Tab are removed before the text check.
  bool strip_suffix = true;
};

// Builds one report of the layout above (tests, test peers, benchmarks).
std::vector<std::uint8_t> encode_pos_report(const HidPosSettings& settings, std::string_view aim_id,
                                            std::string_view data, bool continued);
// Splits a scan into as many reports as it needs.
std::vector<std::vector<std::uint8_t>> encode_pos_scan(const HidPosSettings& settings,
                                                       std::string_view aim_id,
                                                       std::string_view data);

class HidPosDecoder {
 public:
  explicit HidPosDecoder(HidPosSettings settings = {});

  std::vector<ScanItem> on_report(std::span<const std::uint8_t> report, core::TimePoint now);
  std::vector<ScanItem> on_timer(core::TimePoint now);
  std::optional<core::TimePoint> wake_at() const;
  void reset();

  const DecoderStats& stats() const { return stats_; }
  const HidPosSettings& settings() const { return settings_; }

 private:
  void fail(std::string_view code, std::string detail, std::vector<ScanItem>& out);
  void finish(std::vector<ScanItem>& out);
  void close();
  void on_timer_into(core::TimePoint now, std::vector<ScanItem>& out);

  HidPosSettings settings_;
  std::string data_;
  std::string aim_;
  bool open_ = false;        // a continued scan is waiting for its next part
  bool discarding_ = false;  // the open scan failed; drop parts until the last one
  core::TimePoint last_part_{};
  DecoderStats stats_;
};

}  // namespace postgate::adapters::scanner
