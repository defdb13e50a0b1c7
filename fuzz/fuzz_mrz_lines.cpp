// libFuzzer target: what a serial or keyboard-wedge MRZ reader sends, through
// the line decoder and the zone assembler (MrzSerialReader), and the same
// bytes split at '\n' straight into an assembler (lines the decoder would
// refuse). Input: one settings byte, then chunks: a header byte (bits 0-5
// the chunk length, bits 6-7 the pause before it: 1, 10, 100 or 1000 ms) and
// the bytes. Checked: no crash, every IdentityRead holds a validated
// document, timers make progress.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <variant>

#include "adapters/mrz/codec/mrz_reader.hpp"

namespace {

using namespace postgate;
using namespace postgate::adapters::mrz;

void check(const MrzOutput& out) {
  for (const auto& e : out.events) {
    if (const auto* r = std::get_if<core::IdentityRead>(&e)) {
      if (r->document.number.empty() || !r->document.valid_to) std::abort();
    } else if (!std::holds_alternative<core::IdentityReadFailed>(e)) {
      std::abort();
    }
  }
  for (const auto& e : out.errors) {
    if (e.code.empty()) std::abort();
  }
}

template <class Reader>
void run_timers(Reader& r, core::TimePoint now) {
  for (int i = 0; i < 4; ++i) {
    const auto at = r.wake_at();
    if (!at || *at > now) return;
    check(r.on_timer(now));
  }
  if (auto at = r.wake_at(); at && *at <= now) std::abort();
}

template <class Reader>
void drain(Reader& r, core::TimePoint now) {
  for (int i = 0; i < 8; ++i) {
    const auto at = r.wake_at();
    if (!at) return;
    now = std::max(now, *at);
    check(r.on_timer(now));
  }
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t cfg = data[0];
  MrzSerialSettings ss;
  ss.lines.terminator = static_cast<adapters::scanner::LineTerminator>((cfg & 0x07) % 5);
  ss.lines.timeout_ends_line = (cfg & 0x08) != 0;
  ss.lines.emit_empty_lines = (cfg & 0x10) != 0;
  ss.assembler.utc_offset = std::chrono::minutes{(cfg & 0x20) ? 0 : 480};
  MrzSerialReader serial(ss);
  MrzAssembler direct(ss.assembler);

  static constexpr int kPauses[] = {1, 10, 100, 1000};
  core::TimePoint now{std::chrono::milliseconds{1'795'000'000'000}};
  std::span<const std::uint8_t> in(data + 1, size - 1);
  while (!in.empty()) {
    const std::uint8_t header = in[0];
    in = in.subspan(1);
    const std::size_t len = std::min<std::size_t>(header & 0x3F, in.size());
    const auto chunk = in.first(len);
    in = in.subspan(len);
    now += std::chrono::milliseconds{kPauses[header >> 6]};
    run_timers(serial, now);
    check(serial.on_bytes(chunk, now));
    run_timers(direct, now);
    std::string_view text(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    while (!text.empty()) {
      const auto nl = text.find('\n');
      check(direct.on_line(text.substr(0, nl), now));
      if (nl == std::string_view::npos) break;
      text.remove_prefix(nl + 1);
    }
  }
  // Left alone, every reader settles: a line ended by silence may start a
  // zone, which then times out; a few timer rounds, never more.
  drain(serial, now);
  drain(direct, now);
  return 0;
}
