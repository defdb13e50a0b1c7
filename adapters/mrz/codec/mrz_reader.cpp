#include "adapters/mrz/codec/mrz_reader.hpp"

#include <utility>
#include <variant>

namespace postgate::adapters::mrz {
namespace {

template <class Assembler>
MrzOutput feed_items(Assembler& assembler, std::vector<scanner::ScanItem> items,
                     core::TimePoint now) {
  MrzOutput out;
  for (auto& item : items) {
    if (auto* scan = std::get_if<scanner::Scan>(&item)) {
      out.append(assembler.on_line(scan->text, now));
    } else {
      out.errors.push_back(std::move(std::get<DeviceError>(item)));
      out.append(assembler.on_line_error(now));
    }
  }
  return out;
}

std::optional<core::TimePoint> earliest(std::optional<core::TimePoint> a,
                                        std::optional<core::TimePoint> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

}  // namespace

MrzKeyboardReader::MrzKeyboardReader(MrzKeyboardSettings settings)
    : keyboard_(std::move(settings.keyboard)), assembler_(std::move(settings.assembler)) {}

MrzOutput MrzKeyboardReader::on_report(std::span<const std::uint8_t> report, core::TimePoint now) {
  MrzOutput out = feed(keyboard_.on_report(report, now), now);
  if (keyboard_.wake_at()) assembler_.touch(now);
  return out;
}

MrzOutput MrzKeyboardReader::on_timer(core::TimePoint now) {
  MrzOutput out = feed(keyboard_.on_timer(now), now);
  out.append(assembler_.on_timer(now));
  return out;
}

std::optional<core::TimePoint> MrzKeyboardReader::wake_at() const {
  return earliest(keyboard_.wake_at(), assembler_.wake_at());
}

void MrzKeyboardReader::reset() {
  keyboard_.reset();
  assembler_.reset();
}

MrzOutput MrzKeyboardReader::feed(std::vector<scanner::ScanItem> items, core::TimePoint now) {
  return feed_items(assembler_, std::move(items), now);
}

MrzSerialReader::MrzSerialReader(MrzSerialSettings settings)
    : lines_(std::move(settings.lines)), assembler_(std::move(settings.assembler)) {}

MrzOutput MrzSerialReader::on_bytes(std::span<const std::uint8_t> bytes, core::TimePoint now) {
  MrzOutput out = feed(lines_.on_bytes(bytes, now), now);
  if (lines_.wake_at()) assembler_.touch(now);
  return out;
}

MrzOutput MrzSerialReader::on_timer(core::TimePoint now) {
  MrzOutput out = feed(lines_.on_timer(now), now);
  out.append(assembler_.on_timer(now));
  return out;
}

std::optional<core::TimePoint> MrzSerialReader::wake_at() const {
  return earliest(lines_.wake_at(), assembler_.wake_at());
}

void MrzSerialReader::reset() {
  lines_.reset();
  assembler_.reset();
}

MrzOutput MrzSerialReader::feed(std::vector<scanner::ScanItem> items, core::TimePoint now) {
  return feed_items(assembler_, std::move(items), now);
}

}  // namespace postgate::adapters::mrz
