#include "daemon/system_random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstddef>
#include <stdexcept>

namespace postgate::daemon {

std::uint64_t SystemRandom::next() {
  std::uint64_t v = 0;
  auto* p = reinterpret_cast<unsigned char*>(&v);
  std::size_t got = 0;
  while (got < sizeof v) {
    const ssize_t n = ::getrandom(p + got, sizeof v - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // Without the kernel's generator no id can be made safely.
      throw std::runtime_error("getrandom failed");
    }
    got += static_cast<std::size_t>(n);
  }
  return v;
}

}  // namespace postgate::daemon
