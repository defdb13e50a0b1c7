// postgate-hq: the reference HQ receiver (docs/hq.md).
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>

#include <mqtt/async_client.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "hq/hq_store.hpp"
#include "hq/ingest.hpp"
#include "hq/receiver.hpp"
#include "hq/report.hpp"
#include "storage/keyring.hpp"
#include "uplink/evidence_messages.hpp"

namespace {

using namespace postgate;

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_signal(int) {
  g_stop.store(true);
}

int fail_with(const core::Error& e) {
  std::cerr << "postgate-hq: " << e.message << " (" << e.code << ")\n";
  return 1;
}

core::Result<std::optional<storage::KeyRing>> load_keys(const std::string& key_file, bool create) {
  if (key_file.empty()) return std::optional<storage::KeyRing>();
  std::error_code ec;
  if (create && !std::filesystem::exists(key_file, ec)) {
    if (auto s = storage::generate_key_file(key_file); !s) return std::unexpected(s.error());
    spdlog::info("created key file {}", key_file);
  }
  auto key = storage::load_key_file(key_file);
  if (!key) return std::unexpected(key.error());
  storage::KeyRing ring;
  ring.current = *key;
  return std::optional<storage::KeyRing>(std::move(ring));
}

std::string default_client_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "postgate-hq";
  std::string id = std::string("postgate-hq-") + host;
  return id.substr(0, 64);
}

// Publishes one evidence/request (QoS 1) and waits for the broker's PUBACK.
int request_evidence(const std::vector<std::string>& brokers, const std::string& prefix,
                     const std::string& outlet, std::uint64_t seq, const std::string& ca,
                     const std::string& cert, const std::string& key) {
  try {
    mqtt::async_client client(brokers.front(), "postgate-hq-request-" + std::to_string(::getpid()),
                              mqtt::create_options(MQTTVERSION_5));
    mqtt::connect_options c;
    c.set_mqtt_version(MQTTVERSION_5);
    c.set_clean_start(true);
    c.set_connect_timeout(10);
    auto servers = std::make_shared<mqtt::string_collection>();
    for (const auto& b : brokers) servers->push_back(b);
    c.set_servers(servers);
    if (!ca.empty() || !cert.empty()) {
      mqtt::ssl_options ssl;
      if (!ca.empty()) ssl.set_trust_store(ca);
      if (!cert.empty()) ssl.set_key_store(cert);
      if (!key.empty()) ssl.set_private_key(key);
      ssl.set_enable_server_cert_auth(true);
      c.set_ssl(ssl);
    }
    client.connect(c)->wait();
    const auto topic = prefix + "/" + outlet + "/evidence/request";
    const auto payload =
        uplink::evidence_request_payload(uplink::EvidenceRequest{std::nullopt, seq});
    client.publish(topic, payload.data(), payload.size(), 1, false)->wait();
    client.disconnect()->wait();
    std::cout << "asked " << outlet << " for the evidence of record " << seq << "\n";
    return 0;
  } catch (const mqtt::exception& e) {
    std::cerr << "postgate-hq: request not sent: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"postgate-hq: receives postgate records over MQTT, stores and acknowledges them"};
  app.require_subcommand(1);
  app.fallthrough();
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

  std::string db_path = "hq.db";
  std::string key_file;

  auto* serve = app.add_subcommand("serve", "subscribe to the fleet and store what arrives");
  hq::ReceiverOptions ropts;
  hq::IngestOptions iopts;
  bool create_key = false;
  std::string group;
  int mqtt_version = 5;
  serve->add_option("--broker", ropts.brokers, "broker URI, repeatable (tried in order)")
      ->required();
  serve->add_option("--db", db_path, "HQ database file")->required();
  serve->add_option("--prefix", ropts.prefix, "topic prefix")->capture_default_str();
  serve->add_option("--group", group, "shared subscription group ($share/GROUP/...)");
  serve->add_option("--key-file", key_file, "encrypt personal fields at rest with this key");
  serve->add_flag("--create-key", create_key, "create the key file if it does not exist");
  serve->add_option("--client-id", ropts.client_id, "MQTT client id (default postgate-hq-HOST)");
  serve->add_option("--mqtt", mqtt_version, "MQTT version, 5 or 3 (3.1.1)")
      ->check(CLI::IsMember({3, 5}))
      ->capture_default_str();
  serve->add_flag("--clean-start", ropts.clean_start,
                  "no persistent session (messages sent while down are not queued for us)");
  serve->add_option("--max-payload-bytes", iopts.max_payload_bytes, "larger payloads are ignored")
      ->capture_default_str();
  serve
      ->add_option("--group-commit-max", ropts.group_max,
                   "messages stored per transaction at most (acks follow each commit)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  std::string evidence_dir;
  serve->add_option("--evidence-dir", evidence_dir,
                    "where evidence files go (default: <db>.evidence beside the database)");
  serve
      ->add_option("--max-evidence-bytes", iopts.max_evidence_bytes,
                   "larger evidence items are rejected")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve->add_option("--ca", ropts.ca_file, "TLS: CA certificate file");
  serve->add_option("--cert", ropts.cert_file, "TLS: client certificate file");
  serve->add_option("--key", ropts.key_file, "TLS: client private key file");

  auto* fleet = app.add_subcommand("fleet", "one line per outlet");
  bool fleet_json = false;
  fleet->add_option("--db", db_path, "HQ database file")->required();
  fleet->add_flag("--json", fleet_json, "JSON output");

  auto* records = app.add_subcommand("records", "records held for one outlet (masked)");
  std::string outlet;
  std::size_t limit = 20;
  bool clear = false;
  bool records_json = false;
  records->add_option("--db", db_path, "HQ database file")->required();
  records->add_option("--outlet", outlet, "outlet id")->required();
  records->add_option("--limit", limit, "newest N records")->capture_default_str();
  records->add_flag("--clear", clear, "show names and document numbers unmasked");
  records->add_option("--key-file", key_file, "key, when personal fields are encrypted");
  records->add_flag("--json", records_json, "JSON output, one array");

  auto* evidence = app.add_subcommand("evidence", "evidence items held for one outlet");
  std::optional<std::int64_t> record_seq;
  bool evidence_json = false;
  std::size_t evidence_limit = 1000;
  evidence->add_option("--db", db_path, "HQ database file")->required();
  evidence->add_option("--outlet", outlet, "outlet id")->required();
  evidence->add_option("--record-seq", record_seq, "only the items of this record");
  evidence->add_option("--limit", evidence_limit, "at most N items")->capture_default_str();
  evidence->add_flag("--json", evidence_json, "JSON output, one array");

  auto* request = app.add_subcommand(
      "request-evidence", "ask an outlet to send a record's evidence (evidence/request)");
  std::vector<std::string> request_brokers;
  std::uint64_t request_seq = 0;
  std::string request_prefix = "postgate/v1";
  std::string request_ca, request_cert, request_key;
  request->add_option("--broker", request_brokers, "broker URI, repeatable")->required();
  request->add_option("--outlet", outlet, "outlet id")->required();
  request->add_option("--record-seq", request_seq, "the record's seq")
      ->required()
      ->check(CLI::PositiveNumber);
  request->add_option("--prefix", request_prefix, "topic prefix")->capture_default_str();
  request->add_option("--ca", request_ca, "TLS: CA certificate file");
  request->add_option("--cert", request_cert, "TLS: client certificate file");
  request->add_option("--key", request_key, "TLS: client private key file");

  CLI11_PARSE(app, argc, argv);

  auto logger = spdlog::stderr_color_mt("hq");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);

  auto keys = load_keys(key_file, create_key);
  if (!keys) return fail_with(keys.error());
  hq::StoreOptions sopts;
  sopts.keys = std::move(*keys);

  if (*serve) {
    if (!group.empty()) ropts.group = group;
    ropts.mqtt_version = mqtt_version;
    if (ropts.client_id.empty()) ropts.client_id = default_client_id();
    iopts.prefix = ropts.prefix;
    iopts.evidence_dir = evidence_dir.empty() ? std::filesystem::path(db_path + ".evidence")
                                              : std::filesystem::path(evidence_dir);
    auto store = hq::HqStore::open(db_path, std::move(sopts));
    if (!store) return fail_with(store.error());
    core::SystemClock clock;
    hq::Ingestor ingestor(*store, clock, iopts);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    spdlog::info("postgate-hq {} serving {} (client id {}{}{})", POSTGATE_VERSION, db_path,
                 ropts.client_id, ropts.group ? ", group " : "", group);
    if (auto s = hq::run_receiver(ingestor, ropts, g_stop); !s) return fail_with(s.error());
    return 0;
  }

  if (*request) {
    if (!hq::valid_outlet(outlet)) {
      std::cerr << "postgate-hq: --outlet must match [A-Za-z0-9_-]{1,64}\n";
      return 2;
    }
    return request_evidence(request_brokers, request_prefix, outlet, request_seq, request_ca,
                            request_cert, request_key);
  }

  auto store = hq::HqStore::open_existing(db_path, std::move(sopts));
  if (!store) return fail_with(store.error());
  if (*fleet) {
    auto f = store->fleet();
    if (!f) return fail_with(f.error());
    if (fleet_json)
      std::cout << hq::fleet_to_json(*f).dump() << "\n";
    else
      std::cout << hq::fleet_to_text(*f);
    return 0;
  }
  if (*records) {
    if (!hq::valid_outlet(outlet)) {
      std::cerr << "postgate-hq: --outlet must match [A-Za-z0-9_-]{1,64}\n";
      return 2;
    }
    auto r = store->records(outlet, limit, clear);
    if (!r) return fail_with(r.error());
    if (!r->empty()) {
      auto ev = store->evidence_for_seqs(outlet, r->front().value("seq", std::int64_t{0}),
                                         r->back().value("seq", std::int64_t{0}));
      if (!ev) return fail_with(ev.error());
      hq::attach_evidence(*r, *ev);
    }
    if (records_json)
      std::cout << nlohmann::json(*r).dump() << "\n";
    else
      std::cout << hq::records_to_text(*r);
    return 0;
  }
  if (*evidence) {
    if (!hq::valid_outlet(outlet)) {
      std::cerr << "postgate-hq: --outlet must match [A-Za-z0-9_-]{1,64}\n";
      return 2;
    }
    auto rows = store->evidence_items(outlet, record_seq, evidence_limit);
    if (!rows) return fail_with(rows.error());
    if (evidence_json) {
      auto arr = nlohmann::json::array();
      for (const auto& e : *rows) arr.push_back(hq::evidence_to_json(e));
      std::cout << arr.dump() << "\n";
    } else {
      std::cout << hq::evidence_to_text(*rows);
    }
    return 0;
  }
  return 2;
}
