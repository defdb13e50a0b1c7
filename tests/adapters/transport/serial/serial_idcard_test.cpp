// The serial ID-card reader driver over a pty, against a peer that plays a
// SAM reader: slow bytes, split frames, garbage, bad checksums, unplug
// mid-frame, a card left on the reader, a card placed again.
#include <gtest/gtest.h>

#include "adapters/idcard/codec/card_text.hpp"
#include "adapters/idcard/serial_idcard_reader.hpp"
#include "core/synthetic.hpp"
#include "device_recorder.hpp"
#include "pty_device.hpp"
#include "sam_peer.hpp"

namespace postgate::adapters::idcard {
namespace {

using namespace std::chrono_literals;
using test::FakeSamReader;
using test::ReplyShape;
using test::run_until;

class SerialIdCardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::SplitMix64 random(0x5e71a1);
    const auto today = local_date(serial::system_clock().now(), 8h);
    person = core::make_person(random, today);
    text = encode_card_text(resident_card_fields(person, today));
    other = core::make_person(random, today);
    other_text = encode_card_text(resident_card_fields(other, today));
  }

  SerialIdCardReaderSettings settings() {
    SerialIdCardReaderSettings s;
    s.link.path = path();
    s.link.reopen_min = 20ms;
    s.link.reopen_max = 100ms;
    s.session.poll_interval = 20ms;
    // Generous: the checks below wait for conditions, never for timeouts,
    // and a loaded CI machine (ASan) must not turn slow bytes into errors.
    s.session.reply_timeout = 2s;
    s.session.read_timeout = 10s;
    return s;
  }
  std::string path() const { return (dir.path() / "idreader").string(); }
  std::unique_ptr<SerialIdCardReader> make_reader() {
    auto r = std::make_unique<SerialIdCardReader>(io, settings(), rec.sink());
    r->start();
    return r;
  }
  bool wait_reads(std::size_t n) {
    return run_until(io, [&] { return rec.reads().size() >= n; });
  }
  // Lets the session poll `polls` more times (waiting on the peer's count,
  // not on the clock).
  bool wait_polls(FakeSamReader& peer, int polls) {
    const int until = peer.finds + polls;
    return run_until(io, [&] { return peer.finds >= until; });
  }

  boost::asio::io_context io;
  test::TempDir dir;
  test::DeviceRecorder rec;
  core::SyntheticPerson person;
  core::SyntheticPerson other;
  std::vector<std::uint8_t> text;
  std::vector<std::uint8_t> other_text;
};

TEST_F(SerialIdCardTest, ReadsACardLeftOnTheReaderOnce) {
  FakeSamReader peer(io, path());
  peer.place_card(text);
  auto reader = make_reader();
  ASSERT_TRUE(wait_reads(1));
  const auto doc = rec.reads()[0];
  EXPECT_EQ(doc.type, core::DocType::resident_id);
  EXPECT_TRUE(doc.number == person.resident_id) << "number differs (not printed)";
  EXPECT_TRUE(doc.name == person.name);
  EXPECT_EQ(reader->state(), DeviceState::attached);

  ASSERT_TRUE(wait_polls(peer, 10));
  EXPECT_EQ(rec.reads().size(), 1u);
  EXPECT_EQ(peer.reads, 1);
  EXPECT_EQ(rec.failures(), 0);
  EXPECT_TRUE(rec.errors.empty()) << rec.errors[0].code;
}

TEST_F(SerialIdCardTest, ACardPlacedAgainIsANewEvent) {
  FakeSamReader peer(io, path());
  peer.place_card(text);
  auto reader = make_reader();
  ASSERT_TRUE(wait_reads(1));
  peer.lift_card();
  ASSERT_TRUE(wait_polls(peer, 5));
  peer.place_card(text);
  ASSERT_TRUE(wait_reads(2));
  peer.lift_card();
  ASSERT_TRUE(wait_polls(peer, 5));
  peer.place_card(other_text, {2});
  ASSERT_TRUE(wait_reads(3));
  EXPECT_TRUE(rec.reads()[2].number == other.resident_id);
}

TEST_F(SerialIdCardTest, ReaderThatWantsTheCardLiftedIsReadOnce) {
  FakeSamReader peer(io, path());
  peer.quiet_after_read = true;
  peer.place_card(text);
  auto reader = make_reader();
  ASSERT_TRUE(wait_reads(1));
  ASSERT_TRUE(wait_polls(peer, 10));
  EXPECT_EQ(rec.reads().size(), 1u);
  EXPECT_EQ(peer.reads, 1);
}

TEST_F(SerialIdCardTest, SlowBytesOneAtATime) {
  FakeSamReader peer(io, path());
  // Every reply one byte at a time, 1 ms apart: the 1295-byte read reply
  // takes about 1.3 s (at 115200 baud it takes 112 ms).
  peer.shape = ReplyShape::chunks(1, 1ms);
  peer.read_shape = ReplyShape::chunks(1, 1ms);
  peer.place_card(text);
  auto reader = make_reader();
  ASSERT_TRUE(run_until(
      io, [&] { return rec.reads().size() >= 1; }, 15s));
  EXPECT_EQ(peer.reads, 1);
  EXPECT_EQ(rec.failures(), 0);
  EXPECT_TRUE(rec.errors.empty()) << rec.errors[0].code << " " << rec.errors[0].detail;
}

TEST_F(SerialIdCardTest, FramesSplitAtArbitraryPoints) {
  FakeSamReader peer(io, path());
  core::SplitMix64 random(7);
  // Every cut from inside the preamble to just before the checksum.
  peer.shape = ReplyShape::split_at({1, 4, 5, 6, 7, 9}, 1ms);
  for (int i = 0; i < 3; ++i) {
    ReplyShape s;
    s.gap = 1ms;
    for (std::size_t at = 1; at < 1295;) {
      s.cuts.push_back(at);
      at += 1 + core::uniform(random, 300);
    }
    s.cuts.push_back(1294);
    peer.next_reads.push_back(s);
  }
  peer.place_card(text);
  auto reader = make_reader();
  ASSERT_TRUE(wait_reads(1));
  peer.lift_card();
  ASSERT_TRUE(wait_polls(peer, 5));
  peer.place_card(other_text, {2});
  ASSERT_TRUE(wait_reads(2));
  EXPECT_EQ(rec.failures(), 0);
  EXPECT_TRUE(rec.errors.empty()) << rec.errors[0].code;
}

TEST_F(SerialIdCardTest, GarbageBetweenFramesIsSkipped) {
  FakeSamReader peer(io, path());
  // Noise, half preambles, and an AA run that merges into the real preamble.
  const std::vector<std::uint8_t> noise = {0x00, 0x55, 0xAA, 0xAA, 0x96, 0xFF, 0x69, 0xAA};
  peer.shape = ReplyShape::after_garbage(noise);
  peer.read_shape = ReplyShape::after_garbage(noise);
  peer.place_card(text);
  auto reader = make_reader();
  ASSERT_TRUE(wait_reads(1));
  ASSERT_TRUE(wait_polls(peer, 3));
  EXPECT_EQ(rec.reads().size(), 1u);
  EXPECT_EQ(rec.failures(), 0);
  EXPECT_GT(rec.errors_with("garbage"), 0);
  for (const auto& e : rec.errors) EXPECT_EQ(e.code, "garbage") << e.detail;
}

TEST_F(SerialIdCardTest, NoiseBurstThenACardReads) {
  // A reader (or a wrong baud rate) spewing 16 KiB of noise: counted
  // errors, no event, no crash; the card placed afterwards reads.
  FakeSamReader peer(io, path());
  auto reader = make_reader();
  ASSERT_TRUE(wait_polls(peer, 1));
  core::SplitMix64 random(99);
  std::vector<std::uint8_t> noise(16 * 1024);
  for (auto& b : noise) b = static_cast<std::uint8_t>(random.next());
  peer.device().write_slowly(noise, 512, 1ms);
  ASSERT_TRUE(run_until(io, [&] { return peer.device().idle(); }));
  ASSERT_TRUE(wait_polls(peer, 3));
  EXPECT_TRUE(rec.events.empty());
  EXPECT_FALSE(rec.errors.empty());
  peer.place_card(text);
  ASSERT_TRUE(wait_reads(1));
  EXPECT_EQ(rec.failures(), 0);
}

TEST_F(SerialIdCardTest, BadChecksumIsRetriedThenRead) {
  FakeSamReader peer(io, path());
  peer.next_reads.push_back(ReplyShape::corrupted());
  peer.place_card(text);
  auto reader = make_reader();
  ASSERT_TRUE(wait_reads(1));
  EXPECT_EQ(rec.errors_with("bad_checksum"), 1);
  EXPECT_EQ(rec.failures(), 0);
  EXPECT_EQ(peer.reads, 2);
}

TEST_F(SerialIdCardTest, BadChecksumEveryTimeIsOneReadFailed) {
  FakeSamReader peer(io, path());
  peer.read_shape = ReplyShape::corrupted();
  peer.place_card(text);
  auto reader = make_reader();
  ASSERT_TRUE(run_until(io, [&] { return rec.failures() >= 1; }));
  ASSERT_TRUE(wait_polls(peer, 10));
  EXPECT_EQ(rec.failures(), 1) << "one 'try again' per placement";
  EXPECT_TRUE(rec.reads().empty());
  EXPECT_GE(rec.errors_with("bad_checksum"), 1);
}

TEST_F(SerialIdCardTest, UnplugMidFrameThenTheNextCardReads) {
  auto peer = std::make_unique<FakeSamReader>(io, path());
  peer->next_reads.push_back(ReplyShape::unplugged_after(600));
  peer->place_card(text);
  auto reader = make_reader();
  ASSERT_TRUE(run_until(io, [&] { return reader->state() == DeviceState::absent; }));
  EXPECT_TRUE(peer->cut());
  EXPECT_TRUE(rec.reads().empty());
  EXPECT_EQ(rec.failures(), 0) << "a lost line is a state change, not a failed read";
  EXPECT_FALSE(reader->session().started());

  // Plugged back (a new pty behind the same link) with the card still on it.
  peer = std::make_unique<FakeSamReader>(io, path());
  peer->place_card(text);
  ASSERT_TRUE(wait_reads(1));
  EXPECT_TRUE(rec.reads()[0].number == person.resident_id);
  EXPECT_EQ(rec.state_sequence(),
            (std::vector<DeviceState>{DeviceState::attached, DeviceState::absent,
                                      DeviceState::attached}));
  EXPECT_EQ(reader->link().opens(), 2u);
}

TEST_F(SerialIdCardTest, MissingAtStartThenPlugged) {
  auto reader = make_reader();
  EXPECT_EQ(reader->state(), DeviceState::absent);
  ASSERT_EQ(rec.states.size(), 1u);
  FakeSamReader peer(io, path());
  peer.place_card(text);
  ASSERT_TRUE(wait_reads(1));
}

TEST_F(SerialIdCardTest, SilentReaderIsFailedUntilItAnswers) {
  // The line is open but the reader does not answer.
  FakeSamReader peer(io, path());
  peer.mute = true;
  peer.place_card(text);
  auto s = settings();
  s.session.reply_timeout = 50ms;
  SerialIdCardReader reader(io, s, rec.sink());
  reader.start();
  ASSERT_TRUE(run_until(io, [&] { return reader.state() == DeviceState::failed; }));
  EXPECT_EQ(reader.detail(), "reader not answering");
  EXPECT_EQ(rec.states.back().first, DeviceState::failed);
  peer.mute = false;
  ASSERT_TRUE(run_until(io, [&] { return reader.state() == DeviceState::attached; }));
  ASSERT_TRUE(wait_reads(1));
}

TEST_F(SerialIdCardTest, StopMidReadMakesNoMoreCallbacks) {
  FakeSamReader peer(io, path());
  peer.read_shape = ReplyShape::chunks(64, 1ms);
  peer.place_card(text);
  auto reader = make_reader();
  ASSERT_TRUE(run_until(io, [&] { return peer.reads >= 1; }));
  const auto events = rec.events.size();
  const auto states = rec.states.size();
  reader->stop();
  test::run_for(io, 50ms);
  EXPECT_EQ(rec.events.size(), events);
  EXPECT_EQ(rec.states.size(), states);
  reader.reset();
  test::run_for(io, 10ms);
}

}  // namespace
}  // namespace postgate::adapters::idcard
