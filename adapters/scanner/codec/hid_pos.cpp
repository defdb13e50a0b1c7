#include "adapters/scanner/codec/hid_pos.hpp"

#include <algorithm>

namespace postgate::adapters::scanner {
namespace {

constexpr std::size_t kHeader = 5;  // report id, length, AIM id

// "]C0" and the like; vendors that put other printable codes there keep
// them, anything else (zeros, binary) means no identifier.
std::string aim_text(std::span<const std::uint8_t> aim) {
  for (const std::uint8_t b : aim) {
    if (b < 0x21 || b > 0x7E) return {};
  }
  return std::string(aim.begin(), aim.end());
}

}  // namespace

std::vector<std::uint8_t> encode_pos_report(const HidPosSettings& settings, std::string_view aim_id,
                                            std::string_view data, bool continued) {
  std::vector<std::uint8_t> r(kHeader + settings.capacity + 1, 0);
  const std::size_t n = std::min({data.size(), settings.capacity, std::size_t{255}});
  r[0] = settings.report_id;
  r[1] = static_cast<std::uint8_t>(n);
  for (std::size_t i = 0; i < 3 && i < aim_id.size(); ++i) {
    r[2 + i] = static_cast<std::uint8_t>(aim_id[i]);
  }
  std::copy_n(data.begin(), n, r.begin() + kHeader);
  r.back() = continued ? 1 : 0;
  return r;
}

std::vector<std::vector<std::uint8_t>> encode_pos_scan(const HidPosSettings& settings,
                                                       std::string_view aim_id,
                                                       std::string_view data) {
  std::vector<std::vector<std::uint8_t>> reports;
  const std::size_t step = std::max<std::size_t>(1, std::min<std::size_t>(settings.capacity, 255));
  do {
    const std::string_view part = data.substr(0, step);
    data.remove_prefix(part.size());
    reports.push_back(encode_pos_report(settings, aim_id, part, !data.empty()));
  } while (!data.empty());
  return reports;
}

HidPosDecoder::HidPosDecoder(HidPosSettings settings) : settings_(std::move(settings)) {}

std::vector<ScanItem> HidPosDecoder::on_report(std::span<const std::uint8_t> report,
                                               core::TimePoint now) {
  std::vector<ScanItem> out;
  ++stats_.reports;
  if (open_ && now - last_part_ >= settings_.continuation_timeout) on_timer_into(now, out);

  if (!report.empty() && report[0] != settings_.report_id) {
    ++stats_.ignored;  // trigger, status or another collection's report
    return out;
  }
  if (report.size() < kHeader + 1) {
    // Too short to hold a continuation flag: whatever was open is lost.
    fail(errors::bad_report, "POS report of " + std::to_string(report.size()) + " bytes", out);
    close();
    return out;
  }
  const std::size_t length = report[1];
  const bool continued = report.back() != 0;
  last_part_ = now;
  if (!open_) {
    open_ = true;
    aim_ = aim_text(report.subspan(2, 3));
    data_.clear();
  }
  if (length > settings_.capacity || kHeader + length > report.size() - 1) {
    fail(errors::bad_length,
         "length " + std::to_string(length) + " in a report of " + std::to_string(report.size()) +
             " bytes",
         out);
  } else if (!discarding_ && data_.size() + length > settings_.max_length) {
    fail(errors::too_long, "over " + std::to_string(settings_.max_length) + " bytes", out);
  } else if (!discarding_) {
    data_.append(reinterpret_cast<const char*>(report.data()) + kHeader, length);
  }
  if (!continued) {
    if (!discarding_) finish(out);
    close();
  }
  return out;
}

std::vector<ScanItem> HidPosDecoder::on_timer(core::TimePoint now) {
  std::vector<ScanItem> out;
  on_timer_into(now, out);
  return out;
}

void HidPosDecoder::on_timer_into(core::TimePoint now, std::vector<ScanItem>& out) {
  if (!open_ || now - last_part_ < settings_.continuation_timeout) return;
  if (!discarding_) {
    ++stats_.errors;
    out.emplace_back(DeviceError{
        std::string(errors::incomplete_scan),
        "continued scan without its last part (" + std::to_string(data_.size()) + " bytes)"});
  }
  close();
}

std::optional<core::TimePoint> HidPosDecoder::wake_at() const {
  if (!open_) return std::nullopt;
  return last_part_ + settings_.continuation_timeout;
}

void HidPosDecoder::reset() {
  close();
}

void HidPosDecoder::close() {
  open_ = false;
  discarding_ = false;
  data_.clear();
  aim_.clear();
}

void HidPosDecoder::finish(std::vector<ScanItem>& out) {
  if (settings_.strip_suffix) {
    while (!data_.empty() &&
           (data_.back() == '\r' || data_.back() == '\n' || data_.back() == '\t')) {
      data_.pop_back();
    }
  }
  if (data_.empty()) {
    fail(errors::empty_scan, "scanned-data report without data", out);
  } else if (!is_scan_text(data_)) {
    fail(errors::bad_text,
         "control character or invalid UTF-8 in " + std::to_string(data_.size()) + " bytes", out);
  } else {
    ++stats_.scans;
    out.emplace_back(Scan{std::move(data_), std::move(aim_)});
  }
}

void HidPosDecoder::fail(std::string_view code, std::string detail, std::vector<ScanItem>& out) {
  if (!discarding_) {
    ++stats_.errors;
    out.emplace_back(DeviceError{std::string(code), std::move(detail)});
  }
  discarding_ = true;
}

}  // namespace postgate::adapters::scanner
