#pragma once
// Evidence files at HQ (docs/hq.md, "Evidence"): `<dir>/<outlet>/<id>.part`
// while an item arrives, then `<id>.<ext>` (or `<id>.sealed` with a key)
// once its SHA-256 matched. Directories are 0700 and files 0600: these are
// photos of people and their parcels.
//
// The database row's `have` is the truth, the .part file only follows it:
// before each append the file is cut back to `have`, so bytes written by a
// transaction that was rolled back never count.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "storage/keyring.hpp"

namespace postgate::hq {

class EvidenceFiles {
 public:
  explicit EvidenceFiles(std::filesystem::path root) : root_(std::move(root)) {}
  const std::filesystem::path& root() const { return root_; }

  std::filesystem::path part_path(std::string_view outlet, std::string_view id) const;
  // Bytes of the .part file that may count: min(file size, have); 0 when
  // there is none.
  std::uint64_t part_size(std::string_view outlet, std::string_view id) const;
  // Cuts the .part file to `have`, appends `bytes` at `have`, fsyncs it (and
  // the directory when the file is new).
  core::Status append(std::string_view outlet, std::string_view id, std::uint64_t have,
                      std::string_view bytes);
  // Lowercase hex SHA-256 of the .part file.
  core::Result<std::string> part_sha256(std::string_view outlet, std::string_view id) const;
  // The verified .part becomes the stored file; returns its path relative
  // to the root. With `key`, the file is sealed (storage/keyring.hpp; the
  // AAD binds it to outlet, id and hash) and the plain copy removed.
  core::Result<std::string> finalize(std::string_view outlet, std::string_view id,
                                     std::string_view content_type, std::string_view sha256,
                                     const storage::Key* key);
  void discard_part(std::string_view outlet, std::string_view id);
  // Reads a stored file back (plain, or opened with the ring).
  core::Result<std::vector<std::uint8_t>> read_stored(std::string_view relative,
                                                      std::string_view outlet, std::string_view id,
                                                      std::string_view sha256,
                                                      const storage::KeyRing* keys) const;

 private:
  core::Result<std::filesystem::path> outlet_dir(std::string_view outlet);
  std::filesystem::path root_;
};

std::string sealed_evidence_aad(std::string_view outlet, std::string_view id,
                                std::string_view sha256);
// Lowercase hex SHA-256 of a byte range.
std::string sha256_hex(std::string_view bytes);

}  // namespace postgate::hq
