#include "adapters/scanner/codec/line_decoder.hpp"

namespace postgate::adapters::scanner {

std::optional<LineTerminator> line_terminator_from_string(std::string_view s) {
  if (s == "cr") return LineTerminator::cr;
  if (s == "lf") return LineTerminator::lf;
  if (s == "crlf") return LineTerminator::crlf;
  if (s == "tab") return LineTerminator::tab;
  if (s == "any") return LineTerminator::any;
  return std::nullopt;
}

std::string_view to_string(LineTerminator t) {
  switch (t) {
    case LineTerminator::cr:
      return "cr";
    case LineTerminator::lf:
      return "lf";
    case LineTerminator::crlf:
      return "crlf";
    case LineTerminator::tab:
      return "tab";
    case LineTerminator::any:
      return "any";
  }
  return "unknown";
}

LineDecoder::LineDecoder(LineDecoderSettings settings) : settings_(std::move(settings)) {}

std::vector<ScanItem> LineDecoder::on_bytes(std::span<const std::uint8_t> bytes,
                                            core::TimePoint now) {
  std::vector<ScanItem> out;
  if (bytes.empty()) return out;
  check_timeout(now, out);
  for (const std::uint8_t b : bytes) {
    ++stats_.reports;
    last_byte_ = now;
    const bool swallow_lf = after_cr_ && b == '\n';
    after_cr_ = false;
    if (swallow_lf) continue;  // the LF of a CRLF that already ended the line
    bool ends = false;
    switch (settings_.terminator) {
      case LineTerminator::cr:
        ends = b == '\r';
        break;
      case LineTerminator::lf:
        ends = b == '\n';
        break;
      case LineTerminator::crlf:
        ends = b == '\n';
        break;
      case LineTerminator::tab:
        ends = b == '\t';
        break;
      case LineTerminator::any:
        ends = b == '\r' || b == '\n' || b == '\t';
        after_cr_ = b == '\r';
        break;
    }
    if (ends) {
      if (settings_.terminator == LineTerminator::crlf && !line_.empty() && line_.back() == '\r') {
        line_.pop_back();
      }
      end_line(out);
      continue;
    }
    open_ = true;
    if (discarding_) continue;
    if (line_.size() >= settings_.max_length) {
      fail(errors::too_long, "over " + std::to_string(settings_.max_length) + " bytes", out);
      line_.clear();
      continue;
    }
    line_ += static_cast<char>(b);
  }
  return out;
}

std::vector<ScanItem> LineDecoder::on_timer(core::TimePoint now) {
  std::vector<ScanItem> out;
  check_timeout(now, out);
  return out;
}

void LineDecoder::check_timeout(core::TimePoint now, std::vector<ScanItem>& out) {
  if (settings_.inter_byte_timeout.count() <= 0) return;
  if (now - last_byte_ < settings_.inter_byte_timeout) return;
  after_cr_ = false;  // an LF after a pause is a terminator of its own
  if (!open_) return;
  if (discarding_ || settings_.timeout_ends_line) {
    end_line(out);
  } else {
    ++stats_.errors;
    out.emplace_back(DeviceError{std::string(errors::incomplete_scan),
                                 std::to_string(line_.size()) + " bytes without terminator"});
    reset();
  }
}

std::optional<core::TimePoint> LineDecoder::wake_at() const {
  if (!open_ || settings_.inter_byte_timeout.count() <= 0) return std::nullopt;
  return last_byte_ + settings_.inter_byte_timeout;
}

void LineDecoder::reset() {
  line_.clear();
  open_ = false;
  discarding_ = false;
  after_cr_ = false;
}

void LineDecoder::end_line(std::vector<ScanItem>& out) {
  if (discarding_) {
    // Already reported as too long.
  } else if (line_.empty()) {
    if (settings_.emit_empty_lines) out.emplace_back(Scan{});
  } else if (!is_scan_text(line_)) {
    ++stats_.errors;
    out.emplace_back(DeviceError{std::string(errors::bad_text),
                                 "control character or invalid UTF-8 in a line of " +
                                     std::to_string(line_.size()) + " bytes"});
  } else {
    ++stats_.scans;
    out.emplace_back(Scan{std::move(line_), {}});
  }
  line_.clear();
  open_ = false;
  discarding_ = false;
}

void LineDecoder::fail(std::string_view code, std::string detail, std::vector<ScanItem>& out) {
  if (!discarding_) {
    ++stats_.errors;
    out.emplace_back(DeviceError{std::string(code), std::move(detail)});
  }
  discarding_ = true;
}

}  // namespace postgate::adapters::scanner
