#pragma once
// The SAM frame of resident ID-card readers (DOMAIN.md section 2):
//   AA AA AA 96 69 | LEN (2 bytes, big-endian) | body | CHK
// Host -> reader body: CMD PARA data.  Reader -> host body: SW1 SW2 SW3 data.
// LEN counts the body and the checksum; CHK is the XOR of the two length
// bytes and the body.
//
// Pure and sans-IO: the decoders take bytes as they come off any transport
// (in pieces of any size) and hand out whole frames or errors.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace postgate::adapters::idcard {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::array<std::uint8_t, 5> kPreamble{0xAA, 0xAA, 0xAA, 0x96, 0x69};
// The largest legal reply: read text + photo + fingerprint (30 10), whose
// length field is 0x090A (3 status bytes, 6 length bytes, 256 + 1024 + 1024
// data bytes, checksum). Anything longer is an impossible frame.
inline constexpr std::size_t kMaxReplyLength = 0x090A;
// Reply: SW1 SW2 SW3 CHK at least.
inline constexpr std::size_t kMinReplyLength = 4;
// Commands are CMD PARA [data] CHK; no command the host sends carries more
// than a few data bytes.
inline constexpr std::size_t kMaxCommandLength = 64;
inline constexpr std::size_t kMinCommandLength = 3;

// XOR of the bytes: the frame checksum when given LEN and the body.
std::uint8_t sam_checksum(std::span<const std::uint8_t> bytes);

// ---- commands (host -> reader) ----
namespace cmd {
inline constexpr std::uint8_t kReset = 0x10;      // PARA FF
inline constexpr std::uint8_t kSamStatus = 0x11;  // PARA FF
inline constexpr std::uint8_t kReadSamId = 0x12;  // PARA FF
inline constexpr std::uint8_t kCard = 0x20;       // PARA 01 find, 02 select
inline constexpr std::uint8_t kRead = 0x30;       // PARA 01 text+photo, 10 +fingerprint, 03 address
inline constexpr std::uint8_t kUartSpeed = 0x60;  // PARA 00..04
inline constexpr std::uint8_t kParaFind = 0x01;
inline constexpr std::uint8_t kParaSelect = 0x02;
inline constexpr std::uint8_t kParaTextPhoto = 0x01;
inline constexpr std::uint8_t kParaTextPhotoFingerprint = 0x10;
inline constexpr std::uint8_t kParaNewAddress = 0x03;
}  // namespace cmd

Bytes encode_command(std::uint8_t cmd, std::uint8_t para, std::span<const std::uint8_t> data = {});

Bytes reset_sam_command();                    // AA AA AA 96 69 00 03 10 FF EC
Bytes sam_status_command();                   // ... 11 FF ED
Bytes read_sam_id_command();                  // ... 12 FF EE
Bytes find_card_command();                    // ... 20 01 22
Bytes select_card_command();                  // ... 20 02 21
Bytes read_text_photo_command();              // ... 30 01 32
Bytes read_text_photo_fingerprint_command();  // ... 30 10 23
Bytes read_new_address_command();             // ... 30 03 30
enum class UartSpeed : std::uint8_t { b115200 = 0, b57600 = 1, b38400 = 2, b19200 = 3, b9600 = 4 };
Bytes set_uart_speed_command(UartSpeed speed);  // ... 60 0x

// ---- status words (SW3) ----
enum class SamStatus : std::uint8_t {
  success = 0x90,
  find_success = 0x9F,
  checksum_error = 0x10,  // the reader got a frame with a bad checksum
  length_error = 0x11,    // the reader got a frame with a bad length
  bad_command = 0x21,
  unauthorised = 0x23,
  unrecognised_error = 0x24,
  card_auth_sam_failed = 0x31,  // the card failed to authenticate the SAM
  sam_auth_card_failed = 0x32,  // the SAM failed to authenticate the card
  verification_error = 0x33,
  unknown_card_type = 0x40,
  read_failed = 0x41,
  random_failed = 0x47,
  sam_self_test_failed = 0x60,
  sam_not_authorised = 0x66,
  no_card = 0x80,  // find card failed
  select_failed = 0x81,
  no_content = 0x91,  // nothing for this item (e.g. no fingerprint)
  comm_fault = 0xFF,
};

// Every status of the table, for tests and docs.
std::span<const SamStatus> all_sam_statuses();
// nullopt for a byte that is not in DOMAIN.md's table.
std::optional<SamStatus> sam_status_from_byte(std::uint8_t sw3);
// Stable snake_case name ("no_card"); "unknown" for values outside the enum.
std::string_view to_string(SamStatus s);
// For people: "SAM failed to authenticate the card".
std::string_view describe(SamStatus s);
// The DeviceError code a status stands for when it ends a read
// ("card_auth_failed" for 31/32/33, "card_read_failed" for 41, "reader_rejected_frame"
// for 10/11, "reader_fault" for 21/23/24/47/60/66/FF, "no_card", "select_failed", ...).
std::string_view error_code(SamStatus s);

struct SamReply {
  std::uint8_t sw1 = 0;
  std::uint8_t sw2 = 0;
  std::uint8_t sw3 = 0;
  Bytes data;
  // nullopt when SW3 is not in the table.
  std::optional<SamStatus> status() const { return sam_status_from_byte(sw3); }
  friend bool operator==(const SamReply&, const SamReply&) = default;
};

struct SamCommand {
  std::uint8_t cmd = 0;
  std::uint8_t para = 0;
  Bytes data;
  friend bool operator==(const SamCommand&, const SamCommand&) = default;
};

// A whole reply frame, for tests and for test peers that play a reader.
Bytes encode_reply(std::uint8_t sw3, std::span<const std::uint8_t> data = {}, std::uint8_t sw1 = 0,
                   std::uint8_t sw2 = 0);
Bytes encode_reply(SamStatus status, std::span<const std::uint8_t> data = {});
Bytes find_card_ok_reply();  // AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97
Bytes select_card_ok_reply(
    std::span<const std::uint8_t, 8> card_serial = std::array<std::uint8_t, 8>{});
// 30 01: text (256 bytes) and photo (1024) with their big-endian lengths.
Bytes read_text_photo_reply(std::span<const std::uint8_t> text,
                            std::span<const std::uint8_t> photo);
// 30 10: the same plus the fingerprint block (1024, 512 or 0 bytes).
Bytes read_text_photo_fingerprint_reply(std::span<const std::uint8_t> text,
                                        std::span<const std::uint8_t> photo,
                                        std::span<const std::uint8_t> fingerprint);

// Decoder error codes (core::Error::code).
namespace frame_error {
inline constexpr std::string_view kBadChecksum = "bad_checksum";
inline constexpr std::string_view kBadLength =
    "bad_length";                                        // below the minimum or above the bound
inline constexpr std::string_view kGarbage = "garbage";  // bytes skipped before a preamble
}  // namespace frame_error

// Splits a byte stream into frame bodies (without preamble, length and
// checksum). Bytes before a preamble are skipped and reported once, as one
// "garbage" error, when the next preamble is found (bytes skipped right
// after a bad frame belong to that error and are not reported again). A
// length outside [min_length, max_length] is "bad_length" and the splitter
// looks for the next preamble right after it; a bad checksum drops the whole
// declared frame. The buffer never holds more than one frame plus the bytes
// of the last feed().
class SamFrameSplitter {
 public:
  SamFrameSplitter(std::size_t min_length, std::size_t max_length);
  void feed(std::span<const std::uint8_t> bytes);
  // A body, an error, or nullopt when more bytes are needed.
  std::optional<core::Result<Bytes>> next();
  // Drops everything buffered (link lost, reply timed out).
  void reset();
  // True when the bytes buffered are the start of a frame (a preamble seen):
  // what reset() would throw away as a truncated frame.
  bool mid_frame() const;
  std::size_t buffered() const { return buffer_.size() - pos_; }
  // Bytes skipped outside frames since construction (for counters).
  std::uint64_t skipped_bytes() const { return skipped_total_; }

 private:
  void compact();
  std::size_t min_length_;
  std::size_t max_length_;
  Bytes buffer_;
  std::size_t pos_ = 0;  // start of the unconsumed bytes
  std::size_t pending_skipped_ = 0;
  bool after_error_ = false;
  std::uint64_t skipped_total_ = 0;
};

// Reader -> host.
class SamFrameDecoder {
 public:
  explicit SamFrameDecoder(std::size_t max_length = kMaxReplyLength)
      : splitter_(kMinReplyLength, max_length) {}
  void feed(std::span<const std::uint8_t> bytes) { splitter_.feed(bytes); }
  std::optional<core::Result<SamReply>> next();
  void reset() { splitter_.reset(); }
  bool mid_frame() const { return splitter_.mid_frame(); }
  std::size_t buffered() const { return splitter_.buffered(); }
  std::uint64_t skipped_bytes() const { return splitter_.skipped_bytes(); }

 private:
  SamFrameSplitter splitter_;
};

// Host -> reader: for test peers that play a reader.
class SamCommandDecoder {
 public:
  SamCommandDecoder() : splitter_(kMinCommandLength, kMaxCommandLength) {}
  void feed(std::span<const std::uint8_t> bytes) { splitter_.feed(bytes); }
  std::optional<core::Result<SamCommand>> next();
  void reset() { splitter_.reset(); }
  bool mid_frame() const { return splitter_.mid_frame(); }

 private:
  SamFrameSplitter splitter_;
};

}  // namespace postgate::adapters::idcard
