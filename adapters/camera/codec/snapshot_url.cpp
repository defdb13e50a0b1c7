#include "adapters/camera/codec/snapshot_url.hpp"

#include <algorithm>

namespace postgate::adapters::camera {

namespace {

constexpr std::size_t kMaxUrl = 2048;

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::unexpected<core::Error> bad(std::string what) {
  return core::fail("bad_url", "url", std::move(what));
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'f');
}

bool is_reg_name_char(char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// RFC 3986 pchar plus '/' and '?' (path and query), and '%' escapes.
bool is_target_char(char c) {
  return is_alnum(c) || std::string_view("-._~!$&'()*+,;=:@/?%").find(c) != std::string_view::npos;
}

}  // namespace

std::string SnapshotUrl::host_header() const {
  std::string h = ipv6_literal() ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) h += ":" + std::to_string(port);
  return h;
}

core::Result<SnapshotUrl> parse_snapshot_url(std::string_view url) {
  if (url.empty()) return bad("empty");
  if (url.size() > kMaxUrl) return bad("longer than " + std::to_string(kMaxUrl) + " characters");
  SnapshotUrl out;
  if (istarts_with(url, "http://")) {
    url.remove_prefix(7);
  } else if (istarts_with(url, "https://")) {
    url.remove_prefix(8);
    out.tls = true;
    out.port = 443;
  } else {
    return bad("must start with http:// or https://");
  }
  if (const auto hash = url.find('#'); hash != std::string_view::npos) url = url.substr(0, hash);
  const std::size_t authority_end = std::min(url.find('/'), url.find('?'));
  std::string_view authority = url.substr(0, authority_end);
  const std::string_view target =
      authority_end == std::string_view::npos ? std::string_view{} : url.substr(authority_end);
  if (authority.find('@') != std::string_view::npos)
    return bad("credentials in the URL: give them as username and password");

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("an IPv6 address without ']'");
    const std::string_view addr = authority.substr(1, close - 1);
    if (addr.empty() || !std::all_of(addr.begin(), addr.end(),
                                     [](char c) { return is_hex(c) || c == ':' || c == '.'; }))
      return bad("a bad IPv6 address");
    out.host = std::string(addr);
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("garbage after the IPv6 address");
      port_text = rest.substr(1);
      if (port_text.empty()) return bad("an empty port");
    }
  } else {
    const auto colon = authority.find(':');
    const std::string_view host = authority.substr(0, colon);
    if (host.empty()) return bad("no host");
    if (!std::all_of(host.begin(), host.end(), is_reg_name_char)) return bad("a bad host name");
    out.host = std::string(host);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return bad("an empty port");
    }
  }
  if (!port_text.empty()) {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(),
                                             [](char c) { return c >= '0' && c <= '9'; }))
      return bad("a bad port");
    const unsigned long port = std::stoul(std::string(port_text));
    if (port == 0 || port > 65535) return bad("port out of range");
    out.port = static_cast<std::uint16_t>(port);
  }
  for (std::size_t i = 0; i < target.size(); ++i) {
    const char c = target[i];
    if (!is_target_char(c)) return bad("a character that must be percent-encoded in the path");
    if (c == '%' && (i + 2 >= target.size() || !is_hex(target[i + 1]) || !is_hex(target[i + 2])))
      return bad("a bad percent escape in the path");
  }
  if (target.empty()) {
    out.target = "/";
  } else if (target.front() == '?') {
    out.target = "/" + std::string(target);
  } else {
    out.target = std::string(target);
  }
  return out;
}

bool is_jpeg_content_type(std::string_view value) {
  std::string_view type = value.substr(0, value.find(';'));
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  return iequals(type, "image/jpeg") || iequals(type, "image/jpg") || iequals(type, "image/pjpeg");
}

}  // namespace postgate::adapters::camera
