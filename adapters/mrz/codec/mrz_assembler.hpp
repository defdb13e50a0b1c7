#pragma once
// MRZ readers send the zone as text lines: 2 of 44 (TD3, passports) or 3 of
// 30 (TD1, cards), over a keyboard wedge or a serial line, often followed by
// a blank line or a terminator, sometimes ended only by silence; a few send
// the whole zone as one line of 88 or 90 characters. The assembler collects
// the lines of one zone, parses it (core::parse_mrz, every check digit) and
// maps it onto an identity (core::identity_from_mrz, expiry checked against
// the outlet's local date), giving IdentityRead or IdentityReadFailed plus a
// DeviceError. A line that cannot belong to a zone is an error, never a
// crash; the assembler resynchronises at the next line that can start one.
//
// Error codes (DeviceError::code): the parser's and validator's codes
// ("bad_format", "bad_character", "bad_check_digit", "bad_birth_date",
// "bad_expiry_date", "expired", "unsupported_document", ...), plus
// "not_mrz" (a line that cannot start or continue a zone), "bad_length" (a
// zone line of the wrong length), "incomplete_mrz" (a zone cut short by a
// blank line, a new zone or silence) and, from the readers, the scanner
// decoders' codes.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/device.hpp"
#include "core/mrz.hpp"
#include "core/time.hpp"
#include "core/workflow.hpp"

namespace postgate::adapters::mrz {

struct MrzAssemblerSettings {
  // Local date = UTC + this (documents expire by the outlet's calendar).
  std::chrono::minutes utc_offset{8 * 60};
  // A zone whose next line does not come within this is incomplete.
  std::chrono::milliseconds line_timeout{1000};
};

struct MrzOutput {
  std::vector<core::WorkflowEvent> events;  // IdentityRead or IdentityReadFailed
  std::vector<DeviceError> errors;
  bool empty() const { return events.empty() && errors.empty(); }
  void append(MrzOutput&& other);
};

// The outlet's calendar date at `now`.
core::Date local_date(core::TimePoint now, std::chrono::minutes utc_offset);

class MrzAssembler {
 public:
  explicit MrzAssembler(MrzAssemblerSettings settings = {});

  // One line as the reader sent it, without its terminator; surrounding
  // spaces are ignored and an empty line ends a zone in progress.
  MrzOutput on_line(std::string_view line, core::TimePoint now);
  // The line source failed (decoder error): a zone in progress is lost. The
  // error itself is the caller's to report; this adds IdentityReadFailed.
  MrzOutput on_line_error(core::TimePoint now);
  // The line source is part-way through a line: a zone in progress is not
  // timed out while its next line is still arriving.
  void touch(core::TimePoint now);
  MrzOutput on_timer(core::TimePoint now);
  std::optional<core::TimePoint> wake_at() const;
  void reset();

  const MrzAssemblerSettings& settings() const { return settings_; }

 private:
  MrzOutput complete(core::TimePoint now);
  void fail(std::string code, std::string detail, core::TimePoint now, MrzOutput& out);
  void close();

  MrzAssemblerSettings settings_;
  std::optional<core::MrzFormat> format_;  // set while a zone is being collected
  std::vector<std::string> lines_;
  core::TimePoint last_line_{};
  // One IdentityReadFailed per failed attempt: further errors within
  // line_timeout of the last one only count.
  std::optional<core::TimePoint> quiet_until_;
};

// Whether a line can be the first line of a zone of the given format.
bool can_start_zone(std::string_view line, core::MrzFormat format);

}  // namespace postgate::adapters::mrz
