#include "adapters/idcard/codec/sam_session.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>

#include "core/synthetic.hpp"

namespace postgate::adapters::idcard {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

constexpr core::Date kToday{year{2026}, November, day{23}};
const core::TimePoint kT0{sys_days{kToday} + 2h};  // 10:00 at the outlet (UTC+8)

struct FakeCard {
  Bytes text;
  Bytes photo;
  std::array<std::uint8_t, 8> serial{};
};

FakeCard make_card(std::uint64_t seed, std::uint8_t serial) {
  core::SplitMix64 random(seed);
  const auto person = core::make_person(random, kToday);
  FakeCard c;
  c.text = encode_card_text(resident_card_fields(person, kToday));
  c.photo.resize(kCardPhotoSize);
  for (std::size_t i = 0; i < c.photo.size(); ++i) c.photo[i] = static_cast<std::uint8_t>(i * 31);
  c.serial.fill(serial);
  return c;
}

std::string number_of(const FakeCard& c) {
  return decode_card_text(c.text, kToday)->document.number;
}

// A reader that answers the way the protocol says, with hooks to misbehave.
struct FakeReader {
  std::optional<FakeCard> card;
  bool halts_after_read = false;  // answers 80 to a card it has read until it is lifted
  bool halted = false;
  std::vector<std::uint8_t> fingerprint = Bytes(512, 0x5A);
  // Return a value to answer instead of the model (nullopt inside: silence).
  std::function<std::optional<std::optional<Bytes>>(const SamCommand&)> hook;
  std::vector<SamCommand> commands;

  void place(FakeCard c) {
    card = std::move(c);
    halted = false;
  }
  void lift() { card.reset(); }

  std::optional<Bytes> answer(const Bytes& frame) {
    SamCommandDecoder d;
    d.feed(frame);
    auto parsed = d.next();
    if (!parsed || !*parsed) return encode_reply(SamStatus::checksum_error);
    const SamCommand& c = **parsed;
    commands.push_back(c);
    if (hook)
      if (auto a = hook(c)) return *a;
    const bool present = card && !halted;
    if (c.cmd == cmd::kCard && c.para == cmd::kParaFind)
      return present ? find_card_ok_reply() : encode_reply(SamStatus::no_card);
    if (c.cmd == cmd::kCard && c.para == cmd::kParaSelect)
      return present ? select_card_ok_reply(card->serial) : encode_reply(SamStatus::select_failed);
    if (c.cmd == cmd::kRead) {
      if (!present) return encode_reply(SamStatus::no_card);
      if (halts_after_read) halted = true;
      if (c.para == cmd::kParaTextPhotoFingerprint)
        return read_text_photo_fingerprint_reply(card->text, card->photo, fingerprint);
      return read_text_photo_reply(card->text, card->photo);
    }
    return encode_reply(SamStatus::bad_command);
  }
};

struct Harness {
  explicit Harness(SamSessionSettings s = {}) : session(std::move(s)) {}

  SamSession session;
  FakeReader reader;
  core::TimePoint now = kT0;
  milliseconds latency{5};
  std::optional<core::TimePoint> wake;
  std::vector<core::WorkflowEvent> events;
  std::vector<std::string> errors;
  std::vector<Bytes> photos;
  std::vector<CardText> cards;
  std::vector<bool> responding;
  std::size_t reads_sent = 0;

  void absorb(SamSessionOutput o) {
    for (auto& e : o.events) events.push_back(std::move(e));
    for (auto& e : o.errors) errors.push_back(e.code);
    if (o.photo) photos.push_back(*o.photo);
    if (o.card) cards.push_back(*o.card);
    if (o.responding) responding.push_back(*o.responding);
    if (o.wake_at) {
      EXPECT_GE(*o.wake_at, now);
    }
    wake = o.wake_at;
    for (const auto& frame : o.send) {
      if (frame.size() > 7 && frame[7] == cmd::kRead) ++reads_sent;
      if (auto reply = reader.answer(frame)) {
        now += latency;
        absorb(session.on_bytes(*reply, now));
      }
    }
  }
  void start() { absorb(session.start(now)); }
  void run_until(core::TimePoint t) {
    while (wake && *wake <= t) {
      now = std::max(now, *wake);
      absorb(session.on_timer(now));
    }
    now = std::max(now, t);
  }
  void run_for(milliseconds d) { run_until(now + d); }

  std::vector<std::string> event_kinds() const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (std::holds_alternative<core::IdentityRead>(e))
        out.push_back("read");
      else if (const auto* f = std::get_if<core::IdentityReadFailed>(&e))
        out.push_back("failed: " + f->reason);
      else
        out.push_back("other");
    }
    return out;
  }
  std::string number(std::size_t i) const {
    return std::get<core::IdentityRead>(events.at(i)).document.number;
  }
};

TEST(SamSession, StartSendsFindAndWaitsForTheReply) {
  SamSession s;
  const auto out = s.start(kT0);
  ASSERT_EQ(out.send.size(), 1u);
  EXPECT_EQ(out.send[0], find_card_command());
  EXPECT_EQ(out.wake_at, kT0 + 500ms);
  EXPECT_TRUE(s.started());
}

TEST(SamSession, NoCardPollsAtTheInterval) {
  Harness h;
  h.start();
  h.run_for(3000ms);
  EXPECT_THAT(h.events, IsEmpty());
  EXPECT_THAT(h.errors, IsEmpty());
  // One find per 300 ms: at 0, 300, ..., 3000.
  EXPECT_EQ(h.reader.commands.size(), 11u);
  for (const auto& c : h.reader.commands) EXPECT_EQ(c, (SamCommand{0x20, 0x01, {}}));
  EXPECT_EQ(h.wake, kT0 + 3300ms);
}

TEST(SamSession, FindSelectReadProducesOneIdentity) {
  Harness h;
  const auto card = make_card(1, 0x11);
  h.reader.place(card);
  h.start();
  ASSERT_THAT(h.event_kinds(), ElementsAre("read"));
  EXPECT_EQ(h.number(0), number_of(card));
  ASSERT_EQ(h.reader.commands.size(), 3u);
  EXPECT_EQ(h.reader.commands[1], (SamCommand{0x20, 0x02, {}}));
  EXPECT_EQ(h.reader.commands[2], (SamCommand{0x30, 0x01, {}}));
  EXPECT_TRUE(h.session.card_present());
  ASSERT_EQ(h.cards.size(), 1u);
  EXPECT_FALSE(h.cards[0].address.empty());
  EXPECT_THAT(h.photos, IsEmpty());  // dropped unless keep_photo
  EXPECT_THAT(h.errors, IsEmpty());
}

TEST(SamSession, KeepPhotoHandsOutTheRawBlock) {
  SamSessionSettings s;
  s.keep_photo = true;
  Harness h(s);
  const auto card = make_card(2, 0x22);
  h.reader.place(card);
  h.start();
  ASSERT_EQ(h.photos.size(), 1u);
  EXPECT_EQ(h.photos[0], card.photo);
}

TEST(SamSession, TheSameCardLeftOnTheReaderIsReadOnce) {
  Harness h;
  h.reader.place(make_card(3, 0x33));
  h.start();
  h.run_for(60s);
  EXPECT_THAT(h.event_kinds(), ElementsAre("read"));
  EXPECT_EQ(h.reads_sent, 1u);
  EXPECT_THAT(h.errors, IsEmpty());
}

TEST(SamSession, ARemovedAndReplacedCardIsANewEvent) {
  Harness h;
  const auto card = make_card(4, 0x44);
  h.reader.place(card);
  h.start();
  h.run_for(1s);
  h.reader.lift();
  h.run_for(1s);  // more than absent_polls (3) polls without the card
  EXPECT_FALSE(h.session.card_present());
  h.reader.place(card);
  h.run_for(1s);
  ASSERT_THAT(h.event_kinds(), ElementsAre("read", "read"));
  EXPECT_EQ(h.number(0), h.number(1));
}

TEST(SamSession, AShortFlickerIsNotARemoval) {
  Harness h;
  const auto card = make_card(5, 0x55);
  h.reader.place(card);
  h.start();
  h.run_for(1s);
  h.reader.lift();
  h.run_for(500ms);  // two polls without the card
  EXPECT_TRUE(h.session.card_present());
  h.reader.place(card);
  h.run_for(5s);
  EXPECT_THAT(h.event_kinds(), ElementsAre("read"));
}

TEST(SamSession, AbsentPollsIsConfigurable) {
  SamSessionSettings s;
  s.absent_polls = 1;
  Harness h(s);
  const auto card = make_card(5, 0x55);
  h.reader.place(card);
  h.start();
  h.run_for(1s);
  h.reader.lift();
  h.run_for(300ms);
  EXPECT_FALSE(h.session.card_present());
  h.reader.place(card);
  h.run_for(1s);
  EXPECT_THAT(h.event_kinds(), ElementsAre("read", "read"));
}

TEST(SamSession, ReaderThatStopsFindingAReadCard) {
  // Some readers answer 80 to a card they have read until it is lifted: the
  // card counts as gone after absent_polls, and no second event comes while
  // it stays.
  Harness h;
  h.reader.halts_after_read = true;
  const auto card = make_card(6, 0x66);
  h.reader.place(card);
  h.start();
  h.run_for(30s);
  EXPECT_THAT(h.event_kinds(), ElementsAre("read"));
  EXPECT_FALSE(h.session.card_present());
  h.reader.lift();
  h.run_for(1s);
  h.reader.place(card);
  h.run_for(1s);
  EXPECT_THAT(h.event_kinds(), ElementsAre("read", "read"));
}

TEST(SamSession, ACardSwappedBetweenPollsIsRecognisedByItsSerial) {
  Harness h;
  h.reader.place(make_card(7, 0x01));
  h.start();
  h.run_for(1s);
  const auto other = make_card(8, 0x02);
  h.reader.place(other);  // no poll saw the reader empty
  h.run_for(1s);
  ASSERT_THAT(h.event_kinds(), ElementsAre("read", "read"));
  EXPECT_EQ(h.number(1), number_of(other));
  h.run_for(10s);
  EXPECT_EQ(h.events.size(), 2u);
}

TEST(SamSession, AnUnstableSerialDoesNotRepeatTheEvent) {
  Harness h;
  std::uint8_t serial = 0;
  auto card = make_card(9, 0);
  h.reader.place(card);
  h.reader.hook = [&](const SamCommand& c) -> std::optional<std::optional<Bytes>> {
    if (c.cmd == cmd::kCard && c.para == cmd::kParaSelect) {
      std::array<std::uint8_t, 8> s{};
      s.fill(++serial);
      return std::optional<Bytes>(select_card_ok_reply(s));
    }
    return std::nullopt;
  };
  h.start();
  h.run_for(3s);
  EXPECT_THAT(h.event_kinds(), ElementsAre("read"));
  EXPECT_GT(h.reads_sent, 5u);  // each poll re-reads to compare the number
}

TEST(SamSession, CompareSerialOff) {
  SamSessionSettings s;
  s.compare_serial = false;
  Harness h(s);
  h.reader.place(make_card(7, 0x01));
  h.start();
  h.run_for(1s);
  h.reader.place(make_card(8, 0x02));
  h.run_for(2s);
  EXPECT_THAT(h.event_kinds(), ElementsAre("read"));
  EXPECT_EQ(h.reads_sent, 1u);
}

TEST(SamSession, ReadWithFingerprintDropsTheFingerprint) {
  SamSessionSettings s;
  s.read_command = ReadCommand::text_photo_fingerprint;
  s.keep_photo = true;
  Harness h(s);
  const auto card = make_card(10, 0x10);
  h.reader.place(card);
  h.start();
  ASSERT_THAT(h.event_kinds(), ElementsAre("read"));
  EXPECT_EQ(h.reader.commands.back(), (SamCommand{0x30, 0x10, {}}));
  ASSERT_EQ(h.photos.size(), 1u);
  EXPECT_EQ(h.photos[0], card.photo);
  for (const std::size_t fp : {0u, 1024u}) {
    Harness g(s);
    g.reader.fingerprint = Bytes(fp, 0x01);
    g.reader.place(card);
    g.start();
    EXPECT_THAT(g.event_kinds(), ElementsAre("read")) << fp;
  }
}

TEST(SamSession, FindTimeoutIsReportedOnceAndPollingGoesOn) {
  Harness h;
  bool silent = true;
  h.reader.hook = [&](const SamCommand&) -> std::optional<std::optional<Bytes>> {
    if (silent) return std::optional<Bytes>();
    return std::nullopt;
  };
  h.start();
  h.run_for(5s);
  EXPECT_THAT(h.errors, ElementsAre("timeout"));
  EXPECT_THAT(h.responding, ElementsAre(false));
  // A find every reply_timeout while silent.
  EXPECT_GE(h.reader.commands.size(), 10u);
  silent = false;
  h.reader.place(make_card(11, 0x11));
  h.run_for(1s);
  EXPECT_THAT(h.responding, ElementsAre(false, true));
  EXPECT_THAT(h.event_kinds(), ElementsAre("read"));
}

TEST(SamSession, ReadTimeoutRetriesThenFailsOnce) {
  Harness h;
  h.reader.hook = [&](const SamCommand& c) -> std::optional<std::optional<Bytes>> {
    if (c.cmd == cmd::kRead) return std::optional<Bytes>();
    return std::nullopt;
  };
  h.reader.place(make_card(12, 0x12));
  h.start();
  h.run_for(20s);
  EXPECT_THAT(h.errors, ElementsAre("timeout", "timeout", "timeout"));
  EXPECT_THAT(h.event_kinds(), ElementsAre("failed: card could not be read, place it again"));
  EXPECT_EQ(h.reads_sent, 3u);  // then the placement is done with
  // Lifted and placed again: a fresh try.
  h.reader.lift();
  h.run_for(2s);
  h.reader.hook = nullptr;
  h.reader.place(make_card(12, 0x12));
  h.run_for(2s);
  EXPECT_THAT(h.event_kinds(),
              ElementsAre("failed: card could not be read, place it again", "read"));
}

TEST(SamSession, ATransientFailureThenSuccessIsOneRead) {
  Harness h;
  int reads = 0;
  h.reader.hook = [&](const SamCommand& c) -> std::optional<std::optional<Bytes>> {
    if (c.cmd == cmd::kRead && ++reads == 1)
      return std::optional<Bytes>(encode_reply(SamStatus::sam_auth_card_failed));
    return std::nullopt;
  };
  h.reader.place(make_card(13, 0x13));
  h.start();
  h.run_for(2s);
  EXPECT_THAT(h.errors, ElementsAre("card_auth_failed"));
  EXPECT_THAT(h.event_kinds(), ElementsAre("read"));
}

TEST(SamSession, TruncatedReadReply) {
  SamSessionSettings s;
  s.read_attempts = 1;
  Harness h(s);
  const auto card = make_card(14, 0x14);
  h.reader.hook = [&](const SamCommand& c) -> std::optional<std::optional<Bytes>> {
    if (c.cmd != cmd::kRead) return std::nullopt;
    auto full = read_text_photo_reply(card.text, card.photo);
    full.resize(700);  // the link dropped bytes
    return std::optional<Bytes>(full);
  };
  h.reader.place(card);
  h.start();
  h.run_for(5s);
  EXPECT_THAT(h.errors, ElementsAre("truncated"));
  EXPECT_THAT(h.event_kinds(), ElementsAre("failed: card could not be read, place it again"));
}

TEST(SamSession, BadChecksumOnTheReadReply) {
  SamSessionSettings s;
  s.read_attempts = 2;
  Harness h(s);
  const auto card = make_card(15, 0x15);
  h.reader.hook = [&](const SamCommand& c) -> std::optional<std::optional<Bytes>> {
    if (c.cmd != cmd::kRead) return std::nullopt;
    auto full = read_text_photo_reply(card.text, card.photo);
    full[100] ^= 0x01;
    return std::optional<Bytes>(full);
  };
  h.reader.place(card);
  h.start();
  h.run_for(5s);
  EXPECT_THAT(h.errors, ElementsAre("bad_checksum", "bad_checksum"));
  EXPECT_THAT(h.event_kinds(), ElementsAre("failed: card could not be read, place it again"));
}

TEST(SamSession, LengthsThatDisagreeWithTheData) {
  SamSessionSettings s;
  s.read_attempts = 1;
  for (const int extra : {-1, 1}) {
    Harness h(s);
    const auto card = make_card(16, 0x16);
    h.reader.hook = [&](const SamCommand& c) -> std::optional<std::optional<Bytes>> {
      if (c.cmd != cmd::kRead) return std::nullopt;
      Bytes data{0x01, 0x00, 0x04, 0x00};
      data.insert(data.end(), card.text.begin(), card.text.end());
      data.insert(data.end(), card.photo.begin(), card.photo.end());
      data.resize(static_cast<std::size_t>(static_cast<int>(data.size()) + extra));
      return std::optional<Bytes>(encode_reply(SamStatus::success, data));
    };
    h.reader.place(card);
    h.start();
    h.run_for(2s);
    EXPECT_THAT(h.errors, ElementsAre(extra < 0 ? "truncated" : "bad_length"));
    EXPECT_EQ(h.events.size(), 1u);
  }
}

TEST(SamSession, ExpiredCardFailsAtOnceAndOnlyOnce) {
  Harness h;
  core::SplitMix64 random(17);
  auto f = resident_card_fields(core::make_person(random, kToday), kToday);
  f.valid_from = "20060101";
  f.valid_to = "20260101";
  FakeCard card;
  card.text = encode_card_text(f);
  card.photo = Bytes(kCardPhotoSize);
  h.reader.place(card);
  h.start();
  h.run_for(10s);
  EXPECT_THAT(h.errors, ElementsAre("expired"));
  EXPECT_THAT(h.event_kinds(), ElementsAre("failed: card expired"));
  EXPECT_EQ(h.reads_sent, 1u);
}

TEST(SamSession, ValidityUsesTheOutletsDate) {
  // Valid to 2026-11-23: at 16:30 UTC on the 23rd it is already 00:30 on the
  // 24th at the outlet (UTC+8).
  core::SplitMix64 random(18);
  auto f = resident_card_fields(core::make_person(random, kToday), kToday);
  f.valid_from = "20161123";
  f.valid_to = "20261123";
  FakeCard card;
  card.text = encode_card_text(f);
  card.photo = Bytes(kCardPhotoSize);
  Harness h;
  h.now = core::TimePoint{sys_days{kToday} + 16h + 30min};
  h.reader.place(card);
  h.start();
  EXPECT_THAT(h.event_kinds(), ElementsAre("failed: card expired"));
  SamSessionSettings utc;
  utc.utc_offset = 0min;
  Harness g(utc);
  g.now = h.now;
  g.reader.place(card);
  g.start();
  EXPECT_THAT(g.event_kinds(), ElementsAre("read"));
}

TEST(SamSession, ImpossibleTextIsBadText) {
  Harness h;
  auto card = make_card(19, 0x19);
  card.text[2] = 0x00;
  card.text[3] = 0xD8;  // unpaired high surrogate in the name
  h.reader.place(card);
  h.start();
  h.run_for(3s);
  EXPECT_THAT(h.errors, ElementsAre("bad_text"));
  EXPECT_THAT(h.event_kinds(), ElementsAre("failed: card could not be read, place it again"));
}

TEST(SamSession, NotYetValidAndUnknownType) {
  core::SplitMix64 random(20);
  auto f = resident_card_fields(core::make_person(random, kToday), kToday);
  f.valid_from = "20270101";
  f.valid_to = "20470101";
  Harness h;
  h.reader.place(FakeCard{encode_card_text(f), Bytes(kCardPhotoSize), {}});
  h.start();
  EXPECT_THAT(h.event_kinds(), ElementsAre("failed: card not yet valid"));
  EXPECT_THAT(h.errors, ElementsAre("not_yet_valid"));
  f = resident_card_fields(core::make_person(random, kToday), kToday);
  f.type_flag = "Q";
  Harness g;
  g.reader.place(FakeCard{encode_card_text(f), Bytes(kCardPhotoSize), {}});
  g.start();
  EXPECT_THAT(g.event_kinds(), ElementsAre("failed: card type not supported"));
  EXPECT_THAT(g.errors, ElementsAre("unknown_card_type"));
}

// Every status word as the answer to each command.
class EveryStatus : public ::testing::TestWithParam<SamStatus> {};

TEST_P(EveryStatus, AsTheReadReply) {
  const SamStatus status = GetParam();
  SamSessionSettings s;
  s.read_attempts = 2;
  Harness h(s);
  h.reader.hook = [&](const SamCommand& c) -> std::optional<std::optional<Bytes>> {
    if (c.cmd == cmd::kRead) return std::optional<Bytes>(encode_reply(status));
    return std::nullopt;
  };
  h.reader.place(make_card(21, 0x21));
  h.start();
  h.run_for(10s);
  if (status == SamStatus::find_success) {
    // Not a read's answer: ignored until the read times out.
    EXPECT_THAT(h.errors,
                ElementsAre("unexpected_reply", "timeout", "unexpected_reply", "timeout"));
  } else if (status == SamStatus::success || status == SamStatus::no_content) {
    EXPECT_THAT(h.errors,
                ElementsAre("unexpected_reply", "timeout", "unexpected_reply", "timeout"));
  } else {
    const std::string code(error_code(status));
    const bool once = status == SamStatus::unknown_card_type || status == SamStatus::bad_command ||
                      status == SamStatus::unauthorised;
    if (once)
      EXPECT_THAT(h.errors, ElementsAre(code));
    else
      EXPECT_THAT(h.errors, ElementsAre(code, code));
  }
  ASSERT_EQ(h.events.size(), 1u) << to_string(status);
  EXPECT_TRUE(std::holds_alternative<core::IdentityReadFailed>(h.events[0]));
}

TEST_P(EveryStatus, AsTheFindAndSelectReply) {
  const SamStatus status = GetParam();
  for (const std::uint8_t para : {cmd::kParaFind, cmd::kParaSelect}) {
    Harness h;
    h.reader.hook = [&](const SamCommand& c) -> std::optional<std::optional<Bytes>> {
      if (c.cmd == cmd::kCard && c.para == para) return std::optional<Bytes>(encode_reply(status));
      return std::nullopt;
    };
    h.reader.place(make_card(22, 0x22));
    h.start();
    h.run_for(1s);
    const bool expected_answer = (para == cmd::kParaFind && status == SamStatus::find_success) ||
                                 (para == cmd::kParaSelect && status == SamStatus::success);
    if (expected_answer) {
      EXPECT_THAT(h.event_kinds(), ElementsAre("read"));
      continue;
    }
    EXPECT_THAT(h.events, IsEmpty()) << to_string(status);
    const bool absent = status == SamStatus::no_card ||
                        (para == cmd::kParaSelect && status == SamStatus::select_failed);
    const bool stray = status == SamStatus::success || status == SamStatus::find_success;
    if (absent)
      EXPECT_THAT(h.errors, IsEmpty());
    else if (stray)
      EXPECT_EQ(h.errors.front(), "unexpected_reply");
    else
      EXPECT_EQ(h.errors.front(), error_code(status));
    EXPECT_GE(h.reader.commands.size(), 3u);  // polling went on
  }
}

INSTANTIATE_TEST_SUITE_P(All, EveryStatus,
                         ::testing::ValuesIn(all_sam_statuses().begin(), all_sam_statuses().end()),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(SamSession, NoContentWithTheWholeReplyIsARead) {
  // Some readers answer 91 to 30 10 for a card without fingerprints but send
  // text and photo all the same.
  SamSessionSettings s;
  s.read_command = ReadCommand::text_photo_fingerprint;
  Harness h(s);
  const auto card = make_card(26, 0x26);
  h.reader.hook = [&](const SamCommand& c) -> std::optional<std::optional<Bytes>> {
    if (c.cmd != cmd::kRead) return std::nullopt;
    Bytes data{0x01, 0x00, 0x04, 0x00, 0x00, 0x00};
    data.insert(data.end(), card.text.begin(), card.text.end());
    data.insert(data.end(), card.photo.begin(), card.photo.end());
    return std::optional<Bytes>(encode_reply(SamStatus::no_content, data));
  };
  h.reader.place(card);
  h.start();
  EXPECT_THAT(h.event_kinds(), ElementsAre("read"));
  EXPECT_THAT(h.errors, IsEmpty());
}

TEST(SamSession, ALateReadReplyIsNotTakenForTheNextFind) {
  SamSession s;
  const auto card = make_card(27, 0x27);
  auto now = kT0;
  (void)s.start(now);
  (void)s.on_bytes(find_card_ok_reply(), now += 5ms);
  (void)s.on_bytes(select_card_ok_reply(card.serial), now += 5ms);
  now += 3s;  // the read times out
  auto out = s.on_timer(now);
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0].code, "timeout");
  ASSERT_EQ(out.send, std::vector<Bytes>{find_card_command()});
  // The read's reply comes in now, then the find's.
  out = s.on_bytes(read_text_photo_reply(card.text, card.photo), now += 50ms);
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0].code, "unexpected_reply");
  EXPECT_TRUE(out.events.empty());
  EXPECT_TRUE(out.send.empty());
  out = s.on_bytes(find_card_ok_reply(), now += 5ms);
  EXPECT_EQ(out.send, std::vector<Bytes>{select_card_command()});
}

TEST(SamSession, UnknownStatusByte) {
  Harness h;
  h.reader.hook = [&](const SamCommand& c) -> std::optional<std::optional<Bytes>> {
    if (c.cmd == cmd::kRead) return std::optional<Bytes>(encode_reply(std::uint8_t{0x55}));
    return std::nullopt;
  };
  h.reader.place(make_card(23, 0x23));
  h.start();
  h.run_for(3s);
  EXPECT_THAT(h.errors, ElementsAre("unknown_status", "unknown_status", "unknown_status"));
  EXPECT_EQ(h.events.size(), 1u);
}

TEST(SamSession, SplitAndGarbledDelivery) {
  // The read reply arrives in 7-byte pieces after some line noise.
  SamSession s;
  const auto card = make_card(24, 0x24);
  auto now = kT0;
  auto out = s.start(now);
  out = s.on_bytes(find_card_ok_reply(), now += 5ms);
  ASSERT_EQ(out.send, std::vector<Bytes>{select_card_command()});
  out = s.on_bytes(select_card_ok_reply(card.serial), now += 5ms);
  ASSERT_EQ(out.send, std::vector<Bytes>{read_text_photo_command()});
  Bytes stream{0x00, 0xFF, 0xAA, 0x13};
  const auto reply = read_text_photo_reply(card.text, card.photo);
  stream.insert(stream.end(), reply.begin(), reply.end());
  std::vector<core::WorkflowEvent> events;
  std::vector<std::string> errors;
  for (std::size_t i = 0; i < stream.size(); i += 7) {
    auto o = s.on_bytes(std::span(stream).subspan(i, std::min<std::size_t>(7, stream.size() - i)),
                        now += 1ms);
    for (auto& e : o.events) events.push_back(e);
    for (auto& e : o.errors) errors.push_back(e.code);
  }
  EXPECT_THAT(errors, ElementsAre("garbage"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<core::IdentityRead>(events[0]));
}

TEST(SamSession, BytesWithNothingPendingAreUnexpected) {
  SamSession s;
  auto now = kT0;
  s.start(now);
  auto out = s.on_bytes(encode_reply(SamStatus::no_card), now += 5ms);
  EXPECT_TRUE(out.errors.empty());
  out = s.on_bytes(encode_reply(SamStatus::no_card), now += 5ms);
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0].code, "unexpected_reply");
  EXPECT_EQ(out.wake_at, kT0 + 300ms);
}

TEST(SamSession, ResetForgetsTheCardAndThePartialFrame) {
  Harness h;
  const auto card = make_card(25, 0x25);
  h.reader.place(card);
  h.start();
  h.run_for(1s);
  ASSERT_EQ(h.events.size(), 1u);
  // Link lost mid-frame.
  const auto reply = read_text_photo_reply(card.text, card.photo);
  (void)h.session.on_bytes(std::span(reply).first(100), h.now);
  h.session.reset();
  EXPECT_FALSE(h.session.started());
  EXPECT_FALSE(h.session.card_present());
  const auto ignored = h.session.on_bytes(reply, h.now);
  EXPECT_TRUE(ignored.events.empty() && ignored.send.empty() && !ignored.wake_at);
  EXPECT_FALSE(h.session.on_timer(h.now + 10s).wake_at.has_value());
  // Link back: the card on the reader is a new event.
  h.now += 10s;
  h.start();
  EXPECT_THAT(h.event_kinds(), ElementsAre("read", "read"));
  EXPECT_THAT(h.errors, IsEmpty());
}

TEST(SamSession, NothingIsSentBeforeStart) {
  SamSession s;
  EXPECT_FALSE(s.started());
  const auto out = s.on_timer(kT0);
  EXPECT_TRUE(out.send.empty());
  EXPECT_FALSE(out.wake_at.has_value());
}

}  // namespace
}  // namespace postgate::adapters::idcard
