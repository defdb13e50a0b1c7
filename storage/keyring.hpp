#pragma once
// AES-256-GCM keys for personal fields at rest. Each ciphertext carries the id
// of its key, so an old key can stay in the ring for reading while new data
// is written under the current one.
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace postgate::storage {

struct Key {
  std::uint32_t id = 0;  // first 4 bytes of SHA-256(key), big-endian
  std::array<std::uint8_t, 32> bytes{};
};

struct KeyRing {
  Key current;
  std::vector<Key> previous;  // read-only, for rotation
  const Key* find(std::uint32_t id) const;
};

// Builds a Key from raw bytes, computing its id.
Key make_key(const std::array<std::uint8_t, 32>& bytes);
std::uint32_t key_id_of(const std::array<std::uint8_t, 32>& bytes);
// "1a2b3c4d": how a key id appears in messages and logs.
std::string key_id_hex(std::uint32_t id);

// Reads a key file: 32 raw bytes, or 64 hex characters (optional trailing
// newline). Refuses a file that group or others can read (code
// "key_file_mode"), a missing file ("key_file_missing"), or a wrong size
// ("key_file_format").
core::Result<Key> load_key_file(const std::filesystem::path& path);
// systemd credential: $CREDENTIALS_DIRECTORY/<name>, same format.
core::Result<Key> load_key_credential(const std::string& name);
// Writes a fresh random key (64 hex characters, mode 0600) for first start
// and the demo. Never overwrites: an existing file fails ("key_file_exists").
core::Status generate_key_file(const std::filesystem::path& path);

// Sealed form: 1 version byte, 4-byte key id, 12-byte nonce, ciphertext,
// 16-byte tag. `aad` binds the ciphertext to its row (e.g. the record id);
// the 5 header bytes are authenticated too. Errors: "key_unknown" (no key in
// the ring has the id), "sealed_auth" (tampered or wrong AAD).
core::Result<std::vector<std::uint8_t>> seal(const Key& key, std::string_view plaintext,
                                             std::string_view aad);
core::Result<std::string> open_sealed(const KeyRing& ring, const std::vector<std::uint8_t>& sealed,
                                      std::string_view aad);

}  // namespace postgate::storage
