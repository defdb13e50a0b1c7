#include "sam_peer.hpp"

namespace postgate::test {

namespace idcard = adapters::idcard;
using namespace std::chrono_literals;

FakeSamReader::FakeSamReader(boost::asio::io_context& io, std::filesystem::path link)
    : drain_timer_(io),
      dev_(io, std::move(link), [this](std::span<const std::uint8_t> b) { on_bytes(b); }) {}

void FakeSamReader::place_card(std::vector<std::uint8_t> text, std::array<std::uint8_t, 8> serial) {
  card_ = Card{std::move(text), serial, false};
}

void FakeSamReader::on_bytes(std::span<const std::uint8_t> bytes) {
  decoder_.feed(bytes);
  while (auto c = decoder_.next()) {
    if (!*c) {
      ++bad_commands;
      continue;
    }
    if (mute) continue;
    answer(**c);
    if (cut_) return;
  }
}

void FakeSamReader::answer(const idcard::SamCommand& c) {
  using idcard::SamStatus;
  if (c.cmd == idcard::cmd::kCard && c.para == idcard::cmd::kParaFind) {
    ++finds;
    const bool found = card_ && !(quiet_after_read && card_->read);
    reply(found ? idcard::find_card_ok_reply() : idcard::encode_reply(SamStatus::no_card), shape);
  } else if (c.cmd == idcard::cmd::kCard && c.para == idcard::cmd::kParaSelect) {
    ++selects;
    reply(card_ ? idcard::select_card_ok_reply(card_->serial)
                : idcard::encode_reply(SamStatus::select_failed),
          shape);
  } else if (c.cmd == idcard::cmd::kRead) {
    ++reads;
    ReplyShape s = read_shape;
    if (!next_reads.empty()) {
      s = next_reads.front();
      next_reads.pop_front();
    }
    if (!card_) {
      reply(idcard::encode_reply(SamStatus::read_failed), s);
      return;
    }
    card_->read = true;
    std::vector<std::uint8_t> photo(idcard::kCardPhotoSize);
    for (std::size_t i = 0; i < photo.size(); ++i) photo[i] = static_cast<std::uint8_t>(i * 7);
    reply(idcard::read_text_photo_reply(card_->text, photo), s);
  } else {
    reply(idcard::encode_reply(SamStatus::bad_command), shape);
  }
}

void FakeSamReader::reply(std::vector<std::uint8_t> frame, const ReplyShape& s) {
  if (s.bad_checksum) frame.back() ^= 0x5A;
  frame.insert(frame.begin(), s.garbage_before.begin(), s.garbage_before.end());
  std::function<void()> done;
  if (s.unplug_after && *s.unplug_after < frame.size()) {
    frame.resize(*s.unplug_after);
    cut_ = true;
    done = [this] { unplug_when_drained(); };
  }
  std::vector<std::vector<std::uint8_t>> pieces;
  std::vector<std::size_t> cuts = s.cuts;
  if (cuts.empty() && s.chunk > 0) {
    for (std::size_t i = s.chunk; i < frame.size(); i += s.chunk) cuts.push_back(i);
  }
  std::size_t from = 0;
  for (std::size_t at : cuts) {
    if (at <= from || at >= frame.size()) continue;
    pieces.emplace_back(frame.begin() + static_cast<std::ptrdiff_t>(from),
                        frame.begin() + static_cast<std::ptrdiff_t>(at));
    from = at;
  }
  pieces.emplace_back(frame.begin() + static_cast<std::ptrdiff_t>(from), frame.end());
  dev_.write_pieces(std::move(pieces), s.gap, std::move(done));
}

// The host must have taken the partial frame in before the line drops:
// otherwise the hang-up may discard it and the frame was never "mid".
void FakeSamReader::unplug_when_drained() {
  if (!dev_.plugged()) return;
  if (dev_.unread() == 0) {
    dev_.unplug();
    return;
  }
  drain_timer_.expires_after(1ms);
  drain_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) unplug_when_drained();
  });
}

}  // namespace postgate::test
