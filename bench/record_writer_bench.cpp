// The record writer against the nlohmann DOM it replaces on the drain path:
// record_to_json(r, m).dump() and append_record_json on a typical record
// (~400 bytes of JSON: one waybill, nothing else optional) and a rich one
// (~740 bytes: one screening hit and one camera still as well).
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "codec/record_json.hpp"
#include "codec/record_writer.hpp"
#include "core/synthetic.hpp"

namespace {

using namespace postgate;
using namespace std::chrono;

core::Record typical_record(bool rich) {
  core::SplitMix64 random(7);
  const auto person = core::make_person(random, core::Date{year{2026}, November, day{24}});
  const core::TimePoint at{milliseconds{1'795'000'000'123}};
  core::Record r;
  r.id = core::make_uuid_v7(at, random);
  r.seq = 1'234'567;
  r.accepted_at = at;
  auto& a = r.acceptance;
  a.ref = "pos-7781-000123";
  a.counter = "c1";
  a.operator_id = "op-17";
  a.sender.type = core::DocType::resident_id;
  a.sender.number = person.resident_id;
  a.sender.name = person.name;
  a.waybills = {{core::make_s10(random), "upu_s10"}};
  a.declared = "书籍 2本, phone charger";
  a.inspection = {core::InspectionOutcome::pass, "", false, ""};
  if (!rich) return r;
  a.screening_hits = {{"07", "batteries", core::Severity::restricted, "charger"}};
  a.evidence = {{core::make_uuid_v7(at, random).str(), "camera", "cam-1",
                 "/var/lib/postgate/evidence/01/3f.enc",
                 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", 48'213, at}};
  return r;
}

codec::Masking masking(const benchmark::State& state) {
  return state.range(0) ? codec::Masking::clear : codec::Masking::masked;
}

core::Record record(const benchmark::State& state) {
  return typical_record(state.range(1) != 0);
}

void args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"clear", "rich"})->ArgsProduct({{1, 0}, {0, 1}});
}

void BM_DomDump(benchmark::State& state) {
  const auto r = record(state);
  const auto m = masking(state);
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto text = codec::record_to_json(r, m).dump();
    bytes += text.size();
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["json_bytes"] = static_cast<double>(codec::record_to_json(r, m).dump().size());
}
BENCHMARK(BM_DomDump)->Apply(args);

// A fresh string per record, as record_json_text gives the caller.
void BM_WriterText(benchmark::State& state) {
  const auto r = record(state);
  const auto m = masking(state);
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto text = codec::record_json_text(r, m);
    bytes += text->size();
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_WriterText)->Apply(args);

// Appending into a reused buffer, as a batch writer would.
void BM_WriterAppendReused(benchmark::State& state) {
  const auto r = record(state);
  const auto m = masking(state);
  std::string out;
  std::size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    const auto s = codec::append_record_json(r, m, out);
    benchmark::DoNotOptimize(s);
    bytes += out.size();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_WriterAppendReused)->Apply(args);

}  // namespace

BENCHMARK_MAIN();
