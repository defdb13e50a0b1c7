// The evidence sender without MQTT: a fake outbox (memory_evidence.hpp), a
// publish function that keeps the chunks, and a hand-moved steady clock.
#include <gtest/gtest.h>

#include "memory_evidence.hpp"
#include "uplink/evidence_messages.hpp"
#include "uplink/evidence_sender.hpp"

namespace postgate::uplink {
namespace {

using testing::MemoryEvidence;
using testing::synthetic_bytes;
using namespace std::chrono_literals;

struct Sent {
  std::string id;
  std::uint64_t offset, len;
  std::size_t payload;
};

struct Note {
  std::string kind;
  std::optional<std::uint64_t> record_seq;
};

class SenderTest : public ::testing::Test {
 protected:
  void make(EvidenceSettings s = {}, bool on_request_only = false) {
    outbox = std::make_unique<MemoryEvidence>(on_request_only);
    settings = s;
  }
  void start() {
    sender = std::make_unique<EvidenceSender>(
        *outbox, settings,
        [this](std::string p) {
          if (refuse) return false;
          auto c = parse_chunk(p, ChunkLimits{});
          EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message);
          if (c) sent.push_back({c->item.id.str(), c->offset, c->bytes.size(), p.size()});
          return true;
        },
        [this](const std::string& kind, const std::string&, const std::string& message,
               std::optional<std::uint64_t> seq) {
          notes.push_back({kind, seq});
          last_message = message;
        },
        now);
    sender->on_connected(now);
  }
  std::optional<Millis> pump(bool idle = true) { return sender->pump(now, idle); }
  void ack(const core::Uuid& id, std::uint64_t have,
           EvidenceAckState st = EvidenceAckState::partial, std::string reason = {}) {
    sender->on_ack(evidence_ack_payload({id, have, st, std::move(reason)}), now);
  }

  std::unique_ptr<MemoryEvidence> outbox;
  EvidenceSettings settings;
  std::unique_ptr<EvidenceSender> sender;
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  std::vector<Sent> sent;
  std::vector<Note> notes;
  std::string last_message;
  bool refuse = false;
};

EvidenceSettings small(std::size_t chunk = 1000, std::size_t inflight = 4) {
  EvidenceSettings s;
  s.chunk_bytes = chunk;
  s.inflight_chunks = inflight;
  s.bytes_per_s = 0;
  s.ack_timeout = 5s;
  return s;
}

TEST_F(SenderTest, SendsOnlyWhenRecordsAreIdleAndAtMostTheWindow) {
  make(small());
  const auto id = outbox->add(synthetic_bytes(10'000, 1), 7);
  start();
  pump(false);
  EXPECT_TRUE(sent.empty()) << "records first";
  pump(true);
  ASSERT_EQ(sent.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(sent[i].id, id.str());
    EXPECT_EQ(sent[i].offset, i * 1000);
    EXPECT_EQ(sent[i].len, 1000u);
  }
  pump(true);
  EXPECT_EQ(sent.size(), 4u) << "window full";
  ack(id, 1000);
  pump(true);
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[4].offset, 4000u);
}

TEST_F(SenderTest, WholeItemThenVerifiedThenNextItem) {
  make(small());
  const auto a = outbox->add(synthetic_bytes(2'500, 1), 1);
  const auto b = outbox->add(synthetic_bytes(1'200, 2), 2);
  start();
  pump();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2].len, 500u);
  ack(a, 1000);
  ack(a, 2000);
  ack(a, 2500, EvidenceAckState::verified);
  EXPECT_TRUE(outbox->state(a).delivered);
  pump();
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[3].id, b.str());
  EXPECT_EQ(sent[3].offset, 0u);
  EXPECT_EQ(sent[4].len, 200u);
  ack(b, 1200, EvidenceAckState::verified);
  EXPECT_EQ(outbox->delivered_count(), 2u);
  EXPECT_EQ(sender->figures().delivered, 2u);
  ack(b, 1200, EvidenceAckState::verified);  // a repeat is harmless
  EXPECT_EQ(sender->figures().bad_acks, 0u);
}

TEST_F(SenderTest, ResumesFromWhatTheOutboxSaysHqHolds) {
  make(small());
  const auto id = outbox->add(synthetic_bytes(10'000, 1), 1);
  ASSERT_TRUE(outbox->evidence_progress(id, 6000, 0));
  start();
  pump();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0].offset, 6000u);
  EXPECT_EQ(sent[3].offset, 9000u);
}

TEST_F(SenderTest, ReconnectResumesFromLastAckNotFromWhatWasSent) {
  make(small());
  const auto id = outbox->add(synthetic_bytes(10'000, 1), 1);
  start();
  pump();
  ack(id, 1000);
  ack(id, 2000);
  sender->on_disconnected();
  EXPECT_EQ(outbox->state(id).acked, 2000u) << "progress written on disconnect";
  sent.clear();
  sender->on_connected(now);
  pump();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0].offset, 2000u);
}

TEST_F(SenderTest, HqHoldingMoreJumpsAhead) {
  make(small());
  const auto id = outbox->add(synthetic_bytes(10'000, 1), 1);
  start();
  pump();
  ack(id, 8000);  // an earlier run sent more than it wrote down
  pump();
  EXPECT_EQ(sent.back().offset, 9000u);
  EXPECT_EQ(sent[4].offset, 8000u);
}

TEST_F(SenderTest, GapAckRewindsToHave) {
  make(small());
  const auto id = outbox->add(synthetic_bytes(10'000, 1), 1);
  ASSERT_TRUE(outbox->evidence_progress(id, 4000, 0));
  start();
  pump();
  ASSERT_EQ(sent.front().offset, 4000u);
  sent.clear();
  // HQ lost its partial copy and holds only [0, 1000).
  ack(id, 1000);
  pump();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.front().offset, 1000u);
  EXPECT_EQ(sender->figures().rewinds, 1u);
  EXPECT_EQ(outbox->state(id).acked, 1000u);
  // The acks of the chunks sent before the rewind say the same: no second rewind.
  ack(id, 1000);
  ack(id, 1000);
  pump();
  EXPECT_EQ(sender->figures().rewinds, 1u);
  EXPECT_EQ(sent.size(), 4u);
}

TEST_F(SenderTest, AckOfAChunkBeyondAHoleRewinds) {
  make(small());
  const auto id = outbox->add(synthetic_bytes(10'000, 1), 1);
  start();
  pump();  // 0, 1000, 2000, 3000
  ack(id, 1000);
  ack(id, 2000);
  sent.clear();
  // Chunk 2000 never arrived; HQ answers chunk 3000 with its have (2000),
  // while the sender still waits for chunk 2000: nothing to do yet.
  ack(id, 2000);
  pump();
  EXPECT_EQ(sent.size(), 2u);  // 4000 and 5000 fill the window
  EXPECT_EQ(sent.front().offset, 4000u);
  // Then the ack timeout: again from 2000.
  sent.clear();
  now += 6s;
  pump();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.front().offset, 2000u);
  EXPECT_EQ(sender->figures().ack_timeouts, 1u);
}

TEST_F(SenderTest, MismatchResendsOnceThenFails) {
  make(small(1000, 8));
  const auto id = outbox->add(synthetic_bytes(3'000, 1), 42);
  start();
  pump();
  ASSERT_EQ(sent.size(), 3u);
  ack(id, 1000);
  ack(id, 2000);
  ack(id, 0, EvidenceAckState::mismatch);
  EXPECT_EQ(outbox->state(id).mismatches, 1);
  EXPECT_FALSE(outbox->state(id).failed);
  sent.clear();
  pump();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].offset, 0u);
  ack(id, 0, EvidenceAckState::mismatch);
  EXPECT_TRUE(outbox->state(id).failed);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].kind, "evidence_failed");
  EXPECT_EQ(notes[0].record_seq, 42u);
  EXPECT_EQ(sender->figures().failed, 1u);
}

TEST_F(SenderTest, MismatchCountSurvivesARestart) {
  make(small());
  const auto id = outbox->add(synthetic_bytes(3'000, 1), 1);
  ASSERT_TRUE(outbox->evidence_progress(id, 0, 1));
  start();
  pump();
  ack(id, 0, EvidenceAckState::mismatch);
  EXPECT_TRUE(outbox->state(id).failed);
}

TEST_F(SenderTest, RejectedFailsWithAnEventAndMovesOn) {
  make(small());
  const auto a = outbox->add(synthetic_bytes(3'000, 1), 5);
  const auto b = outbox->add(synthetic_bytes(500, 2), 6);
  start();
  pump();
  ack(a, 0, EvidenceAckState::rejected, "too_large");
  EXPECT_TRUE(outbox->state(a).failed);
  EXPECT_EQ(outbox->state(a).reason, "rejected: too_large");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].kind, "evidence_failed");
  EXPECT_NE(last_message.find("too_large"), std::string::npos);
  sent.clear();
  pump();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].id, b.str());
}

TEST_F(SenderTest, BadAndForeignAcksAreCountedAndIgnored) {
  make(small());
  const auto id = outbox->add(synthetic_bytes(3'000, 1), 1);
  start();
  pump();
  sender->on_ack("not json", now);
  sender->on_ack(R"({"id":"x","have":1,"state":"partial"})", now);
  sender->on_ack(R"({"id":")" + id.str() + R"(","have":-1,"state":"partial"})", now);
  sender->on_ack(R"({"id":")" + id.str() + R"(","have":1,"state":"odd"})", now);
  ack(id, 99'999);  // beyond size
  core::SplitMix64 rng(3);
  ack(core::make_uuid_v7(core::TimePoint{}, rng), 1000);  // unknown id
  EXPECT_EQ(sender->figures().bad_acks, 6u);
  EXPECT_EQ(outbox->state(id).acked, 0u);
}

TEST_F(SenderTest, OnRequestSendsNothingUntilAsked) {
  make(small(), /*on_request_only=*/true);
  const auto a = outbox->add(synthetic_bytes(1'500, 1), 10);
  outbox->add(synthetic_bytes(1'500, 2), 11);
  start();
  pump();
  EXPECT_TRUE(sent.empty());
  sender->on_request(R"({"record_seq":10})");
  pump();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].id, a.str());
  ack(a, 1500, EvidenceAckState::verified);
  sent.clear();
  now += 20s;
  pump();
  EXPECT_TRUE(sent.empty()) << "record 11 was not asked for";
  EXPECT_TRUE(notes.empty());
  sender->on_request(R"({"record_seq":99})");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].kind, "evidence_unavailable");
  EXPECT_EQ(notes[0].record_seq, 99u);
  sender->on_request(R"({"record_seq":"ten"})");
  EXPECT_EQ(sender->figures().requests, 2u);
}

TEST_F(SenderTest, RequestMovesARecordToTheFrontInAlwaysMode) {
  make(small(1000, 1));
  const auto a = outbox->add(synthetic_bytes(1'000, 1), 1);
  const auto b = outbox->add(synthetic_bytes(1'000, 2), 2);
  const auto c = outbox->add(synthetic_bytes(1'000, 3), 3);
  start();
  pump();
  sender->on_request(R"({"record_seq":3})");
  ack(a, 1000, EvidenceAckState::verified);
  pump();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].id, c.str());
  ack(c, 1000, EvidenceAckState::verified);
  pump();
  EXPECT_EQ(sent.back().id, b.str());
}

TEST_F(SenderTest, PacingHoldsTheAverageUnderTheCap) {
  EvidenceSettings s = small(10'000, 4);
  s.bytes_per_s = 50'000;
  make(s);
  const auto id = outbox->add(synthetic_bytes(2'000'000, 1), 1);
  start();
  const auto t0 = now;
  std::uint64_t have = 0;
  std::size_t acked_chunks = 0;
  while (now - t0 < 20s) {
    const auto wake = pump();
    // HQ acks at once.
    while (acked_chunks < sent.size()) {
      have += sent[acked_chunks++].len;
      ack(id, have);
    }
    now += wake ? std::min<std::chrono::steady_clock::duration>(*wake, 100ms) : 100ms;
  }
  std::uint64_t bytes = 0;
  for (const auto& c : sent) bytes += c.payload;
  const double rate = static_cast<double>(bytes) / 20.0;
  // One second's worth may go at once at the start, then the cap holds.
  EXPECT_LE(rate, 50'000.0 * 21 / 20 + 1);
  EXPECT_GE(rate, 50'000.0 * 0.8);
  std::printf("paced: %.0f bytes/s under a cap of 50000\n", rate);
}

TEST_F(SenderTest, ReadFailuresPauseThenFailTheItem) {
  make(small());
  const auto id = outbox->add(synthetic_bytes(3'000, 1), 1);
  start();
  outbox->fail_reads(10);
  for (int i = 0; i < 3; ++i) {
    pump();
    now += 2s;
  }
  EXPECT_TRUE(outbox->state(id).failed);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].kind, "evidence_failed");
}

TEST_F(SenderTest, RefusedPublishPausesAndResendsFromHave) {
  make(small());
  const auto id = outbox->add(synthetic_bytes(3'000, 1), 1);
  start();
  refuse = true;
  const auto wake = pump();
  ASSERT_TRUE(wake);
  EXPECT_TRUE(sent.empty());
  refuse = false;
  pump();
  EXPECT_TRUE(sent.empty()) << "paused";
  now += *wake;
  pump();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].offset, 0u);
  (void)id;
}

TEST_F(SenderTest, EmptyItemGoesAsOneEmptyChunk) {
  make(small());
  const auto id = outbox->add({}, 1);
  start();
  pump();
  pump();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].len, 0u);
  ack(id, 0, EvidenceAckState::verified);
  EXPECT_TRUE(outbox->state(id).delivered);
}

TEST_F(SenderTest, NothingWhileDisconnected) {
  make(small());
  outbox->add(synthetic_bytes(3'000, 1), 1);
  start();
  sender->on_disconnected();
  EXPECT_FALSE(pump());
  EXPECT_TRUE(sent.empty());
}

}  // namespace
}  // namespace postgate::uplink
