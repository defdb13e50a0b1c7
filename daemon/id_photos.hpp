#pragma once
// The ID card's photo, when an idcard_reader has keep_photo: the raw WLT
// block (never decoded) is sealed with the record key (AES-256-GCM, the file
// name as AAD) into storage.evidence_dir at once, and referenced as evidence
// "id_photo" by every record the counter commits for that card's holder.
// A photo no record referenced is deleted when the counter reads the next
// card. One per counter; on the loop thread only.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/record.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "storage/keyring.hpp"

namespace postgate::daemon {

class IdPhotos {
 public:
  IdPhotos(std::filesystem::path dir, storage::Key key) : dir_(std::move(dir)), key_(key) {}

  // Seals and writes the photo (fsync'd, mode 0600) and remembers it for
  // `counter` and the holder's document number.
  core::Status keep(const std::string& counter, const std::string& source,
                    const std::string& doc_number, const std::vector<std::uint8_t>& photo,
                    core::TimePoint at);
  // The evidence to attach to a commit of `counter` for `doc_number`.
  std::optional<core::EvidenceRef> for_commit(const std::string& counter,
                                              const std::string& doc_number);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  struct Held {
    std::string doc_number;
    core::EvidenceRef ref;
    bool attached = false;
  };
  std::filesystem::path dir_;
  storage::Key key_;
  std::map<std::string, Held> held_;  // by counter
  std::uint64_t written_ = 0;
};

}  // namespace postgate::daemon
