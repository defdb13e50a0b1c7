#include "daemon/api_protocol.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace postgate::daemon {
namespace {

class FakeBackend : public ApiBackend {
 public:
  std::vector<core::RawAcceptance> submits;
  int statuses = 0;
  std::vector<RecordsQuery> queries;
  void submit(core::RawAcceptance raw, Reply reply) override {
    submits.push_back(std::move(raw));
    reply(json{{"ok", true}, {"id", "x"}, {"seq", submits.size()}});
  }
  void status(Reply reply) override {
    ++statuses;
    reply(json{{"ok", true}, {"status", json::object()}});
  }
  void records(RecordsQuery q, Reply reply) override {
    queries.push_back(q);
    reply(json{{"ok", true}, {"records", json::array()}});
  }
  void devices(Reply reply) override { reply(json{{"ok", true}, {"devices", json::array()}}); }
};

class Dispatch : public ::testing::Test {
 protected:
  FakeBackend backend;
  json run(std::string_view line) {
    std::optional<json> answer;
    int calls = 0;
    dispatch_line(line, backend, [&](json a) {
      answer = std::move(a);
      ++calls;
    });
    EXPECT_EQ(calls, 1) << line;
    return answer.value_or(json());
  }
  static std::string code(const json& a) { return a.at("error").at("code").get<std::string>(); }
  static std::string field(const json& a) { return a.at("error").at("field").get<std::string>(); }
};

constexpr const char* kRecord =
    R"({"ref":"pos-7781","counter":"c1","operator":"op-17",)"
    R"("sender":{"name":"ZHANG SAN","doc_type":"resident_id","doc_number":"11010519491231002X"},)"
    R"("waybills":["RA123456785GB"],"declared":"books","inspection":"pass"})";

TEST_F(Dispatch, MalformedJsonIsBadJson) {
  for (const char* line : {"{", "not json", "{\"op\":\"status\"", "\xff\xfe"}) {
    const auto a = run(line);
    EXPECT_FALSE(a.at("ok").get<bool>());
    EXPECT_EQ(code(a), "bad_json") << line;
  }
}

TEST_F(Dispatch, NonObjectOrMissingOpIsBadRequest) {
  EXPECT_EQ(code(run("[1,2]")), "bad_request");
  EXPECT_EQ(code(run("42")), "bad_request");
  EXPECT_EQ(code(run("{}")), "bad_request");
  EXPECT_EQ(field(run("{}")), "op");
  EXPECT_EQ(code(run(R"({"op":7})")), "bad_request");
}

TEST_F(Dispatch, UnknownOp) {
  const auto a = run(R"({"op":"launch"})");
  EXPECT_EQ(code(a), "unknown_op");
  EXPECT_NE(a["error"]["message"].get<std::string>().find("submit, status, records"),
            std::string::npos);
}

TEST_F(Dispatch, UnknownEnvelopeKeyIsBadRequest) {
  const auto a = run(R"({"op":"status","verbose":true})");
  EXPECT_EQ(code(a), "bad_request");
  EXPECT_EQ(field(a), "verbose");
  EXPECT_EQ(backend.statuses, 0);
}

TEST_F(Dispatch, SubmitGoesToTheBackendWithTheParsedRecord) {
  const auto a = run(std::string(R"({"op":"submit","record":)") + kRecord + "}");
  EXPECT_TRUE(a.at("ok").get<bool>());
  ASSERT_EQ(backend.submits.size(), 1u);
  EXPECT_EQ(backend.submits[0].ref, "pos-7781");
  EXPECT_EQ(backend.submits[0].counter, "c1");
  EXPECT_EQ(backend.submits[0].sender_doc_number, "11010519491231002X");
  EXPECT_EQ(backend.submits[0].waybills, std::vector<std::string>{"RA123456785GB"});
}

TEST_F(Dispatch, SubmitWithoutRecordObject) {
  EXPECT_EQ(field(run(R"({"op":"submit"})")), "record");
  EXPECT_EQ(field(run(R"({"op":"submit","record":"x"})")), "record");
  EXPECT_TRUE(backend.submits.empty());
}

TEST_F(Dispatch, SubmitShapeErrorsNameTheRecordField) {
  const auto a = run(R"({"op":"submit","record":{"counter":"c1","operator":"op-17",)"
                     R"("sender":{"name":"A","doc_type":"resident_id","doc_number":5},)"
                     R"("waybills":[],"declared":"x","inspection":"pass"}})");
  EXPECT_FALSE(a.at("ok").get<bool>());
  EXPECT_EQ(field(a), "sender.doc_number");
  EXPECT_TRUE(backend.submits.empty());
}

TEST_F(Dispatch, Status) {
  EXPECT_TRUE(run(R"({"op":"status"})").at("ok").get<bool>());
  EXPECT_EQ(backend.statuses, 1);
}

TEST_F(Dispatch, RecordsDefaultsAndLimits) {
  run(R"({"op":"records"})");
  run(R"({"op":"records","pending":true,"limit":1000,"after":5})");
  ASSERT_EQ(backend.queries.size(), 2u);
  EXPECT_FALSE(backend.queries[0].pending);
  EXPECT_EQ(backend.queries[0].limit, kRecordsDefaultLimit);
  EXPECT_TRUE(backend.queries[1].pending);
  EXPECT_EQ(backend.queries[1].limit, 1000u);
  EXPECT_EQ(backend.queries[1].after, 5u);

  EXPECT_EQ(field(run(R"({"op":"records","limit":0})")), "limit");
  EXPECT_EQ(field(run(R"({"op":"records","limit":1001})")), "limit");
  EXPECT_EQ(field(run(R"({"op":"records","limit":"5"})")), "limit");
  EXPECT_EQ(field(run(R"({"op":"records","pending":1})")), "pending");
  EXPECT_EQ(field(run(R"({"op":"records","after":3})")), "after");
  EXPECT_EQ(field(run(R"({"op":"records","pending":true,"after":-1})")), "after");
  EXPECT_EQ(backend.queries.size(), 2u);
}

TEST(EncodeLine, OneLineAndInvalidUtf8DoesNotThrow) {
  const auto s = encode_line(json{{"ok", false}, {"text", std::string("a\nb\xff")}});
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s.back(), '\n');
  EXPECT_EQ(s.find('\n'), s.size() - 1);
}

}  // namespace
}  // namespace postgate::daemon
