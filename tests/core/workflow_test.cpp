// One test (or a few) per row of the transition table in docs/workflow.md.
// The clock is a TimePoint advanced by hand; the policy is small and local.
#include "core/workflow.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "core/synthetic.hpp"

namespace postgate::core {
namespace {

using namespace std::chrono_literals;
using S = CounterState;

const Date kToday{std::chrono::year{2026}, std::chrono::month{11}, std::chrono::day{23}};

// Sender A: the published example number (DOMAIN.md section 3) and a
// placeholder name. Sender B: synthetic (the other published example is born
// in 1880, which validation rightly refuses).
const std::string kDocA = "11010519491231002X";
const std::string kNameA = "张三";
const SyntheticPerson& person_b() {
  static const SyntheticPerson p = [] {
    SplitMix64 random(20261123);
    return make_person(random, kToday);
  }();
  return p;
}
const std::string kDocB = person_b().resident_id;
const std::string kNameB = person_b().name;

// S10 examples from DOMAIN.md; more waybills come from the "sf" carrier rule.
constexpr const char* kW1 = "RA123456785GB";
constexpr const char* kW2 = "EE473124829CN";
constexpr const char* kW3 = "SF000000000003";

constexpr const char* kKnife = "02";    // prohibited
constexpr const char* kBattery = "R1";  // restricted

AcceptancePolicy make_policy() {
  auto waybills = WaybillValidator::create({{"sf", "SF[0-9]{12}"}}, true);
  EXPECT_TRUE(waybills.has_value());
  Screener screener("test-1",
                    {
                        {kKnife, "controlled knives", Severity::prohibited, {"knife"}},
                        {kBattery, "lithium batteries", Severity::restricted, {"battery"}},
                    });
  return AcceptancePolicy(std::move(*waybills), std::move(screener), {"c1"});
}

IdentityDocument doc(const std::string& number, const std::string& name) {
  auto d = validate_identity(DocType::resident_id, number, name, kToday);
  EXPECT_TRUE(d.has_value()) << (d ? "" : d.error().message);
  return *d;
}

class WorkflowTest : public ::testing::Test {
 protected:
  AcceptancePolicy policy = make_policy();
  WorkflowSettings settings;  // defaults: PG:, 120 s, 300 s
  CounterWorkflow wf{"c1", settings, policy};
  TimePoint now = std::chrono::sys_days{kToday} + 2h;
  std::vector<WorkflowEffect> last;
  std::vector<Prompt> all_prompts;

  const std::vector<WorkflowEffect>& send(const WorkflowEvent& e, std::chrono::seconds dt = 1s) {
    now += dt;
    last = wf.handle(e, now);
    for (const auto& eff : last)
      if (auto p = std::get_if<Prompt>(&eff)) all_prompts.push_back(*p);
    return last;
  }
  const std::vector<WorkflowEffect>& scan(const std::string& text, std::chrono::seconds dt = 1s) {
    return send(BarcodeScanned{text}, dt);
  }
  const std::vector<WorkflowEffect>& read(const std::string& number = kDocA,
                                          const std::string& name = kNameA) {
    return send(IdentityRead{doc(number, name)});
  }

  std::vector<std::string> codes() const {
    std::vector<std::string> out;
    for (const auto& e : last)
      if (auto p = std::get_if<Prompt>(&e)) out.push_back(p->code);
    return out;
  }
  bool said(const std::string& code) const {
    const auto c = codes();
    return std::find(c.begin(), c.end(), code) != c.end();
  }
  const Prompt* prompt(const std::string& code) const {
    for (const auto& e : last)
      if (auto p = std::get_if<Prompt>(&e); p && p->code == code) return p;
    return nullptr;
  }
  const Commit* commit() const {
    for (const auto& e : last)
      if (auto c = std::get_if<Commit>(&e)) return c;
    return nullptr;
  }

  // ---- reaching each state ----
  void to_ready() {
    scan("PG:OP:op-17");
    ASSERT_EQ(wf.state(), S::ready);
  }
  void to_identified() {
    to_ready();
    read();
    ASSERT_EQ(wf.state(), S::identified);
  }
  void to_collecting(const std::string& declared = "books") {
    to_identified();
    scan(kW1);
    if (!declared.empty()) scan("PG:DECL:" + declared);
    ASSERT_EQ(wf.state(), S::collecting);
  }
  void to_confirm() {
    to_collecting("battery");
    scan("PG:OK");
    ASSERT_EQ(wf.state(), S::confirm_restricted);
  }
  void to_committing() {
    to_collecting();
    scan("PG:OK");
    ASSERT_EQ(wf.state(), S::committing);
  }
};

// ---------------------------------------------------------------- logged_out

TEST_F(WorkflowTest, StartsLoggedOut) {
  EXPECT_EQ(wf.state(), S::logged_out);
  EXPECT_FALSE(wf.operator_id());
  EXPECT_EQ(wf.counter_id(), "c1");
}

TEST_F(WorkflowTest, LoggedOutOperatorBadgeLogsIn) {
  scan("PG:OP:op-17");
  EXPECT_EQ(wf.state(), S::ready);
  EXPECT_EQ(wf.operator_id(), "op-17");
  EXPECT_TRUE(said("logged_in"));
}

TEST_F(WorkflowTest, LoggedOutBadOperatorBadgeIsRefused) {
  for (const char* bad : {"PG:OP:", "PG:OP:a b", "PG:OP:\x01"}) {
    scan(bad);
    EXPECT_TRUE(said("bad_operator_badge")) << bad;
    EXPECT_EQ(wf.state(), S::logged_out);
  }
  scan("PG:OP:" + std::string(65, 'x'));
  EXPECT_TRUE(said("bad_operator_badge"));
}

TEST_F(WorkflowTest, LoggedOutEverythingElseAsksForTheBadge) {
  for (const char* text :
       {kW1, "PG:OK", "PG:CANCEL", "PG:DONE", "PG:LOGOUT", "PG:DECL:books", "PG:REFUSE:02"}) {
    scan(text);
    EXPECT_EQ(codes(), std::vector<std::string>{"login_first"}) << text;
    EXPECT_EQ(wf.state(), S::logged_out);
  }
  read();
  EXPECT_EQ(codes(), std::vector<std::string>{"login_first"});
  EXPECT_FALSE(wf.has_identity());  // a document read before login is not kept
}

// --------------------------------------------------------------------- ready

TEST_F(WorkflowTest, ReadyIdentityReadIdentifies) {
  to_ready();
  read();
  EXPECT_EQ(wf.state(), S::identified);
  EXPECT_TRUE(wf.has_identity());
  ASSERT_TRUE(prompt("identity_read"));
  EXPECT_EQ(prompt("identity_read")->level, PromptLevel::ok);
  // masked: surname and number ends only
  EXPECT_NE(prompt("identity_read")->message.find("张*"), std::string::npos);
  EXPECT_NE(prompt("identity_read")->message.find("110105********002X"), std::string::npos);
}

TEST_F(WorkflowTest, ReadyWaybillAsksForTheIdFirstAndKeepsNothing) {
  to_ready();
  scan(kW1);
  EXPECT_EQ(codes(), std::vector<std::string>{"read_id_first"});
  EXPECT_EQ(wf.state(), S::ready);
  EXPECT_TRUE(wf.waybills().empty());
  read();
  EXPECT_TRUE(wf.waybills().empty());  // the early scan was not remembered
}

TEST_F(WorkflowTest, ReadyParcelControlsAskForTheIdFirst) {
  to_ready();
  for (const char* text : {"PG:OK", "PG:REFUSE:02", "PG:DECL:books"}) {
    scan(text);
    EXPECT_EQ(codes(), std::vector<std::string>{"read_id_first"}) << text;
    EXPECT_EQ(wf.state(), S::ready);
  }
}

TEST_F(WorkflowTest, ReadyCancelHasNothingToCancel) {
  to_ready();
  scan("PG:CANCEL");
  EXPECT_TRUE(said("nothing_to_cancel"));
  EXPECT_EQ(wf.state(), S::ready);
}

TEST_F(WorkflowTest, ReadyDoneIsHarmless) {
  to_ready();
  scan("PG:DONE");
  EXPECT_TRUE(said("done"));
  EXPECT_EQ(wf.state(), S::ready);
}

TEST_F(WorkflowTest, ReadyLogoutLogsOut) {
  to_ready();
  scan("PG:LOGOUT");
  EXPECT_TRUE(said("logged_out"));
  EXPECT_EQ(wf.state(), S::logged_out);
  EXPECT_FALSE(wf.operator_id());
}

TEST_F(WorkflowTest, ReadySameBadgeAgainIsInfo) {
  to_ready();
  scan("PG:OP:op-17");
  EXPECT_TRUE(said("already_logged_in"));
  EXPECT_EQ(prompt("already_logged_in")->level, PromptLevel::info);
  EXPECT_EQ(wf.state(), S::ready);
}

TEST_F(WorkflowTest, ReadyOtherBadgeSwitchesOperator) {
  to_ready();
  scan("PG:OP:op-18");
  EXPECT_TRUE(said("logged_in"));
  EXPECT_EQ(wf.operator_id(), "op-18");
  EXPECT_EQ(wf.state(), S::ready);
}

// ---------------------------------------------------------------- identified

TEST_F(WorkflowTest, IdentifiedWaybillOpensParcel) {
  to_identified();
  scan(kW1);
  EXPECT_EQ(wf.state(), S::collecting);
  EXPECT_TRUE(said("waybill_added"));
  EXPECT_EQ(wf.waybills(), std::vector<std::string>{kW1});
}

TEST_F(WorkflowTest, WaybillIsNormalised) {
  to_identified();
  scan("  ra123456785gb\r\n");
  EXPECT_TRUE(said("waybill_added"));
  EXPECT_EQ(wf.waybills(), std::vector<std::string>{kW1});
}

TEST_F(WorkflowTest, IdentifiedInvalidWaybillIsRejectedAndNotKept) {
  to_identified();
  scan("RA123456784GB");  // wrong S10 check digit
  EXPECT_EQ(codes(), std::vector<std::string>{"waybill_invalid"});
  EXPECT_EQ(prompt("waybill_invalid")->level, PromptLevel::error);
  EXPECT_NE(prompt("waybill_invalid")->message.find("not a valid waybill"), std::string::npos);
  EXPECT_EQ(prompt("waybill_invalid")->message.find("RA123456784GB"), std::string::npos);
  EXPECT_EQ(wf.state(), S::identified);
  EXPECT_TRUE(wf.waybills().empty());
  scan("hello");
  EXPECT_TRUE(said("waybill_invalid"));
}

TEST_F(WorkflowTest, IdentifiedDeclOpensParcel) {
  to_identified();
  scan("PG:DECL:books");
  EXPECT_EQ(wf.state(), S::collecting);
  EXPECT_EQ(wf.declared(), "books");
  scan("PG:OK");
  EXPECT_TRUE(said("no_waybill"));  // contents first is fine, a waybill is still needed
  scan(kW1);
  scan("PG:OK");
  EXPECT_TRUE(commit());
}

TEST_F(WorkflowTest, IdentifiedOkOrRefuseNeedAWaybill) {
  to_identified();
  scan("PG:OK");
  EXPECT_EQ(codes(), std::vector<std::string>{"no_waybill"});
  scan(std::string("PG:REFUSE:") + kKnife);
  EXPECT_EQ(codes(), std::vector<std::string>{"no_waybill"});
  EXPECT_EQ(wf.state(), S::identified);
}

TEST_F(WorkflowTest, IdentifiedSameIdAgainIsInfoAndRestartsKeep) {
  to_identified();
  send(Tick{}, 200s);
  read();
  EXPECT_EQ(codes(), std::vector<std::string>{"identity_same"});
  EXPECT_EQ(prompt("identity_same")->level, PromptLevel::info);
  send(Tick{}, 200s);  // 400 s after the first read, 200 s after the second
  EXPECT_EQ(wf.state(), S::identified);
}

TEST_F(WorkflowTest, IdentifiedOtherIdReplacesAndForgetsEarlierParcels) {
  to_collecting();
  scan("PG:OK");
  send(CommitSucceeded{7});
  read(kDocB, kNameB);
  EXPECT_TRUE(said("identity_replaced"));
  EXPECT_EQ(wf.state(), S::identified);
  scan(kW1);  // committed for A, not B: no warning
  EXPECT_EQ(codes(), std::vector<std::string>{"waybill_added"});
}

TEST_F(WorkflowTest, IdentifiedCancelForgetsIdentity) {
  to_identified();
  scan("PG:CANCEL");
  EXPECT_TRUE(said("identity_cancelled"));
  EXPECT_EQ(wf.state(), S::ready);
  EXPECT_FALSE(wf.has_identity());
}

TEST_F(WorkflowTest, IdentifiedDoneForgetsIdentity) {
  to_identified();
  scan("PG:DONE");
  EXPECT_TRUE(said("done"));
  EXPECT_EQ(wf.state(), S::ready);
  EXPECT_FALSE(wf.has_identity());
}

TEST_F(WorkflowTest, IdentifiedLogoutForgetsIdentity) {
  to_identified();
  scan("PG:LOGOUT");
  EXPECT_EQ(wf.state(), S::logged_out);
  EXPECT_FALSE(wf.has_identity());
}

TEST_F(WorkflowTest, IdentifiedOperatorSwitchForgetsIdentity) {
  to_identified();
  scan("PG:OP:op-18");
  EXPECT_TRUE(said("logged_in"));
  EXPECT_EQ(wf.operator_id(), "op-18");
  EXPECT_EQ(wf.state(), S::ready);
  EXPECT_FALSE(wf.has_identity());
}

// ---------------------------------------------------------------- collecting

TEST_F(WorkflowTest, CollectingMoreWaybills) {
  to_collecting();
  scan(kW2);
  scan(kW3);
  EXPECT_TRUE(said("waybill_added"));
  EXPECT_EQ(wf.waybills(), (std::vector<std::string>{kW1, kW2, kW3}));
  scan("PG:OK");
  ASSERT_TRUE(commit());
  EXPECT_EQ(commit()->acceptance.waybills.size(), 3u);
}

TEST_F(WorkflowTest, CollectingDuplicateWaybillWarns) {
  to_collecting();
  scan(kW1);
  EXPECT_EQ(codes(), std::vector<std::string>{"waybill_duplicate"});
  EXPECT_EQ(prompt("waybill_duplicate")->level, PromptLevel::warning);
  EXPECT_EQ(wf.waybills().size(), 1u);
}

TEST_F(WorkflowTest, CollectingDeclJoinsAndSkipsRepeats) {
  to_collecting("books");
  scan("PG:DECL:clothes");
  EXPECT_EQ(wf.declared(), "books, clothes");
  scan("PG:DECL:books");
  EXPECT_EQ(codes(), std::vector<std::string>{"declared_same"});
  EXPECT_EQ(wf.declared(), "books, clothes");
  scan("PG:DECL:clothes, shoes");
  EXPECT_EQ(wf.declared(), "books, clothes, shoes");
}

TEST_F(WorkflowTest, CollectingEmptyDeclClears) {
  to_collecting("books");
  scan("PG:DECL:");
  EXPECT_TRUE(said("declared_cleared"));
  EXPECT_EQ(wf.declared(), "");
  EXPECT_EQ(wf.state(), S::collecting);  // the waybill is still there
  scan("PG:OK");
  EXPECT_TRUE(said("no_declared"));
}

TEST_F(WorkflowTest, EmptyDeclClosesAParcelOfOnlyContents) {
  to_identified();
  scan("PG:DECL:books");
  scan("PG:DECL:");
  EXPECT_EQ(wf.state(), S::identified);
}

TEST_F(WorkflowTest, CollectingOkNeedsDeclaredContents) {
  to_collecting("");
  scan("PG:OK");
  EXPECT_EQ(codes(), std::vector<std::string>{"no_declared"});
  EXPECT_EQ(wf.state(), S::collecting);
}

TEST_F(WorkflowTest, CollectingOkCommitsValidatedAcceptance) {
  to_collecting("books");
  scan(kW2);
  scan("PG:OK");
  EXPECT_EQ(wf.state(), S::committing);
  EXPECT_TRUE(said("committing"));
  ASSERT_TRUE(commit());
  const auto& a = commit()->acceptance;
  EXPECT_EQ(a.counter, "c1");
  EXPECT_EQ(a.operator_id, "op-17");
  EXPECT_EQ(a.sender.number, kDocA);
  EXPECT_EQ(a.sender.name, kNameA);
  ASSERT_EQ(a.waybills.size(), 2u);
  EXPECT_EQ(a.waybills[0].number, kW1);
  EXPECT_EQ(a.waybills[0].carrier, "upu_s10");
  EXPECT_EQ(a.declared, "books");
  EXPECT_EQ(a.inspection.outcome, InspectionOutcome::pass);
  EXPECT_FALSE(a.inspection.restricted_confirmed);
  EXPECT_TRUE(a.screening_hits.empty());
  ASSERT_TRUE(a.ref);
  EXPECT_EQ(a.ref->rfind("wf-c1-", 0), 0u);
}

TEST_F(WorkflowTest, CollectingOkProhibitedIsBlocked) {
  to_collecting("kitchen knife");
  scan("PG:OK");
  EXPECT_EQ(codes(), std::vector<std::string>{"prohibited_item"});
  EXPECT_EQ(prompt("prohibited_item")->level, PromptLevel::error);
  EXPECT_NE(prompt("prohibited_item")->message.find("controlled knives"), std::string::npos);
  EXPECT_FALSE(commit());
  EXPECT_EQ(wf.state(), S::collecting);
  scan("PG:OK");  // no amount of OK gets it through
  EXPECT_FALSE(commit());
}

TEST_F(WorkflowTest, CollectingOkRestrictedAsksForConfirmation) {
  to_collecting("battery");
  scan("PG:OK");
  EXPECT_EQ(wf.state(), S::confirm_restricted);
  EXPECT_FALSE(commit());
  ASSERT_TRUE(prompt("restricted_confirm"));
  EXPECT_EQ(prompt("restricted_confirm")->message,
            "restricted item (lithium batteries): inspect and scan OK again to confirm");
}

TEST_F(WorkflowTest, CollectingOkPolicyFailureStaysCollecting) {
  to_collecting(std::string(600, 'a'));  // the policy caps declared at 512 bytes
  scan("PG:OK");
  EXPECT_FALSE(commit());
  EXPECT_EQ(codes(), std::vector<std::string>{"too_long"});
  EXPECT_EQ(prompt("too_long")->level, PromptLevel::error);
  EXPECT_EQ(wf.state(), S::collecting);
}

TEST_F(WorkflowTest, UnconfiguredCounterFailsThroughThePolicy) {
  CounterWorkflow other{"c9", settings, policy};
  other.handle(BarcodeScanned{"PG:OP:op-17"}, now);
  other.handle(IdentityRead{doc(kDocA, kNameA)}, now);
  other.handle(BarcodeScanned{kW1}, now);
  other.handle(BarcodeScanned{"PG:DECL:books"}, now);
  const auto effects = other.handle(BarcodeScanned{"PG:OK"}, now);
  ASSERT_EQ(effects.size(), 1u);
  EXPECT_EQ(std::get<Prompt>(effects[0]).code, "unknown_counter");
  EXPECT_EQ(other.state(), S::collecting);
}

TEST_F(WorkflowTest, CollectingRefuseCommitsARefusal) {
  to_collecting("kitchen knife");
  scan(std::string("PG:REFUSE:") + kKnife);
  EXPECT_EQ(wf.state(), S::committing);
  ASSERT_TRUE(commit());
  const auto& a = commit()->acceptance;
  EXPECT_EQ(a.inspection.outcome, InspectionOutcome::refuse);
  EXPECT_EQ(a.inspection.refuse_category, kKnife);
  ASSERT_EQ(a.screening_hits.size(), 1u);
  EXPECT_EQ(a.screening_hits[0].category, kKnife);
}

TEST_F(WorkflowTest, RefuseWithoutAHitIsAllowed) {
  to_collecting("books");  // inspection found what the declaration did not
  scan(std::string("PG:REFUSE:") + kKnife);
  ASSERT_TRUE(commit());
  EXPECT_EQ(commit()->acceptance.inspection.outcome, InspectionOutcome::refuse);
}

TEST_F(WorkflowTest, CollectingRefuseUnknownCategoryIsRejected) {
  to_collecting();
  scan("PG:REFUSE:99");
  EXPECT_EQ(codes(), std::vector<std::string>{"unknown_category"});
  EXPECT_EQ(wf.state(), S::collecting);
}

TEST_F(WorkflowTest, CollectingRefuseNeedsDeclaredContents) {
  to_collecting("");
  scan(std::string("PG:REFUSE:") + kKnife);
  EXPECT_EQ(codes(), std::vector<std::string>{"no_declared"});
  EXPECT_EQ(wf.state(), S::collecting);
}

TEST_F(WorkflowTest, CollectingCancelDropsParcelKeepsIdentity) {
  to_collecting();
  scan("PG:CANCEL");
  EXPECT_TRUE(said("parcel_cancelled"));
  EXPECT_EQ(wf.state(), S::identified);
  EXPECT_TRUE(wf.has_identity());
  EXPECT_TRUE(wf.waybills().empty());
  EXPECT_TRUE(wf.declared().empty());
  scan("PG:CANCEL");  // the second CANCEL drops the identity too
  EXPECT_EQ(wf.state(), S::ready);
  EXPECT_FALSE(wf.has_identity());
}

TEST_F(WorkflowTest, CollectingOtherIdIsRefused) {
  to_collecting();
  read(kDocB, kNameB);
  EXPECT_EQ(codes(), std::vector<std::string>{"finish_parcel_first"});
  EXPECT_EQ(prompt("finish_parcel_first")->message, "finish or CANCEL the current parcel first");
  EXPECT_EQ(wf.state(), S::collecting);
  scan("PG:OK");
  ASSERT_TRUE(commit());
  EXPECT_EQ(commit()->acceptance.sender.number, kDocA);  // never mixed
}

TEST_F(WorkflowTest, CollectingSameIdIsInfo) {
  to_collecting();
  read();
  EXPECT_EQ(codes(), std::vector<std::string>{"identity_same"});
  EXPECT_EQ(wf.state(), S::collecting);
}

TEST_F(WorkflowTest, CollectingDoneLogoutAndOtherBadgeAreRefused) {
  to_collecting();
  for (const char* text : {"PG:DONE", "PG:LOGOUT", "PG:OP:op-18"}) {
    scan(text);
    EXPECT_EQ(codes(), std::vector<std::string>{"finish_parcel_first"}) << text;
    EXPECT_EQ(wf.state(), S::collecting);
  }
  EXPECT_EQ(wf.operator_id(), "op-17");
  scan("PG:OP:op-17");
  EXPECT_TRUE(said("already_logged_in"));
  EXPECT_EQ(wf.state(), S::collecting);
}

// ------------------------------------------------------- confirm_restricted

TEST_F(WorkflowTest, ConfirmSecondOkCommitsConfirmed) {
  to_confirm();
  scan("PG:OK");
  EXPECT_EQ(wf.state(), S::committing);
  ASSERT_TRUE(commit());
  EXPECT_TRUE(commit()->acceptance.inspection.restricted_confirmed);
  EXPECT_EQ(commit()->acceptance.inspection.outcome, InspectionOutcome::pass);
}

TEST_F(WorkflowTest, ConfirmRefuseCommitsRefusal) {
  to_confirm();
  scan(std::string("PG:REFUSE:") + kBattery);
  ASSERT_TRUE(commit());
  EXPECT_EQ(commit()->acceptance.inspection.outcome, InspectionOutcome::refuse);
  EXPECT_EQ(commit()->acceptance.inspection.refuse_category, kBattery);
}

TEST_F(WorkflowTest, ConfirmCancelDropsParcel) {
  to_confirm();
  scan("PG:CANCEL");
  EXPECT_EQ(wf.state(), S::identified);
  EXPECT_TRUE(wf.waybills().empty());
}

TEST_F(WorkflowTest, ConfirmChangedParcelNeedsNewConfirmation) {
  to_confirm();
  scan(kW2);
  EXPECT_TRUE(said("confirmation_reset"));
  EXPECT_EQ(wf.state(), S::collecting);
  scan("PG:OK");
  EXPECT_EQ(wf.state(), S::confirm_restricted);
  scan("PG:DECL:books");
  EXPECT_TRUE(said("confirmation_reset"));
  EXPECT_EQ(wf.state(), S::collecting);
  scan("PG:OK");
  EXPECT_EQ(wf.state(), S::confirm_restricted);
  scan("PG:OK");
  ASSERT_TRUE(commit());
  EXPECT_EQ(commit()->acceptance.declared, "battery, books");
}

TEST_F(WorkflowTest, ConfirmRejectedScanDoesNotResetConfirmation) {
  to_confirm();
  scan(kW1);  // duplicate: nothing changed
  EXPECT_EQ(wf.state(), S::confirm_restricted);
  scan("PG:OK");
  EXPECT_TRUE(commit());
}

TEST_F(WorkflowTest, ConfirmDoneAndOtherIdAreRefused) {
  to_confirm();
  scan("PG:DONE");
  EXPECT_TRUE(said("finish_parcel_first"));
  read(kDocB, kNameB);
  EXPECT_TRUE(said("finish_parcel_first"));
  EXPECT_EQ(wf.state(), S::confirm_restricted);
}

// ---------------------------------------------------------------- committing

TEST_F(WorkflowTest, CommittingAnswersBusy) {
  to_committing();
  for (const char* text : {kW2, "PG:OK", "PG:CANCEL", "PG:DONE", "PG:LOGOUT", "PG:XYZ"}) {
    scan(text);
    EXPECT_EQ(codes(), std::vector<std::string>{"busy"}) << text;
    EXPECT_EQ(prompt("busy")->message, "busy, wait");
    EXPECT_EQ(wf.state(), S::committing);
  }
  read(kDocB, kNameB);
  EXPECT_EQ(codes(), std::vector<std::string>{"busy"});
  EXPECT_EQ(wf.state(), S::committing);
}

TEST_F(WorkflowTest, CommittingSucceededReturnsToIdentified) {
  to_committing();
  send(CommitSucceeded{42});
  EXPECT_EQ(wf.state(), S::identified);
  ASSERT_TRUE(prompt("committed"));
  EXPECT_EQ(prompt("committed")->level, PromptLevel::ok);
  EXPECT_EQ(prompt("committed")->message, "accepted, seq 42");
  EXPECT_TRUE(wf.has_identity());
  EXPECT_TRUE(wf.waybills().empty());
  EXPECT_TRUE(wf.declared().empty());
  // the next parcel of the same sender
  scan(kW2);
  scan("PG:DECL:clothes");
  scan("PG:OK");
  ASSERT_TRUE(commit());
  EXPECT_EQ(commit()->acceptance.sender.number, kDocA);
}

TEST_F(WorkflowTest, CommittedWaybillAgainWarnsWithSeq) {
  to_committing();
  send(CommitSucceeded{42});
  scan(kW1);
  EXPECT_EQ(codes(), std::vector<std::string>{"waybill_already_accepted"});
  EXPECT_NE(prompt("waybill_already_accepted")->message.find("seq 42"), std::string::npos);
  EXPECT_EQ(wf.state(), S::identified);
  EXPECT_TRUE(wf.waybills().empty());
}

TEST_F(WorkflowTest, RefusedWaybillMayComeBackWithWarning) {
  to_collecting("kitchen knife");
  scan(std::string("PG:REFUSE:") + kKnife);
  send(CommitSucceeded{5});
  EXPECT_EQ(prompt("refusal_committed")->message, "refusal recorded, seq 5");
  EXPECT_EQ(wf.state(), S::identified);
  scan(kW1);  // repacked without the knife
  EXPECT_TRUE(said("waybill_refused_before"));
  EXPECT_NE(prompt("waybill_refused_before")->message.find("seq 5"), std::string::npos);
  EXPECT_EQ(wf.state(), S::collecting);
  EXPECT_EQ(wf.waybills(), std::vector<std::string>{kW1});
}

TEST_F(WorkflowTest, CommittingFailedKeepsParcelForRetry) {
  to_committing();
  const auto ref = commit()->acceptance.ref;
  send(CommitFailed{Error{"storage_full", "", "disk full"}});
  EXPECT_EQ(wf.state(), S::collecting);
  ASSERT_TRUE(prompt("commit_failed"));
  EXPECT_EQ(prompt("commit_failed")->level, PromptLevel::error);
  EXPECT_NE(prompt("commit_failed")->message.find("disk full"), std::string::npos);
  EXPECT_EQ(wf.waybills(), std::vector<std::string>{kW1});
  EXPECT_EQ(wf.declared(), "books");
  scan("PG:OK");
  ASSERT_TRUE(commit());
  EXPECT_EQ(commit()->acceptance.ref, ref);  // same parcel, same idempotency key
}

TEST_F(WorkflowTest, ChangedParcelGetsANewRef) {
  to_committing();
  const auto ref = commit()->acceptance.ref;
  send(CommitFailed{Error{"storage_full", "", "disk full"}});
  scan(kW2);
  scan("PG:OK");
  ASSERT_TRUE(commit());
  EXPECT_NE(commit()->acceptance.ref, ref);
}

TEST_F(WorkflowTest, FailedConfirmedCommitRetriesWithOneOk) {
  to_confirm();
  scan("PG:OK");
  send(CommitFailed{Error{"io", "", "write failed"}});
  EXPECT_EQ(wf.state(), S::collecting);
  scan("PG:OK");  // the parcel is unchanged: the confirmation still holds
  ASSERT_TRUE(commit());
  EXPECT_TRUE(commit()->acceptance.inspection.restricted_confirmed);
}

TEST_F(WorkflowTest, FailedRefusalSaysToRefuseAgain) {
  to_collecting("kitchen knife");
  scan(std::string("PG:REFUSE:") + kKnife);
  send(CommitFailed{Error{"io", "", "write failed"}});
  EXPECT_NE(prompt("commit_failed")->message.find("REFUSE"), std::string::npos);
  EXPECT_EQ(wf.state(), S::collecting);
}

TEST_F(WorkflowTest, CommittingDoesNotTimeOut) {
  to_committing();
  send(Tick{}, 3600s);
  EXPECT_TRUE(last.empty());
  EXPECT_EQ(wf.state(), S::committing);
  send(CommitSucceeded{1});
  EXPECT_EQ(prompt("committed")->message, "accepted, seq 1");
}

// ----------------------------------------------------------------- timeouts

TEST_F(WorkflowTest, IdleParcelIsDroppedAfterSessionTimeout) {
  to_collecting();
  send(Tick{}, 119s);
  EXPECT_TRUE(last.empty());
  EXPECT_EQ(wf.state(), S::collecting);
  send(Tick{}, 1s);
  EXPECT_EQ(codes(), std::vector<std::string>{"session_timeout"});
  EXPECT_EQ(prompt("session_timeout")->level, PromptLevel::warning);
  EXPECT_EQ(wf.state(), S::identified);
  EXPECT_TRUE(wf.waybills().empty());
  EXPECT_EQ(wf.operator_id(), "op-17");
}

TEST_F(WorkflowTest, TimeoutIsCheckedBeforeTheEvent) {
  to_collecting();
  scan("PG:OK", 121s);  // the parcel has gone before this OK is seen
  EXPECT_EQ(codes(), (std::vector<std::string>{"session_timeout", "no_waybill"}));
  EXPECT_FALSE(commit());
}

TEST_F(WorkflowTest, ScansKeepTheSessionAlive) {
  to_collecting();
  for (int i = 0; i < 5; ++i) scan(kW1, 100s);  // rejected scans are activity too
  EXPECT_EQ(wf.state(), S::collecting);
}

TEST_F(WorkflowTest, ConfirmTimesOutToo) {
  to_confirm();
  send(Tick{}, 120s);
  EXPECT_TRUE(said("session_timeout"));
  EXPECT_EQ(wf.state(), S::identified);
}

TEST_F(WorkflowTest, IdentityIsForgottenAfterKeep) {
  to_identified();
  send(Tick{}, 299s);
  EXPECT_EQ(wf.state(), S::identified);
  send(Tick{}, 1s);
  EXPECT_EQ(codes(), std::vector<std::string>{"identity_expired"});
  EXPECT_EQ(prompt("identity_expired")->level, PromptLevel::info);
  EXPECT_EQ(wf.state(), S::ready);
  EXPECT_FALSE(wf.has_identity());
  EXPECT_EQ(wf.operator_id(), "op-17");
}

TEST_F(WorkflowTest, IdentityIsKeptWhileAParcelIsOpen) {
  to_collecting();
  for (int i = 0; i < 4; ++i) scan("PG:DECL:item" + std::to_string(i), 100s);
  EXPECT_EQ(wf.state(), S::collecting);
  EXPECT_TRUE(wf.has_identity());
  scan("PG:OK");
  ASSERT_TRUE(commit());
  send(CommitSucceeded{3});
  send(Tick{});  // the parcel is done: now the old identity goes
  EXPECT_TRUE(said("identity_expired"));
  EXPECT_EQ(wf.state(), S::ready);
}

TEST_F(WorkflowTest, DroppedParcelAndExpiredIdentityInOneStep) {
  to_collecting();
  send(Tick{}, 600s);
  EXPECT_EQ(codes(), (std::vector<std::string>{"session_timeout", "identity_expired"}));
  EXPECT_EQ(wf.state(), S::ready);
}

TEST_F(WorkflowTest, ZeroTimeoutsDisableThem) {
  settings.session_timeout = 0s;
  settings.identity_keep = 0s;
  CounterWorkflow w{"c1", settings, policy};
  w.handle(BarcodeScanned{"PG:OP:op-17"}, now);
  w.handle(IdentityRead{doc(kDocA, kNameA)}, now);
  w.handle(BarcodeScanned{kW1}, now);
  EXPECT_TRUE(w.handle(Tick{}, now + 24h).empty());
  EXPECT_EQ(w.state(), S::collecting);
}

TEST_F(WorkflowTest, ReadyAndLoggedOutNeverTimeOut) {
  send(Tick{}, 24h);
  EXPECT_TRUE(last.empty());
  to_ready();
  send(Tick{}, 24h);
  EXPECT_TRUE(last.empty());
  EXPECT_EQ(wf.state(), S::ready);
}

// ---------------------------------------------------------------- any state

TEST_F(WorkflowTest, IdentityReadFailedChangesNothing) {
  for (auto step : {0, 1, 2}) {
    if (step == 1) to_ready();
    if (step == 2) {
      read();
      scan(kW1);
    }
    const auto before = wf.state();
    send(IdentityReadFailed{"no card"});
    EXPECT_EQ(codes(), std::vector<std::string>{"identity_read_failed"});
    EXPECT_EQ(prompt("identity_read_failed")->message, "read failed, try again");
    EXPECT_EQ(wf.state(), before);
  }
}

TEST_F(WorkflowTest, UnknownControlBarcodeChangesNothing) {
  to_collecting();
  for (const char* text : {"PG:XYZ", "PG:OK:now", "PG:REFUSE", "PG:DECL", "PG:", "PG:CANCEL:1"}) {
    scan(text);
    EXPECT_EQ(codes(), std::vector<std::string>{"unknown_control"}) << text;
    EXPECT_EQ(wf.state(), S::collecting);
  }
  EXPECT_EQ(wf.waybills(), std::vector<std::string>{kW1});
  EXPECT_EQ(wf.declared(), "books");
}

TEST_F(WorkflowTest, ControlBarcodesIgnoreCaseAndSurroundingSpace) {
  scan("pg:op:op-17\n");  // Caps Lock inverts a keyboard-wedge scanner
  EXPECT_EQ(wf.state(), S::ready);
  EXPECT_EQ(wf.operator_id(), "op-17");
  read();
  scan(kW1);
  scan(" pg:decl:books ");
  scan("Pg:Ok");
  EXPECT_TRUE(commit());
}

TEST_F(WorkflowTest, OtherControlPrefix) {
  settings.control_prefix = "#";
  CounterWorkflow w{"c1", settings, policy};
  w.handle(BarcodeScanned{"#OP:op-17"}, now);
  EXPECT_EQ(w.state(), S::ready);
  const auto effects = w.handle(BarcodeScanned{"PG:OP:op-18"}, now);
  EXPECT_EQ(std::get<Prompt>(effects.at(0)).code, "read_id_first");  // a waybill candidate now
}

TEST_F(WorkflowTest, EmptyScanIsAnError) {
  to_identified();
  scan("   ");
  EXPECT_EQ(codes(), std::vector<std::string>{"empty_scan"});
  EXPECT_EQ(wf.state(), S::identified);
}

TEST_F(WorkflowTest, CommitAnswerWithoutCommitIsIgnored) {
  to_collecting();
  send(CommitSucceeded{9});
  EXPECT_EQ(codes(), std::vector<std::string>{"unexpected_commit_result"});
  send(CommitFailed{Error{"x", "", "y"}});
  EXPECT_EQ(codes(), std::vector<std::string>{"unexpected_commit_result"});
  EXPECT_EQ(wf.state(), S::collecting);
  EXPECT_EQ(wf.waybills(), std::vector<std::string>{kW1});
}

TEST_F(WorkflowTest, DeclWithControlCharacterIsRejected) {
  to_identified();
  scan("PG:DECL:bo\x01oks");
  EXPECT_EQ(codes(), std::vector<std::string>{"declared_invalid"});
  EXPECT_EQ(wf.state(), S::identified);
}

TEST_F(WorkflowTest, StateNames) {
  EXPECT_EQ(to_string(S::logged_out), "logged_out");
  EXPECT_EQ(to_string(S::ready), "ready");
  EXPECT_EQ(to_string(S::identified), "identified");
  EXPECT_EQ(to_string(S::collecting), "collecting");
  EXPECT_EQ(to_string(S::confirm_restricted), "confirm_restricted");
  EXPECT_EQ(to_string(S::committing), "committing");
}

// A whole busy session: no prompt may carry a name, a full document number or
// a full waybill number.
TEST_F(WorkflowTest, PromptsNeverCarryPersonalData) {
  to_collecting("battery");
  scan(kW2);
  scan(kW2);
  scan("PG:OK");
  scan("PG:OK");
  send(CommitFailed{Error{"io", "", "write failed"}});
  scan("PG:OK");
  send(CommitSucceeded{1});
  scan(kW1);
  scan(kW3);
  read(kDocB, kNameB);
  scan("PG:CANCEL");
  read(kDocB, kNameB);
  read(kDocB, kNameB);
  scan("RA123456784GB");
  send(Tick{}, 1h);
  ASSERT_GT(all_prompts.size(), 15u);
  for (const auto& p : all_prompts) {
    for (const std::string& secret :
         {kDocA, kDocB, kNameA, kNameB, std::string(kW1), std::string(kW2), std::string(kW3),
          std::string("RA123456784GB")}) {
      EXPECT_EQ(p.message.find(secret), std::string::npos) << p.code << ": " << p.message;
    }
  }
}

// ------------------------------------------------------------- X-ray suspect

TEST_F(WorkflowTest, XraySuspectOnTheOpenParcelNeedsInspectionAndIsRecorded) {
  to_collecting();
  const std::string w = wf.waybills().front();
  send(XraySuspect{w, "xr-1"});
  EXPECT_TRUE(said("xray_suspect"));
  EXPECT_TRUE(wf.xray_suspect());
  scan("PG:OK");
  EXPECT_EQ(wf.state(), S::confirm_restricted);
  EXPECT_FALSE(commit());
  scan("PG:OK");
  ASSERT_TRUE(commit());
  const auto& a = commit()->acceptance;
  EXPECT_TRUE(a.inspection.restricted_confirmed);
  ASSERT_FALSE(a.screening_hits.empty());
  EXPECT_EQ(a.screening_hits.back().category, "xray");
  EXPECT_EQ(a.screening_hits.back().keyword, "xray:xr-1");
  send(CommitSucceeded{1});
  EXPECT_FALSE(wf.xray_suspect());  // the next parcel starts clear
}

TEST_F(WorkflowTest, XraySuspectAfterAFirstOkStillNeedsTheSecond) {
  to_confirm();  // battery: first OK given
  send(XraySuspect{wf.waybills().front(), "xr-1"});
  EXPECT_EQ(wf.state(), S::collecting);
  scan("PG:OK");
  EXPECT_EQ(wf.state(), S::confirm_restricted);
  scan("PG:OK");
  ASSERT_TRUE(commit());
}

TEST_F(WorkflowTest, XraySuspectCanBeRefused) {
  to_collecting();
  send(XraySuspect{wf.waybills().front(), "xr-1"});
  scan(std::string("PG:REFUSE:") + kBattery);
  ASSERT_TRUE(commit());
  EXPECT_EQ(commit()->acceptance.inspection.outcome, InspectionOutcome::refuse);
}

TEST_F(WorkflowTest, XraySuspectForAnotherWaybillIsIgnored) {
  to_collecting();
  send(XraySuspect{"EE000000000CN", "xr-1"});
  EXPECT_TRUE(last.empty());
  EXPECT_FALSE(wf.xray_suspect());
  scan("PG:OK");
  EXPECT_EQ(wf.state(), S::committing);
}

// ------------------------------------------------------------- re-inspection

TEST_F(WorkflowTest, RecheckRecordsAnOutcomeForAnAcceptedParcel) {
  to_identified();
  scan("PG:RECHECK");
  EXPECT_TRUE(said("recheck_scan_waybill"));
  EXPECT_TRUE(wf.rechecking());
  scan("PG:OK");
  EXPECT_TRUE(said("recheck_scan_waybill"));  // the waybill comes first
  scan(kW1);
  EXPECT_TRUE(said("recheck_waybill"));
  scan("PG:OK");
  EXPECT_TRUE(said("recheck_recorded"));
  EXPECT_FALSE(wf.rechecking());
  EXPECT_EQ(wf.state(), S::identified);
  const Recheck* r = nullptr;
  for (const auto& e : last)
    if (auto x = std::get_if<Recheck>(&e)) r = x;
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->inspection.outcome, InspectionOutcome::pass);
  EXPECT_FALSE(r->waybill.empty());
}

TEST_F(WorkflowTest, RecheckRefuseNeedsAKnownCategoryAndOtherControlsWait) {
  to_ready();
  scan("PG:RECHECK");
  scan(kW1);
  scan("PG:DONE");
  EXPECT_TRUE(said("finish_recheck_first"));
  scan("PG:REFUSE:NOPE");
  EXPECT_TRUE(said("unknown_category"));
  scan(std::string("PG:REFUSE:") + kBattery);
  const Recheck* r = nullptr;
  for (const auto& e : last)
    if (auto x = std::get_if<Recheck>(&e)) r = x;
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->inspection.outcome, InspectionOutcome::refuse);
  EXPECT_EQ(r->inspection.refuse_category, kBattery);
  EXPECT_EQ(wf.state(), S::ready);
}

TEST_F(WorkflowTest, RecheckNotWithAnOpenParcelAndCancelAndTimeout) {
  to_collecting();
  scan("PG:RECHECK");
  EXPECT_TRUE(said("finish_parcel_first"));
  EXPECT_FALSE(wf.rechecking());
  scan("PG:CANCEL");
  scan("PG:RECHECK");
  scan("PG:CANCEL");
  EXPECT_TRUE(said("recheck_cancelled"));
  EXPECT_FALSE(wf.rechecking());
  scan("PG:RECHECK");
  send(Tick{}, settings.session_timeout);
  EXPECT_TRUE(said("recheck_timeout"));
  EXPECT_FALSE(wf.rechecking());
}

}  // namespace
}  // namespace postgate::core
