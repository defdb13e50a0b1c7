#include "core/workflow.hpp"

#include <algorithm>
#include <utility>

namespace postgate::core {
namespace {

using Effects = std::vector<WorkflowEffect>;

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

char ascii_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

// Case-insensitive because a keyboard-wedge scanner with Caps Lock on inverts
// the case of everything it types.
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_upper(x) == ascii_upper(y);
         });
}

bool has_control_char(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

struct Control {
  enum class Kind { op, logout, ok, refuse, cancel, decl, done, recheck, unknown };
  Kind kind = Kind::unknown;
  std::string keyword;  // as scanned, for the unknown-barcode prompt
  std::string arg;
};

// nullopt: not a control barcode (then it is a waybill candidate).
std::optional<Control> parse_control(std::string_view text, std::string_view prefix) {
  if (prefix.empty() || text.size() < prefix.size() ||
      !iequals(text.substr(0, prefix.size()), prefix)) {
    return std::nullopt;
  }
  const std::string_view rest = text.substr(prefix.size());
  const auto colon = rest.find(':');
  const bool has_arg = colon != std::string_view::npos;
  const std::string_view keyword = rest.substr(0, colon);
  Control c;
  c.keyword = std::string(keyword);
  if (has_arg) c.arg = std::string(rest.substr(colon + 1));
  using K = Control::Kind;
  if (has_arg) {
    if (iequals(keyword, "OP")) c.kind = K::op;
    if (iequals(keyword, "REFUSE")) c.kind = K::refuse;
    if (iequals(keyword, "DECL")) c.kind = K::decl;
  } else {
    if (iequals(keyword, "LOGOUT")) c.kind = K::logout;
    if (iequals(keyword, "OK")) c.kind = K::ok;
    if (iequals(keyword, "CANCEL")) c.kind = K::cancel;
    if (iequals(keyword, "DONE")) c.kind = K::done;
    if (iequals(keyword, "RECHECK")) c.kind = K::recheck;
  }
  return c;
}

bool valid_operator_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

// Waybill numbers are user information too: the screen shows enough to tell
// parcels apart ("RA*******85GB"), the log no more than the screen.
std::string mask_waybill(std::string_view n) {
  std::string out(n);
  const std::size_t head = n.size() >= 10 ? 2 : 0;
  const std::size_t tail = n.size() >= 10 ? 4 : std::min<std::size_t>(2, n.size() / 2);
  for (std::size_t i = head; i + tail < n.size(); ++i) out[i] = '*';
  return out;
}

// Declared contents are a list of items joined with ", ".
std::vector<std::string> split_items(std::string_view s) {
  std::vector<std::string> items;
  while (!s.empty()) {
    const auto sep = s.find(", ");
    const auto item = trim(s.substr(0, sep));
    if (!item.empty()) items.emplace_back(item);
    if (sep == std::string_view::npos) break;
    s.remove_prefix(sep + 2);
  }
  return items;
}

std::string seconds_text(std::chrono::seconds s) {
  return std::to_string(s.count()) + " s";
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

Date local_date(TimePoint now, std::chrono::minutes offset) {
  return Date{std::chrono::floor<std::chrono::days>(now + offset)};
}

}  // namespace

std::string_view to_string(CounterState s) {
  switch (s) {
    case CounterState::logged_out:
      return "logged_out";
    case CounterState::ready:
      return "ready";
    case CounterState::identified:
      return "identified";
    case CounterState::collecting:
      return "collecting";
    case CounterState::confirm_restricted:
      return "confirm_restricted";
    case CounterState::committing:
      return "committing";
  }
  return "unknown";
}

// One event's worth of work: the handlers below see the whole session and
// collect the effects of this event in `out`.
struct CounterWorkflow::Impl {
  CounterWorkflow& w;
  TimePoint now;
  Effects out;

  void say(PromptLevel level, std::string code, std::string message) {
    out.emplace_back(Prompt{level, std::move(code), std::move(message)});
  }

  bool parcel_open() const {
    return w.state_ == CounterState::collecting || w.state_ == CounterState::confirm_restricted;
  }

  void drop_parcel() {
    w.waybills_.clear();
    w.declared_.clear();
    w.restricted_confirmed_ = false;
    w.xray_suspect_.reset();
    w.inspection_.reset();
    w.parcel_rev_ = 0;
  }

  void forget_identity() {
    w.identity_.reset();
    w.committed_waybills_.clear();
  }

  // The open parcel (or a new one) changed: whatever staff confirmed before
  // covered a different parcel, so it no longer counts.
  void parcel_changed() {
    if (w.state_ == CounterState::identified) w.parcel_opened_at_ = now;
    if (w.state_ == CounterState::confirm_restricted) {
      say(PromptLevel::info, "confirmation_reset", "parcel changed: scan OK to check it again");
    }
    ++w.parcel_rev_;
    w.restricted_confirmed_ = false;
    w.state_ = CounterState::collecting;
  }

  std::string who(const IdentityDocument& d) const {
    return mask_name(d.name) + ", " + std::string(to_string(d.type)) + " " +
           mask_number(d.type, d.number);
  }

  void check_timeouts() {
    using std::chrono::seconds;
    const auto& s = w.settings_;
    if (w.recheck_ && s.session_timeout > seconds{0} &&
        now - w.last_activity_ >= s.session_timeout) {
      w.recheck_.reset();
      say(PromptLevel::warning, "recheck_timeout",
          "re-inspection dropped: no scan for " + seconds_text(s.session_timeout));
    }
    if (parcel_open() && s.session_timeout > seconds{0} &&
        now - w.last_activity_ >= s.session_timeout) {
      drop_parcel();
      w.state_ = CounterState::identified;
      say(PromptLevel::warning, "session_timeout",
          "parcel dropped: no scan for " + seconds_text(s.session_timeout));
    }
    if (w.state_ == CounterState::identified && s.identity_keep > seconds{0} &&
        now - w.identity_at_ >= s.identity_keep) {
      forget_identity();
      w.state_ = CounterState::ready;
      say(PromptLevel::info, "identity_expired",
          "sender's ID forgotten after " + seconds_text(s.identity_keep) + ": read it again");
    }
  }

  // Answers the scans that the current state cannot take; true when answered.
  bool refuse_in(CounterState s, bool needs_identity) {
    if (s == CounterState::logged_out) {
      say(PromptLevel::error, "login_first", "scan your operator badge first");
      return true;
    }
    if (needs_identity && s == CounterState::ready) {
      say(PromptLevel::error, "read_id_first", "read the sender's ID first");
      return true;
    }
    return false;
  }

  void finish_parcel_first() {
    say(PromptLevel::error, "finish_parcel_first", "finish or CANCEL the current parcel first");
  }

  // ---- events ----
  void on(const Tick&) {}

  void on(const XraySuspect& e) {
    const bool open = parcel_open() || w.state_ == CounterState::committing;
    if (!open || std::find(w.waybills_.begin(), w.waybills_.end(), e.waybill) == w.waybills_.end())
      return;
    const bool first = !w.xray_suspect_;
    w.xray_suspect_ = e.machine;
    if (w.state_ == CounterState::committing) {
      // The commit in flight was decided without the scan; it stands, and the
      // daemon reports the suspect scan against the record.
      return;
    }
    w.restricted_confirmed_ = false;
    if (w.state_ == CounterState::confirm_restricted) w.state_ = CounterState::collecting;
    if (first)
      say(PromptLevel::warning, "xray_suspect",
          "X-ray suspect: open and inspect the parcel, then scan OK twice or REFUSE");
  }

  void on(const IdentityReadFailed&) {
    say(PromptLevel::error, "identity_read_failed", "read failed, try again");
  }

  void on(const IdentityRead& e) {
    const auto& d = e.document;
    if (w.state_ == CounterState::committing) return busy();
    if (refuse_in(w.state_, false)) return;
    if (w.identity_ && w.identity_->type == d.type && w.identity_->number == d.number) {
      w.identity_at_ = now;  // the sender is still here: the keep period restarts
      say(PromptLevel::info, "identity_same", "same ID read again");
      return;
    }
    if (parcel_open()) return finish_parcel_first();
    const bool replaced = w.identity_.has_value();
    forget_identity();
    w.identity_ = d;
    w.identity_at_ = now;
    w.state_ = CounterState::identified;
    say(PromptLevel::ok, replaced ? "identity_replaced" : "identity_read",
        std::string(replaced ? "new sender " : "sender ") + who(d) + ": scan the waybill");
  }

  void on(const CommitSucceeded& e) {
    if (w.state_ != CounterState::committing || !w.inspection_) return unexpected_answer();
    const auto outcome = w.inspection_->outcome;
    for (const auto& n : w.waybills_) w.committed_waybills_.push_back({n, e.seq, outcome});
    drop_parcel();
    w.state_ = CounterState::identified;
    if (outcome == InspectionOutcome::pass) {
      say(PromptLevel::ok, "committed", "accepted, seq " + std::to_string(e.seq));
    } else {
      say(PromptLevel::ok, "refusal_committed", "refusal recorded, seq " + std::to_string(e.seq));
    }
  }

  void on(const CommitFailed& e) {
    if (w.state_ != CounterState::committing || !w.inspection_) return unexpected_answer();
    const bool refusal = w.inspection_->outcome == InspectionOutcome::refuse;
    w.inspection_.reset();
    w.state_ = CounterState::collecting;
    say(PromptLevel::error, "commit_failed",
        "not saved: " + e.error.message +
            (refusal ? "; scan REFUSE again to retry" : "; scan OK to retry"));
  }

  void on(const BarcodeScanned& e) {
    if (w.state_ == CounterState::committing) return busy();
    const std::string_view text = trim(e.text);
    if (text.empty()) {
      say(PromptLevel::error, "empty_scan", "empty scan, try again");
      return;
    }
    if (w.recheck_) return on_recheck_scan(text);
    if (auto c = parse_control(text, w.settings_.control_prefix)) return on_control(*c);
    on_waybill(text);
  }

  void busy() { say(PromptLevel::warning, "busy", "busy, wait"); }

  void unexpected_answer() {
    say(PromptLevel::warning, "unexpected_commit_result",
        "commit answer without a commit: ignored");
  }

  // ---- waybills ----
  void on_waybill(std::string_view text) {
    if (refuse_in(w.state_, true)) return;
    auto v = w.policy_->waybills().validate(text);
    if (!v) {
      // The scanned text is not echoed: it may be anything, even an ID barcode.
      say(PromptLevel::error, "waybill_invalid", "not a valid waybill (" + v.error().code + ")");
      return;
    }
    const std::string& n = v->number;
    const std::string shown = mask_waybill(n);
    if (std::find(w.waybills_.begin(), w.waybills_.end(), n) != w.waybills_.end()) {
      say(PromptLevel::warning, "waybill_duplicate", shown + " already scanned");
      return;
    }
    const CommittedWaybill* refused = nullptr;
    for (const auto& c : w.committed_waybills_) {
      if (c.number != n) continue;
      if (c.outcome == InspectionOutcome::pass) {
        say(PromptLevel::warning, "waybill_already_accepted",
            shown + " already accepted as seq " + std::to_string(c.seq));
        return;
      }
      refused = &c;
    }
    // A refused parcel may come back repacked: allowed, but staff should know.
    if (refused) {
      say(PromptLevel::warning, "waybill_refused_before",
          shown + " was refused as seq " + std::to_string(refused->seq) + ": added again");
    }
    parcel_changed();
    w.waybills_.push_back(n);
    say(PromptLevel::ok, "waybill_added",
        "waybill " + shown + " added (" + std::to_string(w.waybills_.size()) + ")" +
            (w.declared_.empty() ? ": scan the contents card" : ": scan OK when inspected"));
  }

  // ---- control barcodes ----
  void on_control(const Control& c) {
    using K = Control::Kind;
    switch (c.kind) {
      case K::op:
        return login(c.arg);
      case K::logout:
        return logout();
      case K::ok:
        return ok();
      case K::refuse:
        return refuse(c.arg);
      case K::cancel:
        return cancel();
      case K::decl:
        return declare(c.arg);
      case K::done:
        return done();
      case K::recheck:
        return start_recheck();
      case K::unknown:
        break;
    }
    say(PromptLevel::error, "unknown_control",
        "unknown control barcode " + w.settings_.control_prefix + c.keyword.substr(0, 16));
  }

  // ---- re-inspection of an accepted parcel ----
  void start_recheck() {
    if (refuse_in(w.state_, false)) return;
    if (parcel_open()) return finish_parcel_first();
    w.recheck_.emplace();
    say(PromptLevel::info, "recheck_scan_waybill",
        "re-inspection: scan the waybill of the accepted parcel (CANCEL to stop)");
  }

  void on_recheck_scan(std::string_view text) {
    auto& r = *w.recheck_;
    if (auto c = parse_control(text, w.settings_.control_prefix)) {
      using K = Control::Kind;
      if (c->kind == K::cancel) {
        w.recheck_.reset();
        say(PromptLevel::info, "recheck_cancelled", "re-inspection cancelled");
        return;
      }
      if (c->kind != K::ok && c->kind != K::refuse) {
        say(PromptLevel::error, "finish_recheck_first",
            "finish the re-inspection first: OK, REFUSE or CANCEL");
        return;
      }
      if (!r.waybill) {
        say(PromptLevel::error, "recheck_scan_waybill", "scan the parcel's waybill first");
        return;
      }
      Inspection inspection;
      if (c->kind == K::refuse) {
        if (!w.policy_->screener().has_category(c->arg)) {
          say(PromptLevel::error, "unknown_category",
              "unknown refusal category " + c->arg.substr(0, 16));
          return;
        }
        inspection.outcome = InspectionOutcome::refuse;
        inspection.refuse_category = c->arg;
      }
      inspection.restricted_confirmed = true;  // staff opened and checked it
      const std::string shown = mask_waybill(*r.waybill);
      out.emplace_back(Recheck{*r.waybill, inspection});
      w.recheck_.reset();
      say(PromptLevel::ok, "recheck_recorded",
          "re-inspection of " + shown + " recorded: " + std::string(to_string(inspection.outcome)));
      return;
    }
    auto v = w.policy_->waybills().validate(text);
    if (!v) {
      say(PromptLevel::error, "waybill_invalid", "not a valid waybill (" + v.error().code + ")");
      return;
    }
    r.waybill = v->number;
    say(PromptLevel::ok, "recheck_waybill",
        "re-inspecting " + mask_waybill(v->number) + ": scan OK if it passes, or REFUSE");
  }

  void login(std::string_view id) {
    if (!valid_operator_id(id)) {
      say(PromptLevel::error, "bad_operator_badge", "not a valid operator badge");
      return;
    }
    if (w.operator_ == id) {
      say(PromptLevel::info, "already_logged_in",
          "operator " + std::string(id) + " already logged in");
      return;
    }
    if (parcel_open()) return finish_parcel_first();
    // The record names the operator who checked the document, so a new
    // operator checks it again.
    const bool had_identity = w.identity_.has_value();
    forget_identity();
    drop_parcel();
    const auto previous = w.operator_;
    w.operator_ = std::string(id);
    w.state_ = CounterState::ready;
    std::string msg = "operator " + std::string(id) + " logged in";
    if (previous) msg += " (was " + *previous + ")";
    if (had_identity) msg += ", sender's ID forgotten";
    say(PromptLevel::ok, "logged_in", msg + ": read the sender's ID");
  }

  void logout() {
    if (refuse_in(w.state_, false)) return;
    if (parcel_open()) return finish_parcel_first();
    forget_identity();
    drop_parcel();
    const std::string id = w.operator_.value_or("");
    w.operator_.reset();
    w.state_ = CounterState::logged_out;
    say(PromptLevel::info, "logged_out", "operator " + id + " logged out");
  }

  // Both outcomes need a complete parcel; says what is missing.
  bool parcel_complete() {
    if (w.waybills_.empty()) {
      say(PromptLevel::error, "no_waybill", "scan a waybill first");
      return false;
    }
    if (w.declared_.empty()) {
      say(PromptLevel::error, "no_declared", "scan the declared contents card first");
      return false;
    }
    return true;
  }

  void ok() {
    if (refuse_in(w.state_, true)) return;
    if (!parcel_complete()) return;
    std::vector<std::string> prohibited, restricted;
    for (const auto& h : w.policy_->screener().screen(w.declared_)) {
      (h.severity == Severity::prohibited ? prohibited : restricted).push_back(h.name);
    }
    if (w.xray_suspect_) restricted.push_back("X-ray suspect");
    if (!prohibited.empty()) {
      say(PromptLevel::error, "prohibited_item",
          "prohibited item (" + join_names(prohibited) + "): scan REFUSE or CANCEL");
      return;
    }
    if (!restricted.empty() && !w.restricted_confirmed_) {
      if (w.state_ != CounterState::confirm_restricted) {
        w.state_ = CounterState::confirm_restricted;
        say(PromptLevel::warning, "restricted_confirm",
            "restricted item (" + join_names(restricted) +
                "): inspect and scan OK again to confirm");
        return;
      }
      w.restricted_confirmed_ = true;
    }
    Inspection inspection;
    inspection.outcome = InspectionOutcome::pass;
    inspection.restricted_confirmed = !restricted.empty();
    commit(std::move(inspection));
  }

  void refuse(std::string_view category) {
    if (refuse_in(w.state_, true)) return;
    const auto& screener = w.policy_->screener();
    if (!screener.has_category(category)) {
      say(PromptLevel::error, "unknown_category",
          "unknown refusal category " + std::string(category.substr(0, 16)));
      return;
    }
    if (!parcel_complete()) return;
    Inspection inspection;
    inspection.outcome = InspectionOutcome::refuse;
    inspection.refuse_category = std::string(category);
    commit(std::move(inspection));
  }

  void commit(Inspection inspection) {
    const auto& id = *w.identity_;
    RawAcceptance raw;
    // Stable while the parcel is unchanged: retrying after a CommitFailed whose
    // commit did reach the disk answers with the first record, not a second one.
    raw.ref = "wf-" + w.counter_ + "-" +
              std::to_string(w.parcel_opened_at_.time_since_epoch().count()) + "-" +
              std::to_string(w.parcel_rev_);
    raw.counter = w.counter_;
    raw.operator_id = w.operator_.value_or("");
    raw.sender_name = id.name;
    raw.sender_doc_type = std::string(to_string(id.type));
    raw.sender_doc_number = id.number;
    raw.sender_document = id;
    raw.waybills = w.waybills_;
    raw.declared = w.declared_;
    raw.inspection = inspection;
    auto accepted = w.policy_->validate(raw, local_date(now, w.settings_.utc_offset));
    if (!accepted) {
      w.state_ = CounterState::collecting;
      say(PromptLevel::error, accepted.error().code, accepted.error().message);
      return;
    }
    if (w.xray_suspect_)
      accepted->screening_hits.push_back(
          {"xray", "X-ray suspect", Severity::restricted, "xray:" + *w.xray_suspect_});
    w.inspection_ = std::move(inspection);
    w.state_ = CounterState::committing;
    say(PromptLevel::info, "committing", "saving, wait");
    out.emplace_back(Commit{std::move(*accepted)});
  }

  void cancel() {
    if (refuse_in(w.state_, false)) return;
    if (parcel_open()) {
      drop_parcel();
      w.state_ = CounterState::identified;
      say(PromptLevel::info, "parcel_cancelled", "parcel cancelled: scan the next waybill or DONE");
    } else if (w.identity_) {
      forget_identity();
      w.state_ = CounterState::ready;
      say(PromptLevel::info, "identity_cancelled", "sender's ID forgotten: read the next ID");
    } else {
      say(PromptLevel::info, "nothing_to_cancel", "nothing to cancel");
    }
  }

  void declare(std::string_view arg) {
    if (refuse_in(w.state_, true)) return;
    const std::string_view text = trim(arg);
    if (has_control_char(text)) {
      say(PromptLevel::error, "declared_invalid", "contents card not readable");
      return;
    }
    if (text.empty()) {  // "PG:DECL:" clears a wrong card
      if (w.declared_.empty()) {
        say(PromptLevel::info, "declared_cleared", "no contents declared");
        return;
      }
      if (w.waybills_.empty()) {  // nothing left of the parcel
        const bool confirming = w.state_ == CounterState::confirm_restricted;
        drop_parcel();
        w.state_ = CounterState::identified;
        if (confirming) say(PromptLevel::info, "confirmation_reset", "parcel changed");
      } else {
        parcel_changed();
        w.declared_.clear();
      }
      say(PromptLevel::info, "declared_cleared", "declared contents cleared");
      return;
    }
    auto items = split_items(w.declared_);
    bool added = false;
    for (auto& item : split_items(text)) {
      if (std::find(items.begin(), items.end(), item) != items.end()) continue;
      items.push_back(std::move(item));
      added = true;
    }
    if (!added) {
      say(PromptLevel::info, "declared_same", "already declared");
      return;
    }
    parcel_changed();
    w.declared_ = join_names(items);
    say(PromptLevel::ok, "declared",
        "contents: " + w.declared_ +
            (w.waybills_.empty() ? ": scan the waybill" : ": scan OK when inspected"));
  }

  void done() {
    if (refuse_in(w.state_, false)) return;
    if (parcel_open()) return finish_parcel_first();
    forget_identity();
    w.state_ = CounterState::ready;
    say(PromptLevel::info, "done", "done: read the next sender's ID");
  }
};

CounterWorkflow::CounterWorkflow(std::string counter_id, WorkflowSettings settings,
                                 const AcceptancePolicy& policy)
    : counter_(std::move(counter_id)), settings_(std::move(settings)), policy_(&policy) {}

std::vector<WorkflowEffect> CounterWorkflow::handle(const WorkflowEvent& event, TimePoint now) {
  Impl impl{*this, now, {}};
  impl.check_timeouts();
  if (!std::holds_alternative<Tick>(event)) last_activity_ = now;
  std::visit([&impl](const auto& e) { impl.on(e); }, event);
  return std::move(impl.out);
}

}  // namespace postgate::core
