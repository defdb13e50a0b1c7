// Throughput of the ID-card reader codec: SAM frame decoding (whole and in
// serial-sized pieces), card text decoding, and one full session read.
// A reader at 115200 baud delivers ~11.5 kB/s: the figures say how far
// below the wire the codec's cost stays.
#include <benchmark/benchmark.h>

#include <chrono>

#include "adapters/idcard/codec/card_text.hpp"
#include "adapters/idcard/codec/sam_frame.hpp"
#include "adapters/idcard/codec/sam_session.hpp"
#include "core/synthetic.hpp"

namespace {

using namespace postgate;
using namespace postgate::adapters::idcard;
using namespace std::chrono;

constexpr core::Date kToday{year{2026}, November, day{23}};

Bytes card_text() {
  core::SplitMix64 random(1);
  return encode_card_text(resident_card_fields(core::make_person(random, kToday), kToday));
}

Bytes read_reply() {
  return read_text_photo_reply(card_text(), Bytes(kCardPhotoSize, 0x5A));
}

void BM_FrameDecodeReadReply(benchmark::State& state) {
  const auto frame = read_reply();
  const auto piece = static_cast<std::size_t>(state.range(0));
  SamFrameDecoder d;
  for (auto _ : state) {
    for (std::size_t i = 0; i < frame.size(); i += piece) {
      d.feed(std::span(frame).subspan(i, std::min(piece, frame.size() - i)));
      while (auto r = d.next()) benchmark::DoNotOptimize(r);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frame.size()));
  state.SetItemsProcessed(state.iterations());
}
// 1295 at once (USB bulk), 64 (USB packet), 32 (a serial read), 1 (slow bytes).
BENCHMARK(BM_FrameDecodeReadReply)->Arg(1295)->Arg(64)->Arg(32)->Arg(1);

void BM_FrameDecodeGarbage(benchmark::State& state) {
  Bytes junk(4096);
  for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<std::uint8_t>(i * 7 + 1);
  SamFrameDecoder d;
  for (auto _ : state) {
    d.feed(junk);
    while (auto r = d.next()) benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * junk.size()));
}
BENCHMARK(BM_FrameDecodeGarbage);

void BM_CardTextDecode(benchmark::State& state) {
  const auto text = card_text();
  for (auto _ : state) {
    auto card = decode_card_text(text, kToday);
    benchmark::DoNotOptimize(card);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CardTextDecode);

void BM_SessionFullRead(benchmark::State& state) {
  const auto text = card_text();
  const std::array<std::uint8_t, 8> serial{1, 2, 3, 4, 5, 6, 7, 8};
  const auto find = find_card_ok_reply();
  const auto select = select_card_ok_reply(serial);
  const auto read = read_reply();
  core::TimePoint now{sys_days{kToday} + hours{2}};
  for (auto _ : state) {
    SamSession s;
    benchmark::DoNotOptimize(s.start(now));
    benchmark::DoNotOptimize(s.on_bytes(find, now));
    benchmark::DoNotOptimize(s.on_bytes(select, now));
    auto out = s.on_bytes(read, now);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SessionFullRead);

}  // namespace

BENCHMARK_MAIN();
