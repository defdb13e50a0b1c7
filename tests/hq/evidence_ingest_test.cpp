// evidence/chunk at HQ without a broker: in order, gaps, duplicates, a
// restart mid-item, hash mismatch, oversize, malformed headers, sealing.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "hq/evidence_files.hpp"
#include "hq/ingest.hpp"
#include "hq/report.hpp"
#include "hq_test_data.hpp"
#include "uplink/evidence_messages.hpp"

namespace postgate::hq {
namespace {

namespace fs = std::filesystem;
using uplink::EvidenceAckState;

class FixedClock final : public core::Clock {
 public:
  core::TimePoint now() const override { return testing::test_time(); }
};

std::string bytes_of(std::size_t n, std::uint64_t seed) {
  core::SplitMix64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng.next());
  return s;
}

class EvidenceIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("hq-evidence-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    open();
    core::SplitMix64 rng(5);
    item.captured_at = testing::test_time(1000);
    item.id = core::make_uuid_v7(item.captured_at, rng);
    item.kind = "camera";
    item.source = "cam-1";
    item.content_type = "image/jpeg";
    data = bytes_of(10'000, 9);
    item.size = data.size();
    item.sha256 = sha256_hex(data);
    item.record_seq = 3;
    item.record_id = core::make_uuid_v7(item.captured_at, rng);
    item.binding = core::EvidenceBinding::commit;
  }
  void TearDown() override {
    ingestor.reset();
    store.reset();
    fs::remove_all(dir);
  }
  void open(std::optional<storage::KeyRing> keys = std::nullopt, std::uint64_t max = 1 << 20) {
    ingestor.reset();
    store.reset();
    StoreOptions so;
    so.keys = std::move(keys);
    auto s = HqStore::open(dir / "hq.db", std::move(so));
    ASSERT_TRUE(s) << s.error().message;
    store = std::make_unique<HqStore>(std::move(*s));
    IngestOptions io;
    io.evidence_dir = dir / "hq.db.evidence";
    io.max_evidence_bytes = max;
    ingestor = std::make_unique<Ingestor>(*store, clock, io);
  }
  std::string chunk(std::uint64_t offset, std::uint64_t len) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(data.data()) + offset;
    return uplink::chunk_payload(item, offset, std::span(p, len));
  }
  // The ack HQ publishes for a chunk.
  uplink::EvidenceAck send(const std::string& payload) {
    auto r = ingestor->handle("postgate/v1/sh-0001/evidence/chunk", payload, false);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    EXPECT_TRUE(r && *r);
    if (!r || !*r) return {};
    EXPECT_EQ((*r)->topic, "postgate/v1/sh-0001/evidence/ack");
    auto a = uplink::parse_evidence_ack((*r)->payload);
    EXPECT_TRUE(a);
    return a ? *a : uplink::EvidenceAck{};
  }
  std::optional<EvidenceRow> row() {
    auto r = store->evidence_item("sh-0001", item.id.str());
    EXPECT_TRUE(r);
    return r ? *r : std::nullopt;
  }
  std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir;
  FixedClock clock;
  std::unique_ptr<HqStore> store;
  std::unique_ptr<Ingestor> ingestor;
  core::EvidenceItem item;
  std::string data;
};

TEST_F(EvidenceIngestTest, InOrderThenVerifiedFileMatches) {
  for (std::uint64_t off = 0; off < 10'000; off += 4000) {
    const auto len = std::min<std::uint64_t>(4000, 10'000 - off);
    const auto a = send(chunk(off, len));
    EXPECT_EQ(a.id, item.id);
    EXPECT_EQ(a.have, off + len);
    EXPECT_EQ(a.state,
              off + len == 10'000 ? EvidenceAckState::verified : EvidenceAckState::partial);
  }
  const auto r = row();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, "verified");
  ASSERT_TRUE(r->path);
  EXPECT_EQ(*r->path, "sh-0001/" + item.id.str() + ".jpg");
  const auto file = dir / "hq.db.evidence" / *r->path;
  EXPECT_EQ(read(file), data);
  EXPECT_FALSE(fs::exists(dir / "hq.db.evidence/sh-0001" / (item.id.str() + ".part")));
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir / "hq.db.evidence/sh-0001").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(r->record_seq, 3);
  EXPECT_EQ(r->binding, "commit");
  EXPECT_EQ(ingestor->counters().evidence_verified, 1u);
  // The edge missed the verdict and sends the last chunk again.
  const auto again = send(chunk(8000, 2000));
  EXPECT_EQ(again.state, EvidenceAckState::verified);
  EXPECT_EQ(again.have, 10'000u);
}

TEST_F(EvidenceIngestTest, GapIsDroppedAndAnsweredWithHave) {
  EXPECT_EQ(send(chunk(0, 1000)).have, 1000u);
  const auto gap = send(chunk(2000, 1000));
  EXPECT_EQ(gap.state, EvidenceAckState::partial);
  EXPECT_EQ(gap.have, 1000u);
  EXPECT_EQ(row()->have, 1000u);
  EXPECT_EQ(send(chunk(1000, 1000)).have, 2000u);
}

TEST_F(EvidenceIngestTest, DuplicatesAreIgnored) {
  send(chunk(0, 1000));
  send(chunk(1000, 1000));
  const auto dup = send(chunk(0, 1000));
  EXPECT_EQ(dup.have, 2000u);
  EXPECT_EQ(ingestor->counters().evidence_bytes, 2000u);
  EXPECT_EQ(fs::file_size(dir / "hq.db.evidence/sh-0001" / (item.id.str() + ".part")), 2000u);
}

TEST_F(EvidenceIngestTest, RestartMidItemKeepsHave) {
  send(chunk(0, 3000));
  open();  // a new process on the same database and directory
  const auto a = send(chunk(5000, 1000));
  EXPECT_EQ(a.have, 3000u);
  EXPECT_EQ(send(chunk(3000, 7000)).state, EvidenceAckState::verified);
  EXPECT_EQ(read(dir / "hq.db.evidence" / *row()->path), data);
}

TEST_F(EvidenceIngestTest, BytesBeyondTheCommittedHaveDoNotCount) {
  send(chunk(0, 3000));
  // A rolled-back transaction had appended more to the file.
  {
    std::ofstream out(dir / "hq.db.evidence/sh-0001" / (item.id.str() + ".part"),
                      std::ios::app | std::ios::binary);
    out << "garbage";
  }
  EXPECT_EQ(send(chunk(3000, 7000)).state, EvidenceAckState::verified);
  EXPECT_EQ(read(dir / "hq.db.evidence" / *row()->path), data);
}

TEST_F(EvidenceIngestTest, LostPartFileRewindsTheEdge) {
  send(chunk(0, 3000));
  fs::remove(dir / "hq.db.evidence/sh-0001" / (item.id.str() + ".part"));
  const auto a = send(chunk(3000, 1000));
  EXPECT_EQ(a.have, 0u);
}

TEST_F(EvidenceIngestTest, HashMismatchDiscardsAndAnswersZero) {
  item.sha256 = std::string(64, '0');
  send(chunk(0, 5000));
  const auto a = send(chunk(5000, 5000));
  EXPECT_EQ(a.state, EvidenceAckState::mismatch);
  EXPECT_EQ(a.have, 0u);
  const auto r = row();
  EXPECT_EQ(r->state, "partial");
  EXPECT_EQ(r->have, 0u);
  EXPECT_EQ(r->mismatches, 1);
  EXPECT_FALSE(fs::exists(dir / "hq.db.evidence/sh-0001" / (item.id.str() + ".part")));
  EXPECT_EQ(send(chunk(0, 5000)).have, 5000u);  // the resend starts over
}

TEST_F(EvidenceIngestTest, OversizeIsRejectedAndListed) {
  open(std::nullopt, 5'000);
  const auto a = send(chunk(0, 1000));
  EXPECT_EQ(a.state, EvidenceAckState::rejected);
  EXPECT_EQ(a.reason, "too_large");
  const auto r = row();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, "rejected");
  EXPECT_EQ(ingestor->counters().evidence_rejected, 1u);
}

TEST_F(EvidenceIngestTest, MalformedHeaders) {
  // With a readable id: rejected, so the edge moves on.
  auto h = nlohmann::json::parse(uplink::chunk_header(item, 0, 3));
  h["sha256"] = "XYZ";
  auto a = send(h.dump() + "\nabc");
  EXPECT_EQ(a.state, EvidenceAckState::rejected);
  EXPECT_EQ(a.reason, "bad_field");
  // Without one: nothing to answer.
  for (const std::string& bad : {std::string("no header at all"), std::string("{\"id\":1}\nabc")}) {
    auto r = ingestor->handle("postgate/v1/sh-0001/evidence/chunk", bad, false);
    ASSERT_TRUE(r);
    EXPECT_FALSE(*r);
  }
  EXPECT_FALSE(row());
  auto fleet = store->fleet();
  ASSERT_TRUE(fleet);
  ASSERT_EQ(fleet->size(), 1u);
  EXPECT_EQ(fleet->front().malformed, 3u);
}

TEST_F(EvidenceIngestTest, ChangedHeaderIsRefused) {
  send(chunk(0, 1000));
  item.size = 9'999;
  data.resize(9'999);
  const auto a = send(chunk(1000, 1000));
  EXPECT_EQ(a.state, EvidenceAckState::rejected);
  EXPECT_EQ(a.reason, "header_changed");
}

TEST_F(EvidenceIngestTest, LateBindingIsTaken) {
  item.record_seq.reset();
  item.record_id.reset();
  item.binding = core::EvidenceBinding::unbound;
  send(chunk(0, 1000));
  EXPECT_FALSE(row()->record_seq);
  item.record_seq = 7;
  item.binding = core::EvidenceBinding::waybill;
  item.meta = {{"verdict", "suspect"}};
  send(chunk(1000, 9000));
  const auto r = row();
  EXPECT_EQ(r->record_seq, 7);
  EXPECT_EQ(r->binding, "waybill");
  EXPECT_EQ(r->meta_json, R"({"verdict":"suspect"})");
}

TEST_F(EvidenceIngestTest, SealedAtRestWithAKey) {
  storage::KeyRing ring;
  std::array<std::uint8_t, 32> raw{};
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<std::uint8_t>(i * 7 + 1);
  ring.current = storage::make_key(raw);
  open(ring);
  send(chunk(0, 10'000));
  const auto r = row();
  ASSERT_EQ(r->state, "verified");
  EXPECT_TRUE(r->path->ends_with(".sealed"));
  EXPECT_TRUE(r->key_id);
  const auto stored = read(dir / "hq.db.evidence" / *r->path);
  EXPECT_EQ(stored.find(data.substr(0, 64)), std::string::npos) << "plain bytes at rest";
  EvidenceFiles files(dir / "hq.db.evidence");
  auto back = files.read_stored(*r->path, "sh-0001", r->id, r->sha256, &ring);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(std::string(back->begin(), back->end()), data);
  EXPECT_FALSE(files.read_stored(*r->path, "sh-0002", r->id, r->sha256, &ring));
}

TEST_F(EvidenceIngestTest, EmptyItem) {
  data.clear();
  item.size = 0;
  item.sha256 = sha256_hex("");
  const auto a = send(chunk(0, 0));
  EXPECT_EQ(a.state, EvidenceAckState::verified);
}

TEST_F(EvidenceIngestTest, ListingAndRecordsColumn) {
  send(chunk(0, 10'000));
  auto rows = store->evidence_items("sh-0001", std::nullopt, 100);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  const auto j = evidence_to_json(rows->front());
  EXPECT_EQ(j["state"], "verified");
  EXPECT_EQ(j["record_seq"], 3);
  EXPECT_EQ(j["size"], 10'000);
  EXPECT_NE(evidence_to_text(*rows).find("verified"), std::string::npos);
  std::vector<nlohmann::json> recs = {{{"seq", 3}}, {{"seq", 4}}};
  attach_evidence(recs, *rows);
  ASSERT_EQ(recs[0]["evidence_at_hq"].size(), 1u);
  EXPECT_EQ(recs[0]["evidence_at_hq"][0]["state"], "verified");
  EXPECT_TRUE(recs[1]["evidence_at_hq"].empty());
  EXPECT_NE(records_to_text(recs).find("evidence 1/1 verified"), std::string::npos);
  auto fleet = store->fleet();
  ASSERT_TRUE(fleet);
  EXPECT_EQ(fleet->front().evidence_verified, 1u);
  EXPECT_EQ(fleet_to_json(*fleet)[0]["evidence"]["verified"], 1);
}

TEST_F(EvidenceIngestTest, NoEvidenceDirNoEvidence) {
  IngestOptions io;
  Ingestor bare(*store, clock, io);
  auto r = bare.handle("postgate/v1/sh-0001/evidence/chunk", chunk(0, 100), false);
  ASSERT_TRUE(r);
  ASSERT_TRUE(*r);
  EXPECT_EQ(uplink::parse_evidence_ack((*r)->payload)->state, EvidenceAckState::rejected);
}

TEST(EvidenceTopicTest, ChunkTopicParses) {
  auto t = parse_topic("postgate/v1", "postgate/v1/sh-0001/evidence/chunk");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, Kind::evidence_chunk);
  EXPECT_FALSE(parse_topic("postgate/v1", "postgate/v1/sh-0001/evidence/ack"));
  EXPECT_FALSE(parse_topic("postgate/v1", "postgate/v1/sh-0001/evidence"));
}

}  // namespace
}  // namespace postgate::hq
