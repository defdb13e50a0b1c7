#pragma once
// What the receiver does with one MQTT message, without MQTT: classify the
// topic, check the payload, store it, and say which ack to publish. The
// transport (receiver.hpp) only moves bytes, so this is tested directly.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/record.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "hq/evidence_files.hpp"
#include "hq/hq_store.hpp"

namespace postgate::hq {

enum class Kind { records, status, telemetry, events, evidence_chunk };

struct TopicParts {
  std::string outlet;
  Kind kind{};
};

// `[A-Za-z0-9_-]{1,64}`, as in docs/protocol.md.
bool valid_outlet(std::string_view outlet);
// `<prefix>/<outlet>/<kind>` with a known kind, or nullopt.
std::optional<TopicParts> parse_topic(std::string_view prefix, std::string_view topic);
std::string ack_topic(std::string_view prefix, std::string_view outlet);
std::string ack_payload(std::uint64_t upto_seq);
std::string evidence_ack_topic(std::string_view prefix, std::string_view outlet);

struct ParsedBatch {
  std::vector<core::Record> records;
  std::vector<StoredForm> forms;      // stored_form() of each record, same order
  std::vector<core::Error> rejected;  // one per record left out (messages are masked)
};

// Checks the envelope {"outlet":..,"batch":[..]} of a records payload and
// parses each record. Envelope errors reject the whole payload: "oversize",
// "not_json", "bad_shape", "outlet_mismatch". A record that does not parse,
// has seq 0, or repeats a seq of the same payload is left out with its error.
core::Result<ParsedBatch> parse_batch(std::string_view topic_outlet, std::string_view payload,
                                      std::size_t max_bytes);

struct IngestOptions {
  std::string prefix = "postgate/v1";
  std::size_t max_payload_bytes = 1024 * 1024;
  // Where evidence files go; chunks are refused (and counted) without one.
  std::optional<std::filesystem::path> evidence_dir;
  std::uint64_t max_evidence_bytes = 64ull * 1024 * 1024;  // per item
};

struct Publication {
  std::string topic;
  std::string payload;
  // Within one group only the last publication of a key goes out (a later
  // ack covers an earlier one); empty: the topic is the key.
  std::string key;
};

struct IngestCounters {
  std::uint64_t messages = 0;
  std::uint64_t batches = 0;
  std::uint64_t stored = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t conflicts = 0;
  std::uint64_t rejected = 0;  // payloads or records ignored
  std::uint64_t acks = 0;
  std::uint64_t store_errors = 0;
  std::uint64_t evidence_chunks = 0;
  std::uint64_t evidence_bytes = 0;  // appended, duplicates not counted
  std::uint64_t evidence_verified = 0;
  std::uint64_t evidence_mismatches = 0;
  std::uint64_t evidence_rejected = 0;
};

class Ingestor {
 public:
  Ingestor(HqStore& store, const core::Clock& clock, IngestOptions options)
      : store_(store), clock_(clock), options_(std::move(options)) {
    if (options_.evidence_dir) files_.emplace(*options_.evidence_dir);
  }

  // Handles one message; returns the ack to publish, if any. A failure of the
  // database is returned so the caller can decide to stop; nothing is acked
  // then, and the edge sends the batch again after its ack timeout.
  // `parsed`, when given, is parse_ahead()'s result for this message: the
  // receiver parses records payloads on the MQTT thread so that parsing and
  // storing run side by side.
  core::Result<std::optional<Publication>> handle(
      std::string_view topic, std::string_view payload, bool retained,
      std::optional<core::Result<ParsedBatch>> parsed = std::nullopt);
  // Thread-safe and without side effects: the parse of a records payload
  // (nullopt for other topics), for handle().
  std::optional<core::Result<ParsedBatch>> parse_ahead(std::string_view topic,
                                                       std::string_view payload) const;
  const IngestCounters& counters() const { return counters_; }
  // For the receiver's group commit (HqStore::begin_group).
  HqStore& store() { return store_; }

 private:
  core::Result<std::optional<Publication>> on_records(const std::string& outlet,
                                                      core::Result<ParsedBatch> parsed);
  core::Status on_status(const std::string& outlet, std::string_view payload, bool retained);
  core::Status on_telemetry(const std::string& outlet, std::string_view payload);
  core::Status on_event(const std::string& outlet, std::string_view payload);
  // evidence_ingest.cpp
  core::Result<std::optional<Publication>> on_evidence_chunk(const std::string& outlet,
                                                             std::string_view payload);
  void reject(const std::string& outlet, std::string_view what, const core::Error& e);
  core::Status count_malformed(const std::string& outlet);

  HqStore& store_;
  const core::Clock& clock_;
  IngestOptions options_;
  IngestCounters counters_;
  std::optional<EvidenceFiles> files_;
};

}  // namespace postgate::hq
