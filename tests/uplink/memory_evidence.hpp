#pragma once
// An in-memory EvidenceOutbox, as the tests need it: items with synthetic
// bytes (or given ones), requested-first ordering, the on_request mode, and
// a log of what the sender did. Thread-safe, so a broker test can inspect it
// while the uplink's loop uses it.
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/evidence.hpp"
#include "core/synthetic.hpp"

namespace postgate::uplink::testing {

// Lowercase hex SHA-256 (OpenSSL), for fixtures and checks.
std::string sha256_hex(const std::vector<std::uint8_t>& bytes);
// Deterministic pseudo-random bytes.
std::vector<std::uint8_t> synthetic_bytes(std::size_t n, std::uint64_t seed);

class MemoryEvidence final : public core::EvidenceOutbox {
 public:
  explicit MemoryEvidence(bool on_request_only = false) : on_request_only_(on_request_only) {}

  // Adds an item holding `bytes`, bound to record `record_seq` (0: unbound);
  // the sha256 is computed unless `sha256` is given. Returns its id.
  core::Uuid add(std::vector<std::uint8_t> bytes, std::uint64_t record_seq, std::string sha256 = {},
                 std::string kind = "camera");

  struct State {
    std::uint64_t acked = 0;
    int mismatches = 0;
    bool delivered = false;
    bool failed = false;
    bool requested = false;
    std::string reason;
  };
  State state(const core::Uuid& id) const;
  std::size_t delivered_count() const;
  std::size_t failed_count() const;
  std::uint64_t bytes_read() const;
  std::size_t progress_writes() const;
  // Read failures to inject: the next `n` reads fail.
  void fail_reads(int n);

  core::Result<std::optional<core::EvidenceItem>> next_evidence() const override;
  core::Result<std::vector<std::uint8_t>> read_evidence(const core::Uuid& id, std::uint64_t offset,
                                                        std::size_t len) const override;
  core::Status evidence_progress(const core::Uuid& id, std::uint64_t acked,
                                 int mismatches) override;
  core::Status evidence_delivered(const core::Uuid& id) override;
  core::Status evidence_failed(const core::Uuid& id, const std::string& reason) override;
  core::Result<std::size_t> request_evidence(std::optional<core::Uuid> record_id,
                                             std::optional<std::uint64_t> record_seq) override;

 private:
  struct Entry {
    core::EvidenceItem item;
    std::vector<std::uint8_t> bytes;
    State st;
    std::uint64_t order = 0;
  };
  Entry* find(const core::Uuid& id);
  const Entry* find(const core::Uuid& id) const;

  bool on_request_only_;
  mutable std::mutex mu_;
  std::vector<Entry> items_;  // oldest first
  core::SplitMix64 rng_{7};
  mutable std::uint64_t bytes_read_ = 0;
  mutable int fail_reads_ = 0;
  std::size_t progress_writes_ = 0;
};

}  // namespace postgate::uplink::testing
