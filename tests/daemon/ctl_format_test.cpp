#include "daemon/ctl_format.hpp"

#include <gtest/gtest.h>

namespace postgate::daemon {
namespace {

using json = nlohmann::json;

TEST(CtlSubmit, ValidLineIsWrappedAsIs) {
  std::string err;
  const auto req = submit_request(R"({"counter":"c1"})", 1, err);
  ASSERT_TRUE(req);
  EXPECT_EQ(*req, "{\"op\":\"submit\",\"record\":{\"counter\":\"c1\"}}\n");
  EXPECT_TRUE(err.empty());
  const auto crlf = submit_request("{\"a\":1}\r", 2, err);
  ASSERT_TRUE(crlf);
  EXPECT_TRUE(json::accept(*crlf));
}

TEST(CtlSubmit, NonJsonLineGetsALocalErrorAnswer) {
  std::string err;
  EXPECT_FALSE(submit_request("{oops", 7, err));
  const auto a = json::parse(err);
  EXPECT_EQ(a["ok"], false);
  EXPECT_EQ(a["error"]["code"], "bad_json");
  EXPECT_NE(a["error"]["message"].get<std::string>().find("line 7"), std::string::npos);
  EXPECT_FALSE(answer_ok(err));
}

TEST(CtlSubmit, AnswerOk) {
  EXPECT_TRUE(answer_ok(R"({"ok":true,"id":"x","seq":1})"));
  EXPECT_FALSE(answer_ok(R"({"ok":false})"));
  EXPECT_FALSE(answer_ok(R"({"ok":"yes"})"));
  EXPECT_FALSE(answer_ok("garbage"));
}

TEST(CtlFormat, DisplayWidthCountsWideCharactersTwice) {
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("张*"), 3u);
  EXPECT_EQ(display_width("ＡＢ"), 4u);
}

TEST(CtlFormat, RecordsTableHasTheMaskedColumns) {
  const auto records = json::parse(R"([
    {"seq":2,"accepted_at":"2026-11-23T08:00:01.000Z","counter":"c1",
     "sender":{"name":"张*","doc_type":"resident_id","doc_number":"110105********002X"},
     "waybills":["RA123456785GB","EE473124829CN"],"inspection":{"outcome":"refuse","category":"02"}},
    {"seq":1,"accepted_at":"2026-11-23T08:00:00.000Z","counter":"c1",
     "sender":{"name":"ZHANG *","doc_type":"resident_id","doc_number":"440524********0014"},
     "waybills":["RA123456785GB"],"inspection":{"outcome":"pass"}}])");
  const auto out = format_records(records);
  EXPECT_NE(out.find("SEQ"), std::string::npos);
  EXPECT_NE(out.find("110105********002X"), std::string::npos);
  EXPECT_NE(out.find("RA123456785GB,EE473124829CN"), std::string::npos);
  EXPECT_NE(out.find("refuse:02"), std::string::npos);
  EXPECT_LT(out.find("\n2 "), out.find("\n1 "));  // order kept
  EXPECT_NE(format_records(json::array()).find("(no records)"), std::string::npos);
}

TEST(CtlFormat, StatusSummary) {
  const auto s = json::parse(R"({"outlet":"o1","version":"0.1.0","uptime_s":3725,"records":10,
    "pending":4,"last_seq":10,"storage":{"health":"ok","path":"/x.db","bytes":2048,"last_error":null},
    "devices":[{"name":"demo0","kind":"demo","counter":"c1","state":"running","parcels":3}],
    "counters":[{"id":"c1","state":"ready","operator":"op-1"}],"clients":1})");
  const auto out = format_status(s);
  EXPECT_NE(out.find("o1 (postgated 0.1.0, up 1h 02m)"), std::string::npos) << out;
  EXPECT_NE(out.find("10 (pending 4, last seq 10)"), std::string::npos) << out;
  EXPECT_NE(out.find("ok  /x.db  (2.0 KiB)"), std::string::npos) << out;
  EXPECT_NE(out.find("c1  ready (operator op-1)"), std::string::npos) << out;
  EXPECT_NE(out.find("demo0  demo on c1: running (3 parcels)"), std::string::npos) << out;
}

}  // namespace
}  // namespace postgate::daemon
