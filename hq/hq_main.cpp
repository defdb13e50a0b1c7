// postgate-hq: the reference HQ receiver (docs/hq.md).
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "hq/hq_store.hpp"
#include "hq/ingest.hpp"
#include "hq/receiver.hpp"
#include "hq/report.hpp"
#include "storage/keyring.hpp"

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
    if (records_json)
      std::cout << nlohmann::json(*r).dump() << "\n";
    else
      std::cout << hq::records_to_text(*r);
    return 0;
  }
  return 2;
}
