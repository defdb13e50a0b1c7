#pragma once
// The MQTT side of postgate-hq serve: one Paho async client, subscriptions
// (optionally shared), and a single worker thread that feeds messages to the
// Ingestor in arrival order, so SQLite writes are serialised and each batch
// is acked only after its transaction committed.
#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "hq/ingest.hpp"

namespace postgate::hq {

struct ReceiverOptions {
  std::vector<std::string> brokers;  // tried in order
  std::string client_id;
  std::optional<std::string> group;  // $share/<group>/... for records, telemetry, events
  std::string prefix = "postgate/v1";
  int mqtt_version = 5;      // 5 or 3 (3.1.1)
  bool clean_start = false;  // false: the broker queues for us while we are away
  int session_expiry_s = 7 * 24 * 3600;
  int keepalive_s = 30;
  std::string ca_file, cert_file, key_file;
  std::size_t queue_max = 1000;  // received, not yet stored; the MQTT thread waits beyond
  // Messages stored per transaction at most; acks go out after each commit.
  // Smaller groups ack sooner but pay one fsync each; a group as large as
  // an edge's whole window leaves that edge idle until its commit
  // (docs/hq.md).
  std::size_t group_max = 16;
};

// The topic filters serve subscribes to. Status is never shared: a shared
// subscription gets no retained messages, and every receiver should know
// which outlets are online.
std::vector<std::string> subscription_filters(const ReceiverOptions& o);

// Runs until `stop` is set (signal handler) or the database fails. Returns
// the failure, if any.
core::Status run_receiver(Ingestor& ingestor, const ReceiverOptions& options,
                          const std::atomic<bool>& stop);

}  // namespace postgate::hq
