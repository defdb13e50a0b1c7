#include "daemon/wiring.hpp"

#include <cstdlib>
#include <filesystem>
#include <set>

#include "codec/record_writer.hpp"

namespace postgate::daemon {

core::Result<core::AcceptancePolicy> make_policy(const config::Config& cfg) {
  auto waybills = core::WaybillValidator::create(cfg.waybills.carriers, cfg.waybills.accept_s10);
  if (!waybills) return std::unexpected(waybills.error());
  core::Screener screener(cfg.screening.version, cfg.screening.categories);
  std::set<std::string> counters;
  for (const auto& c : cfg.counters) counters.insert(c.id);
  return core::AcceptancePolicy(std::move(*waybills), std::move(screener), std::move(counters));
}

core::WorkflowSettings make_workflow_settings(const config::Config& cfg) {
  core::WorkflowSettings s;
  s.control_prefix = cfg.workflow.control_prefix;
  s.session_timeout = std::chrono::seconds(cfg.workflow.session_timeout_s);
  s.identity_keep = std::chrono::seconds(cfg.workflow.identity_keep_s);
  return s;
}

ApiLimits make_api_limits(const config::ApiConfig& api) {
  ApiLimits l;
  l.max_line_bytes = api.max_line_bytes;
  l.max_clients = api.max_clients;
  l.idle_timeout = std::chrono::seconds(api.idle_timeout_s);
  // Room for a full line's answer even with a large max_line_bytes.
  l.max_unsent_bytes = std::max<std::size_t>(l.max_unsent_bytes, 4 * l.max_line_bytes);
  return l;
}

adapters::demo::DemoSettings make_demo_settings(const config::Config& cfg,
                                                const config::AdapterConfig& adapter) {
  adapters::demo::DemoSettings s;
  s.rate_per_s = adapter.demo.rate_per_s;
  s.count = adapter.demo.count;
  s.seed = adapter.demo.seed;
  s.refuse_ratio = adapter.demo.refuse_ratio;
  s.control_prefix = cfg.workflow.control_prefix;
  s.operator_id = "op-" + adapter.name;
  // Refusals name a prohibited category of the configured list.
  s.refuse_categories.clear();
  for (const auto& c : cfg.screening.categories)
    if (c.severity == core::Severity::prohibited) s.refuse_categories.push_back(c.id);
  return s;
}

namespace {

// First start without systemd's StateDirectory= (the demo, tests): make the
// state directory, private, like the unit would.
core::Status ensure_private_dir(const std::filesystem::path& dir, const char* field) {
  if (dir.empty()) return {};
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return {};
  std::filesystem::create_directories(dir, ec);
  if (!ec)
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  if (ec)
    return core::fail("state_dir", field,
                      "cannot create directory " + dir.string() + ": " + ec.message());
  return {};
}

}  // namespace

core::Result<storage::KeyRing> load_keyring(const config::StorageConfig& st) {
  core::Result<storage::Key> current = core::fail("key_file_missing", "storage.key_file", "");
  bool from_credential = false;
  if (!st.key_credential.empty()) {
    if (const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
        dir != nullptr && std::filesystem::exists(std::filesystem::path(dir) / st.key_credential)) {
      current = storage::load_key_credential(st.key_credential);
      from_credential = true;
    }
  }
  if (!from_credential) {
    current = storage::load_key_file(st.key_file);
    if (!current && current.error().code == "key_file_missing" && st.create_key) {
      if (auto d = ensure_private_dir(st.key_file.parent_path(), "storage.key_file"); !d)
        return std::unexpected(d.error());
      if (auto g = storage::generate_key_file(st.key_file); !g) {
        auto e = g.error();
        if (e.field.empty()) e.field = "storage.key_file";
        return std::unexpected(e);
      }
      current = storage::load_key_file(st.key_file);
    }
  }
  if (!current) {
    auto e = current.error();
    if (e.field.empty()) e.field = from_credential ? "storage.key_credential" : "storage.key_file";
    return std::unexpected(e);
  }
  storage::KeyRing ring;
  ring.current = *current;
  for (std::size_t i = 0; i < st.previous_key_files.size(); ++i) {
    auto k = storage::load_key_file(st.previous_key_files[i]);
    if (!k) {
      auto e = k.error();
      e.field = "storage.previous_key_files[" + std::to_string(i) + "]";
      return std::unexpected(e);
    }
    ring.previous.push_back(*k);
  }
  return ring;
}

core::Result<storage::StoreOptions> make_store_options(const config::StorageConfig& st) {
  if (auto d = ensure_private_dir(st.path.parent_path(), "storage.path"); !d)
    return std::unexpected(d.error());
  auto ring = load_keyring(st);
  if (!ring) return std::unexpected(ring.error());
  storage::StoreOptions o;
  o.path = st.path;
  o.quarantine_dir = st.quarantine_dir;
  o.keys = std::move(*ring);
  o.sync = st.synchronous == "extra" ? storage::SyncPolicy::extra : storage::SyncPolicy::full;
  o.group_commit_max = st.group_commit_max;
  // The uplink sends this text as stored (storage keeps it sealed).
  o.wire_encoder = [](const core::Record& r) {
    return codec::record_json_text(r, codec::Masking::clear);
  };
  return o;
}

core::Result<uplink::UplinkConfig> make_uplink_config(const config::Config& cfg,
                                                      std::string version) {
  if (!cfg.uplink) return core::fail("no_uplink", "uplink", "no uplink section");
  const config::UplinkConfig& in = *cfg.uplink;
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  uplink::UplinkConfig u;
  u.prefix = in.prefix;
  u.outlet = cfg.outlet;
  u.brokers = in.brokers;
  u.mqtt_version = static_cast<int>(in.mqtt_version);
  u.client_id = in.client_id;
  if (in.tls) {
    uplink::TlsSettings t;
    t.ca_file = in.tls->ca_file.string();
    t.cert_file = in.tls->cert_file.string();
    t.key_file = in.tls->key_file.string();
    t.verify_hostname = in.tls->verify_hostname;
    u.tls = std::move(t);
  }
  if (!in.username.empty()) u.username = in.username;
  if (!in.password.empty()) u.password = in.password;
  u.keepalive = seconds(in.keepalive_s);
  u.connect_timeout = seconds(in.connect_timeout_s);
  u.persistent_session = in.persistent_session;
  u.session_expiry = seconds(in.session_expiry_s);
  u.batch_max_records = in.batch_max_records;
  u.batch_max_bytes = in.batch_max_bytes;
  u.linger = milliseconds(in.linger_ms);
  u.max_inflight_batches = in.max_inflight_batches;
  u.ack_timeout = seconds(in.ack_timeout_s);
  u.reconnect_min = seconds(in.reconnect_min_s);
  u.reconnect_max = seconds(in.reconnect_max_s);
  u.drain_records_per_s = in.drain_records_per_s;
  u.drain_bytes_per_s = in.drain_bytes_per_s;
  u.evidence_chunk_bytes = in.evidence_chunk_bytes;
  u.evidence_inflight_chunks = in.evidence_inflight_chunks;
  u.evidence_bytes_per_s = in.evidence_bytes_per_s;
  u.evidence_upload = cfg.evidence.upload == "on_request" ? uplink::EvidenceUpload::on_request
                                                          : uplink::EvidenceUpload::always;
  u.telemetry_interval = seconds(in.telemetry_interval_s);
  u.stop_timeout = seconds(in.stop_timeout_s);
  u.version = std::move(version);
  if (auto s = uplink::validate(u); !s) {
    auto e = s.error();
    // uplink names its own settings; the operator knows the YAML keys.
    if (e.field != "outlet") e.field = e.field.empty() ? "uplink" : "uplink." + e.field;
    return std::unexpected(std::move(e));
  }
  return u;
}

core::Date local_today(core::TimePoint now, std::chrono::minutes utc_offset) {
  return core::Date{std::chrono::floor<std::chrono::days>(now + utc_offset)};
}

namespace {

bool same_categories(const std::vector<core::ScreeningCategory>& a,
                     const std::vector<core::ScreeningCategory>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].id != b[i].id || a[i].name != b[i].name || a[i].severity != b[i].severity ||
        a[i].keywords != b[i].keywords)
      return false;
  return true;
}

bool same_rules(const std::vector<core::WaybillRule>& a, const std::vector<core::WaybillRule>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].carrier != b[i].carrier || a[i].pattern != b[i].pattern) return false;
  return true;
}

std::string counter_list(const std::vector<config::Counter>& cs) {
  std::string s;
  for (const auto& c : cs) s += (s.empty() ? "" : ",") + c.id;
  return s.empty() ? "(none)" : s;
}

bool same_adapter(const config::AdapterConfig& a, const config::AdapterConfig& b) {
  return a.kind == b.kind && a.name == b.name && a.counter == b.counter &&
         a.demo.rate_per_s == b.demo.rate_per_s && a.demo.count == b.demo.count &&
         a.demo.seed == b.demo.seed && a.demo.refuse_ratio == b.demo.refuse_ratio &&
         a.device == b.device;
}

}  // namespace

ConfigChanges diff_config(const config::Config& a, const config::Config& b) {
  ConfigChanges c;
  auto restart = [&](bool changed, const std::string& what) {
    if (changed) c.needs_restart.push_back(what);
  };
  restart(a.outlet != b.outlet, "outlet");
  restart(a.storage.path != b.storage.path, "storage.path");
  restart(a.storage.key_file != b.storage.key_file ||
              a.storage.key_credential != b.storage.key_credential ||
              a.storage.previous_key_files != b.storage.previous_key_files,
          "storage keys");
  restart(a.storage.quarantine_dir != b.storage.quarantine_dir, "storage.quarantine_dir");
  restart(a.storage.synchronous != b.storage.synchronous, "storage.synchronous");
  restart(a.storage.group_commit_max != b.storage.group_commit_max, "storage.group_commit_max");
  restart(a.storage.retention_days != b.storage.retention_days ||
              a.storage.xray_retention_days != b.storage.xray_retention_days,
          "storage retention");
  restart(a.api.socket != b.api.socket, "api.socket");
  restart(a.workflow.control_prefix != b.workflow.control_prefix ||
              a.workflow.session_timeout_s != b.workflow.session_timeout_s ||
              a.workflow.identity_keep_s != b.workflow.identity_keep_s,
          "workflow");

  if (a.api.max_line_bytes != b.api.max_line_bytes || a.api.max_clients != b.api.max_clients ||
      a.api.idle_timeout_s != b.api.idle_timeout_s) {
    c.api_limits = true;
    c.applied.push_back("api limits (new connections)");
  }
  if (counter_list(a.counters) != counter_list(b.counters)) {
    c.policy = true;
    c.applied.push_back("counters: " + counter_list(a.counters) + " -> " +
                        counter_list(b.counters));
  }
  if (a.waybills.accept_s10 != b.waybills.accept_s10 ||
      !same_rules(a.waybills.carriers, b.waybills.carriers)) {
    c.policy = true;
    c.applied.push_back("waybill rules (" + std::to_string(b.waybills.carriers.size()) +
                        " carrier rules, s10 " + (b.waybills.accept_s10 ? "on" : "off") + ")");
  }
  if (a.screening.version != b.screening.version ||
      !same_categories(a.screening.categories, b.screening.categories)) {
    c.policy = true;
    c.applied.push_back("screening: version " + a.screening.version + " -> " + b.screening.version +
                        ", " + std::to_string(b.screening.categories.size()) + " categories");
  }
  bool adapters_changed = a.adapters.size() != b.adapters.size();
  for (std::size_t i = 0; !adapters_changed && i < a.adapters.size(); ++i)
    adapters_changed = !same_adapter(a.adapters[i], b.adapters[i]);
  c.adapters = adapters_changed;
  if (adapters_changed)
    c.applied.push_back("adapters: " + std::to_string(a.adapters.size()) + " -> " +
                        std::to_string(b.adapters.size()) + " (restarted)");
  restart(a.uplink != b.uplink, "uplink");
  if (a.logging.level != b.logging.level) {
    c.log_level = true;
    c.applied.push_back("logging.level: " + a.logging.level + " -> " + b.logging.level);
  }
  return c;
}

}  // namespace postgate::daemon
