#pragma once
// The snapshot URL of an IP camera (what ONVIF GetSnapshotUri returns, or
// what the installer copies from the camera's web page), taken apart for
// the HTTP client. Only what a snapshot needs: http or https, a host (name,
// IPv4 or [IPv6]), an optional port, a path with an optional query.
//
// Pure: standard library and core/ only (the fuzz build compiles it).
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace postgate::adapters::camera {

struct SnapshotUrl {
  bool tls = false;
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 80;
  std::string target = "/";  // path and query, as sent in the request line

  bool ipv6_literal() const { return host.find(':') != std::string::npos; }
  // The Host header: brackets for IPv6, the port when not the default.
  std::string host_header() const;
};

// Errors: "bad_url" (field "url") with what is wrong. Credentials in the URL
// (user:pass@host) are refused: they go in username/password, so they never
// show in logs that print the URL. A fragment is dropped.
core::Result<SnapshotUrl> parse_snapshot_url(std::string_view url);

// Whether a Content-Type value names a JPEG: "image/jpeg" in any case, with
// or without parameters ("image/jpeg; charset=binary"); "image/jpg" and
// "image/pjpeg", which some cameras send, count too.
bool is_jpeg_content_type(std::string_view value);

}  // namespace postgate::adapters::camera
