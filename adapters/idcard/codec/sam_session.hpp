#pragma once
// The reader session: find -> select -> read at a poll interval, turning a
// SAM reader's replies into counter-workflow events. Sans-IO: the driver
// passes bytes and the time in, and performs what comes out (bytes to send,
// events and errors for the DeviceSink, the next wake-up). One command is
// outstanding at a time. docs/devices/idcard.md describes the behaviour.
//
// Presence and de-duplication, in short:
//  - a card is read once per placement: while `find` keeps reporting a card
//    (and `select` returns the same 8-byte serial, when compare_serial) no
//    further read is made and no further event is produced;
//  - a card is gone after `absent_polls` consecutive polls that find no
//    card (80) or cannot select it (81); the next card found is a new
//    placement, even if it is the same card;
//  - a different serial at select means a different card may be there: the
//    text is read again and an event is produced only for another number.
// Readers differ on a card that was read and stays: some keep answering 9F,
// some answer 80 until it is lifted. With the latter the card counts as
// gone after `absent_polls` polls and is read again only when the reader
// finds it again, which such readers do after it has been lifted.
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "adapters/device.hpp"
#include "adapters/idcard/codec/card_text.hpp"
#include "adapters/idcard/codec/sam_frame.hpp"
#include "core/time.hpp"
#include "core/workflow.hpp"

namespace postgate::adapters::idcard {

enum class ReadCommand {
  text_photo,              // 30 01
  text_photo_fingerprint,  // 30 10 (the fingerprint block is always dropped)
};

struct SamSessionSettings {
  std::chrono::milliseconds poll_interval{300};
  // Find and select answer at once; a read takes the card ~0.5-1 s plus
  // 1295 (or 2321) bytes on the wire (~115 ms at 115200 baud).
  std::chrono::milliseconds reply_timeout{500};
  std::chrono::milliseconds read_timeout{3000};
  bool keep_photo = false;
  std::chrono::minutes utc_offset{8 * 60};
  ReadCommand read_command = ReadCommand::text_photo;
  // Consecutive polls without a card after which the card counts as removed.
  int absent_polls = 3;
  // Reads of one placement that fail for a reason that may pass (wire
  // errors, timeouts, card authentication or read errors) before one
  // IdentityReadFailed is produced. Text that decodes to an invalid or
  // expired card fails at once.
  int read_attempts = 3;
  // Tell cards apart by the serial `select` returns (see above).
  bool compare_serial = true;
  CardTextOptions text;
};

struct SamSessionOutput {
  std::vector<Bytes> send;                  // frames to write, in order
  std::vector<core::WorkflowEvent> events;  // IdentityRead / IdentityReadFailed
  std::vector<DeviceError> errors;          // counted and logged by the driver
  std::optional<core::TimePoint> wake_at;   // call on_timer() then (nullopt: stopped)
  // With an IdentityRead in `events`: the whole text (address, ethnicity,
  // validity, ...) and, when keep_photo, the raw 1024-byte WLT photo (never
  // decoded; the daemon stores it encrypted or not at all).
  std::optional<CardText> card;
  std::optional<Bytes> photo;
  // Set when the reader starts or stops answering (a reply timeout after a
  // working exchange, or the first valid frame after timeouts). A driver may
  // map false to DeviceState::failed "reader not answering".
  std::optional<bool> responding;
};

class SamSession {
 public:
  explicit SamSession(SamSessionSettings settings = {});

  // Link up: sends the first find.
  SamSessionOutput start(core::TimePoint now);
  SamSessionOutput on_bytes(std::span<const std::uint8_t> bytes, core::TimePoint now);
  SamSessionOutput on_timer(core::TimePoint now);
  // Link lost: drops any partial frame and forgets the card; nothing is sent
  // until start() is called again.
  void reset();

  const SamSessionSettings& settings() const { return settings_; }
  bool card_present() const { return card_.has_value(); }
  bool started() const { return phase_ != Phase::stopped; }

 private:
  enum class Phase { stopped, idle, await_find, await_select, await_read };
  struct Card {
    std::optional<std::array<std::uint8_t, 8>> serial;
    std::string number;        // empty until read
    std::string failure_code;  // the failure already reported for this placement
    int attempts = 0;          // failed reads of this placement
    bool handled = false;      // read or failure reported: no more events
    int misses = 0;            // consecutive polls without it
  };

  void send(SamSessionOutput& out, Bytes frame, Phase phase, core::TimePoint now);
  void begin_cycle(SamSessionOutput& out, core::TimePoint now);
  void end_cycle(SamSessionOutput& out, core::TimePoint now);
  void handle_reply(SamSessionOutput& out, SamReply reply, core::TimePoint now);
  void handle_find(SamSessionOutput& out, const SamReply& reply, core::TimePoint now);
  void handle_select(SamSessionOutput& out, const SamReply& reply, core::TimePoint now);
  void handle_read(SamSessionOutput& out, const SamReply& reply, core::TimePoint now);
  void no_card(SamSessionOutput& out);
  void read_failed(SamSessionOutput& out, std::string code, std::string detail, bool transient);
  void advance(SamSessionOutput& out, core::TimePoint now);
  void set_responding(SamSessionOutput& out, bool value);
  void finish(SamSessionOutput& out) const;

  SamSessionSettings settings_;
  SamFrameDecoder decoder_;
  Phase phase_ = Phase::stopped;
  core::TimePoint deadline_{};
  core::TimePoint cycle_started_{};
  core::TimePoint next_poll_{};
  std::optional<Card> card_;
  std::optional<std::array<std::uint8_t, 8>> pending_serial_;
  bool responding_ = true;
};

}  // namespace postgate::adapters::idcard
