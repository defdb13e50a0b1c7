#pragma once
// HTTP authentication for snapshot URLs (RFC 7235, 7617, 7616): the parser
// of a WWW-Authenticate header, and the Authorization header texts for Basic
// and Digest. Hashing is passed in, so the codec stays pure (the driver
// hands OpenSSL's MD5 and SHA-256 over; tests may hand anything).
//
// Pure: standard library and core/ only (the fuzz build compiles it).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace postgate::adapters::camera {

struct AuthChallenge {
  std::string scheme;   // lower case: "basic", "digest", "bearer", ...
  std::string token68;  // for schemes that carry one instead of parameters
  // Every auth-param, names in lower case, values unquoted and unescaped.
  std::vector<std::pair<std::string, std::string>> params;
  // The parameters Basic and Digest use, copied out of params:
  std::string realm;
  std::string nonce;
  std::string opaque;
  std::string algorithm;         // as sent ("MD5", "SHA-256", "MD5-sess"); empty: MD5
  std::vector<std::string> qop;  // lower-case tokens of the qop list
  bool stale = false;

  const std::string* param(std::string_view name) const;  // name in lower case
};

// Parses one WWW-Authenticate field value (one or more challenges). Several
// WWW-Authenticate fields are several calls, results appended. Errors:
// "bad_www_authenticate" with what and where.
core::Result<std::vector<AuthChallenge>> parse_www_authenticate(std::string_view value);

enum class DigestHash { md5, sha256 };
struct DigestAlgorithm {
  DigestHash hash = DigestHash::md5;
  bool session = false;   // the -sess variants
  std::string_view name;  // as sent back in Authorization
};
// The algorithm of a Digest challenge, or nullopt for one this client does
// not speak (SHA-512-256, anything unknown).
std::optional<DigestAlgorithm> digest_algorithm(const AuthChallenge& c);

// The challenge this client answers, out of all those a 401 carried:
// a Digest one it can speak (algorithm known, qop absent or including
// "auth"), SHA-256 before MD5; else nullptr.
const AuthChallenge* pick_digest(const std::vector<AuthChallenge>& challenges);
const AuthChallenge* find_scheme(const std::vector<AuthChallenge>& challenges,
                                 std::string_view scheme);  // lower case

// Lower-case hex digest of `data` with the given hash.
using HashFunction = std::function<std::string(DigestHash, std::string_view data)>;

struct DigestInput {
  std::string_view username;
  std::string_view password;
  std::string_view method;  // "GET"
  std::string_view uri;     // the request target, exactly as in the request line
  std::string_view cnonce;  // client nonce (random, printable, no quotes)
  std::uint32_t nc = 1;     // nonce count
};

// "Digest username=..., response=..." for `challenge` (qop=auth when the
// server offers it, the RFC 2069 form when it offers no qop). Errors
// ("camera_auth_failed"): a challenge this client does not speak, or a
// value that cannot be sent in a header (CR, LF, other control characters).
core::Result<std::string> digest_authorization(const AuthChallenge& challenge,
                                               const DigestInput& in, const HashFunction& hash);

// "Basic " + base64(username ":" password). Errors ("camera_auth_failed"):
// a username with ':' or a control character in either.
core::Result<std::string> basic_authorization(std::string_view username, std::string_view password);

std::string base64_encode(std::string_view data);

}  // namespace postgate::adapters::camera
