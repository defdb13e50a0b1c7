#pragma once
// The counter workflow: one explicit state machine per counter, driven by
// device events and control barcodes. Pure: time comes in with each event,
// effects go out as values; the daemon performs them (submit, show prompt).
// The control barcodes and every transition are documented in docs/workflow.md.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/acceptance_policy.hpp"
#include "core/identity.hpp"
#include "core/record.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace postgate::core {

struct WorkflowSettings {
  std::string control_prefix = "PG:";
  std::chrono::seconds session_timeout{120};  // no scan for this long: session cleared
  std::chrono::seconds identity_keep{300};    // an identity covers further parcels this long
  // The outlet's offset from UTC: documents are checked against the local
  // calendar date (China: +8 h, no daylight saving).
  std::chrono::minutes utc_offset{8 * 60};
};

// ---- events in ----
struct IdentityRead {  // a card or MRZ reader produced a validated document
  IdentityDocument document;
};
struct IdentityReadFailed {  // a reader saw a card but could not read it
  std::string reason;        // masked, for the screen
};
struct BarcodeScanned {
  std::string text;
};
struct CommitSucceeded {  // the answer to a Commit effect
  std::uint64_t seq = 0;
};
struct CommitFailed {
  Error error;
};
struct Tick {};  // time passes; lets timeouts fire
// An X-ray machine flagged the parcel carrying this (normalised) waybill.
// If it is in the open parcel, the parcel cannot pass without staff opening
// it and confirming (as for a restricted item); otherwise it is ignored here
// (the daemon reports it).
struct XraySuspect {
  std::string waybill;
  std::string machine;
};
using WorkflowEvent = std::variant<IdentityRead, IdentityReadFailed, BarcodeScanned,
                                   CommitSucceeded, CommitFailed, Tick, XraySuspect>;

// ---- effects out ----
enum class PromptLevel { info, ok, warning, error };
struct Prompt {  // for the counter screen and the log; never unmasked personal data
  PromptLevel level{};
  std::string code;     // stable: "scan_waybill", "waybill_invalid", "committed", ...
  std::string message;  // human text
};
struct Commit {  // make this acceptance durable, then feed CommitSucceeded/CommitFailed
  Acceptance acceptance;
};
// Staff re-inspected a parcel accepted earlier (after an X-ray suspect
// verdict on it): PG:RECHECK, its waybill, then OK or REFUSE:<category>. The
// daemon records the outcome against that parcel's record.
struct Recheck {
  std::string waybill;  // normalised
  Inspection inspection;
};
using WorkflowEffect = std::variant<Prompt, Commit, Recheck>;

enum class CounterState {
  logged_out,          // waiting for an operator badge
  ready,               // operator logged in, waiting for an identity
  identified,          // identity held, waiting for a waybill
  collecting,          // a parcel is open (waybills and/or contents), waiting for the outcome
  confirm_restricted,  // restricted hit: waiting for a second OK (or REFUSE/CANCEL)
  committing,          // Commit emitted, waiting for the store's answer
};
std::string_view to_string(CounterState s);

class CounterWorkflow {
 public:
  CounterWorkflow(std::string counter_id, WorkflowSettings settings,
                  const AcceptancePolicy& policy);

  // Timeouts are checked first, then the event is handled. Effects come in the
  // order to perform them: prompts, and at most one Commit. Not thread-safe:
  // one counter's events are handled one at a time. The policy must outlive
  // the workflow.
  std::vector<WorkflowEffect> handle(const WorkflowEvent& event, TimePoint now);

  CounterState state() const { return state_; }
  const std::string& counter_id() const { return counter_; }
  const std::optional<std::string>& operator_id() const { return operator_; }
  // Read-only views of the session, for status displays and tests.
  bool has_identity() const { return identity_.has_value(); }
  const std::vector<std::string>& waybills() const { return waybills_; }  // normalised
  const std::string& declared() const { return declared_; }
  bool xray_suspect() const { return xray_suspect_.has_value(); }
  bool rechecking() const { return recheck_.has_value(); }

 private:
  struct Impl;  // implementation details live in workflow.cpp
  struct CommittedWaybill {
    std::string number;
    std::uint64_t seq = 0;
    InspectionOutcome outcome{};
  };
  std::string counter_;
  WorkflowSettings settings_;
  const AcceptancePolicy* policy_;
  CounterState state_ = CounterState::logged_out;
  std::optional<std::string> operator_;
  std::optional<IdentityDocument> identity_;
  TimePoint identity_at_{};
  TimePoint last_activity_{};
  std::vector<std::string> waybills_;
  std::vector<CommittedWaybill> committed_waybills_;  // this identity's earlier parcels
  std::string declared_;
  bool restricted_confirmed_ = false;        // staff confirmed the parcel exactly as it is now
  std::optional<std::string> xray_suspect_;  // machine that flagged the open parcel
  // A re-inspection in progress (PG:RECHECK): overlays ready / identified;
  // holds the waybill once scanned.
  struct RecheckSession {
    std::optional<std::string> waybill;
  };
  std::optional<RecheckSession> recheck_;
  std::optional<Inspection> inspection_;  // the outcome of the Commit in flight
  TimePoint parcel_opened_at_{};          // with parcel_rev_: the idempotency ref
  std::uint32_t parcel_rev_ = 0;          // bumped on every change to the open parcel
};

}  // namespace postgate::core
