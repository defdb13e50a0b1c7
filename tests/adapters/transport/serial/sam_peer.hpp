#pragma once
// A serial SAM ID-card reader played on a pty: it decodes the host's
// commands and answers find / select / read with frames built by the idcard
// codec's encoders, for whatever card is on it. Each reply can be shaped:
// sent in pieces with gaps, preceded by garbage, given a bad checksum, or
// cut off by an unplug after so many bytes.
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <optional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "adapters/idcard/codec/card_text.hpp"
#include "adapters/idcard/codec/sam_frame.hpp"
#include "pty_device.hpp"

namespace postgate::test {

struct ReplyShape {
  std::size_t chunk = 0;  // bytes per write; 0: the whole reply in one write
  std::chrono::milliseconds gap{0};
  std::vector<std::size_t> cuts;  // explicit cut points (offsets), instead of chunk
  std::vector<std::uint8_t> garbage_before;
  bool bad_checksum = false;
  // Write only this many bytes, wait until the host has read them, then
  // unplug (close the pty, remove the link).
  std::optional<std::size_t> unplug_after;

  static ReplyShape chunks(std::size_t n, std::chrono::milliseconds gap) {
    ReplyShape s;
    s.chunk = n;
    s.gap = gap;
    return s;
  }
  static ReplyShape split_at(std::vector<std::size_t> cuts, std::chrono::milliseconds gap) {
    ReplyShape s;
    s.cuts = std::move(cuts);
    s.gap = gap;
    return s;
  }
  static ReplyShape after_garbage(std::vector<std::uint8_t> garbage) {
    ReplyShape s;
    s.garbage_before = std::move(garbage);
    return s;
  }
  static ReplyShape corrupted() {
    ReplyShape s;
    s.bad_checksum = true;
    return s;
  }
  static ReplyShape unplugged_after(std::size_t n) {
    ReplyShape s;
    s.unplug_after = n;
    return s;
  }
};

class FakeSamReader {
 public:
  FakeSamReader(boost::asio::io_context& io, std::filesystem::path link);

  void place_card(std::vector<std::uint8_t> text, std::array<std::uint8_t, 8> serial = {1});
  void lift_card() { card_.reset(); }

  ReplyShape shape;                   // find and select replies
  ReplyShape read_shape;              // read replies
  std::deque<ReplyShape> next_reads;  // shapes for the next reads, before read_shape
  // Answers find with "no card" while the card stays after a read (readers
  // that want the card lifted before they find it again).
  bool quiet_after_read = false;
  // Takes commands in but answers nothing (a reader that hangs).
  bool mute = false;

  int finds = 0;
  int selects = 0;
  int reads = 0;
  int bad_commands = 0;
  bool cut() const { return cut_; }
  PtyDevice& device() { return dev_; }

 private:
  void on_bytes(std::span<const std::uint8_t> bytes);
  void answer(const adapters::idcard::SamCommand& c);
  void reply(std::vector<std::uint8_t> frame, const ReplyShape& s);
  void unplug_when_drained();

  adapters::idcard::SamCommandDecoder decoder_;
  struct Card {
    std::vector<std::uint8_t> text;
    std::array<std::uint8_t, 8> serial;
    bool read = false;
  };
  std::optional<Card> card_;
  bool cut_ = false;
  boost::asio::steady_timer drain_timer_;
  PtyDevice dev_;  // last: its handlers call into the members above
};

}  // namespace postgate::test
