#pragma once
// Turns the configuration into the objects the daemon runs with.
#include <string>
#include <vector>

#include "adapters/demo/demo_counter.hpp"
#include "config/config.hpp"
#include "core/acceptance_policy.hpp"
#include "core/workflow.hpp"
#include "daemon/api_server.hpp"
#include "storage/record_store.hpp"
#include "uplink/uplink_config.hpp"

namespace postgate::daemon {

core::Result<core::AcceptancePolicy> make_policy(const config::Config& cfg);
core::WorkflowSettings make_workflow_settings(const config::Config& cfg);
ApiLimits make_api_limits(const config::ApiConfig& api);
adapters::demo::DemoSettings make_demo_settings(const config::Config& cfg,
                                                const config::AdapterConfig& adapter);

// The storage key ring: the systemd credential when storage.key_credential is
// set and $CREDENTIALS_DIRECTORY holds it, else storage.key_file (generated
// first when missing and storage.create_key is set), plus the previous keys.
core::Result<storage::KeyRing> load_keyring(const config::StorageConfig& storage);
core::Result<storage::StoreOptions> make_store_options(const config::StorageConfig& storage);

// The uplink's settings from cfg.uplink (which must be set), checked with
// uplink::validate(); an error's field names the YAML key ("uplink.brokers").
core::Result<uplink::UplinkConfig> make_uplink_config(const config::Config& cfg,
                                                      std::string version);

// The outlet's calendar date: documents expire and people are born by the
// local date (WorkflowSettings::utc_offset), not the UTC one.
core::Date local_today(core::TimePoint now, std::chrono::minutes utc_offset);

// What a reload would change, as log lines: `applied` can change at runtime,
// `needs_restart` cannot (and is ignored until the next start).
struct ConfigChanges {
  std::vector<std::string> applied;
  std::vector<std::string> needs_restart;
  bool policy = false;  // waybills, screening or counters
  bool adapters = false;
  bool api_limits = false;
  bool log_level = false;
};
ConfigChanges diff_config(const config::Config& before, const config::Config& after);

}  // namespace postgate::daemon
