#include "daemon/line_framer.hpp"

namespace postgate::daemon {

namespace {
std::string_view strip_cr(std::string_view s) {
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}
}  // namespace

void LineFramer::feed(std::string_view bytes) {
  if (overflowed_) return;
  // Compact before growing, so the buffer stays about one read plus one line.
  if (start_ > 0 && start_ >= buf_.size() / 2) {
    buf_.erase(0, start_);
    start_ = 0;
  }
  buf_.append(bytes);
}

bool LineFramer::has_complete_line() const {
  return !overflowed_ && buf_.find('\n', start_ + scanned_) != std::string::npos;
}

LineFramer::Next LineFramer::next(std::string& line) {
  if (overflowed_) return Next::too_long;
  const auto nl = buf_.find('\n', start_ + scanned_);
  if (nl == std::string::npos) {
    scanned_ = buf_.size() - start_;
    // The partial line (without the newline still to come) is already too long.
    if (scanned_ > max_ + 1) {
      overflowed_ = true;
      return Next::too_long;
    }
    return Next::need_more;
  }
  std::string_view view(buf_.data() + start_, nl - start_);
  view = strip_cr(view);
  if (view.size() > max_) {
    overflowed_ = true;
    return Next::too_long;
  }
  line.assign(view);
  start_ = nl + 1;
  scanned_ = 0;
  if (start_ == buf_.size()) {
    buf_.clear();
    start_ = 0;
  }
  return Next::line;
}

LineFramer::Next LineFramer::finish(std::string& line) {
  if (overflowed_) return Next::too_long;
  std::string_view rest(buf_.data() + start_, buf_.size() - start_);
  rest = strip_cr(rest);
  if (rest.size() > max_) {
    overflowed_ = true;
    return Next::too_long;
  }
  const bool any = !rest.empty();
  if (any) line.assign(rest);
  buf_.clear();
  start_ = scanned_ = 0;
  return any ? Next::line : Next::need_more;
}

}  // namespace postgate::daemon
