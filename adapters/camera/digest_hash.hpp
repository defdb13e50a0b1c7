#pragma once
// OpenSSL's MD5 and SHA-256 as the HashFunction the Digest codec takes.
#include <string>
#include <string_view>

#include "adapters/camera/codec/www_authenticate.hpp"

namespace postgate::adapters::camera {

// Lower-case hex digest of `data`.
std::string openssl_digest_hex(DigestHash hash, std::string_view data);

}  // namespace postgate::adapters::camera
