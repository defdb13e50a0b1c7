// libFuzzer target: what a USB scanner's interrupt endpoint delivers, fed to
// the HID boot keyboard decoder and the HID POS decoder.
// Input: one settings byte, then chunks: a header byte (bits 0-5 the report
// length, bits 6-7 the pause before it: 1, 10, 100 or 1000 ms) and the report.
// Checked: no crash, scans are non-empty valid text within max_length, and
// timers make progress.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <variant>
#include <vector>

#include "adapters/scanner/codec/hid_keyboard.hpp"
#include "adapters/scanner/codec/hid_pos.hpp"

namespace {

using namespace postgate;
using namespace postgate::adapters::scanner;

void check(const std::vector<ScanItem>& items, std::size_t max_length) {
  for (const auto& item : items) {
    if (const auto* s = std::get_if<Scan>(&item)) {
      if (s->text.empty() || s->text.size() > max_length || !is_scan_text(s->text)) std::abort();
    } else if (std::get<adapters::DeviceError>(item).code.empty()) {
      std::abort();
    }
  }
}

template <class Decoder>
void run_timers(Decoder& d, core::TimePoint now, std::size_t max_length) {
  // Due timers fire; each must clear itself (no endless wake-ups).
  for (int i = 0; i < 4; ++i) {
    const auto at = d.wake_at();
    if (!at || *at > now) return;
    check(d.on_timer(now), max_length);
  }
  if (auto at = d.wake_at(); at && *at <= now) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t cfg = data[0];
  HidKeyboardSettings ks;
  ks.terminator = static_cast<KeyTerminator>(cfg & 0x03);
  ks.framing = static_cast<ReportFraming>(((cfg >> 2) & 0x03) % 3);
  ks.accept_short_reports = (cfg & 0x10) != 0;
  ks.max_length = (cfg & 0x20) ? 16 : 512;
  ks.inter_key_timeout = std::chrono::milliseconds{50};
  if (cfg & 0x40) ks.report_id = 1;
  HidPosSettings ps;
  if (cfg & 0x80) {
    ps.capacity = 8;
    ps.max_length = 40;
    ps.report_id = 1;
  }
  HidKeyboardDecoder keyboard(ks);
  HidPosDecoder pos(ps);

  static constexpr int kPauses[] = {1, 10, 100, 1000};
  core::TimePoint now{std::chrono::milliseconds{1'795'000'000'000}};
  std::span<const std::uint8_t> in(data + 1, size - 1);
  while (!in.empty()) {
    const std::uint8_t header = in[0];
    in = in.subspan(1);
    const std::size_t len = std::min<std::size_t>(header & 0x3F, in.size());
    const auto report = in.first(len);
    in = in.subspan(len);
    now += std::chrono::milliseconds{kPauses[header >> 6]};
    run_timers(keyboard, now, ks.max_length);
    run_timers(pos, now, ps.max_length);
    check(keyboard.on_report(report, now), ks.max_length);
    check(pos.on_report(report, now), ps.max_length);
  }
  // Left alone, both decoders settle after one timer each.
  now += std::chrono::seconds{10};
  run_timers(keyboard, now, ks.max_length);
  run_timers(pos, now, ps.max_length);
  if (keyboard.wake_at() || pos.wake_at()) std::abort();
  return 0;
}
