#pragma once
// A record as stored: clear columns, a JSON body of the non-personal parts,
// and one sealed blob with everything personal. Internal to storage/; the
// on-disk names of enums are defined here, not borrowed from display names,
// so renaming a display string never breaks old files.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/record.hpp"
#include "core/result.hpp"
#include "storage/keyring.hpp"
#include "storage/record_store.hpp"

namespace postgate::storage {

struct EncodedRow {
  std::string id;
  std::optional<std::string> ref;
  std::int64_t accepted_at_ms = 0;
  std::string counter;
  std::string operator_id;
  std::string doc_type;
  std::string name_masked;
  std::string number_masked;
  std::string body;                    // JSON
  std::vector<std::uint8_t> personal;  // sealed JSON, AAD = id
  std::uint32_t key_id = 0;
  std::int64_t payload_bytes = 0;
  // Sealed wire form with seq 0 (AAD = wire_aad(id)), when the store was
  // given a wire encoder; see open_wire.
  std::optional<std::vector<std::uint8_t>> wire;
};

// Seals under ring.current. Fails only if the cipher or the wire encoder
// does. The wire form is encoded before the writer thread gives the seq, so
// it is made with seq 0 and open_wire writes the row's seq in.
core::Result<EncodedRow> encode_row(const core::Record& r, const KeyRing& ring,
                                    const WireEncoder* wire = nullptr);

// Opens a sealed wire form and sets its seq: the text holds `,"seq":0,`
// exactly once at the top level (object keys are written sorted, so it sits
// between "sender" and "waybills"; inside a JSON string `,"` cannot occur).
core::Result<std::string> open_wire(const std::vector<std::uint8_t>& sealed, std::int64_t seq,
                                    const std::string& id, const KeyRing& ring);
std::string wire_aad(const std::string& id);

// The stored columns needed to rebuild a record.
struct StoredRow {
  std::int64_t seq = 0;
  std::string id;
  std::optional<std::string> ref;
  std::int64_t accepted_at_ms = 0;
  std::string counter;
  std::string operator_id;
  std::string doc_type;
  std::string body;
  std::vector<std::uint8_t> personal;
};

core::Result<core::Record> decode_row(const StoredRow& row, const KeyRing& ring);

std::int64_t to_unix_ms(core::TimePoint t);
core::TimePoint from_unix_ms(std::int64_t ms);

}  // namespace postgate::storage
