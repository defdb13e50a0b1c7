// Decode throughput of the scanner and MRZ codecs (Google Benchmark):
//   cmake -DPOSTGATE_BENCH=ON ... && build/bench/bench_scanner_codec_bench
// A scanner delivers at most about 1,000 reports/s (1 ms interrupt polling);
// these figures say how far the codecs are from being the limit.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <vector>

#include "adapters/mrz/codec/mrz_reader.hpp"
#include "adapters/scanner/codec/hid_keyboard.hpp"
#include "adapters/scanner/codec/hid_pos.hpp"
#include "adapters/scanner/codec/line_decoder.hpp"

namespace {

using namespace postgate;
using namespace postgate::adapters;
using namespace std::chrono_literals;

const core::TimePoint kStart{std::chrono::milliseconds{1'795'000'000'000}};  // 2026-11-18

// Synthetic TD3 zone with valid check digits, expiring in 2031.
char check(std::string_view s) {
  static constexpr int kWeights[] = {7, 3, 1};
  int sum = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    sum += (c == '<' ? 0 : (c <= '9' ? c - '0' : c - 'A' + 10)) * kWeights[i % 3];
  }
  return static_cast<char>('0' + sum % 10);
}
std::vector<std::string> td3_lines() {
  std::string l1 = "P<UTOTESTER<<SAMPLE<PERSON";
  l1.resize(44, '<');
  const std::string num = "X1234567<", per = "<<<<<<<<<<<<<<";
  std::string l2 = num + check(num) + "UTO800101" + check("800101") + "F310415" + check("310415") +
                   per + check(per);
  l2 += check(l2.substr(0, 10) + l2.substr(13, 7) + l2.substr(21, 22));
  return {l1, l2};
}

void BM_KeyboardWaybillScans(benchmark::State& state) {
  const auto reports = *scanner::keyboard_reports("RA123456785GB", scanner::KeyTerminator::enter);
  scanner::HidKeyboardDecoder decoder;
  auto now = kStart;
  std::size_t scans = 0;
  for (auto _ : state) {
    for (const auto& r : reports) {
      now += 1ms;
      scans += decoder.on_report(r, now).size();
    }
  }
  benchmark::DoNotOptimize(scans);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * reports.size()));
  state.counters["scans/s"] =
      benchmark::Counter(static_cast<double>(scans), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_KeyboardWaybillScans);

void BM_HidPosQrScans(benchmark::State& state) {
  std::string qr;
  for (int i = 0; i < 300; ++i) qr += static_cast<char>('A' + i % 26);
  const scanner::HidPosSettings settings;
  const auto reports = scanner::encode_pos_scan(settings, "]Q1", qr);
  scanner::HidPosDecoder decoder(settings);
  auto now = kStart;
  std::size_t scans = 0;
  for (auto _ : state) {
    for (const auto& r : reports) {
      now += 1ms;
      scans += decoder.on_report(r, now).size();
    }
  }
  benchmark::DoNotOptimize(scans);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * reports.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * qr.size()));
}
BENCHMARK(BM_HidPosQrScans);

void BM_SerialLines(benchmark::State& state) {
  std::string input;
  for (int i = 0; i < 64; ++i) input += "RA123456785GB\r\n";
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(input.data()),
                                            input.size());
  scanner::LineDecoder decoder;
  auto now = kStart;
  std::size_t lines = 0;
  for (auto _ : state) {
    now += 1ms;
    lines += decoder.on_bytes(bytes, now).size();
  }
  benchmark::DoNotOptimize(lines);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(lines));
}
BENCHMARK(BM_SerialLines);

void BM_MrzAssemblerBlocks(benchmark::State& state) {
  const auto lines = td3_lines();
  mrz::MrzAssembler assembler;
  auto now = kStart;
  std::size_t reads = 0;
  for (auto _ : state) {
    now += 1ms;
    for (const auto& l : lines) reads += assembler.on_line(l, now).events.size();
  }
  if (reads != static_cast<std::size_t>(state.iterations()))
    state.SkipWithError("a block did not read");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));  // blocks
}
BENCHMARK(BM_MrzAssemblerBlocks);

void BM_MrzKeyboardReaderBlocks(benchmark::State& state) {
  std::vector<scanner::BootReport> reports;
  for (const auto& l : td3_lines()) {
    const auto r = *scanner::keyboard_reports(l, scanner::KeyTerminator::enter);
    reports.insert(reports.end(), r.begin(), r.end());
  }
  mrz::MrzKeyboardReader reader;
  auto now = kStart;
  std::size_t reads = 0;
  for (auto _ : state) {
    for (const auto& r : reports) {
      now += 1ms;
      reads += reader.on_report(r, now).events.size();
    }
  }
  if (reads != static_cast<std::size_t>(state.iterations()))
    state.SkipWithError("a block did not read");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));  // blocks
  state.counters["reports/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * reports.size()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MrzKeyboardReaderBlocks);

void BM_MrzSerialReaderBlocks(benchmark::State& state) {
  std::string input;
  for (const auto& l : td3_lines()) input += l + "\r\n";
  input += "\r\n";
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(input.data()),
                                            input.size());
  mrz::MrzSerialReader reader;
  auto now = kStart;
  std::size_t reads = 0;
  for (auto _ : state) {
    now += 1ms;
    reads += reader.on_bytes(bytes, now).events.size();
  }
  if (reads != static_cast<std::size_t>(state.iterations()))
    state.SkipWithError("a block did not read");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));  // blocks
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
}
BENCHMARK(BM_MrzSerialReaderBlocks);

}  // namespace

BENCHMARK_MAIN();
