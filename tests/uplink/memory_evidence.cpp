#include "memory_evidence.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace postgate::uplink::testing {

std::string sha256_hex(const std::vector<std::uint8_t>& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 15]);
  }
  return out;
}

std::vector<std::uint8_t> synthetic_bytes(std::size_t n, std::uint64_t seed) {
  core::SplitMix64 rng(seed);
  std::vector<std::uint8_t> out(n);
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint64_t v = rng.next();
    for (std::size_t k = 0; k < 8 && i + k < n; ++k)
      out[i + k] = static_cast<std::uint8_t>(v >> (8 * k));
  }
  return out;
}

core::Uuid MemoryEvidence::add(std::vector<std::uint8_t> bytes, std::uint64_t record_seq,
                               std::string sha256, std::string kind) {
  std::lock_guard lock(mu_);
  Entry e;
  e.item.captured_at = core::TimePoint(std::chrono::milliseconds(1'795'420'800'000)) +
                       std::chrono::milliseconds(items_.size());
  e.item.id = core::make_uuid_v7(e.item.captured_at, rng_);
  e.item.kind = std::move(kind);
  e.item.source = "cam-1";
  e.item.content_type = "image/jpeg";
  e.item.size = bytes.size();
  e.item.sha256 = sha256.empty() ? sha256_hex(bytes) : std::move(sha256);
  if (record_seq > 0) {
    e.item.record_seq = record_seq;
    e.item.record_id = core::make_uuid_v7(e.item.captured_at, rng_);
    e.item.binding = core::EvidenceBinding::commit;
  }
  e.bytes = std::move(bytes);
  e.order = items_.size();
  items_.push_back(std::move(e));
  return items_.back().item.id;
}

MemoryEvidence::Entry* MemoryEvidence::find(const core::Uuid& id) {
  for (auto& e : items_)
    if (e.item.id == id) return &e;
  return nullptr;
}
const MemoryEvidence::Entry* MemoryEvidence::find(const core::Uuid& id) const {
  for (const auto& e : items_)
    if (e.item.id == id) return &e;
  return nullptr;
}

MemoryEvidence::State MemoryEvidence::state(const core::Uuid& id) const {
  std::lock_guard lock(mu_);
  const auto* e = find(id);
  return e ? e->st : State{};
}

std::size_t MemoryEvidence::delivered_count() const {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(
      std::count_if(items_.begin(), items_.end(), [](const Entry& e) { return e.st.delivered; }));
}

std::size_t MemoryEvidence::failed_count() const {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(
      std::count_if(items_.begin(), items_.end(), [](const Entry& e) { return e.st.failed; }));
}

std::uint64_t MemoryEvidence::bytes_read() const {
  std::lock_guard lock(mu_);
  return bytes_read_;
}

std::size_t MemoryEvidence::progress_writes() const {
  std::lock_guard lock(mu_);
  return progress_writes_;
}

void MemoryEvidence::fail_reads(int n) {
  std::lock_guard lock(mu_);
  fail_reads_ = n;
}

core::Result<std::optional<core::EvidenceItem>> MemoryEvidence::next_evidence() const {
  std::lock_guard lock(mu_);
  const Entry* best = nullptr;
  for (const auto& e : items_) {
    if (e.st.delivered || e.st.failed) continue;
    if (on_request_only_ && !e.st.requested) continue;
    if (!best || (e.st.requested && !best->st.requested)) best = &e;
  }
  if (!best) return std::optional<core::EvidenceItem>();
  core::EvidenceItem it = best->item;
  it.acked = best->st.acked;
  it.mismatches = best->st.mismatches;
  return std::optional<core::EvidenceItem>(std::move(it));
}

core::Result<std::vector<std::uint8_t>> MemoryEvidence::read_evidence(const core::Uuid& id,
                                                                      std::uint64_t offset,
                                                                      std::size_t len) const {
  std::lock_guard lock(mu_);
  if (fail_reads_ > 0) {
    --fail_reads_;
    return core::fail("storage_io", "evidence", "injected read failure");
  }
  const auto* e = find(id);
  if (!e) return core::fail("evidence_missing", "id", "no such evidence");
  if (offset > e->bytes.size()) return std::vector<std::uint8_t>();
  const auto n = std::min<std::size_t>(len, e->bytes.size() - offset);
  bytes_read_ += n;
  return std::vector<std::uint8_t>(e->bytes.begin() + static_cast<long>(offset),
                                   e->bytes.begin() + static_cast<long>(offset + n));
}

core::Status MemoryEvidence::evidence_progress(const core::Uuid& id, std::uint64_t acked,
                                               int mismatches) {
  std::lock_guard lock(mu_);
  auto* e = find(id);
  if (!e) return core::fail("evidence_missing", "id", "no such evidence");
  e->st.acked = acked;
  e->st.mismatches = mismatches;
  ++progress_writes_;
  return {};
}

core::Status MemoryEvidence::evidence_delivered(const core::Uuid& id) {
  std::lock_guard lock(mu_);
  auto* e = find(id);
  if (!e) return core::fail("evidence_missing", "id", "no such evidence");
  e->st.delivered = true;
  e->st.acked = e->item.size;
  return {};
}

core::Status MemoryEvidence::evidence_failed(const core::Uuid& id, const std::string& reason) {
  std::lock_guard lock(mu_);
  auto* e = find(id);
  if (!e) return core::fail("evidence_missing", "id", "no such evidence");
  e->st.failed = true;
  e->st.reason = reason;
  return {};
}

core::Result<std::size_t> MemoryEvidence::request_evidence(
    std::optional<core::Uuid> record_id, std::optional<std::uint64_t> record_seq) {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (auto& e : items_) {
    const bool match = (record_id && e.item.record_id == record_id) ||
                       (record_seq && e.item.record_seq == record_seq);
    if (!match || e.st.delivered || e.st.failed) continue;
    e.st.requested = true;
    ++n;
  }
  return n;
}

}  // namespace postgate::uplink::testing
