// libFuzzer target: a snapshot URL from configuration (or an ONVIF
// GetSnapshotUri answer) and a Content-Type value from a camera.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "adapters/camera/codec/snapshot_url.hpp"

namespace {

using namespace postgate::adapters::camera;

void check(bool ok) {
  if (!ok) std::abort();
}

bool clean(std::string_view s) {
  for (const char c : s)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F)
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)is_jpeg_content_type(text);
  const auto url = parse_snapshot_url(text);
  if (!url) {
    check(url.error().code == "bad_url");
    return 0;
  }
  check(!url->host.empty() && url->port != 0);
  check(!url->target.empty() && url->target.front() == '/');
  check(clean(url->host) && clean(url->target) && clean(url->host_header()));
  check(url->target.find('#') == std::string::npos);
  // Printed back as a URL, it parses to the same parts, unless printing made
  // it longer than the parser's 2,048-character limit (a query right after
  // the host gains a '/': corpus/snapshot_url/query_at_limit).
  const std::string again =
      std::string(url->tls ? "https://" : "http://") + url->host_header() + url->target;
  if (again.size() > 2048) return 0;
  const auto back = parse_snapshot_url(again);
  check(back.has_value());
  check(back->tls == url->tls && back->host == url->host && back->port == url->port &&
        back->target == url->target);
  return 0;
}
