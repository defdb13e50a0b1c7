#pragma once
// Splits a byte stream into newline-terminated lines with a hard size limit,
// so one client can never make the daemon buffer more than one line's worth.
#include <cstddef>
#include <string>
#include <string_view>

namespace postgate::daemon {

class LineFramer {
 public:
  explicit LineFramer(std::size_t max_line_bytes) : max_(max_line_bytes) {}

  enum class Next { line, need_more, too_long };

  void feed(std::string_view bytes);
  // Takes the next complete line (without "\n" or "\r\n"). too_long when a
  // line exceeds the limit, complete or not; the framer stays in that state.
  Next next(std::string& line);
  // At end of stream: a last line without a newline, if any (subject to the
  // same limit). Empty when nothing was left.
  Next finish(std::string& line);

  bool has_complete_line() const;
  std::size_t buffered() const { return buf_.size() - start_; }

 private:
  std::size_t max_;
  std::string buf_;
  std::size_t start_ = 0;    // consumed prefix of buf_
  std::size_t scanned_ = 0;  // bytes after start_ known to hold no '\n'
  bool overflowed_ = false;
};

}  // namespace postgate::daemon
