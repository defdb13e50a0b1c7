// Topic and payload handling without a broker: what is stored, what is
// ignored, and which ack would be published.
#include "hq/ingest.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "hq_test_data.hpp"

namespace postgate::hq {
namespace {

using testing::batch_json;
using testing::batch_payload;
using testing::make_records;

class FixedClock final : public core::Clock {
 public:
  core::TimePoint now() const override { return testing::test_time(); }
};

TEST(TopicTest, ParsesPrefixOutletAndKind) {
  auto t = parse_topic("postgate/v1", "postgate/v1/sh-0001/records");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->outlet, "sh-0001");
  EXPECT_EQ(t->kind, Kind::records);
  EXPECT_EQ(parse_topic("postgate/v1", "postgate/v1/sh-0001/status")->kind, Kind::status);
  EXPECT_EQ(parse_topic("postgate/v1", "postgate/v1/sh-0001/telemetry")->kind, Kind::telemetry);
  EXPECT_EQ(parse_topic("postgate/v1", "postgate/v1/sh-0001/events")->kind, Kind::events);
  EXPECT_FALSE(parse_topic("postgate/v1", "postgate/v1/sh-0001/ack"));
  EXPECT_FALSE(parse_topic("postgate/v1", "postgate/v2/sh-0001/records"));
  EXPECT_FALSE(parse_topic("postgate/v1", "postgate/v1/a/b/records"));
  EXPECT_FALSE(parse_topic("postgate/v1", "postgate/v1//records"));
  EXPECT_FALSE(parse_topic("postgate/v1", "postgate/v1x/o/records"));
  EXPECT_FALSE(parse_topic("postgate/v1", "postgate/v1/o.1/records"));
  EXPECT_TRUE(valid_outlet(std::string(64, 'a')));
  EXPECT_FALSE(valid_outlet(std::string(65, 'a')));
}

TEST(ParseBatchTest, EnvelopeErrorsRejectThePayload) {
  core::SplitMix64 random(1);
  const auto good = batch_json("o", make_records(1, 2, random));
  EXPECT_EQ(parse_batch("o", "not json", 1000).error().code, "not_json");
  EXPECT_EQ(parse_batch("o", "[1,2]", 1000).error().code, "bad_shape");
  EXPECT_EQ(parse_batch("o", R"({"outlet":"o"})", 1000).error().code, "bad_shape");
  EXPECT_EQ(parse_batch("o", R"({"batch":[]})", 1000).error().code, "bad_shape");
  EXPECT_EQ(parse_batch("other", good.dump(), 100000).error().code, "outlet_mismatch");
  EXPECT_EQ(parse_batch("o", good.dump(), 100).error().code, "oversize");
  auto ok = parse_batch("o", good.dump(), 100000);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->records.size(), 2u);
  EXPECT_TRUE(ok->rejected.empty());
}

TEST(ParseBatchTest, BadRecordsAreLeftOutOthersKept) {
  core::SplitMix64 random(2);
  auto j = batch_json("o", make_records(1, 4, random));
  j["batch"][1].erase("id");
  j["batch"][2]["seq"] = 0;
  j["batch"].push_back(j["batch"][0]);  // seq 1 twice in one payload
  j["batch"].push_back("a string");
  auto out = parse_batch("o", j.dump(), 1 << 20);
  ASSERT_TRUE(out.has_value());
  ASSERT_EQ(out->records.size(), 2u);
  EXPECT_EQ(out->records[0].seq, 1u);
  EXPECT_EQ(out->records[1].seq, 4u);
  ASSERT_EQ(out->rejected.size(), 4u);
  EXPECT_EQ(out->rejected[0].field, "batch[1]");
  EXPECT_EQ(out->rejected[1].field, "batch[2].seq");
}

class IngestorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hq_ingest_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto s = HqStore::open(dir_ / "hq.db", {});
    ASSERT_TRUE(s.has_value());
    store_.emplace(std::move(*s));
    IngestOptions o;
    o.max_payload_bytes = 64 * 1024;
    ingestor_.emplace(*store_, clock_, o);
  }
  void TearDown() override {
    ingestor_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::optional<std::uint64_t> send(const std::string& outlet, const std::string& payload) {
    auto r = ingestor_->handle("postgate/v1/" + outlet + "/records", payload, false);
    EXPECT_TRUE(r.has_value());
    if (!r || !*r) return std::nullopt;
    EXPECT_EQ((*r)->topic, "postgate/v1/" + outlet + "/ack");
    return json::parse((*r)->payload).at("upto_seq").get<std::uint64_t>();
  }

  std::filesystem::path dir_;
  FixedClock clock_;
  core::SplitMix64 random_{7};
  std::optional<HqStore> store_;
  std::optional<Ingestor> ingestor_;
};

TEST_F(IngestorTest, AcksTheContiguousWatermark) {
  EXPECT_EQ(send("o", batch_payload("o", make_records(1, 5, random_))), 5u);
  EXPECT_EQ(send("o", batch_payload("o", make_records(8, 10, random_))), 5u);
  EXPECT_EQ(send("o", batch_payload("o", make_records(6, 7, random_))), 10u);
}

TEST_F(IngestorTest, NoAckBeforeSeqOneNorForRejectedPayloads) {
  EXPECT_EQ(send("o", batch_payload("o", make_records(2, 3, random_))), std::nullopt);
  EXPECT_EQ(send("o", "{not json"), std::nullopt);
  EXPECT_EQ(send("o", batch_payload("x", make_records(1, 1, random_))), std::nullopt);
  EXPECT_EQ(send("o", std::string(70 * 1024, ' ')), std::nullopt);
  EXPECT_EQ(*store_->watermark("o"), 0u);
  EXPECT_EQ(ingestor_->counters().rejected, 3u);
  auto f = store_->fleet();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ((*f)[0].malformed, 3u);
}

TEST_F(IngestorTest, OneBadRecordDoesNotLoseTheGoodOnes) {
  auto j = batch_json("o", make_records(1, 3, random_));
  j["batch"][1]["sender"] = 5;
  EXPECT_EQ(send("o", j.dump()), 1u);
  auto f = store_->fleet();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ((*f)[0].records, 2u);
  EXPECT_EQ((*f)[0].gaps, (std::vector<Gap>{{2, 2}}));
}

TEST_F(IngestorTest, StatusTelemetryEventsAndStrangers) {
  auto h = [&](const std::string& topic, const std::string& payload, bool retained = false) {
    auto r = ingestor_->handle(topic, payload, retained);
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->has_value());
  };
  h("postgate/v1/o/status", R"({"state":"online","outlet":"o"})", true);
  h("postgate/v1/o/telemetry", R"({"outlet":"o","pending":3})");
  h("postgate/v1/o/events",
    R"({"outlet":"o","id":"e1","kind":"prohibited_item","severity":"alert","message":"m"})");
  h("postgate/v1/o/events", R"({"outlet":"o","kind":"x"})");         // no id: ignored
  h("postgate/v1/o/status", R"({"state":"offline","outlet":"p"})");  // other outlet: ignored
  h("postgate/v1/o/status", "");                                     // retained cleared
  h("somewhere/else", "{}");
  auto f = store_->fleet();
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->size(), 1u);
  EXPECT_EQ((*f)[0].state, "online");
  EXPECT_EQ((*f)[0].telemetry->at("pending"), 3);
  EXPECT_EQ((*f)[0].events, 1u);
  EXPECT_EQ((*f)[0].malformed, 2u);
  EXPECT_EQ(ingestor_->counters().rejected, 3u);
}

}  // namespace
}  // namespace postgate::hq
