#pragma once
// Settings of the MQTT uplink (docs/uplink.md, docs/protocol.md). Durations
// are milliseconds so tests can shrink them; the YAML keys are in seconds.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace postgate::uplink {

using Millis = std::chrono::milliseconds;

struct TlsSettings {
  std::string ca_file;    // PEM; empty: the system trust store
  std::string cert_file;  // client certificate (PEM), for mutual TLS
  std::string key_file;   // its private key (PEM)
  bool verify_hostname = true;
};

// always: evidence goes up after the records, oldest first; on_request: it
// stays at the outlet until HQ asks for a record's evidence.
enum class EvidenceUpload { always, on_request };

struct UplinkConfig {
  std::string prefix = "postgate/v1";
  std::string outlet;                // [A-Za-z0-9_-]{1,64}
  std::vector<std::string> brokers;  // tried in order: tcp://h:1883, ssl://h:8883
  int mqtt_version = 5;              // 5, or 3 for 3.1.1
  std::string client_id;             // empty: "postgate-<outlet>"
  std::optional<TlsSettings> tls;    // required for ssl:// URIs
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::chrono::seconds keepalive{30};
  std::chrono::seconds connect_timeout{10};
  bool persistent_session = true;                      // clean start false
  std::chrono::seconds session_expiry{7 * 24 * 3600};  // MQTT 5 only

  std::size_t batch_max_records = 500;
  std::size_t batch_max_bytes = 128 * 1024;
  Millis linger{50};
  std::size_t max_inflight_batches = 32;
  Millis ack_timeout{30'000};

  Millis reconnect_min{1'000};
  Millis reconnect_max{60'000};

  double drain_records_per_s = 2000;             // 0: unlimited
  double drain_bytes_per_s = 2.0 * 1024 * 1024;  // 0: unlimited

  // Evidence (docs/protocol.md "evidence"); used only when the uplink is
  // given an EvidenceOutbox (Uplink::set_evidence_outbox).
  std::size_t evidence_chunk_bytes = 64 * 1024;  // 1 .. 1 MiB
  std::size_t evidence_inflight_chunks = 4;
  double evidence_bytes_per_s = 256 * 1024;  // 0: unlimited
  EvidenceUpload evidence_upload = EvidenceUpload::always;

  Millis telemetry_interval{60'000};  // 0: no telemetry
  Millis stop_timeout{5'000};         // longest a clean stop may take

  std::string version = "0.0.0";  // reported in birth and telemetry

  std::string effective_client_id() const {
    return client_id.empty() ? "postgate-" + outlet : client_id;
  }
};

// Checks what Paho would otherwise reject late or silently: outlet syntax,
// at least one broker, known version, positive limits, ssl:// needs tls.
core::Status validate(const UplinkConfig& cfg);

}  // namespace postgate::uplink
