#pragma once
// postgated's configuration: one YAML file. The schema (every key, its type,
// default and meaning) is declared once in schema.cpp; config/README.md is
// checked against it by a test.
#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/screening.hpp"
#include "core/waybill.hpp"

namespace postgate::config {

struct Counter {
  std::string id;
  std::string name;
};

struct StorageConfig {
  std::filesystem::path path = "/var/lib/postgate/postgate.db";
  std::filesystem::path key_file = "/var/lib/postgate/postgate.key";
  std::string key_credential;  // systemd credential name; wins over key_file when set and present
  std::vector<std::filesystem::path> previous_key_files;
  std::filesystem::path quarantine_dir;  // empty: <dir of path>/quarantine (load_* fills it in)
  std::filesystem::path evidence_dir;    // empty: <dir of path>/evidence (load_* fills it in)
  std::string synchronous = "full";      // full | extra
  std::uint32_t group_commit_max = 256;
  std::uint32_t retention_days = 365;
  std::uint32_t xray_retention_days = 30;
  bool create_key = false;  // generate key_file on first start if missing (demo)
};

struct ApiConfig {
  std::filesystem::path socket = "/run/postgate/postgate.sock";
  std::uint32_t max_line_bytes = 65536;
  std::uint32_t max_clients = 64;
  std::uint32_t idle_timeout_s = 300;
};

struct WorkflowConfig {
  std::string control_prefix = "PG:";     // control barcodes start with this
  std::uint32_t session_timeout_s = 120;  // abandoned session cleared
  std::uint32_t identity_keep_s = 300;    // one identity covers several parcels for this long
};

struct DemoAdapterConfig {
  double rate_per_s = 1.0;    // acceptances per second
  std::uint64_t count = 0;    // 0: run forever
  std::uint64_t seed = 1;     // synthetic people are reproducible
  double refuse_ratio = 0.0;  // share of parcels refused at inspection
};

// The keys of the device kinds (idcard_reader, barcode_scanner, mrz_reader):
// one struct, each kind's table exposes the keys that apply to it. Values
// are checked here (config/semantic.cpp) so `--check-config` catches them;
// the daemon maps them onto the drivers' settings.
struct DeviceAdapterConfig {
  std::string transport;  // "usb" | "serial"
  // usb
  std::string usb;         // "VVVV:PPPP", hexadecimal
  std::string usb_serial;  // "": any serial number
  std::string usb_port;    // "": any port; else "1-1.2" (bus-port path)
  std::uint32_t usb_interface = 0;
  // serial
  std::filesystem::path path;
  std::uint32_t baud = 0;  // 0: the kind's usual rate
  std::string framing = "8N1";
  std::string flow_control = "none";
  // idcard_reader
  std::uint32_t out_endpoint = 0x02;
  std::uint32_t in_endpoint = 0x81;     // also the interrupt IN endpoint of HID devices
  std::uint32_t out_body_endpoint = 0;  // 0: none (SAM_V split endpoints otherwise)
  std::uint32_t in_body_endpoint = 0;
  std::string usb_mode = "bulk";   // idcard usb: "bulk" | "hid" (SAM frames in HID reports)
  std::uint32_t report_size = 64;  // hid: bytes per report, report id included
  std::uint32_t report_id = 0;     // hid: 0 = reports carry no id
  std::uint32_t poll_interval_ms = 300;
  std::string read_command = "text_photo";
  bool keep_photo = false;  // seal the card's photo into storage.evidence_dir
  // barcode_scanner, mrz_reader
  std::string protocol = "keyboard";  // usb: "keyboard" | "pos"
  std::string terminator = "enter";   // usb keyboard: enter | tab | enter_or_tab | none
  std::string line_end = "any";       // serial: any | cr | lf | crlf | tab | none
  std::uint32_t inter_key_timeout_ms = 100;
  std::uint32_t max_length = 512;
  std::uint32_t line_timeout_ms = 1000;  // mrz_reader: next line of a zone

  friend bool operator==(const DeviceAdapterConfig&, const DeviceAdapterConfig&) = default;
};

struct AdapterConfig {
  std::string kind;     // "demo", "idcard_reader", "barcode_scanner", "mrz_reader"
  std::string name;     // unique; default "<kind><index>", index as in adapters[index]
  std::string counter;  // must be a configured counter id
  DemoAdapterConfig demo;
  DeviceAdapterConfig device;
};

// Counter cameras (docs/devices/camera.md): one per counter, a still per
// parcel at a configurable step of the counter workflow.
struct CameraConfig {
  std::string id;                         // unique; recorded as the evidence source
  std::string counter;                    // must be a configured counter id
  std::string source;                     // "http" | "v4l2"
  std::string capture_on = "inspection";  // inspection | committed
  bool required = false;  // inspection: no photo, no acceptance (staff retry or cancel)
  std::uint32_t timeout_ms = 5000;
  std::uint32_t max_bytes = 8 * 1024 * 1024;
  // http
  std::string url;
  std::string username;
  std::string password;
  std::string auth = "auto";  // auto | basic | digest
  std::filesystem::path ca_file;
  bool verify_peer = true;
  bool allow_basic_over_http = false;
  // v4l2
  std::filesystem::path device;
  std::uint32_t width = 1280;
  std::uint32_t height = 720;
  std::string format = "auto";  // auto | mjpeg | yuyv
  std::uint32_t warmup_frames = 3;
  std::uint32_t jpeg_quality = 85;
  friend bool operator==(const CameraConfig&, const CameraConfig&) = default;
};

// An X-ray machine exporting scans into a folder (docs/devices/xray.md).
struct XrayConfig {
  std::string id;  // machine id, unique
  std::filesystem::path folder;
  std::string counter;             // the counter all lanes feed; empty: see lanes
  std::vector<std::string> lanes;  // "LANE:COUNTER" pairs, for machines feeding several
  std::string format = "json";     // json | xml
  std::string lane_field;          // path of each field in the result file
  std::string time_field;
  std::string waybill_field;  // empty: the machine does not read waybills
  std::string verdict_field;
  std::string image_field;
  std::string time_format = "iso8601";  // iso8601 | epoch_s | epoch_ms | pattern
  std::string time_pattern;             // with time_format: pattern, e.g. "%Y-%m-%d %H:%M:%S"
  std::vector<std::string> clear_words{"clear", "pass", "ok", "normal"};
  std::vector<std::string> suspect_words{"suspect", "alarm", "alert", "threat"};
  std::vector<std::string> result_extensions{".json"};
  std::uint32_t settle_ms = 1000;
  std::uint32_t pair_timeout_s = 30;
  std::uint64_t max_image_bytes = 32 * 1024 * 1024;
  std::uint32_t bind_before_s = 60;  // a scan up to this long before a record's acceptance
  std::uint32_t bind_after_s = 300;  // ... or this long after it binds by lane and time
  friend bool operator==(const XrayConfig&, const XrayConfig&) = default;
};

// Evidence kept at the outlet and sent to HQ (docs/protocol.md, "evidence").
struct EvidenceConfig {
  std::string upload = "always";  // always | on_request
  std::uint64_t max_item_bytes = 16 * 1024 * 1024;
  std::uint64_t max_total_bytes = 4ull * 1024 * 1024 * 1024;
};

struct WaybillConfig {
  bool accept_s10 = true;
  std::vector<core::WaybillRule> carriers;
};

struct ScreeningConfig {
  std::string version;
  std::vector<core::ScreeningCategory> categories;  // default: the national catalogue
};

struct LoggingConfig {
  std::string level = "info";  // trace|debug|info|warn|error
};

struct UplinkTlsConfig {
  std::filesystem::path ca_file;    // empty: the system trust store
  std::filesystem::path cert_file;  // client certificate, with key_file (mutual TLS)
  std::filesystem::path key_file;
  bool verify_hostname = true;
  friend bool operator==(const UplinkTlsConfig&, const UplinkTlsConfig&) = default;
};

// The MQTT uplink to HQ (docs/uplink.md). Seconds and milliseconds as in the
// key names; daemon/wiring.cpp converts to uplink::UplinkConfig.
struct UplinkConfig {
  std::vector<std::string> brokers;  // required: tcp://, mqtt://, ssl://, mqtts:// URIs
  std::string prefix = "postgate/v1";
  std::uint32_t mqtt_version = 5;      // 5, or 3 for 3.1.1
  std::string client_id;               // empty: postgate-<outlet>
  std::string username;                // empty: none
  std::string password;                // empty: none
  std::optional<UplinkTlsConfig> tls;  // required for ssl:// and mqtts://
  std::uint32_t keepalive_s = 30;
  std::uint32_t connect_timeout_s = 10;
  bool persistent_session = true;
  std::uint32_t session_expiry_s = 604800;
  std::uint32_t batch_max_records = 500;
  std::uint32_t batch_max_bytes = 131072;
  std::uint32_t linger_ms = 50;
  std::uint32_t max_inflight_batches = 32;
  std::uint32_t ack_timeout_s = 30;
  std::uint32_t reconnect_min_s = 1;
  std::uint32_t reconnect_max_s = 60;
  double drain_records_per_s = 2000;        // 0: unlimited
  double drain_bytes_per_s = 2097152;       // 0: unlimited
  std::uint32_t telemetry_interval_s = 60;  // 0: no telemetry
  std::uint32_t stop_timeout_s = 5;
  std::uint32_t evidence_chunk_bytes = 65536;
  std::uint32_t evidence_inflight_chunks = 4;
  double evidence_bytes_per_s = 262144;  // 0: unlimited
  friend bool operator==(const UplinkConfig&, const UplinkConfig&) = default;
};

struct Config {
  std::filesystem::path source;   // the file it came from
  std::string outlet;             // required
  std::vector<Counter> counters;  // at least one
  StorageConfig storage;
  ApiConfig api;
  WorkflowConfig workflow;
  std::vector<AdapterConfig> adapters;
  std::vector<CameraConfig> cameras;
  std::vector<XrayConfig> xray;
  EvidenceConfig evidence;
  WaybillConfig waybills;
  ScreeningConfig screening;
  LoggingConfig logging;
  std::optional<UplinkConfig> uplink;  // absent: offline only
};

// One problem found in a file: "postgate.yaml:14:5: adapters[1].device: expected a path".
struct Problem {
  std::string file;
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based
  std::string path;  // key path
  std::string message;
  std::string str() const;
};

// Loads and validates. Relative paths in the file are resolved against the
// file's directory. On failure returns every problem found (not just the first).
std::expected<Config, std::vector<Problem>> load_file(const std::filesystem::path& file);
std::expected<Config, std::vector<Problem>> load_string(std::string_view yaml,
                                                        const std::string& file_name,
                                                        const std::filesystem::path& base_dir);

// One line per problem, each ending in '\n'.
std::string format_problems(const std::vector<Problem>& problems);

// The built-in screening list, used when the file has no screening.categories:
// the national catalogue of 19 prohibited categories plus common restricted ones.
inline constexpr std::string_view kDefaultScreeningVersion = "2026-11-default";
ScreeningConfig default_screening();

// The schema as Markdown (sections, keys, types, defaults, descriptions);
// config/README.md holds a copy between <!-- schema:begin --> and <!-- schema:end -->.
std::string schema_markdown();

}  // namespace postgate::config
