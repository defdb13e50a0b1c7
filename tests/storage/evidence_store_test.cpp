// The evidence store on a real SQLite file and a real directory: sealed
// files, binding by the record's commit, caps and eviction, the outbox port.
#include "storage/evidence_store.hpp"

#include <gtest/gtest.h>

#include "core/synthetic.hpp"
#include "store_fixture.hpp"

namespace postgate::storage {
namespace {

using namespace testing;

std::vector<std::uint8_t> bytes_of(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 13);
  return b;
}

struct Fixture {
  TempDir dir;
  FixedClock clock{base_time()};
  core::SplitMix64 rng{99};
  StoreOptions store_options = options_in(dir, test_key(3));
  std::unique_ptr<SqliteRecordStore> records = open_store(store_options);

  EvidenceOptions evidence_options(std::uint64_t total = 1 << 20) const {
    EvidenceOptions o;
    o.db_path = store_options.path;
    o.dir = dir.path() / "evidence";
    o.keys = store_options.keys;
    o.max_item_bytes = 256 * 1024;
    o.max_total_bytes = total;
    return o;
  }
  std::unique_ptr<SqliteEvidenceStore> open(EvidenceOptions o) {
    auto s = SqliteEvidenceStore::open(std::move(o), clock, rng);
    if (!s) ADD_FAILURE() << s.error().code << ": " << s.error().message;
    return s ? std::move(*s) : nullptr;
  }
  NewEvidence still(std::size_t n, std::uint8_t seed, bool held = true) const {
    NewEvidence e;
    e.kind = "camera";
    e.source = "cam-c1";
    e.captured_at = base_time();
    e.bytes = bytes_of(n, seed);
    e.held = held;
    return e;
  }
};

TEST(EvidenceStore, SealsTheFileAndReadsItBack) {
  Fixture f;
  auto ev = f.open(f.evidence_options());
  ASSERT_TRUE(ev);
  const auto plain = bytes_of(5000, 7);
  auto ref = ev->put(f.still(5000, 7));
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_EQ(ref->size, 5000u);
  EXPECT_EQ(ref->sha256.size(), 64u);
  // On disk it is sealed: the plain bytes do not appear, and it is 0600.
  const auto on_disk = read_all(ref->path);
  EXPECT_EQ(on_disk.find(std::string(plain.begin(), plain.begin() + 64)), std::string::npos);
  EXPECT_EQ(fs::status(ref->path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  const auto id = *core::Uuid::parse(ref->id);
  auto back = ev->read_all(id);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, plain);
  auto part = ev->read_evidence(id, 4096, 8192);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->size(), 5000u - 4096u);
  EXPECT_TRUE(std::equal(part->begin(), part->end(), plain.begin() + 4096));
}

TEST(EvidenceStore, HeldItemIsBoundByTheRecordCommit) {
  Fixture f;
  auto ev = f.open(f.evidence_options());
  ASSERT_TRUE(ev);
  auto ref = ev->put(f.still(1000, 1));
  ASSERT_TRUE(ref);
  // Held: not for the uplink until its record commits.
  auto next = ev->next_evidence();
  ASSERT_TRUE(next);
  EXPECT_FALSE(next->has_value());

  core::Record r = make_record(f.rng, 1);
  r.acceptance.evidence = {*ref};
  auto ok = submit_sync(*f.records, r);
  ASSERT_TRUE(ok) << ok.error().message;

  next = ev->next_evidence();
  ASSERT_TRUE(next);
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->id.str(), ref->id);
  EXPECT_EQ((*next)->record_seq, ok->seq);
  EXPECT_EQ((*next)->record_id, r.id);
  EXPECT_EQ((*next)->binding, core::EvidenceBinding::commit);
  auto of = ev->for_record(ok->seq);
  ASSERT_TRUE(of);
  EXPECT_EQ(of->size(), 1u);
}

TEST(EvidenceStore, HeldItemsOfAnUncommittedParcelGoAtTheNextOpenExceptXray) {
  Fixture f;
  std::string still_path, xray_id;
  {
    auto ev = f.open(f.evidence_options());
    ASSERT_TRUE(ev);
    auto s = ev->put(f.still(800, 2));
    ASSERT_TRUE(s);
    still_path = s->path;
    auto x = f.still(900, 3);
    x.kind = "xray";
    x.binding = core::EvidenceBinding::waybill;
    auto xr = ev->put(std::move(x));
    ASSERT_TRUE(xr);
    xray_id = xr->id;
  }
  auto ev = f.open(f.evidence_options());
  ASSERT_TRUE(ev);
  EXPECT_FALSE(fs::exists(still_path));
  auto x = ev->item(*core::Uuid::parse(xray_id));
  ASSERT_TRUE(x);
  ASSERT_TRUE(x->has_value());
  EXPECT_EQ((*x)->binding, core::EvidenceBinding::unbound);
  auto next = ev->next_evidence();
  ASSERT_TRUE(next && next->has_value());
  EXPECT_EQ((*next)->id.str(), xray_id);
}

TEST(EvidenceStore, ScanFoundByMetaAndReleasedUnbound) {
  Fixture f;
  auto ev = f.open(f.evidence_options());
  ASSERT_TRUE(ev);
  auto x = f.still(500, 12);
  x.kind = "xray";
  x.source = "xr-1";
  x.binding = core::EvidenceBinding::unbound;
  x.meta = {{"scan_id", "xr-1:a.json:0011"}, {"verdict", "clear"}};
  auto ref = ev->put(std::move(x));
  ASSERT_TRUE(ref);
  auto found = ev->find_by_meta("xr-1", "scan_id", "xr-1:a.json:0011");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->id.str(), ref->id);
  EXPECT_EQ((*found)->meta.at("verdict"), "clear");
  auto other = ev->find_by_meta("xr-2", "scan_id", "xr-1:a.json:0011");
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->has_value());
  // Held until released: then sent, unbound.
  EXPECT_FALSE(ev->next_evidence()->has_value());
  ASSERT_TRUE(ev->release_unbound(*core::Uuid::parse(ref->id)));
  auto next = ev->next_evidence();
  ASSERT_TRUE(next && next->has_value());
  EXPECT_EQ((*next)->binding, core::EvidenceBinding::unbound);
  EXPECT_FALSE((*next)->record_id);
}

TEST(EvidenceStore, DiscardHeldRemovesFileAndRow) {
  Fixture f;
  auto ev = f.open(f.evidence_options());
  ASSERT_TRUE(ev);
  auto ref = ev->put(f.still(700, 4));
  ASSERT_TRUE(ref);
  ASSERT_TRUE(ev->discard_held(*core::Uuid::parse(ref->id)));
  EXPECT_FALSE(fs::exists(ref->path));
  auto it = ev->item(*core::Uuid::parse(ref->id));
  ASSERT_TRUE(it);
  EXPECT_FALSE(it->has_value());
}

TEST(EvidenceStore, LateBindingOfAnUnboundScan) {
  Fixture f;
  auto ev = f.open(f.evidence_options());
  ASSERT_TRUE(ev);
  auto x = f.still(600, 5, false);
  x.kind = "xray";
  x.binding = core::EvidenceBinding::unbound;
  auto ref = ev->put(std::move(x));
  ASSERT_TRUE(ref);
  const auto id = *core::Uuid::parse(ref->id);
  const core::Uuid rid = core::make_uuid_v7(base_time(), f.rng);
  ASSERT_TRUE(ev->bind(id, rid, 42, core::EvidenceBinding::lane_time));
  auto it = ev->item(id);
  ASSERT_TRUE(it && it->has_value());
  EXPECT_EQ((*it)->record_seq, 42u);
  EXPECT_EQ((*it)->binding, core::EvidenceBinding::lane_time);
  // Bound once: a second binding is refused.
  auto again = ev->bind(id, rid, 43, core::EvidenceBinding::waybill);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "evidence_bound");
}

TEST(EvidenceStore, OutboxLifecycleProgressDeliveredFailed) {
  Fixture f;
  auto ev = f.open(f.evidence_options());
  ASSERT_TRUE(ev);
  auto a = ev->put(f.still(3000, 6, false));
  f.clock = FixedClock(base_time() + 1s);
  auto b = ev->put(f.still(3000, 7, false));
  ASSERT_TRUE(a && b);
  const auto ida = *core::Uuid::parse(a->id);
  const auto idb = *core::Uuid::parse(b->id);
  auto next = ev->next_evidence();
  ASSERT_TRUE(next && next->has_value());
  EXPECT_EQ((*next)->id, ida);
  ASSERT_TRUE(ev->evidence_progress(ida, 2048, 1));
  next = ev->next_evidence();
  EXPECT_EQ((*next)->acked, 2048u);
  EXPECT_EQ((*next)->mismatches, 1);
  ASSERT_TRUE(ev->evidence_delivered(ida));
  next = ev->next_evidence();
  EXPECT_EQ((*next)->id, idb);
  ASSERT_TRUE(ev->evidence_failed(idb, "rejected by HQ: too large"));
  next = ev->next_evidence();
  ASSERT_TRUE(next);
  EXPECT_FALSE(next->has_value());
  auto st = ev->stats();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->delivered, 1u);
  EXPECT_EQ(st->failed, 1u);
  EXPECT_EQ(st->pending, 0u);
}

TEST(EvidenceStore, OnRequestModeSendsOnlyWhatHqAskedFor) {
  Fixture f;
  auto o = f.evidence_options();
  o.upload_on_request = true;
  auto ev = f.open(o);
  ASSERT_TRUE(ev);
  auto e = f.still(1000, 8, false);
  const core::Uuid rid = core::make_uuid_v7(base_time(), f.rng);
  e.record_id = rid;
  e.record_seq = 7;
  auto ref = ev->put(std::move(e));
  ASSERT_TRUE(ref);
  auto next = ev->next_evidence();
  ASSERT_TRUE(next);
  EXPECT_FALSE(next->has_value());
  auto none = ev->request_evidence(std::nullopt, 8);
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0u);
  auto one = ev->request_evidence(rid, std::nullopt);
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, 1u);
  next = ev->next_evidence();
  ASSERT_TRUE(next && next->has_value());
  EXPECT_EQ((*next)->id.str(), ref->id);
  // Delivered, then asked for again (HQ lost it): sent again from 0.
  ASSERT_TRUE(ev->evidence_delivered((*next)->id));
  ASSERT_EQ(*ev->request_evidence(std::nullopt, 7), 1u);
  next = ev->next_evidence();
  ASSERT_TRUE(next && next->has_value());
  EXPECT_EQ((*next)->acked, 0u);
}

TEST(EvidenceStore, CapsEvictDeliveredOldestFirstAndNeverUndelivered) {
  Fixture f;
  // Room for about three sealed 100 KB items.
  auto ev = f.open(f.evidence_options(310 * 1000));
  ASSERT_TRUE(ev);
  std::vector<core::EvidenceRef> refs;
  for (int i = 0; i < 3; ++i) {
    f.clock = FixedClock(base_time() + std::chrono::seconds(i));
    auto r = ev->put(f.still(100 * 1000, static_cast<std::uint8_t>(10 + i), false));
    ASSERT_TRUE(r) << r.error().message;
    refs.push_back(*r);
  }
  // Full of undelivered evidence: a fourth is refused, nothing is dropped.
  auto full = ev->put(f.still(100 * 1000, 20, false));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, "evidence_full");
  for (const auto& r : refs) EXPECT_TRUE(fs::exists(r.path));
  // Deliver the second, then the first: the first delivered goes first.
  f.clock = FixedClock(base_time() + 10s);
  ASSERT_TRUE(ev->evidence_delivered(*core::Uuid::parse(refs[1].id)));
  f.clock = FixedClock(base_time() + 11s);
  ASSERT_TRUE(ev->evidence_delivered(*core::Uuid::parse(refs[0].id)));
  auto fourth = ev->put(f.still(100 * 1000, 21, false));
  ASSERT_TRUE(fourth) << fourth.error().message;
  EXPECT_FALSE(fs::exists(refs[1].path));
  EXPECT_TRUE(fs::exists(refs[0].path));
  EXPECT_TRUE(fs::exists(refs[2].path));
  auto evicted = ev->read_all(*core::Uuid::parse(refs[1].id));
  ASSERT_FALSE(evicted);
  EXPECT_EQ(evicted.error().code, "evidence_evicted");
  auto st = ev->stats();
  EXPECT_EQ(st->evicted, 1u);
}

TEST(EvidenceStore, OversizeItemIsRefused) {
  Fixture f;
  auto ev = f.open(f.evidence_options());
  ASSERT_TRUE(ev);
  auto r = ev->put(f.still(300 * 1024, 1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "evidence_too_large");
}

TEST(EvidenceStore, TamperedFileIsDetected) {
  Fixture f;
  auto ev = f.open(f.evidence_options());
  ASSERT_TRUE(ev);
  auto ref = ev->put(f.still(2000, 9, false));
  ASSERT_TRUE(ref);
  {
    std::fstream io(ref->path, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(100);
    io.put('\x55');
  }
  auto back = ev->read_all(*core::Uuid::parse(ref->id));
  ASSERT_FALSE(back);
}

TEST(EvidenceStore, StrayFilesWithoutARowAreRemovedAtOpen) {
  Fixture f;
  {
    auto ev = f.open(f.evidence_options());
    ASSERT_TRUE(ev);
  }
  const auto stray = f.dir.path() / "evidence" / "0193aaaa-0000-7000-8000-000000000000.pge";
  std::ofstream(stray) << "half a file";
  auto ev = f.open(f.evidence_options());
  ASSERT_TRUE(ev);
  EXPECT_FALSE(fs::exists(stray));
}

TEST(EvidenceStore, RefusesADatabaseWithoutTheEvidenceTable) {
  TempDir dir;
  FixedClock clock{base_time()};
  core::SplitMix64 rng{1};
  EvidenceOptions o;
  o.db_path = dir.path() / "empty.db";
  o.dir = dir.path() / "evidence";
  o.keys = ring_of(test_key(1));
  auto s = SqliteEvidenceStore::open(o, clock, rng);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, "schema_old");
}

}  // namespace
}  // namespace postgate::storage
