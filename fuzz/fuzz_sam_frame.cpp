// libFuzzer target: bytes from a resident ID-card reader (SAM frames), fed to
// the frame decoder, the command decoder, the card text decoder and the
// reader session, in pieces whose sizes derive from the input.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <variant>

#include "adapters/idcard/codec/card_text.hpp"
#include "adapters/idcard/codec/sam_frame.hpp"
#include "adapters/idcard/codec/sam_session.hpp"

namespace {

using namespace postgate;
using namespace postgate::adapters::idcard;
using namespace std::chrono;

void check(bool ok) {
  if (!ok) std::abort();
}

// Piece sizes 1..97 from a small LCG seeded by the input size: the same
// input always splits the same way, and most seeds split mid-frame.
struct Pieces {
  std::uint32_t state;
  std::size_t next() {
    state = state * 1103515245u + 12345u;
    return 1 + (state >> 16) % 97;
  }
};

void run_decoder(std::span<const std::uint8_t> in) {
  SamFrameDecoder d;
  Pieces pieces{static_cast<std::uint32_t>(in.size())};
  for (std::size_t i = 0; i < in.size();) {
    const std::size_t n = std::min(pieces.next(), in.size() - i);
    d.feed(in.subspan(i, n));
    i += n;
    while (auto r = d.next()) {
      if (*r) check((*r)->data.size() + 4 <= kMaxReplyLength);
    }
    // One frame at most plus a feed's worth of bytes is ever held.
    check(d.buffered() <= 7 + kMaxReplyLength + n);
  }
  SamCommandDecoder c;
  c.feed(in);
  while (auto r = c.next()) (void)r;
}

void run_session(std::span<const std::uint8_t> in, ReadCommand command) {
  SamSessionSettings settings;
  settings.keep_photo = true;
  settings.read_attempts = 2;
  settings.read_command = command;
  SamSession session(settings);
  core::TimePoint now{sys_days{year{2026} / November / day{23}} + hours{2}};
  const auto absorb = [&](const SamSessionOutput& out) {
    int reads = 0;
    for (const auto& e : out.events) {
      check(std::holds_alternative<core::IdentityRead>(e) ||
            std::holds_alternative<core::IdentityReadFailed>(e));
      reads += std::holds_alternative<core::IdentityRead>(e) ? 1 : 0;
    }
    check(reads <= 1);
    check(out.card.has_value() == (reads == 1));
    if (out.photo) check(reads == 1);
    if (out.wake_at) check(*out.wake_at >= now);
  };
  absorb(session.start(now));
  Pieces pieces{static_cast<std::uint32_t>(in.size()) ^ 0x5A5Au};
  for (std::size_t i = 0; i < in.size();) {
    const std::size_t n = std::min(pieces.next(), in.size() - i);
    now += milliseconds(n);
    absorb(session.on_bytes(in.subspan(i, n), now));
    i += n;
    if (n % 13 == 0) {
      now += milliseconds(400);
      absorb(session.on_timer(now));
    }
    if (n == 97) {  // now and then the link drops
      session.reset();
      absorb(session.start(now));
    }
  }
  now += seconds(5);
  absorb(session.on_timer(now));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  run_decoder(in);
  const core::Date today{year{2026}, November, day{23}};
  if (size >= kCardTextSize) {
    (void)decode_card_text(in.first(kCardTextSize), today);
    (void)decode_card_text(in.last(kCardTextSize), today);
  }
  run_session(in, ReadCommand::text_photo);
  run_session(in, ReadCommand::text_photo_fingerprint);
  return 0;
}
