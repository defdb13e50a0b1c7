#pragma once
// A token bucket for the drain rate: `rate` tokens a second, holding at most
// one second's worth. Spending may overdraw it (a batch's size is known only
// once read); the debt is paid back before the next spend is allowed.
#include <chrono>

namespace postgate::uplink {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // rate <= 0: unlimited.
  TokenBucket(double rate, Clock::time_point now);

  bool unlimited() const { return rate_ <= 0; }
  // Tokens available now (after refilling); never more than `rate`.
  double available(Clock::time_point now);
  void spend(double tokens) { tokens_ -= tokens; }
  // How long until at least `tokens` are available (zero when already).
  std::chrono::milliseconds wait_for(double tokens, Clock::time_point now);

 private:
  void refill(Clock::time_point now);
  double rate_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace postgate::uplink
