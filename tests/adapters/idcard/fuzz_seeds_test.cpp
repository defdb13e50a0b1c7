// The seeds of fuzz/corpus/sam_frame/ are reader byte streams built here:
//   POSTGATE_WRITE_SAM_SEEDS=fuzz/corpus/sam_frame idcard_tests --gtest_filter='FuzzSeeds.*'
// Without the variable the test only checks that every seed decodes as the
// session expects, so a seed never silently stops reaching the deep paths.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include "adapters/idcard/codec/card_text.hpp"
#include "adapters/idcard/codec/sam_frame.hpp"
#include "adapters/idcard/codec/sam_session.hpp"

namespace postgate::adapters::idcard {
namespace {

using namespace std::chrono;

constexpr core::Date kToday{year{2026}, November, day{23}};

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes photo() {
  Bytes p(kCardPhotoSize);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i * 13 + 7);
  return p;
}

struct Seed {
  std::string name;
  Bytes bytes;
  bool reads_a_card;  // as the whole stream in one piece, with 30 01
};

// Seeds are checked-in files: only the published example number goes into
// them (a synthetic number would be a valid-looking one in the tree).
ResidentCardFields published_example() {
  ResidentCardFields f;
  f.name = "王芳";
  f.sex_code = "2";
  f.birth_date = "19491231";
  f.address = "测试省样例市示范路1号";
  f.number = "11010519491231002X";
  f.issuing_authority = "样例市公安局";
  f.valid_from = "20200101";
  f.valid_to = "长期";
  return f;
}

std::vector<Seed> seeds() {
  const auto text = encode_card_text(published_example());
  auto expired_fields = published_example();
  expired_fields.valid_from = "20060101";
  expired_fields.valid_to = "20260101";
  Foreign2017Fields foreign;
  foreign.english_name = "SAMPLE, TESTER";
  foreign.number = "FRA000000000000";
  foreign.nationality = "FRA";
  foreign.birth_date = "19850615";
  foreign.valid_from = "20240101";
  foreign.valid_to = "20340101";
  foreign.issuing_office = "0000";
  const std::array<std::uint8_t, 8> serial{1, 2, 3, 4, 5, 6, 7, 8};
  auto bad = find_card_ok_reply();
  bad.back() ^= 0xFF;
  return {
      {"no_card", encode_reply(SamStatus::no_card), false},
      {"resident_read",
       cat({find_card_ok_reply(), select_card_ok_reply(serial),
            read_text_photo_reply(text, photo())}),
       true},
      {"resident_read_fingerprint",
       cat({find_card_ok_reply(), select_card_ok_reply(serial),
            read_text_photo_fingerprint_reply(text, photo(), Bytes(512, 0x42))}),
       false},
      {"expired_read",
       cat({find_card_ok_reply(), select_card_ok_reply(serial),
            read_text_photo_reply(encode_card_text(expired_fields), photo())}),
       false},
      {"foreign_2017_read",
       cat({find_card_ok_reply(), select_card_ok_reply(serial),
            read_text_photo_reply(encode_card_text(foreign), photo())}),
       true},
      {"garbage_and_bad_frames",
       cat({Bytes{0x00, 0xAA, 0xAA, 0x13}, bad, Bytes{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0xFF, 0xFF},
            encode_reply(SamStatus::no_card), find_card_ok_reply(),
            encode_reply(SamStatus::sam_auth_card_failed)}),
       false},
      {"card_text_only", text, false},
  };
}

TEST(FuzzSeeds, DecodeAsExpected) {
  for (const auto& seed : seeds()) {
    SamSession session;
    const core::TimePoint now{sys_days{kToday} + hours{2}};
    (void)session.start(now);
    const auto out = session.on_bytes(seed.bytes, now + milliseconds(20));
    EXPECT_EQ(out.card.has_value(), seed.reads_a_card) << seed.name;
  }
}

TEST(FuzzSeeds, Write) {
  const char* dir = std::getenv("POSTGATE_WRITE_SAM_SEEDS");
  if (!dir) GTEST_SKIP() << "set POSTGATE_WRITE_SAM_SEEDS=<corpus dir> to write the seeds";
  for (const auto& seed : seeds()) {
    std::ofstream f(std::string(dir) + "/" + seed.name, std::ios::binary);
    f.write(reinterpret_cast<const char*>(seed.bytes.data()),
            static_cast<std::streamsize>(seed.bytes.size()));
    ASSERT_TRUE(f.good()) << seed.name;
  }
}

}  // namespace
}  // namespace postgate::adapters::idcard
