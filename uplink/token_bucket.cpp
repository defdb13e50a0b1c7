#include "uplink/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace postgate::uplink {

TokenBucket::TokenBucket(double rate, Clock::time_point now)
    : rate_(rate), tokens_(rate > 0 ? rate : 0), last_(now) {}

void TokenBucket::refill(Clock::time_point now) {
  if (now <= last_) return;
  const double dt = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(rate_, tokens_ + dt * rate_);
  last_ = now;
}

double TokenBucket::available(Clock::time_point now) {
  if (unlimited()) return std::numeric_limits<double>::infinity();
  refill(now);
  return tokens_;
}

std::chrono::milliseconds TokenBucket::wait_for(double tokens, Clock::time_point now) {
  if (unlimited()) return std::chrono::milliseconds(0);
  refill(now);
  tokens = std::min(tokens, rate_);  // more than a second's worth never accrues
  if (tokens_ >= tokens) return std::chrono::milliseconds(0);
  const double s = (tokens - tokens_) / rate_;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(s * 1000.0)));
}

}  // namespace postgate::uplink
