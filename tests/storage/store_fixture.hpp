#pragma once
// Shared helpers for storage tests: a temporary directory, deterministic keys
// and synthetic records, and a blocking submit.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <string>

#include "core/synthetic.hpp"
#include "storage/record_store.hpp"
#include "storage/sqlite_record_store.hpp"

namespace postgate::storage::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "postgate-storage-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline Key test_key(std::uint8_t seed) {
  std::array<std::uint8_t, 32> b{};
  for (std::size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<std::uint8_t>(seed * 31 + i * 7 + 1);
  return make_key(b);
}

inline KeyRing ring_of(const Key& current) {
  KeyRing r;
  r.current = current;
  return r;
}

class FixedClock final : public core::Clock {
 public:
  explicit FixedClock(core::TimePoint t) : t_(t) {}
  core::TimePoint now() const override { return t_; }

 private:
  core::TimePoint t_;
};

// 2026-11-23T08:00:00Z
inline core::TimePoint base_time() {
  return core::TimePoint(std::chrono::sys_days(std::chrono::year{2026} / 11 / 23) + 8h);
}

inline core::Date today() {
  return core::Date{std::chrono::year{2026} / 11 / 23};
}

// A synthetic record: a made-up person (valid check digit), an S10 waybill,
// one screening hit and one evidence file. accepted_at = base + i seconds.
inline core::Record make_record(core::RandomSource& rng, int i,
                                std::optional<std::string> ref = std::nullopt) {
  const core::SyntheticPerson p = core::make_person(rng, today());
  core::Record r;
  r.accepted_at = base_time() + std::chrono::seconds(i);
  r.id = core::make_uuid_v7(r.accepted_at, rng);
  core::Acceptance& a = r.acceptance;
  a.ref = std::move(ref);
  a.counter = "c1";
  a.operator_id = "op-17";
  a.sender.type = core::DocType::resident_id;
  a.sender.number = p.resident_id;
  a.sender.name = p.name;
  a.sender.birth_date = p.birth_date;
  a.sender.sex = p.sex;
  a.sender.nationality = "CHN";
  a.waybills = {{core::make_s10(rng), "upu_s10"}};
  a.declared = "books and a kitchen knife";
  a.inspection.outcome = core::InspectionOutcome::pass;
  a.inspection.restricted_confirmed = true;
  a.inspection.note = "checked";
  a.screening_hits = {{"02", "controlled knives", core::Severity::restricted, "knife"}};
  core::EvidenceRef e;
  e.kind = "camera";
  e.source = "cam-1";
  e.path = "/var/lib/postgate/evidence/" + r.id.str() + ".jpg.enc";
  e.sha256 = std::string(64, 'a');
  e.size = 12345;
  e.captured_at = r.accepted_at;
  a.evidence = {e};
  return r;
}

inline StoreOptions options_in(const TempDir& dir, const Key& key) {
  StoreOptions o;
  o.path = dir.path() / "records.db";
  o.quarantine_dir = dir.path() / "quarantine";
  o.keys = ring_of(key);
  return o;
}

inline std::unique_ptr<SqliteRecordStore> open_store(StoreOptions o) {
  auto s = SqliteRecordStore::open(std::move(o));
  if (!s) ADD_FAILURE() << s.error().code << ": " << s.error().message;
  return s ? std::move(*s) : nullptr;
}

inline core::Result<SubmitOk> submit_sync(RecordStore& store, core::Record r) {
  std::promise<core::Result<SubmitOk>> p;
  auto f = p.get_future();
  store.submit(std::move(r), [&p](core::Result<SubmitOk> res) { p.set_value(std::move(res)); });
  return f.get();
}

inline std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace postgate::storage::testing
