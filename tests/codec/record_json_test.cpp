#include "codec/record_json.hpp"

#include <gtest/gtest.h>

namespace postgate::codec {
namespace {

// The published example number of GB 11643; no real person.
constexpr const char* kExampleId = "11010519491231002X";

json submit_record() {
  return json::parse(R"({"ref":"pos-7781","counter":"c1","operator":"op-17",
    "sender":{"name":"张三","doc_type":"resident_id","doc_number":"11010519491231002X"},
    "waybills":["EA123456785CN"],"declared":"books","inspection":"pass"})");
}

TEST(RawAcceptanceFromJson, ParsesTheDocumentedShape) {
  auto raw = raw_acceptance_from_json(submit_record());
  ASSERT_TRUE(raw) << raw.error().message;
  EXPECT_EQ(raw->ref, "pos-7781");
  EXPECT_EQ(raw->counter, "c1");
  EXPECT_EQ(raw->operator_id, "op-17");
  EXPECT_EQ(raw->sender_name, "张三");
  EXPECT_EQ(raw->sender_doc_type, "resident_id");
  EXPECT_EQ(raw->sender_doc_number, kExampleId);
  ASSERT_EQ(raw->waybills.size(), 1u);
  EXPECT_EQ(raw->declared, "books");
  ASSERT_TRUE(raw->inspection);
  EXPECT_EQ(raw->inspection->outcome, core::InspectionOutcome::pass);
}

TEST(RawAcceptanceFromJson, RefIsOptionalAndInspectionMayBeAnObject) {
  auto j = submit_record();
  j.erase("ref");
  j["inspection"] = {{"outcome", "refuse"}, {"category", "01"}, {"note", "replica"}};
  auto raw = raw_acceptance_from_json(j);
  ASSERT_TRUE(raw) << raw.error().message;
  EXPECT_FALSE(raw->ref);
  EXPECT_EQ(raw->inspection->outcome, core::InspectionOutcome::refuse);
  EXPECT_EQ(raw->inspection->refuse_category, "01");
  EXPECT_EQ(raw->inspection->note, "replica");
}

TEST(RawAcceptanceFromJson, MissingInspectionIsLeftToThePolicy) {
  auto j = submit_record();
  j.erase("inspection");
  auto raw = raw_acceptance_from_json(j);
  ASSERT_TRUE(raw);
  EXPECT_FALSE(raw->inspection);
}

struct BadCase {
  const char* name;
  std::function<void(json&)> mutate;
  const char* code;
  const char* field;
};

TEST(RawAcceptanceFromJson, NamesTheFieldOfEveryShapeError) {
  const std::vector<BadCase> cases = {
      {"not an object", [](json& j) { j = json::array(); }, "bad_type", "record"},
      {"unknown top key", [](json& j) { j["colour"] = "red"; }, "unknown_field", "colour"},
      {"missing counter", [](json& j) { j.erase("counter"); }, "missing", "counter"},
      {"numeric operator", [](json& j) { j["operator"] = 17; }, "bad_type", "operator"},
      {"missing sender", [](json& j) { j.erase("sender"); }, "missing", "sender"},
      {"sender string", [](json& j) { j["sender"] = "x"; }, "bad_type", "sender"},
      {"unknown sender key", [](json& j) { j["sender"]["phone"] = "1"; }, "unknown_field",
       "sender.phone"},
      {"missing doc number", [](json& j) { j["sender"].erase("doc_number"); }, "missing",
       "sender.doc_number"},
      {"waybills string", [](json& j) { j["waybills"] = "EA123456785CN"; }, "bad_type", "waybills"},
      {"waybill number",
       [](json& j) {
         j["waybills"] = {"EA123456785CN", 5};
       },
       "bad_type", "waybills[1]"},
      {"missing declared", [](json& j) { j.erase("declared"); }, "missing", "declared"},
      {"bad inspection", [](json& j) { j["inspection"] = "maybe"; }, "bad_value", "inspection"},
      {"bad outcome",
       [](json& j) {
         j["inspection"] = {{"outcome", "ok"}};
       },
       "bad_value", "inspection.outcome"},
      {"bad confirmed",
       [](json& j) {
         j["inspection"] = {{"outcome", "pass"}, {"restricted_confirmed", "yes"}};
       },
       "bad_type", "inspection.restricted_confirmed"},
      {"ref number", [](json& j) { j["ref"] = 5; }, "bad_type", "ref"},
  };
  for (const auto& c : cases) {
    auto j = submit_record();
    c.mutate(j);
    auto raw = raw_acceptance_from_json(j);
    ASSERT_FALSE(raw) << c.name;
    EXPECT_EQ(raw.error().code, c.code) << c.name;
    EXPECT_EQ(raw.error().field, c.field) << c.name;
    EXPECT_FALSE(raw.error().message.empty()) << c.name;
  }
}

core::Record sample_record() {
  core::Record r;
  r.id = *core::Uuid::parse("01890a5d-ac96-774b-bcce-b302099a8057");
  r.seq = 42;
  r.accepted_at = *core::parse_utc("2026-11-23T08:15:30.123Z");
  auto& a = r.acceptance;
  a.ref = "pos-1";
  a.counter = "c1";
  a.operator_id = "op-17";
  a.sender.type = core::DocType::resident_id;
  a.sender.number = kExampleId;
  a.sender.name = "张三";
  a.waybills = {{"EA123456785CN", "upu_s10"}};
  a.declared = "lithium battery";
  a.inspection.outcome = core::InspectionOutcome::pass;
  a.inspection.restricted_confirmed = true;
  a.screening_hits = {{"R1", "lithium batteries", core::Severity::restricted, "lithium battery"}};
  return r;
}

TEST(RecordToJson, ClearFormRoundTrips) {
  const auto r = sample_record();
  const auto j = record_to_json(r, Masking::clear);
  EXPECT_EQ(j["seq"], 42);
  EXPECT_EQ(j["accepted_at"], "2026-11-23T08:15:30.123Z");
  EXPECT_EQ(j["sender"]["doc_number"], kExampleId);
  auto back = record_from_json(j);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->id, r.id);
  EXPECT_EQ(back->seq, r.seq);
  EXPECT_EQ(back->accepted_at, r.accepted_at);
  EXPECT_EQ(back->acceptance.sender.number, kExampleId);
  EXPECT_EQ(back->acceptance.screening_hits, r.acceptance.screening_hits);
  EXPECT_TRUE(back->acceptance.inspection.restricted_confirmed);
  EXPECT_EQ(record_to_json(*back, Masking::clear), j);
}

TEST(RecordToJson, MaskedFormHidesNameAndNumber) {
  const auto j = record_to_json(sample_record(), Masking::masked);
  EXPECT_EQ(j["sender"]["doc_number"], "110105********002X");
  EXPECT_EQ(j["sender"]["name"], "张*");
  EXPECT_EQ(j.dump().find(kExampleId), std::string::npos);
}

TEST(RecordFromJson, RejectsMalformedRecordsWithoutThrowing) {
  EXPECT_FALSE(record_from_json(json::parse("{}")));
  EXPECT_FALSE(record_from_json(json::parse("[1]")));
  auto j = record_to_json(sample_record(), Masking::clear);
  j["id"] = "nope";
  EXPECT_EQ(record_from_json(j).error().field, "id");
  j = record_to_json(sample_record(), Masking::clear);
  j["seq"] = "x";
  EXPECT_FALSE(record_from_json(j));
}

}  // namespace
}  // namespace postgate::codec
