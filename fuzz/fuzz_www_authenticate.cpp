// libFuzzer target: a WWW-Authenticate value from a camera's 401, through
// the parser, the choice of challenge, and the Authorization texts built
// from it (with a stand-in hash: the codec takes the hash as a function).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "adapters/camera/codec/www_authenticate.hpp"

namespace {

using namespace postgate::adapters::camera;

void check(bool ok) {
  if (!ok) std::abort();
}

// Deterministic, hex, the length of MD5 or SHA-256: enough for the codec.
std::string fake_hash(DigestHash h, std::string_view data) {
  std::uint64_t x = 1469598103934665603ull;
  for (const char c : data) x = (x ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  std::string out;
  const std::size_t n = h == DigestHash::sha256 ? 64 : 32;
  while (out.size() < n) {
    out += "0123456789abcdef"[x & 0xF];
    x = x * 6364136223846793005ull + 1442695040888963407ull;
  }
  return out;
}

bool has_crlf(std::string_view s) {
  return s.find('\r') != std::string_view::npos || s.find('\n') != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_www_authenticate(text);
  // Credentials out of the same bytes, to push odd characters through.
  const std::string_view user = text.substr(0, std::min<std::size_t>(size / 3, 40));
  const std::string_view uri = text.substr(size / 3, std::min<std::size_t>(size / 3, 60));
  if (auto basic = basic_authorization(user, "pw")) check(!has_crlf(*basic));
  if (!parsed) {
    check(parsed.error().code == "bad_www_authenticate");
    return 0;
  }
  check(!parsed->empty());
  for (const auto& c : *parsed) {
    check(!c.scheme.empty());
    for (const auto& [name, value] : c.params) check(!name.empty());
    DigestInput in;
    in.username = user;
    in.password = "pw";
    in.method = "GET";
    in.uri = uri;
    in.cnonce = "0a4f113b";
    auto header = digest_authorization(c, in, fake_hash);
    if (!header) continue;
    check(!has_crlf(*header));
    // What was sent parses back (auth-params like a challenge) to what went in.
    auto back = parse_www_authenticate(*header);
    check(back.has_value() && back->size() == 1 && (*back)[0].scheme == "digest");
    const auto& b = (*back)[0];
    check(b.param("username") && *b.param("username") == user);
    check(b.param("uri") && *b.param("uri") == uri);
    check(b.realm == c.realm && b.nonce == c.nonce);
  }
  if (const AuthChallenge* d = pick_digest(*parsed)) check(d->scheme == "digest");
  return 0;
}
