// Evidence payloads byte for byte: the chunk header and its refusals, acks
// and requests (docs/protocol.md, "evidence").
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "memory_evidence.hpp"
#include "uplink/evidence_messages.hpp"

namespace postgate::uplink {
namespace {

using nlohmann::json;

core::EvidenceItem sample_item() {
  core::SplitMix64 rng(11);
  core::EvidenceItem it;
  it.captured_at = *core::parse_utc("2026-11-23T08:15:31.000Z");
  it.id = core::make_uuid_v7(it.captured_at, rng);
  it.kind = "xray";
  it.source = "xr-1";
  it.content_type = "image/jpeg";
  it.size = 10;
  it.sha256 = std::string(64, 'a');
  it.record_id = core::make_uuid_v7(it.captured_at, rng);
  it.record_seq = 42;
  it.binding = core::EvidenceBinding::waybill;
  it.meta = {{"verdict", "suspect"}, {"lane", "1"}};
  return it;
}

std::string with_header(const json& h, std::string_view bytes) {
  return h.dump() + "\n" + std::string(bytes);
}

json header_of(const core::EvidenceItem& it, std::uint64_t offset, std::uint64_t len) {
  return json::parse(chunk_header(it, offset, len));
}

TEST(EvidenceTopics, UnderTheOutlet) {
  const auto t = make_evidence_topics("postgate/v1", "sh-0001");
  EXPECT_EQ(t.chunk, "postgate/v1/sh-0001/evidence/chunk");
  EXPECT_EQ(t.ack, "postgate/v1/sh-0001/evidence/ack");
  EXPECT_EQ(t.request, "postgate/v1/sh-0001/evidence/request");
}

TEST(EvidenceChunk, RoundTripsWithBinaryBytes) {
  const auto it = sample_item();
  const std::vector<std::uint8_t> bytes = {0, '\n', 0xff, 'a', 0};
  const auto p = chunk_payload(it, 5, bytes);
  auto c = parse_chunk(p, ChunkLimits{});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->item.id, it.id);
  EXPECT_EQ(c->item.kind, "xray");
  EXPECT_EQ(c->item.source, "xr-1");
  EXPECT_EQ(c->item.content_type, "image/jpeg");
  EXPECT_EQ(c->item.captured_at, it.captured_at);
  EXPECT_EQ(c->item.size, 10u);
  EXPECT_EQ(c->item.sha256, it.sha256);
  EXPECT_EQ(c->item.record_id, it.record_id);
  EXPECT_EQ(c->item.record_seq, 42u);
  EXPECT_EQ(c->item.binding, core::EvidenceBinding::waybill);
  EXPECT_EQ(c->item.meta.at("verdict"), "suspect");
  EXPECT_EQ(c->offset, 5u);
  EXPECT_EQ(c->bytes, std::string_view("\0\n\xff"
                                       "a\0",
                                       5));
  EXPECT_EQ(chunk_id(p), it.id);
}

TEST(EvidenceChunk, HeaderIsTheProtocolsShape) {
  auto it = sample_item();
  const auto h = header_of(it, 0, 10);
  for (const char* k : {"id", "kind", "source", "content_type", "captured_at", "size", "sha256",
                        "record_id", "record_seq", "binding", "offset", "len", "meta"})
    EXPECT_TRUE(h.contains(k)) << k;
  EXPECT_EQ(h["captured_at"], "2026-11-23T08:15:31.000Z");
  it.record_id.reset();
  it.record_seq.reset();
  it.binding = core::EvidenceBinding::unbound;
  const auto u = header_of(it, 0, 10);
  EXPECT_TRUE(u["record_id"].is_null());
  EXPECT_TRUE(u["record_seq"].is_null());
  EXPECT_EQ(u["binding"], "unbound");
  auto c = parse_chunk(with_header(u, "0123456789"), ChunkLimits{});
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->item.record_id);
  EXPECT_FALSE(c->item.record_seq);
}

struct Bad {
  const char* name;
  std::function<std::string()> payload;
  const char* code;
};

TEST(EvidenceChunk, RefusesMalformedChunks) {
  const auto it = sample_item();
  const auto h = header_of(it, 0, 10);
  auto edit = [&](const char* key, json v) {
    json x = h;
    if (v.is_discarded())
      x.erase(key);
    else
      x[key] = std::move(v);
    return x;
  };
  const json gone(json::value_t::discarded);
  const std::vector<Bad> cases = {
      {"no newline", [] { return std::string(9000, 'x'); }, "no_header"},
      {"newline too late", [] { return std::string(8200, ' ') + "{}\nabc"; }, "no_header"},
      {"header not json", [] { return std::string("{nope\n0123456789"); }, "header_not_json"},
      {"header an array", [] { return std::string("[1]\n"); }, "bad_shape"},
      {"no id", [&] { return with_header(edit("id", gone), "0123456789"); }, "bad_field"},
      {"bad id", [&] { return with_header(edit("id", "0193"), "0123456789"); }, "bad_field"},
      {"no kind", [&] { return with_header(edit("kind", gone), "0123456789"); }, "bad_field"},
      {"bad time", [&] { return with_header(edit("captured_at", "yesterday"), "0123456789"); },
       "bad_field"},
      {"negative size", [&] { return with_header(edit("size", -1), "0123456789"); }, "bad_field"},
      {"size as text", [&] { return with_header(edit("size", "10"), "0123456789"); }, "bad_field"},
      {"upper-case sha",
       [&] { return with_header(edit("sha256", std::string(64, 'A')), "0123456789"); },
       "bad_field"},
      {"short sha", [&] { return with_header(edit("sha256", "abc"), "0123456789"); }, "bad_field"},
      {"bad record_id", [&] { return with_header(edit("record_id", 7), "0123456789"); },
       "bad_field"},
      {"bad record_seq", [&] { return with_header(edit("record_seq", "42"), "0123456789"); },
       "bad_field"},
      {"unknown binding", [&] { return with_header(edit("binding", "magic"), "0123456789"); },
       "bad_field"},
      {"meta not object", [&] { return with_header(edit("meta", "x"), "0123456789"); },
       "bad_field"},
      {"no offset", [&] { return with_header(edit("offset", gone), "0123456789"); }, "bad_field"},
      {"no len", [&] { return with_header(edit("len", gone), "0123456789"); }, "bad_field"},
      {"len longer than bytes", [&] { return with_header(h, "012345678"); }, "len_mismatch"},
      {"len shorter than bytes", [&] { return with_header(h, "0123456789A"); }, "len_mismatch"},
      {"beyond size", [&] { return with_header(edit("offset", 1), "0123456789"); }, "beyond_size"},
      {"huge offset", [&] { return with_header(edit("offset", std::uint64_t(-1)), "0123456789"); },
       "beyond_size"},
      {"empty chunk of a non-empty item",
       [&] {
         json x = h;
         x["len"] = 0;
         return with_header(x, "");
       },
       "bad_field"},
  };
  for (const auto& c : cases) {
    auto r = parse_chunk(c.payload(), ChunkLimits{});
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code, c.code) << c.name << ": " << r.error().message;
  }
}

TEST(EvidenceChunk, Limits) {
  auto it = sample_item();
  it.size = 1000;
  ChunkLimits lim;
  lim.max_size = 999;
  auto r = parse_chunk(chunk_payload(it, 0, std::vector<std::uint8_t>(10)), lim);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "too_large");
  lim.max_size = 1000;
  lim.max_len = 9;
  r = parse_chunk(chunk_payload(it, 0, std::vector<std::uint8_t>(10)), lim);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "chunk_too_large");
  lim.max_len = 10;
  EXPECT_TRUE(parse_chunk(chunk_payload(it, 990, std::vector<std::uint8_t>(10)), lim));
}

TEST(EvidenceChunk, IdOfARefusedHeader) {
  const auto it = sample_item();
  json h = header_of(it, 0, 10);
  h["size"] = "big";
  EXPECT_EQ(chunk_id(with_header(h, "0123456789")), it.id);
  EXPECT_FALSE(chunk_id("no newline"));
  EXPECT_FALSE(chunk_id("{\"id\":3}\n"));
}

TEST(EvidenceChunk, MetaKeepsOnlyStrings) {
  auto it = sample_item();
  json h = header_of(it, 0, 10);
  h["meta"] = {{"lane", "2"}, {"score", 0.7}, {"nested", {{"a", 1}}}};
  auto c = parse_chunk(with_header(h, "0123456789"), ChunkLimits{});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->item.meta.size(), 1u);
  EXPECT_EQ(c->item.meta.at("lane"), "2");
}

TEST(EvidenceAck, RoundTrip) {
  const auto it = sample_item();
  for (auto st : {EvidenceAckState::partial, EvidenceAckState::verified, EvidenceAckState::mismatch,
                  EvidenceAckState::rejected}) {
    const EvidenceAck a{it.id, 131072, st, st == EvidenceAckState::rejected ? "too_large" : ""};
    auto p = parse_evidence_ack(evidence_ack_payload(a));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->id, it.id);
    EXPECT_EQ(p->have, 131072u);
    EXPECT_EQ(p->state, st);
    EXPECT_EQ(p->reason, a.reason);
  }
  EXPECT_EQ(json::parse(evidence_ack_payload({it.id, 5, EvidenceAckState::partial, ""})),
            json::parse(R"({"id":")" + it.id.str() + R"(","have":5,"state":"partial"})"));
}

TEST(EvidenceAck, Refusals) {
  const auto id = sample_item().id.str();
  for (const std::string& bad :
       {std::string("nope"), std::string("[]"), std::string(R"({"have":1,"state":"partial"})"),
        R"({"id":")" + id + R"(","state":"partial"})",
        R"({"id":")" + id + R"(","have":-4,"state":"partial"})",
        R"({"id":")" + id + R"(","have":4,"state":"done"})",
        R"({"id":")" + id + R"(","have":4,"state":"partial","pad":")" + std::string(5000, 'x') +
            "\"}"})
    EXPECT_FALSE(parse_evidence_ack(bad)) << bad.substr(0, 80);
}

TEST(EvidenceRequest, ByIdOrSeq) {
  const auto it = sample_item();
  auto r = parse_evidence_request(evidence_request_payload({it.record_id, std::nullopt}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->record_id, it.record_id);
  EXPECT_FALSE(r->record_seq);
  r = parse_evidence_request(R"({"record_seq":42})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->record_seq, 42u);
  for (const char* bad : {"{}", R"({"record_seq":0})", R"({"record_seq":"42"})",
                          R"({"record_id":"nope"})", "42", "not json"})
    EXPECT_FALSE(parse_evidence_request(bad)) << bad;
}

}  // namespace
}  // namespace postgate::uplink
