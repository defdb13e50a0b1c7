#include "adapters/idcard/codec/sam_frame.hpp"

#include <algorithm>
#include <string>

namespace postgate::adapters::idcard {

namespace {

constexpr std::size_t kHeaderSize = kPreamble.size() + 2;  // preamble + length

struct StatusInfo {
  SamStatus status;
  std::string_view name;
  std::string_view description;
  std::string_view error_code;
};

constexpr std::array<StatusInfo, 19> kStatuses{{
    {SamStatus::success, "success", "success", "ok"},
    {SamStatus::find_success, "find_success", "card found", "ok"},
    {SamStatus::checksum_error, "checksum_error", "reader received a frame with a bad checksum",
     "reader_rejected_frame"},
    {SamStatus::length_error, "length_error", "reader received a frame with a bad length",
     "reader_rejected_frame"},
    {SamStatus::bad_command, "bad_command", "reader does not know the command", "reader_fault"},
    {SamStatus::unauthorised, "unauthorised", "command not authorised", "reader_fault"},
    {SamStatus::unrecognised_error, "unrecognised_error", "unrecognised reader error",
     "reader_fault"},
    {SamStatus::card_auth_sam_failed, "card_auth_sam_failed", "card failed to authenticate the SAM",
     "card_auth_failed"},
    {SamStatus::sam_auth_card_failed, "sam_auth_card_failed", "SAM failed to authenticate the card",
     "card_auth_failed"},
    {SamStatus::verification_error, "verification_error", "card verification error",
     "card_auth_failed"},
    {SamStatus::unknown_card_type, "unknown_card_type", "unknown card type", "unknown_card_type"},
    {SamStatus::read_failed, "read_failed", "reading the card failed", "card_read_failed"},
    {SamStatus::random_failed, "random_failed", "random number failure", "reader_fault"},
    {SamStatus::sam_self_test_failed, "sam_self_test_failed", "SAM self-test failed",
     "reader_fault"},
    {SamStatus::sam_not_authorised, "sam_not_authorised", "SAM not authorised", "reader_fault"},
    {SamStatus::no_card, "no_card", "no card found", "no_card"},
    {SamStatus::select_failed, "select_failed", "selecting the card failed", "select_failed"},
    {SamStatus::no_content, "no_content", "no content for this item", "no_content"},
    {SamStatus::comm_fault, "comm_fault", "reader communication fault", "reader_fault"},
}};

constexpr std::array<SamStatus, kStatuses.size()> kStatusList = [] {
  std::array<SamStatus, kStatuses.size()> out{};
  for (std::size_t i = 0; i < kStatuses.size(); ++i) out[i] = kStatuses[i].status;
  return out;
}();

const StatusInfo* find_status(SamStatus s) {
  for (const auto& info : kStatuses)
    if (info.status == s) return &info;
  return nullptr;
}

Bytes frame(std::span<const std::uint8_t> body) {
  // Sized up front and filled in place: GCC 12 warns (wrongly) about
  // vector::insert after reserve here.
  const std::size_t length = body.size() + 1;
  Bytes out(kHeaderSize + length);
  std::copy(kPreamble.begin(), kPreamble.end(), out.begin());
  out[5] = static_cast<std::uint8_t>(length >> 8);
  out[6] = static_cast<std::uint8_t>(length & 0xFF);
  std::copy(body.begin(), body.end(), out.begin() + kHeaderSize);
  out.back() = sam_checksum(std::span(out).subspan(kPreamble.size(), 2 + body.size()));
  return out;
}

void put_be16(Bytes& out, std::size_t v) {
  out.push_back(static_cast<std::uint8_t>((v >> 8) & 0xFF));
  out.push_back(static_cast<std::uint8_t>(v & 0xFF));
}

}  // namespace

std::uint8_t sam_checksum(std::span<const std::uint8_t> bytes) {
  std::uint8_t x = 0;
  for (const auto b : bytes) x ^= b;
  return x;
}

Bytes encode_command(std::uint8_t cmd, std::uint8_t para, std::span<const std::uint8_t> data) {
  Bytes body{cmd, para};
  body.insert(body.end(), data.begin(), data.end());
  return frame(body);
}

Bytes reset_sam_command() {
  return encode_command(cmd::kReset, 0xFF);
}
Bytes sam_status_command() {
  return encode_command(cmd::kSamStatus, 0xFF);
}
Bytes read_sam_id_command() {
  return encode_command(cmd::kReadSamId, 0xFF);
}
Bytes find_card_command() {
  return encode_command(cmd::kCard, cmd::kParaFind);
}
Bytes select_card_command() {
  return encode_command(cmd::kCard, cmd::kParaSelect);
}
Bytes read_text_photo_command() {
  return encode_command(cmd::kRead, cmd::kParaTextPhoto);
}
Bytes read_text_photo_fingerprint_command() {
  return encode_command(cmd::kRead, cmd::kParaTextPhotoFingerprint);
}
Bytes read_new_address_command() {
  return encode_command(cmd::kRead, cmd::kParaNewAddress);
}
Bytes set_uart_speed_command(UartSpeed speed) {
  return encode_command(cmd::kUartSpeed, static_cast<std::uint8_t>(speed));
}

std::span<const SamStatus> all_sam_statuses() {
  return kStatusList;
}

std::optional<SamStatus> sam_status_from_byte(std::uint8_t sw3) {
  for (const auto& info : kStatuses)
    if (static_cast<std::uint8_t>(info.status) == sw3) return info.status;
  return std::nullopt;
}

std::string_view to_string(SamStatus s) {
  const auto* info = find_status(s);
  return info ? info->name : "unknown";
}

std::string_view describe(SamStatus s) {
  const auto* info = find_status(s);
  return info ? info->description : "unknown status";
}

std::string_view error_code(SamStatus s) {
  const auto* info = find_status(s);
  return info ? info->error_code : "unknown_status";
}

Bytes encode_reply(std::uint8_t sw3, std::span<const std::uint8_t> data, std::uint8_t sw1,
                   std::uint8_t sw2) {
  Bytes body{sw1, sw2, sw3};
  body.insert(body.end(), data.begin(), data.end());
  return frame(body);
}

Bytes encode_reply(SamStatus status, std::span<const std::uint8_t> data) {
  return encode_reply(static_cast<std::uint8_t>(status), data);
}

Bytes find_card_ok_reply() {
  const std::array<std::uint8_t, 4> zeros{};
  return encode_reply(SamStatus::find_success, zeros);
}

Bytes select_card_ok_reply(std::span<const std::uint8_t, 8> card_serial) {
  return encode_reply(SamStatus::success, card_serial);
}

Bytes read_text_photo_reply(std::span<const std::uint8_t> text,
                            std::span<const std::uint8_t> photo) {
  Bytes data;
  data.reserve(4 + text.size() + photo.size());
  put_be16(data, text.size());
  put_be16(data, photo.size());
  data.insert(data.end(), text.begin(), text.end());
  data.insert(data.end(), photo.begin(), photo.end());
  return encode_reply(SamStatus::success, data);
}

Bytes read_text_photo_fingerprint_reply(std::span<const std::uint8_t> text,
                                        std::span<const std::uint8_t> photo,
                                        std::span<const std::uint8_t> fingerprint) {
  Bytes data;
  data.reserve(6 + text.size() + photo.size() + fingerprint.size());
  put_be16(data, text.size());
  put_be16(data, photo.size());
  put_be16(data, fingerprint.size());
  data.insert(data.end(), text.begin(), text.end());
  data.insert(data.end(), photo.begin(), photo.end());
  data.insert(data.end(), fingerprint.begin(), fingerprint.end());
  return encode_reply(SamStatus::success, data);
}

// ---- splitter ----

SamFrameSplitter::SamFrameSplitter(std::size_t min_length, std::size_t max_length)
    : min_length_(min_length), max_length_(max_length) {}

void SamFrameSplitter::feed(std::span<const std::uint8_t> bytes) {
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

void SamFrameSplitter::reset() {
  buffer_.clear();
  pos_ = 0;
  pending_skipped_ = 0;
  after_error_ = false;
}

void SamFrameSplitter::compact() {
  if (pos_ == 0) return;
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(pos_));
  pos_ = 0;
}

bool SamFrameSplitter::mid_frame() const {
  return buffered() >= kPreamble.size() &&
         std::equal(kPreamble.begin(), kPreamble.end(),
                    buffer_.begin() + static_cast<std::ptrdiff_t>(pos_));
}

std::optional<core::Result<Bytes>> SamFrameSplitter::next() {
  const auto begin = buffer_.begin() + static_cast<std::ptrdiff_t>(pos_);
  const auto found = std::search(begin, buffer_.end(), kPreamble.begin(), kPreamble.end());
  std::size_t start = static_cast<std::size_t>(found - buffer_.begin());
  if (found == buffer_.end()) {
    // Keep a tail that may be the start of a preamble split across feeds.
    std::size_t keep = std::min(buffered(), kPreamble.size() - 1);
    while (keep > 0 && !std::equal(buffer_.end() - static_cast<std::ptrdiff_t>(keep), buffer_.end(),
                                   kPreamble.begin()))
      --keep;
    start = buffer_.size() - keep;
  }
  if (start > pos_) {
    const std::size_t skipped = start - pos_;
    skipped_total_ += skipped;
    if (!after_error_) pending_skipped_ += skipped;
    pos_ = start;
  }
  if (found == buffer_.end()) {
    compact();
    return std::nullopt;
  }
  // A preamble: whatever was skipped before it is reported now, once.
  after_error_ = false;
  if (pending_skipped_ > 0) {
    const std::size_t n = pending_skipped_;
    pending_skipped_ = 0;
    return core::fail(std::string(frame_error::kGarbage), "frame",
                      std::to_string(n) + " bytes skipped before a frame");
  }
  if (buffered() < kHeaderSize) {
    compact();
    return std::nullopt;
  }
  const std::size_t length = (static_cast<std::size_t>(buffer_[pos_ + 5]) << 8) | buffer_[pos_ + 6];
  if (length < min_length_ || length > max_length_) {
    pos_ += kPreamble.size();
    after_error_ = true;
    return core::fail(std::string(frame_error::kBadLength), "frame.length",
                      "frame length " + std::to_string(length) + " outside " +
                          std::to_string(min_length_) + ".." + std::to_string(max_length_));
  }
  if (buffered() < kHeaderSize + length) {
    compact();
    return std::nullopt;
  }
  const std::span<const std::uint8_t> covered(buffer_.data() + pos_ + kPreamble.size(),
                                              2 + length - 1);
  const std::uint8_t expected = buffer_[pos_ + kHeaderSize + length - 1];
  const std::uint8_t actual = sam_checksum(covered);
  const auto body_begin = buffer_.begin() + static_cast<std::ptrdiff_t>(pos_ + kHeaderSize);
  Bytes body(body_begin, body_begin + static_cast<std::ptrdiff_t>(length - 1));
  pos_ += kHeaderSize + length;
  if (expected != actual) {
    after_error_ = true;
    return core::fail(std::string(frame_error::kBadChecksum), "frame.checksum",
                      "frame checksum mismatch");
  }
  return body;
}

// ---- typed decoders ----

std::optional<core::Result<SamReply>> SamFrameDecoder::next() {
  auto body = splitter_.next();
  if (!body) return std::nullopt;
  if (!*body) return std::unexpected(std::move(body->error()));
  Bytes& b = **body;
  SamReply reply{b[0], b[1], b[2], {}};
  reply.data.assign(b.begin() + 3, b.end());
  return reply;
}

std::optional<core::Result<SamCommand>> SamCommandDecoder::next() {
  auto body = splitter_.next();
  if (!body) return std::nullopt;
  if (!*body) return std::unexpected(std::move(body->error()));
  Bytes& b = **body;
  SamCommand command{b[0], b[1], {}};
  command.data.assign(b.begin() + 2, b.end());
  return command;
}

}  // namespace postgate::adapters::idcard
