#include "core/acceptance_policy.hpp"

#include <gtest/gtest.h>

#include "core/synthetic.hpp"

namespace postgate::core {
namespace {

using namespace std::chrono;

constexpr Date kToday{year{2026}, November, day{23}};

AcceptancePolicy make_policy() {
  auto waybills = WaybillValidator::create({{"sf", "^SF[0-9]{12}$"}}, true);
  Screener screener("test-1",
                    {{"01", "firearms", Severity::prohibited, {"gun", "枪"}},
                     {"R1", "lithium batteries", Severity::restricted, {"power bank", "充电宝"}}});
  return AcceptancePolicy(std::move(*waybills), std::move(screener), {"c1", "c2"});
}

RawAcceptance good_raw() {
  SplitMix64 random(7);
  const auto person = make_person(random, kToday);
  RawAcceptance raw;
  raw.ref = "pos-1";
  raw.counter = "c1";
  raw.operator_id = "op-17";
  raw.sender_name = person.name;
  raw.sender_doc_type = "resident_id";
  raw.sender_doc_number = person.resident_id;
  raw.waybills = {make_s10(random), "SF123456789012"};
  raw.declared = "books";
  raw.inspection = Inspection{};
  return raw;
}

TEST(AcceptancePolicy, AcceptsAValidAcceptance) {
  const auto policy = make_policy();
  auto a = policy.validate(good_raw(), kToday);
  ASSERT_TRUE(a) << a.error().code << ": " << a.error().message;
  EXPECT_EQ(a->counter, "c1");
  EXPECT_EQ(a->sender.type, DocType::resident_id);
  ASSERT_EQ(a->waybills.size(), 2u);
  EXPECT_EQ(a->waybills[0].carrier, "upu_s10");
  EXPECT_EQ(a->waybills[1].carrier, "sf");
  EXPECT_TRUE(a->screening_hits.empty());
  EXPECT_EQ(a->ref, "pos-1");
}

struct Case {
  const char* name;
  std::function<void(RawAcceptance&)> mutate;
  const char* code;
  const char* field;
};

TEST(AcceptancePolicy, RejectsEachBadFieldWithItsPath) {
  const auto policy = make_policy();
  const std::vector<Case> cases = {
      {"unknown counter", [](auto& r) { r.counter = "c9"; }, "unknown_counter", "counter"},
      {"empty counter", [](auto& r) { r.counter = ""; }, "missing", "counter"},
      {"empty operator", [](auto& r) { r.operator_id = " "; }, "missing", "operator"},
      {"control char", [](auto& r) { r.operator_id = "op\n17"; }, "bad_text", "operator"},
      {"unknown doc type", [](auto& r) { r.sender_doc_type = "library_card"; }, "unknown_doc_type",
       "sender.doc_type"},
      {"bad check digit",
       [](auto& r) { r.sender_doc_number.back() = r.sender_doc_number.back() == '1' ? '2' : '1'; },
       "bad_check_digit", "sender.doc_number"},
      {"empty name", [](auto& r) { r.sender_name = ""; }, "bad_name", "sender.name"},
      {"no waybill", [](auto& r) { r.waybills.clear(); }, "no_waybill", "waybills"},
      {"duplicate waybill", [](auto& r) { r.waybills.push_back(r.waybills[0]); },
       "duplicate_waybill", "waybills[2]"},
      {"garbage waybill", [](auto& r) { r.waybills[1] = "hello?"; }, nullptr, "waybills[1]"},
      {"empty declared", [](auto& r) { r.declared = ""; }, "missing", "declared"},
      {"long declared", [](auto& r) { r.declared = std::string(600, 'a'); }, "too_long",
       "declared"},
      {"no inspection", [](auto& r) { r.inspection.reset(); }, "inspection_required", "inspection"},
      {"refuse without category",
       [](auto& r) { r.inspection->outcome = InspectionOutcome::refuse; },
       "refuse_category_required", "inspection.category"},
      {"refuse unknown category",
       [](auto& r) {
         r.inspection->outcome = InspectionOutcome::refuse;
         r.inspection->refuse_category = "77";
       },
       "unknown_category", "inspection.category"},
      {"prohibited", [](auto& r) { r.declared = "toy gun"; }, "prohibited_item", "declared"},
      {"restricted unconfirmed", [](auto& r) { r.declared = "充电宝 x2"; },
       "restricted_needs_confirmation", "inspection"},
      {"long ref", [](auto& r) { r.ref = std::string(200, 'r'); }, "too_long", "ref"},
  };
  for (const auto& c : cases) {
    auto raw = good_raw();
    c.mutate(raw);
    auto a = policy.validate(raw, kToday);
    ASSERT_FALSE(a) << c.name;
    if (c.code) {
      EXPECT_EQ(a.error().code, c.code) << c.name;
    }
    EXPECT_EQ(a.error().field, c.field) << c.name << " (" << a.error().code << ")";
    EXPECT_FALSE(a.error().message.empty()) << c.name;
  }
}

TEST(AcceptancePolicy, ErrorMessagesNeverCarryTheDocumentNumber) {
  const auto policy = make_policy();
  auto raw = good_raw();
  raw.sender_doc_number.back() = raw.sender_doc_number.back() == '1' ? '2' : '1';
  auto a = policy.validate(raw, kToday);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().message.find(raw.sender_doc_number), std::string::npos);
}

TEST(AcceptancePolicy, ConfirmedRestrictedItemPassesAndKeepsTheHit) {
  const auto policy = make_policy();
  auto raw = good_raw();
  raw.declared = "phone and power bank";
  raw.inspection->restricted_confirmed = true;
  auto a = policy.validate(raw, kToday);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_EQ(a->screening_hits.size(), 1u);
  EXPECT_EQ(a->screening_hits[0].category, "R1");
}

TEST(AcceptancePolicy, RefusalOfAProhibitedItemIsRecordedForAudit) {
  const auto policy = make_policy();
  auto raw = good_raw();
  raw.declared = "replica gun";
  raw.inspection->outcome = InspectionOutcome::refuse;
  raw.inspection->refuse_category = "01";
  auto a = policy.validate(raw, kToday);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->inspection.outcome, InspectionOutcome::refuse);
  ASSERT_EQ(a->screening_hits.size(), 1u);
  EXPECT_EQ(a->screening_hits[0].severity, Severity::prohibited);
}

TEST(AcceptancePolicy, ADeviceDocumentWinsOverTheTextFields) {
  const auto policy = make_policy();
  auto raw = good_raw();
  auto doc = validate_identity(DocType::resident_id, "11010519491231002X", "测试", kToday);
  ASSERT_TRUE(doc);
  raw.sender_document = *doc;
  raw.sender_doc_type = "";
  raw.sender_doc_number = "";
  auto a = policy.validate(raw, kToday);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->sender.number, "11010519491231002X");
}

}  // namespace
}  // namespace postgate::core
