#include "adapters/idcard/codec/sam_frame.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

namespace postgate::adapters::idcard {
namespace {

using ::testing::ElementsAreArray;

Bytes hex(std::string_view text) {
  Bytes out;
  unsigned value = 0;
  int digits = 0;
  for (const char c : text) {
    if (c == ' ') continue;
    value = value * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : c - 'A' + 10);
    if (++digits == 2) {
      out.push_back(static_cast<std::uint8_t>(value));
      value = 0;
      digits = 0;
    }
  }
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes filled(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7);
  return b;
}

// Everything the decoder hands out for `input` fed in pieces of `piece`.
struct Decoded {
  std::vector<SamReply> replies;
  std::vector<std::string> errors;
};
Decoded decode_all(std::span<const std::uint8_t> input, std::size_t piece = 0) {
  SamFrameDecoder d;
  Decoded out;
  const auto drain = [&] {
    while (auto r = d.next()) {
      if (*r)
        out.replies.push_back(**r);
      else
        out.errors.push_back(r->error().code);
    }
  };
  if (piece == 0) piece = input.size() == 0 ? 1 : input.size();
  for (std::size_t i = 0; i < input.size(); i += piece) {
    d.feed(input.subspan(i, std::min(piece, input.size() - i)));
    drain();
  }
  return out;
}

// ---- DOMAIN.md vectors ----

TEST(SamCommand, DomainTableChecksums) {
  EXPECT_THAT(reset_sam_command(), ElementsAreArray(hex("AAAAAA9669 0003 10FF EC")));
  EXPECT_THAT(sam_status_command(), ElementsAreArray(hex("AAAAAA9669 0003 11FF ED")));
  EXPECT_THAT(read_sam_id_command(), ElementsAreArray(hex("AAAAAA9669 0003 12FF EE")));
  EXPECT_THAT(find_card_command(), ElementsAreArray(hex("AA AA AA 96 69 00 03 20 01 22")));
  EXPECT_THAT(select_card_command(), ElementsAreArray(hex("AAAAAA9669 0003 2002 21")));
  EXPECT_THAT(read_text_photo_command(), ElementsAreArray(hex("AAAAAA9669 0003 3001 32")));
  EXPECT_THAT(read_text_photo_fingerprint_command(),
              ElementsAreArray(hex("AAAAAA9669 0003 3010 23")));
  EXPECT_THAT(read_new_address_command(), ElementsAreArray(hex("AAAAAA9669 0003 3003 30")));
}

TEST(SamCommand, UartSpeeds) {
  EXPECT_THAT(set_uart_speed_command(UartSpeed::b115200),
              ElementsAreArray(hex("AAAAAA9669 0003 6000 63")));
  EXPECT_THAT(set_uart_speed_command(UartSpeed::b57600),
              ElementsAreArray(hex("AAAAAA9669 0003 6001 62")));
  EXPECT_THAT(set_uart_speed_command(UartSpeed::b38400),
              ElementsAreArray(hex("AAAAAA9669 0003 6002 61")));
  EXPECT_THAT(set_uart_speed_command(UartSpeed::b19200),
              ElementsAreArray(hex("AAAAAA9669 0003 6003 60")));
  EXPECT_THAT(set_uart_speed_command(UartSpeed::b9600),
              ElementsAreArray(hex("AAAAAA9669 0003 6004 67")));
}

TEST(SamCommand, DataCountsInLengthAndChecksum) {
  const std::array<std::uint8_t, 2> data{0x12, 0x34};
  // length 5 = CMD PARA 2 data CHK; 00^05^20^01^12^34 = 0x02
  EXPECT_THAT(encode_command(0x20, 0x01, data),
              ElementsAreArray(hex("AAAAAA9669 0005 2001 1234 02")));
}

TEST(SamReplyEncoding, FindCardOkIsTheDomainExample) {
  EXPECT_THAT(find_card_ok_reply(),
              ElementsAreArray(hex("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97")));
}

TEST(SamReplyEncoding, SelectOkHasEightDataBytes) {
  const auto f = select_card_ok_reply();
  ASSERT_EQ(f.size(), 7u + 0x0C);
  EXPECT_EQ(f[5], 0x00);
  EXPECT_EQ(f[6], 0x0C);
  EXPECT_EQ(f[9], 0x90);
}

TEST(SamReplyEncoding, ReadTextPhotoIs1295Bytes) {
  const auto f = read_text_photo_reply(filled(256, 1), filled(1024, 2));
  ASSERT_EQ(f.size(), 1295u);
  EXPECT_THAT(Bytes(f.begin() + 5, f.begin() + 14), ElementsAreArray(hex("0508 000090 0100 0400")));
}

TEST(SamReplyEncoding, ReadWithFingerprintIsTheLargestLegalFrame) {
  const auto f =
      read_text_photo_fingerprint_reply(filled(256, 1), filled(1024, 2), filled(1024, 3));
  ASSERT_EQ(f.size(), 7u + kMaxReplyLength);
  EXPECT_THAT(Bytes(f.begin() + 5, f.begin() + 16),
              ElementsAreArray(hex("090A 000090 0100 0400 0400")));
  const auto d = decode_all(f);
  ASSERT_EQ(d.replies.size(), 1u);
  EXPECT_TRUE(d.errors.empty());
  EXPECT_EQ(d.replies[0].data.size(), 6u + 256 + 1024 + 1024);
}

TEST(SamReplyEncoding, NoCardReply) {
  EXPECT_THAT(encode_reply(SamStatus::no_card), ElementsAreArray(hex("AAAAAA9669 0004 000080 84")));
}

// ---- status words ----

TEST(SamStatusTable, EveryDomainStatusIsKnown) {
  const std::set<std::uint8_t> domain{0x90, 0x9F, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33,
                                      0x40, 0x41, 0x47, 0x60, 0x66, 0x80, 0x81, 0x91, 0xFF};
  std::set<std::uint8_t> listed;
  std::set<std::string_view> names;
  for (const auto s : all_sam_statuses()) {
    listed.insert(static_cast<std::uint8_t>(s));
    names.insert(to_string(s));
    EXPECT_NE(to_string(s), "unknown");
    EXPECT_NE(describe(s), "unknown status");
    EXPECT_NE(error_code(s), "unknown_status");
  }
  EXPECT_EQ(listed, domain);
  EXPECT_EQ(names.size(), domain.size());
  for (int b = 0; b < 256; ++b) {
    const auto s = sam_status_from_byte(static_cast<std::uint8_t>(b));
    EXPECT_EQ(s.has_value(), domain.contains(static_cast<std::uint8_t>(b))) << b;
    if (s) {
      EXPECT_EQ(static_cast<int>(*s), b);
    }
  }
}

TEST(SamStatusTable, ErrorCodes) {
  EXPECT_EQ(error_code(SamStatus::card_auth_sam_failed), "card_auth_failed");
  EXPECT_EQ(error_code(SamStatus::sam_auth_card_failed), "card_auth_failed");
  EXPECT_EQ(error_code(SamStatus::verification_error), "card_auth_failed");
  EXPECT_EQ(error_code(SamStatus::read_failed), "card_read_failed");
  EXPECT_EQ(error_code(SamStatus::checksum_error), "reader_rejected_frame");
  EXPECT_EQ(error_code(SamStatus::comm_fault), "reader_fault");
  EXPECT_EQ(error_code(SamStatus::no_card), "no_card");
  EXPECT_EQ(to_string(static_cast<SamStatus>(0x55)), "unknown");
}

TEST(SamFrameDecoder, EveryStatusRoundTrips) {
  for (const auto s : all_sam_statuses()) {
    const auto d = decode_all(encode_reply(s));
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_EQ(d.replies[0].status(), s);
    EXPECT_TRUE(d.replies[0].data.empty());
  }
  const auto unknown = decode_all(encode_reply(std::uint8_t{0x55}, {}, 0x01, 0x02));
  ASSERT_EQ(unknown.replies.size(), 1u);
  EXPECT_FALSE(unknown.replies[0].status().has_value());
  EXPECT_EQ(unknown.replies[0].sw1, 0x01);
  EXPECT_EQ(unknown.replies[0].sw2, 0x02);
}

// ---- streaming ----

TEST(SamFrameDecoder, DecodesTheDomainFindReply) {
  const auto d = decode_all(hex("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"));
  ASSERT_EQ(d.replies.size(), 1u);
  EXPECT_EQ(d.replies[0].sw3, 0x9F);
  EXPECT_THAT(d.replies[0].data, ElementsAreArray(Bytes{0, 0, 0, 0}));
}

TEST(SamFrameDecoder, SplitAtEveryByteBoundary) {
  const auto frame = read_text_photo_reply(filled(256, 1), filled(1024, 2));
  const auto expected = decode_all(frame);
  ASSERT_EQ(expected.replies.size(), 1u);
  for (std::size_t cut = 1; cut < frame.size(); ++cut) {
    SamFrameDecoder d;
    d.feed(std::span(frame).first(cut));
    const auto first = d.next();
    ASSERT_FALSE(first.has_value()) << cut;
    EXPECT_EQ(d.mid_frame(), cut >= kPreamble.size()) << cut;
    d.feed(std::span(frame).subspan(cut));
    const auto r = d.next();
    ASSERT_TRUE(r && *r) << cut;
    EXPECT_EQ(**r, expected.replies[0]);
    EXPECT_FALSE(d.next().has_value());
  }
}

TEST(SamFrameDecoder, ByteByByteAndOddPieces) {
  const auto stream = concat({find_card_ok_reply(), select_card_ok_reply(),
                              read_text_photo_reply(filled(256, 4), filled(1024, 5)),
                              encode_reply(SamStatus::no_card)});
  for (const std::size_t piece : {1, 2, 3, 5, 7, 64, 1000}) {
    const auto d = decode_all(stream, piece);
    ASSERT_EQ(d.replies.size(), 4u) << piece;
    EXPECT_TRUE(d.errors.empty()) << piece;
    EXPECT_EQ(d.replies[3].status(), SamStatus::no_card);
  }
}

TEST(SamFrameDecoder, SeveralFramesInOneChunk) {
  const auto d = decode_all(concat({encode_reply(SamStatus::no_card), find_card_ok_reply(),
                                    encode_reply(SamStatus::select_failed)}));
  ASSERT_EQ(d.replies.size(), 3u);
  EXPECT_EQ(d.replies[1].status(), SamStatus::find_success);
  EXPECT_EQ(d.replies[2].status(), SamStatus::select_failed);
}

TEST(SamFrameDecoder, GarbageBeforeAFrameIsOneErrorThenTheFrame) {
  for (const std::size_t piece : {1, 3, 100}) {
    const auto d =
        decode_all(concat({hex("01 02 AA AA 96 AA AA 00 FF"), find_card_ok_reply()}), piece);
    ASSERT_EQ(d.replies.size(), 1u) << piece;
    EXPECT_THAT(d.errors, ElementsAreArray({"garbage"})) << piece;
  }
}

TEST(SamFrameDecoder, APreambleSplitAcrossFeedsAfterGarbage) {
  SamFrameDecoder d;
  d.feed(hex("13 37 AA AA"));
  EXPECT_FALSE(d.next().has_value());
  d.feed(hex("AA 96 69"));
  auto r = d.next();
  ASSERT_TRUE(r && !*r);
  EXPECT_EQ(r->error().code, "garbage");
  EXPECT_EQ(r->error().message, "2 bytes skipped before a frame");
  const auto rest = find_card_ok_reply();
  d.feed(std::span(rest).subspan(kPreamble.size()));
  r = d.next();
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->sw3, 0x9F);
}

TEST(SamFrameDecoder, GarbageAloneWaitsSilently) {
  SamFrameDecoder d;
  const auto junk = filled(5000, 0x10);  // never contains the preamble
  d.feed(junk);
  EXPECT_FALSE(d.next().has_value());
  EXPECT_LT(d.buffered(), kPreamble.size());
  EXPECT_EQ(d.skipped_bytes(), junk.size() - d.buffered());
}

TEST(SamFrameDecoder, BadChecksumDropsTheFrameAndResyncs) {
  auto bad = find_card_ok_reply();
  bad.back() ^= 0x01;
  const auto d = decode_all(concat({bad, encode_reply(SamStatus::no_card)}));
  EXPECT_THAT(d.errors, ElementsAreArray({"bad_checksum"}));
  ASSERT_EQ(d.replies.size(), 1u);
  EXPECT_EQ(d.replies[0].status(), SamStatus::no_card);
}

TEST(SamFrameDecoder, CorruptedBodyIsABadChecksum) {
  auto bad = read_text_photo_reply(filled(256, 1), filled(1024, 2));
  bad[700] ^= 0x40;
  const auto d = decode_all(bad, 17);
  EXPECT_THAT(d.errors, ElementsAreArray({"bad_checksum"}));
  EXPECT_TRUE(d.replies.empty());
}

TEST(SamFrameDecoder, ImpossibleLengthsAreRejectedAtOnce) {
  for (const auto& frame : {hex("AAAAAA9669 0000"), hex("AAAAAA9669 0003 000090 93"),
                            hex("AAAAAA9669 090B"), hex("AAAAAA9669 FFFF")}) {
    SamFrameDecoder d;
    d.feed(frame);
    const auto r = d.next();
    ASSERT_TRUE(r && !*r);
    EXPECT_EQ(r->error().code, "bad_length");
    // Nothing of the bad frame is kept waiting for a body that never comes.
    d.feed(encode_reply(SamStatus::no_card));
    auto next = d.next();
    ASSERT_TRUE(next.has_value());
    ASSERT_TRUE(*next) << next->error().code;  // trailing bytes belong to the bad frame's error
    EXPECT_EQ((*next)->status(), SamStatus::no_card);
  }
}

TEST(SamFrameDecoder, LengthBoundIsConfigurable) {
  SamFrameDecoder d(0x0508);
  d.feed(read_text_photo_fingerprint_reply(filled(256, 1), filled(1024, 2), filled(1024, 3)));
  const auto r = d.next();
  ASSERT_TRUE(r && !*r);
  EXPECT_EQ(r->error().code, "bad_length");
}

TEST(SamFrameDecoder, ResetDropsAPartialFrame) {
  SamFrameDecoder d;
  const auto frame = read_text_photo_reply(filled(256, 1), filled(1024, 2));
  d.feed(std::span(frame).first(600));
  EXPECT_FALSE(d.next().has_value());
  EXPECT_TRUE(d.mid_frame());
  d.reset();
  EXPECT_FALSE(d.mid_frame());
  EXPECT_EQ(d.buffered(), 0u);
  d.feed(encode_reply(SamStatus::no_card));
  const auto r = d.next();
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->status(), SamStatus::no_card);
}

TEST(SamFrameDecoder, TruncatedFrameFollowedByAnotherBecomesABadChecksum) {
  // Without a reset the next frame's bytes are taken as the missing body:
  // the checksum catches it (the session resets on its reply timeout).
  const auto frame = read_text_photo_reply(filled(256, 1), filled(1024, 2));
  Bytes stream(frame.begin(), frame.begin() + 600);
  for (int i = 0; i < 60; ++i) {
    const auto r = read_text_photo_reply(filled(256, 1), filled(1024, 2));
    stream.insert(stream.end(), r.begin(), r.end());
  }
  const auto d = decode_all(stream, 333);
  ASSERT_FALSE(d.errors.empty());
  EXPECT_EQ(d.errors[0], "bad_checksum");
}

TEST(SamCommandDecoder, DecodesHostCommands) {
  SamCommandDecoder d;
  const auto stream = concat({find_card_command(), select_card_command(),
                              read_text_photo_fingerprint_command(), hex("AAAAAA9669 0002 2001")});
  for (const auto b : stream) d.feed(std::span(&b, 1));
  std::vector<SamCommand> got;
  std::vector<std::string> errors;
  while (auto r = d.next()) {
    if (*r)
      got.push_back(**r);
    else
      errors.push_back(r->error().code);
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], (SamCommand{0x20, 0x01, {}}));
  EXPECT_EQ(got[1], (SamCommand{0x20, 0x02, {}}));
  EXPECT_EQ(got[2], (SamCommand{0x30, 0x10, {}}));
  EXPECT_THAT(errors, ElementsAreArray({"bad_length"}));
}

}  // namespace
}  // namespace postgate::adapters::idcard
