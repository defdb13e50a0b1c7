// The one declaration of postgated's configuration keys. Adding a key: add a
// member to config.hpp, a line here, then regenerate config/README.md
// (build/config/postgate_config_doc --update config/README.md).
#include "config/schema.hpp"

#include <algorithm>
#include <type_traits>

#include "config/config.hpp"

// The tables use designated initializers that leave members at their
// defaults on purpose; GCC before 14 warns about that (GCC bug 96868).
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace postgate::config::schema {
namespace {

namespace fs = std::filesystem;

void assign(std::string& out, Value&& v) {
  out = std::get<std::string>(std::move(v));
}
void assign(fs::path& out, Value&& v) {
  out = std::get<fs::path>(std::move(v));
}
void assign(std::uint64_t& out, Value&& v) {
  out = std::get<std::uint64_t>(v);
}
void assign(std::uint32_t& out, Value&& v) {
  out = static_cast<std::uint32_t>(std::get<std::uint64_t>(v));  // range checked by umax
}
void assign(double& out, Value&& v) {
  out = std::get<double>(v);
}
void assign(bool& out, Value&& v) {
  out = std::get<bool>(v);
}
void assign(std::vector<std::string>& out, Value&& v) {
  out = std::get<std::vector<std::string>>(std::move(v));
}
void assign(std::vector<fs::path>& out, Value&& v) {
  out = std::get<std::vector<fs::path>>(std::move(v));
}
void assign(core::Severity& out, Value&& v) {
  out = std::get<std::string>(v) == "restricted" ? core::Severity::restricted
                                                 : core::Severity::prohibited;
}

// A scalar or list key stored in member `m` of the table's struct S.
template <class S, class M>
Key bind(Key k, M S::*m) {
  if constexpr (std::is_same_v<M, std::uint32_t>) {
    k.umax = std::min<std::uint64_t>(k.umax, std::numeric_limits<std::uint32_t>::max());
  }
  k.set = [m](void* object, Value&& v) { assign(static_cast<S*>(object)->*m, std::move(v)); };
  return k;
}

// A nested table stored in member `m`.
template <class S, class M>
Key nest(Key k, const Table& table, M S::*m) {
  k.type = Type::map;
  k.table = &table;
  k.child = [m](void* object) -> void* { return &(static_cast<S*>(object)->*m); };
  return k;
}

// An optional nested table stored in std::optional member `m`: absent, it
// stays unset; given (even empty), it is created with the table's defaults.
template <class S, class M>
Key nest_optional(Key k, const Table& table, std::optional<M> S::*m) {
  k.type = Type::map;
  k.table = &table;
  k.optional_section = true;
  k.child = [m](void* object) -> void* {
    auto& section = static_cast<S*>(object)->*m;
    if (!section) section.emplace();
    return &*section;
  };
  return k;
}

// A list of nested tables stored in vector member `m`.
template <class S, class E>
Key nest_list(Key k, const Table& table, std::vector<E> S::*m) {
  k.type = Type::list_of_maps;
  k.table = &table;
  k.child = [m](void* object) -> void* {
    auto& list = static_cast<S*>(object)->*m;
    list.emplace_back();
    return &list.back();
  };
  return k;
}

constexpr std::uint64_t kMiB = 1024 * 1024;

void* device_child(void* o) {
  return &static_cast<AdapterConfig*>(o)->device;
}

// How every device kind is reached: USB or a serial line.
std::vector<Key> device_transport_keys() {
  return {
      bind(Key{.name = "transport",
               .type = Type::enumeration,
               .description = "`usb` (libusb) or `serial` (a tty).",
               .required = true,
               .values = {"usb", "serial"}},
           &DeviceAdapterConfig::transport),
      bind(Key{.name = "usb",
               .description = "usb: vendor and product id, `VVVV:PPPP` in hexadecimal (see "
                              "`lsusb`); required with `transport: usb`.",
               .default_yaml = "\"\""},
           &DeviceAdapterConfig::usb),
      bind(Key{.name = "usb_serial",
               .description = "usb: only the device with this serial number (tells two "
                              "identical devices apart); empty: any.",
               .default_yaml = "\"\""},
           &DeviceAdapterConfig::usb_serial),
      bind(Key{.name = "usb_port",
               .description = "usb: only the device on this port path, e.g. `1-1.2` (bus 1, "
                              "port 1, hub port 2); empty: any.",
               .default_yaml = "\"\""},
           &DeviceAdapterConfig::usb_port),
      bind(Key{.name = "usb_interface",
               .type = Type::uint,
               .description = "usb: interface number to claim.",
               .default_yaml = "0",
               .umax = 255},
           &DeviceAdapterConfig::usb_interface),
      bind(Key{.name = "path",
               .type = Type::path,
               .description = "serial: the tty, preferably a stable `/dev/serial/by-id/...` "
                              "link; required with `transport: serial`.",
               .default_doc = "none"},
           &DeviceAdapterConfig::path),
      bind(Key{.name = "baud",
               .type = Type::uint,
               .description = "serial: line speed, a standard rate (9600, 19200, 38400, "
                              "57600, 115200, ...); 0: the kind's usual one (ID-card readers "
                              "115200, scanners and MRZ readers 9600).",
               .default_yaml = "0",
               .umax = 4000000},
           &DeviceAdapterConfig::baud),
      bind(Key{.name = "framing",
               .description = "serial: data bits, parity (N, E, O) and stop bits, e.g. `8N1`, "
                              "`7E1`.",
               .default_yaml = "8N1"},
           &DeviceAdapterConfig::framing),
      bind(Key{.name = "flow_control",
               .type = Type::enumeration,
               .description = "serial: `none`, `software` (XON/XOFF) or `hardware` (RTS/CTS).",
               .default_yaml = "none",
               .values = {"none", "software", "hardware"}},
           &DeviceAdapterConfig::flow_control),
  };
}

// Keys of devices that send text: barcode scanners and MRZ readers.
std::vector<Key> scanner_keys() {
  return {
      bind(Key{.name = "protocol",
               .type = Type::enumeration,
               .description = "usb: `keyboard` (HID boot keyboard reports, the usual "
                              "keyboard-wedge mode) or `pos` (HID POS scanned-data reports).",
               .default_yaml = "keyboard",
               .values = {"keyboard", "pos"}},
           &DeviceAdapterConfig::protocol),
      bind(Key{.name = "in_endpoint",
               .type = Type::uint,
               .description = "usb: interrupt IN endpoint the reports arrive on.",
               .default_yaml = "0x81",
               .umin = 0x81,
               .umax = 0x8f},
           &DeviceAdapterConfig::in_endpoint),
      bind(Key{.name = "terminator",
               .type = Type::enumeration,
               .description = "usb keyboard: the key that ends a scan; `none`: a pause of "
                              "`inter_key_timeout_ms` ends it.",
               .default_yaml = "enter",
               .values = {"enter", "tab", "enter_or_tab", "none"}},
           &DeviceAdapterConfig::terminator),
      bind(Key{.name = "line_end",
               .type = Type::enumeration,
               .description = "serial: what ends a line: `any` (CR, LF, CRLF or Tab), `cr`, "
                              "`lf`, `crlf`, `tab`, or `none` (a pause of "
                              "`inter_key_timeout_ms` ends it).",
               .default_yaml = "any",
               .values = {"any", "cr", "lf", "crlf", "tab", "none"}},
           &DeviceAdapterConfig::line_end),
      bind(Key{.name = "inter_key_timeout_ms",
               .type = Type::uint,
               .description = "Milliseconds of silence that split runs of keys or bytes: a "
                              "scan cut short by it is an error unless the terminator is "
                              "`none`.",
               .default_yaml = "100",
               .umin = 5,
               .umax = 10000},
           &DeviceAdapterConfig::inter_key_timeout_ms),
      bind(Key{.name = "max_length",
               .type = Type::uint,
               .description = "Longest scan accepted, in characters.",
               .default_yaml = "512",
               .umin = 16,
               .umax = 4096},
           &DeviceAdapterConfig::max_length),
  };
}

struct Schema {
  Table counter, storage, api, workflow, adapter, demo, idcard_reader, barcode_scanner, mrz_reader,
      carrier, waybills, category, screening, logging, uplink_tls, uplink, camera, xray, evidence,
      root;

  Schema() {
    counter = {
        .name = "counters[]",
        .description =
            "A service counter of the outlet. Adapters and API clients submit "
            "acceptances on behalf of a counter.",
        .keys =
            {
                bind(Key{.name = "id",
                         .description = "Counter id, unique in the outlet: 1 to 64 of "
                                        "`A-Z a-z 0-9 _ -`.",
                         .required = true},
                     &Counter::id),
                bind(Key{.name = "name", .description = "Display name.", .default_yaml = "\"\""},
                     &Counter::name),
            },
    };

    storage = {
        .name = "storage",
        .description = "The encrypted record store (SQLite).",
        .keys =
            {
                bind(Key{.name = "path",
                         .type = Type::path,
                         .description = "Database file.",
                         .default_yaml = "/var/lib/postgate/postgate.db"},
                     &StorageConfig::path),
                bind(Key{.name = "key_file",
                         .type = Type::path,
                         .description = "File holding the record encryption key.",
                         .default_yaml = "/var/lib/postgate/postgate.key"},
                     &StorageConfig::key_file),
                bind(Key{.name = "key_credential",
                         .description = "systemd credential name holding the key; when set "
                                        "and present it wins over `key_file`.",
                         .default_yaml = "\"\""},
                     &StorageConfig::key_credential),
                bind(Key{.name = "previous_key_files",
                         .type = Type::list,
                         .description = "Older keys, still accepted for reading records "
                                        "written before a key rotation.",
                         .default_yaml = "[]",
                         .element = Type::path},
                     &StorageConfig::previous_key_files),
                bind(Key{.name = "quarantine_dir",
                         .type = Type::path,
                         .description = "Where unreadable database files are moved aside.",
                         .default_doc = "`quarantine` next to `path`"},
                     &StorageConfig::quarantine_dir),
                bind(Key{.name = "evidence_dir",
                         .type = Type::path,
                         .description = "Where evidence files are kept, sealed with the record "
                                        "key (ID-card photos with `keep_photo`).",
                         .default_doc = "`evidence` next to `path`"},
                     &StorageConfig::evidence_dir),
                bind(Key{.name = "synchronous",
                         .type = Type::enumeration,
                         .description = "SQLite `synchronous` level. Records are a legal "
                                        "register: never lower than `full`.",
                         .default_yaml = "full",
                         .values = {"full", "extra"}},
                     &StorageConfig::synchronous),
                bind(Key{.name = "group_commit_max",
                         .type = Type::uint,
                         .description = "Most records written in one transaction.",
                         .default_yaml = "256",
                         .umin = 1,
                         .umax = 65536},
                     &StorageConfig::group_commit_max),
                bind(Key{.name = "retention_days",
                         .type = Type::uint,
                         .description = "Days acceptance records are kept.",
                         .default_yaml = "365",
                         .umin = 1,
                         .umax = 36500},
                     &StorageConfig::retention_days),
                bind(Key{.name = "xray_retention_days",
                         .type = Type::uint,
                         .description = "Days X-ray screening records are kept.",
                         .default_yaml = "30",
                         .umin = 1,
                         .umax = 36500},
                     &StorageConfig::xray_retention_days),
                bind(Key{.name = "create_key",
                         .type = Type::boolean,
                         .description = "Generate `key_file` on first start when it is "
                                        "missing (demo and first installation only).",
                         .default_yaml = "false"},
                     &StorageConfig::create_key),
            },
    };

    api = {
        .name = "api",
        .description = "The local API: newline-delimited JSON on a Unix socket.",
        .keys =
            {
                bind(Key{.name = "socket",
                         .type = Type::path,
                         .description = "Unix socket path (at most 107 bytes once resolved).",
                         .default_yaml = "/run/postgate/postgate.sock"},
                     &ApiConfig::socket),
                bind(Key{.name = "max_line_bytes",
                         .type = Type::uint,
                         .description = "Longest request line accepted.",
                         .default_yaml = "65536",
                         .umin = 1024,
                         .umax = 16 * kMiB},
                     &ApiConfig::max_line_bytes),
                bind(Key{.name = "max_clients",
                         .type = Type::uint,
                         .description = "Most simultaneous connections.",
                         .default_yaml = "64",
                         .umin = 1,
                         .umax = 4096},
                     &ApiConfig::max_clients),
                bind(Key{.name = "idle_timeout_s",
                         .type = Type::uint,
                         .description = "Seconds after which a silent connection is closed.",
                         .default_yaml = "300",
                         .umin = 1,
                         .umax = 86400},
                     &ApiConfig::idle_timeout_s),
            },
    };

    workflow = {
        .name = "workflow",
        .description = "The acceptance session at a counter.",
        .keys =
            {
                bind(Key{.name = "control_prefix",
                         .description = "Scanned barcodes starting with this are commands, "
                                        "not waybills.",
                         .default_yaml = "\"PG:\""},
                     &WorkflowConfig::control_prefix),
                bind(Key{.name = "session_timeout_s",
                         .type = Type::uint,
                         .description = "Seconds after which an abandoned session is cleared.",
                         .default_yaml = "120",
                         .umin = 1,
                         .umax = 86400},
                     &WorkflowConfig::session_timeout_s),
                bind(Key{.name = "identity_keep_s",
                         .type = Type::uint,
                         .description = "Seconds one verified identity covers further parcels "
                                        "of the same sender.",
                         .default_yaml = "300",
                         .umin = 0,
                         .umax = 86400},
                     &WorkflowConfig::identity_keep_s),
            },
    };

    demo = {
        .name = "adapters[] (kind: demo)",
        .description =
            "Synthetic acceptances for demonstrations and load tests. The people "
            "are generated, never real.",
        .keys =
            {
                bind(Key{.name = "rate_per_s",
                         .type = Type::number,
                         .description = "Acceptances per second.",
                         .default_yaml = "1.0",
                         .dmin = 0.001,
                         .dmax = 100000},
                     &DemoAdapterConfig::rate_per_s),
                bind(Key{.name = "count",
                         .type = Type::uint,
                         .description = "Acceptances before the adapter stops; 0: never stops.",
                         .default_yaml = "0"},
                     &DemoAdapterConfig::count),
                bind(Key{.name = "seed",
                         .type = Type::uint,
                         .description = "Random seed; the same seed gives the same people "
                                        "and parcels.",
                         .default_yaml = "1"},
                     &DemoAdapterConfig::seed),
                bind(Key{.name = "refuse_ratio",
                         .type = Type::number,
                         .description = "Share of parcels refused at inspection.",
                         .default_yaml = "0.0",
                         .dmin = 0.0,
                         .dmax = 1.0},
                     &DemoAdapterConfig::refuse_ratio),
            },
    };

    idcard_reader = {
        .name = "adapters[] (kind: idcard_reader)",
        .description =
            "A resident ID-card reader speaking the SAM protocol (docs/devices/idcard.md), "
            "over USB bulk endpoints or a serial line. The card's photo is never decoded "
            "and is dropped.",
        .keys = device_transport_keys(),
    };
    for (Key k : {bind(Key{.name = "usb_mode",
                 .type = Type::enumeration,
                 .description = "usb: `bulk` (SAM frames on bulk endpoints) or `hid` "
                                "(SAM frames cut into HID reports: interrupt "
                                "endpoints, or SET_REPORT when `out_endpoint` is 0).",
                 .default_yaml = "bulk",
                 .values = {"bulk", "hid"}},
                       &DeviceAdapterConfig::usb_mode),
                  bind(Key{.name = "report_size",
                  .type = Type::uint,
                  .description = "usb hid: bytes per report on the wire, the report id "
                                 "included.",
                  .default_yaml = "64",
                  .umin = 2,
                  .umax = 1024},
                       &DeviceAdapterConfig::report_size),
                  bind(Key{.name = "report_id",
                  .type = Type::uint,
                  .description = "usb hid: report id leading every report; 0: none.",
                  .default_yaml = "0",
                  .umax = 255},
                       &DeviceAdapterConfig::report_id),
                  bind(Key{.name = "out_endpoint",
                  .type = Type::uint,
                  .description = "usb: OUT endpoint address for commands (bulk, or interrupt "
                                 "with `usb_mode: hid`, where 0 means SET_REPORT).",
                  .default_yaml = "0x02",
                  .umin = 0x00,
                  .umax = 0x0f},
                       &DeviceAdapterConfig::out_endpoint),
                  bind(Key{.name = "in_endpoint",
                  .type = Type::uint,
                  .description = "usb: IN endpoint address for replies (bulk, or interrupt "
                                 "with `usb_mode: hid`).",
                  .default_yaml = "0x81",
                  .umin = 0x81,
                  .umax = 0x8f},
                       &DeviceAdapterConfig::in_endpoint),
                  bind(Key{.name = "out_body_endpoint",
                  .type = Type::uint,
                  .description = "usb: SAM_V readers with split endpoints take the frame "
                                 "body on this OUT endpoint (e.g. 0x06); 0: one endpoint.",
                  .default_yaml = "0",
                  .umin = 0,
                  .umax = 0x0f},
                       &DeviceAdapterConfig::out_body_endpoint),
                  bind(Key{.name = "in_body_endpoint",
                  .type = Type::uint,
                  .description = "usb: the IN endpoint of split-endpoint readers (e.g. "
                                 "0x85); 0: one endpoint.",
                  .default_yaml = "0",
                  .umin = 0,
                  .umax = 0x8f},
                       &DeviceAdapterConfig::in_body_endpoint),
                  bind(Key{.name = "poll_interval_ms",
                  .type = Type::uint,
                  .description = "Milliseconds between find-card polls.",
                  .default_yaml = "300",
                  .umin = 50,
                  .umax = 10000},
                       &DeviceAdapterConfig::poll_interval_ms),
                  bind(Key{.name = "read_command",
                  .type = Type::enumeration,
                  .description = "`text_photo` (30 01) or `text_photo_fingerprint` (30 10, "
                                 "for readers that only offer that; the fingerprint is "
                                 "dropped).",
                  .default_yaml = "text_photo",
                  .values = {"text_photo", "text_photo_fingerprint"}},
                       &DeviceAdapterConfig::read_command),
                  bind(Key{.name = "keep_photo",
                  .type = Type::boolean,
                  .description = "Keep the card's photo (never decoded) as evidence "
                                 "`id_photo` of the records of its holder, sealed "
                                 "with the record key in `storage.evidence_dir`; "
                                 "false: dropped at once.",
                  .default_yaml = "false"},
                       &DeviceAdapterConfig::keep_photo)})
      idcard_reader.keys.push_back(std::move(k));

    barcode_scanner = {
        .name = "adapters[] (kind: barcode_scanner)",
        .description =
            "A barcode scanner: a USB HID keyboard-wedge or HID POS scanner, or a serial "
            "scanner sending lines (docs/devices/scanner.md). Waybills and control "
            "barcodes are told apart by the counter workflow.",
        .keys = device_transport_keys(),
    };
    for (Key k : scanner_keys()) barcode_scanner.keys.push_back(std::move(k));

    mrz_reader = {
        .name = "adapters[] (kind: mrz_reader)",
        .description =
            "A passport / travel-permit MRZ reader sending the zone's lines as a USB "
            "keyboard or over a serial line (docs/devices/mrz.md).",
        .keys = device_transport_keys(),
    };
    for (Key k : scanner_keys()) {
      if (k.name == "protocol") continue;  // MRZ readers are keyboard wedges on USB
      if (k.name == "max_length") continue;
      mrz_reader.keys.push_back(std::move(k));
    }
    mrz_reader.keys.push_back(bind(Key{.name = "line_timeout_ms",
                                       .type = Type::uint,
                                       .description = "Milliseconds the next line of a zone "
                                                      "may take before the zone is incomplete.",
                                       .default_yaml = "1000",
                                       .umin = 50,
                                       .umax = 60000},
                                   &DeviceAdapterConfig::line_timeout_ms));

    adapter = {
        .name = "adapters[]",
        .description =
            "A device adapter feeding one counter. The keys below are common to "
            "all kinds; each kind adds its own keys at the same level.",
        .keys =
            {
                bind(Key{.name = "kind",
                         .type = Type::enumeration,
                         .description = "Adapter kind.",
                         .required = true},  // values: one per variant, filled in below
                     &AdapterConfig::kind),
                bind(Key{.name = "name",
                         .description = "Unique adapter name used in logs: 1 to 64 of "
                                        "`A-Z a-z 0-9 _ -`.",
                         .default_doc = "`<kind><index>`, e.g. `demo0` for `adapters[0]`"},
                     &AdapterConfig::name),
                bind(Key{.name = "counter",
                         .description = "Id of the counter this adapter serves.",
                         .required = true},
                     &AdapterConfig::counter),
            },
        .discriminator = "kind",
        .variants =
            {
                {.value = "demo",
                 .description = "synthetic acceptances",
                 .table = &demo,
                 .child = [](void* o) -> void* { return &static_cast<AdapterConfig*>(o)->demo; }},
                {.value = "idcard_reader",
                 .description = "resident ID-card reader (SAM)",
                 .table = &idcard_reader,
                 .child = device_child},
                {.value = "barcode_scanner",
                 .description = "barcode scanner",
                 .table = &barcode_scanner,
                 .child = device_child},
                {.value = "mrz_reader",
                 .description = "MRZ reader (passports, travel permits)",
                 .table = &mrz_reader,
                 .child = device_child},
            },
    };

    carrier = {
        .name = "waybills.carriers[]",
        .description = "A carrier's waybill number format.",
        .keys =
            {
                bind(Key{.name = "carrier",
                         .description = "Carrier name recorded with matching waybills; unique, "
                                        "not `upu_s10`.",
                         .required = true},
                     &core::WaybillRule::carrier),
                bind(Key{.name = "pattern",
                         .description = "ECMAScript regular expression that must match the "
                                        "whole upper-cased number.",
                         .required = true},
                     &core::WaybillRule::pattern),
            },
    };

    waybills = {
        .name = "waybills",
        .description =
            "Which waybill numbers are accepted. A number is tried as UPU S10 "
            "first, then against each carrier pattern in order.",
        .keys =
            {
                bind(Key{.name = "accept_s10",
                         .type = Type::boolean,
                         .description = "Accept UPU S10 numbers (check digit verified).",
                         .default_yaml = "true"},
                     &WaybillConfig::accept_s10),
                nest_list(Key{.name = "carriers",
                              .description = "Carrier formats.",
                              .default_yaml = "[]"},
                          carrier, &WaybillConfig::carriers),
            },
    };

    category = {
        .name = "screening.categories[]",
        .description = "One category of the prohibited or restricted items list.",
        .keys =
            {
                bind(Key{.name = "id",
                         .description = "Category id, unique, e.g. `01`.",
                         .required = true},
                     &core::ScreeningCategory::id),
                bind(Key{.name = "name", .description = "Category name.", .required = true},
                     &core::ScreeningCategory::name),
                bind(Key{.name = "severity",
                         .type = Type::enumeration,
                         .description = "`prohibited`: the parcel is refused; `restricted`: "
                                        "staff must confirm the item was checked.",
                         .required = true,
                         .values = {"prohibited", "restricted"}},
                     &core::ScreeningCategory::severity),
                bind(Key{.name = "keywords",
                         .type = Type::list,
                         .description = "Words that put a declared content in this category "
                                        "(Chinese match anywhere, English whole words); at "
                                        "least one.",
                         .required = true,
                         .element = Type::string},
                     &core::ScreeningCategory::keywords),
            },
    };

    screening = {
        .name = "screening",
        .description =
            "The prohibited and restricted items list, checked against declared "
            "contents. Without `categories` the built-in list is used (version "
            "`2026-11-default`: the national catalogue of 19 prohibited "
            "categories plus restricted lithium batteries, liquids, medicines "
            "and alcohol).",
        .keys =
            {
                bind(Key{.name = "version",
                         .description = "Version of the list, recorded with every screening; "
                                        "required with `categories`.",
                         .default_doc = "`2026-11-default` (built-in list)"},
                     &ScreeningConfig::version),
                nest_list(Key{.name = "categories",
                              .description = "The categories; at least one.",
                              .default_doc = "built-in list"},
                          category, &ScreeningConfig::categories),
            },
    };

    logging = {
        .name = "logging",
        .description = "Log output (journald or stderr).",
        .keys =
            {
                bind(Key{.name = "level",
                         .type = Type::enumeration,
                         .description = "Least severe level logged.",
                         .default_yaml = "info",
                         .values = {"trace", "debug", "info", "warn", "error"}},
                     &LoggingConfig::level),
            },
    };

    uplink_tls = {
        .name = "uplink.tls",
        .description =
            "TLS to the brokers; required for `ssl://` and `mqtts://` URIs (an "
            "empty mapping uses the system trust store).",
        .keys =
            {
                bind(Key{.name = "ca_file",
                         .type = Type::path,
                         .description = "CA certificates (PEM) the broker's certificate must "
                                        "chain to.",
                         .default_doc = "the system trust store"},
                     &UplinkTlsConfig::ca_file),
                bind(Key{.name = "cert_file",
                         .type = Type::path,
                         .description = "Client certificate (PEM) for mutual TLS; together "
                                        "with `key_file`.",
                         .default_doc = "none"},
                     &UplinkTlsConfig::cert_file),
                bind(Key{.name = "key_file",
                         .type = Type::path,
                         .description = "Private key (PEM) of `cert_file`.",
                         .default_doc = "none"},
                     &UplinkTlsConfig::key_file),
                bind(Key{.name = "verify_hostname",
                         .type = Type::boolean,
                         .description = "Check that the broker's certificate names the host "
                                        "of the URI.",
                         .default_yaml = "true"},
                     &UplinkTlsConfig::verify_hostname),
            },
    };

    uplink = {
        .name = "uplink",
        .description =
            "The MQTT uplink that sends records and alerts to headquarters "
            "(docs/uplink.md, docs/protocol.md). Without this section the "
            "outlet works offline only; records stay pending in the store. "
            "Changes take effect at the next start.",
        .keys =
            {
                bind(Key{.name = "brokers",
                         .type = Type::list,
                         .description = "Broker URIs, tried in order at each connect: "
                                        "`tcp://host:1883`, `ssl://host:8883` (also `mqtt://`, "
                                        "`mqtts://`); at least one.",
                         .required = true,
                         .element = Type::string},
                     &UplinkConfig::brokers),
                bind(Key{.name = "prefix",
                         .description = "Topic prefix: topics are `<prefix>/<outlet>/...`; no "
                                        "`+` or `#`.",
                         .default_yaml = "postgate/v1"},
                     &UplinkConfig::prefix),
                bind(Key{.name = "mqtt_version",
                         .type = Type::uint,
                         .description = "MQTT protocol version: 5, or 3 for 3.1.1.",
                         .default_yaml = "5",
                         .umin = 3,
                         .umax = 5},
                     &UplinkConfig::mqtt_version),
                bind(Key{.name = "client_id",
                         .description = "MQTT client id; empty: `postgate-<outlet>`.",
                         .default_yaml = "\"\""},
                     &UplinkConfig::client_id),
                bind(Key{.name = "username",
                         .description = "MQTT user name; empty: none.",
                         .default_yaml = "\"\""},
                     &UplinkConfig::username),
                bind(Key{.name = "password",
                         .description = "MQTT password; empty: none. Keep the file readable "
                                        "by postgated only.",
                         .default_yaml = "\"\""},
                     &UplinkConfig::password),
                nest_optional(Key{.name = "tls", .default_doc = "absent: no TLS"}, uplink_tls,
                              &UplinkConfig::tls),
                bind(Key{.name = "keepalive_s",
                         .type = Type::uint,
                         .description = "MQTT keep-alive interval, seconds.",
                         .default_yaml = "30",
                         .umin = 1,
                         .umax = 65535},
                     &UplinkConfig::keepalive_s),
                bind(Key{.name = "connect_timeout_s",
                         .type = Type::uint,
                         .description = "Seconds a connect attempt may take.",
                         .default_yaml = "10",
                         .umin = 1,
                         .umax = 3600},
                     &UplinkConfig::connect_timeout_s),
                bind(Key{.name = "persistent_session",
                         .type = Type::boolean,
                         .description = "Keep the MQTT session across reconnects (clean start "
                                        "false), so acks sent while away are delivered.",
                         .default_yaml = "true"},
                     &UplinkConfig::persistent_session),
                bind(Key{.name = "session_expiry_s",
                         .type = Type::uint,
                         .description = "Seconds the broker keeps the session after a "
                                        "disconnect (MQTT 5 only).",
                         .default_yaml = "604800",
                         .umin = 0,
                         .umax = 2147483647},
                     &UplinkConfig::session_expiry_s),
                bind(Key{.name = "batch_max_records",
                         .type = Type::uint,
                         .description = "Most records in one published batch.",
                         .default_yaml = "500",
                         .umin = 1,
                         .umax = 100000},
                     &UplinkConfig::batch_max_records),
                bind(Key{.name = "batch_max_bytes",
                         .type = Type::uint,
                         .description = "About the most bytes of records in one batch.",
                         .default_yaml = "131072",
                         .umin = 1024,
                         .umax = 64 * kMiB},
                     &UplinkConfig::batch_max_bytes),
                bind(Key{.name = "linger_ms",
                         .type = Type::uint,
                         .description = "Milliseconds a new record waits for others to share "
                                        "its batch.",
                         .default_yaml = "50",
                         .umin = 0,
                         .umax = 60000},
                     &UplinkConfig::linger_ms),
                bind(Key{.name = "max_inflight_batches",
                         .type = Type::uint,
                         .description = "Most batches published and not yet acknowledged by "
                                        "HQ.",
                         .default_yaml = "32",
                         .umin = 1,
                         .umax = 1024},
                     &UplinkConfig::max_inflight_batches),
                bind(Key{.name = "ack_timeout_s",
                         .type = Type::uint,
                         .description = "Seconds the oldest unacknowledged batch may wait "
                                        "before sending restarts after HQ's last ack.",
                         .default_yaml = "30",
                         .umin = 1,
                         .umax = 86400},
                     &UplinkConfig::ack_timeout_s),
                bind(Key{.name = "reconnect_min_s",
                         .type = Type::uint,
                         .description = "First reconnect back-off, seconds (doubled per "
                                        "failed attempt, with full jitter).",
                         .default_yaml = "1",
                         .umin = 1,
                         .umax = 86400},
                     &UplinkConfig::reconnect_min_s),
                bind(Key{.name = "reconnect_max_s",
                         .type = Type::uint,
                         .description = "Longest reconnect back-off, seconds; at least "
                                        "`reconnect_min_s`.",
                         .default_yaml = "60",
                         .umin = 1,
                         .umax = 86400},
                     &UplinkConfig::reconnect_max_s),
                bind(Key{.name = "drain_records_per_s",
                         .type = Type::number,
                         .description = "Most records sent per second (a backlog after an "
                                        "outage); 0: unlimited.",
                         .default_yaml = "2000",
                         .dmin = 0,
                         .dmax = 1e9},
                     &UplinkConfig::drain_records_per_s),
                bind(Key{.name = "drain_bytes_per_s",
                         .type = Type::number,
                         .description = "Most bytes sent per second; 0: unlimited, else at "
                                        "least `batch_max_bytes`.",
                         .default_yaml = "2097152",
                         .dmin = 0,
                         .dmax = 1e12},
                     &UplinkConfig::drain_bytes_per_s),
                bind(Key{.name = "telemetry_interval_s",
                         .type = Type::uint,
                         .description = "Seconds between telemetry messages; 0: none.",
                         .default_yaml = "60",
                         .umin = 0,
                         .umax = 86400},
                     &UplinkConfig::telemetry_interval_s),
                bind(Key{.name = "stop_timeout_s",
                         .type = Type::uint,
                         .description = "Longest a clean stop (offline status, disconnect) "
                                        "may take at shutdown, seconds.",
                         .default_yaml = "5",
                         .umin = 1,
                         .umax = 300},
                     &UplinkConfig::stop_timeout_s),
                bind(Key{.name = "evidence_chunk_bytes",
                         .type = Type::uint,
                         .description = "Bytes of evidence per published chunk.",
                         .default_yaml = "65536",
                         .umin = 1024,
                         .umax = kMiB},
                     &UplinkConfig::evidence_chunk_bytes),
                bind(Key{.name = "evidence_inflight_chunks",
                         .type = Type::uint,
                         .description = "Most evidence chunks published and not yet "
                                        "acknowledged by HQ.",
                         .default_yaml = "4",
                         .umin = 1,
                         .umax = 64},
                     &UplinkConfig::evidence_inflight_chunks),
                bind(Key{.name = "evidence_bytes_per_s",
                         .type = Type::number,
                         .description = "Most evidence bytes sent per second, after the "
                                        "records; 0: unlimited.",
                         .default_yaml = "262144",
                         .dmin = 0,
                         .dmax = 1e12},
                     &UplinkConfig::evidence_bytes_per_s),
            },
    };

    camera = {
        .name = "cameras[]",
        .description =
            "A counter camera (docs/devices/camera.md): one still per parcel, taken at "
            "`capture_on`, sealed into `storage.evidence_dir` and tied to the record.",
        .keys =
            {
                bind(Key{.name = "id",
                         .description = "Camera id, unique: 1 to 64 of `A-Z a-z 0-9 _ -`; "
                                        "recorded as the evidence source.",
                         .required = true},
                     &CameraConfig::id),
                bind(Key{.name = "counter",
                         .description = "Id of the counter it watches; one camera per counter.",
                         .required = true},
                     &CameraConfig::counter),
                bind(Key{.name = "source",
                         .type = Type::enumeration,
                         .description = "`http`: an IP camera's snapshot URL (ONVIF snapshot "
                                        "URI); `v4l2`: a USB (UVC) camera.",
                         .required = true,
                         .values = {"http", "v4l2"}},
                     &CameraConfig::source),
                bind(Key{.name = "capture_on",
                         .type = Type::enumeration,
                         .description = "`inspection`: when staff give the inspection outcome, "
                                        "before the commit (the still is part of the record); "
                                        "`committed`: once the record is durable (bound to it "
                                        "afterwards).",
                         .default_yaml = "inspection",
                         .values = {"inspection", "committed"}},
                     &CameraConfig::capture_on),
                bind(Key{.name = "required",
                         .type = Type::boolean,
                         .description = "With `capture_on: inspection`: no still, no "
                                        "acceptance; staff see why and confirm again or "
                                        "cancel. Otherwise a failed still is logged and "
                                        "counted, and the acceptance goes on.",
                         .default_yaml = "false"},
                     &CameraConfig::required),
                bind(Key{.name = "timeout_ms",
                         .type = Type::uint,
                         .description = "Longest a capture may take, milliseconds.",
                         .default_yaml = "5000",
                         .umin = 100,
                         .umax = 60000},
                     &CameraConfig::timeout_ms),
                bind(Key{.name = "max_bytes",
                         .type = Type::uint,
                         .description = "Largest still accepted, bytes.",
                         .default_yaml = "8388608",
                         .umin = 1024,
                         .umax = 64 * kMiB},
                     &CameraConfig::max_bytes),
                bind(Key{.name = "url",
                         .description = "http: `http://` or `https://` snapshot URL; required "
                                        "with `source: http`.",
                         .default_yaml = "\"\""},
                     &CameraConfig::url),
                bind(Key{.name = "username",
                         .description = "http: user name; empty: no authentication.",
                         .default_yaml = "\"\""},
                     &CameraConfig::username),
                bind(Key{.name = "password",
                         .description = "http: password. Keep the file readable by postgated "
                                        "only.",
                         .default_yaml = "\"\""},
                     &CameraConfig::password),
                bind(Key{.name = "auth",
                         .type = Type::enumeration,
                         .description = "http: `auto` answers the camera's challenge (Digest "
                                        "or Basic), `basic` or `digest` insist on one.",
                         .default_yaml = "auto",
                         .values = {"auto", "basic", "digest"}},
                     &CameraConfig::auth),
                bind(Key{.name = "ca_file",
                         .type = Type::path,
                         .description = "https: CA certificate(s) to trust; empty: the system "
                                        "store.",
                         .default_doc = "none"},
                     &CameraConfig::ca_file),
                bind(Key{.name = "verify_peer",
                         .type = Type::boolean,
                         .description = "https: verify the camera's certificate and host name.",
                         .default_yaml = "true"},
                     &CameraConfig::verify_peer),
                bind(Key{.name = "allow_basic_over_http",
                         .type = Type::boolean,
                         .description = "http: allow Basic credentials over plain `http://` "
                                        "(they travel readable).",
                         .default_yaml = "false"},
                     &CameraConfig::allow_basic_over_http),
                bind(Key{.name = "device",
                         .type = Type::path,
                         .description = "v4l2: the video device, preferably a stable "
                                        "`/dev/v4l/by-id/...` link; required with `source: "
                                        "v4l2`.",
                         .default_doc = "none"},
                     &CameraConfig::device),
                bind(Key{.name = "width",
                         .type = Type::uint,
                         .description = "v4l2: frame width asked for (the camera may pick the "
                                        "nearest).",
                         .default_yaml = "1280",
                         .umin = 16,
                         .umax = 8192},
                     &CameraConfig::width),
                bind(Key{.name = "height",
                         .type = Type::uint,
                         .description = "v4l2: frame height asked for.",
                         .default_yaml = "720",
                         .umin = 16,
                         .umax = 8192},
                     &CameraConfig::height),
                bind(Key{.name = "format",
                         .type = Type::enumeration,
                         .description = "v4l2: `mjpeg` (stored as sent), `yuyv` (encoded to "
                                        "JPEG here) or `auto` (MJPEG when offered).",
                         .default_yaml = "auto",
                         .values = {"auto", "mjpeg", "yuyv"}},
                     &CameraConfig::format),
                bind(Key{.name = "warmup_frames",
                         .type = Type::uint,
                         .description = "v4l2: frames dropped before the still (auto "
                                        "exposure settles).",
                         .default_yaml = "3",
                         .umin = 0,
                         .umax = 100},
                     &CameraConfig::warmup_frames),
                bind(Key{.name = "jpeg_quality",
                         .type = Type::uint,
                         .description = "v4l2 with YUYV: JPEG quality, 1 to 100.",
                         .default_yaml = "85",
                         .umin = 1,
                         .umax = 100},
                     &CameraConfig::jpeg_quality),
            },
    };

    xray = {
        .name = "xray[]",
        .description =
            "An X-ray machine exporting each scan as an image and a result file into a "
            "folder (docs/devices/xray.md). Scans are bound to records by waybill, else "
            "by lane and time.",
        .keys =
            {
                bind(Key{.name = "id",
                         .description = "Machine id, unique: 1 to 64 of `A-Z a-z 0-9 _ -`.",
                         .required = true},
                     &XrayConfig::id),
                bind(Key{.name = "folder",
                         .type = Type::path,
                         .description = "The export folder watched (inotify).",
                         .required = true},
                     &XrayConfig::folder),
                bind(Key{.name = "counter",
                         .description = "The counter all its lanes feed; empty: give `lanes`.",
                         .default_yaml = "\"\""},
                     &XrayConfig::counter),
                bind(Key{.name = "lanes",
                         .type = Type::list,
                         .description = "`LANE:COUNTER` pairs for a machine feeding several "
                                        "counters, e.g. `[\"1:c1\", \"2:c2\"]`.",
                         .default_yaml = "[]",
                         .element = Type::string},
                     &XrayConfig::lanes),
                bind(Key{.name = "format",
                         .type = Type::enumeration,
                         .description = "Result file format.",
                         .default_yaml = "json",
                         .values = {"json", "xml"}},
                     &XrayConfig::format),
                bind(Key{.name = "lane_field",
                         .description = "Where the lane is in a result file: JSON dotted path "
                                        "(`scan.lane`) or pointer (`/scan/lane`); XML element "
                                        "path (`Scan/Lane`) or attribute (`Scan/@lane`).",
                         .required = true},
                     &XrayConfig::lane_field),
                bind(Key{.name = "time_field",
                         .description = "Where the scan time is.",
                         .required = true},
                     &XrayConfig::time_field),
                bind(Key{.name = "waybill_field",
                         .description = "Where the waybill the machine read is; empty: it "
                                        "reads none.",
                         .default_yaml = "\"\""},
                     &XrayConfig::waybill_field),
                bind(Key{.name = "verdict_field",
                         .description = "Where the verdict word is.",
                         .required = true},
                     &XrayConfig::verdict_field),
                bind(Key{.name = "image_field",
                         .description = "Where the image file name is (a bare name in the "
                                        "folder).",
                         .required = true},
                     &XrayConfig::image_field),
                bind(Key{.name = "time_format",
                         .type = Type::enumeration,
                         .description = "`iso8601` (no zone: the outlet's local time), "
                                        "`epoch_s`, `epoch_ms`, or `pattern` (`time_pattern`).",
                         .default_yaml = "iso8601",
                         .values = {"iso8601", "epoch_s", "epoch_ms", "pattern"}},
                     &XrayConfig::time_format),
                bind(Key{.name = "time_pattern",
                         .description = "With `time_format: pattern`: strftime-like, e.g. "
                                        "`%Y-%m-%d %H:%M:%S`.",
                         .default_yaml = "\"\""},
                     &XrayConfig::time_pattern),
                bind(Key{.name = "clear_words",
                         .type = Type::list,
                         .description = "Verdict words meaning clear (case-insensitive).",
                         .default_yaml = "[clear, pass, ok, normal]",
                         .element = Type::string},
                     &XrayConfig::clear_words),
                bind(Key{.name = "suspect_words",
                         .type = Type::list,
                         .description = "Verdict words meaning suspect; any other word is "
                                        "`unknown` (kept, reported).",
                         .default_yaml = "[suspect, alarm, alert, threat]",
                         .element = Type::string},
                     &XrayConfig::suspect_words),
                bind(Key{.name = "result_extensions",
                         .type = Type::list,
                         .description = "File name endings of result files.",
                         .default_yaml = "[.json]",
                         .element = Type::string},
                     &XrayConfig::result_extensions),
                bind(Key{.name = "settle_ms",
                         .type = Type::uint,
                         .description = "A file unchanged this long is complete (a writer "
                                        "closing or renaming it completes it at once).",
                         .default_yaml = "1000",
                         .umin = 10,
                         .umax = 600000},
                     &XrayConfig::settle_ms),
                bind(Key{.name = "pair_timeout_s",
                         .type = Type::uint,
                         .description = "Seconds an image or result file waits for its "
                                        "partner before it is an orphan.",
                         .default_yaml = "30",
                         .umin = 1,
                         .umax = 86400},
                     &XrayConfig::pair_timeout_s),
                bind(Key{.name = "max_image_bytes",
                         .type = Type::uint,
                         .description = "Largest image accepted, bytes.",
                         .default_yaml = "33554432",
                         .umin = 1024,
                         .umax = 1024 * kMiB},
                     &XrayConfig::max_image_bytes),
                bind(Key{.name = "bind_before_s",
                         .type = Type::uint,
                         .description = "Without a waybill, a scan binds to a record of its "
                                        "lane's counter accepted up to this long after the "
                                        "scan...",
                         .default_yaml = "60",
                         .umin = 0,
                         .umax = 86400},
                     &XrayConfig::bind_before_s),
                bind(Key{.name = "bind_after_s",
                         .type = Type::uint,
                         .description = "... or up to this long before it (the closest in "
                                        "time; a tie binds to none).",
                         .default_yaml = "300",
                         .umin = 0,
                         .umax = 86400},
                     &XrayConfig::bind_after_s),
            },
    };

    evidence = {
        .name = "evidence",
        .description =
            "Evidence kept at the outlet (sealed in `storage.evidence_dir`) and sent to HQ "
            "(docs/protocol.md, \"evidence\").",
        .keys =
            {
                bind(Key{.name = "upload",
                         .type = Type::enumeration,
                         .description = "`always`: sent after the records, oldest first; "
                                        "`on_request`: kept until HQ asks for a record's "
                                        "evidence.",
                         .default_yaml = "always",
                         .values = {"always", "on_request"}},
                     &EvidenceConfig::upload),
                bind(Key{.name = "max_item_bytes",
                         .type = Type::uint,
                         .description = "Largest evidence file kept, bytes.",
                         .default_yaml = "16777216",
                         .umin = 1024,
                         .umax = 1024 * kMiB},
                     &EvidenceConfig::max_item_bytes),
                bind(Key{.name = "max_total_bytes",
                         .type = Type::uint,
                         .description = "Most bytes of evidence kept; beyond it delivered "
                                        "evidence is evicted oldest first, and when that is "
                                        "not enough new evidence is refused (never "
                                        "undelivered evidence dropped).",
                         .default_yaml = "4294967296",
                         .umin = 1024 * 1024,
                         .umax = 1ull << 50},
                     &EvidenceConfig::max_total_bytes),
            },
    };

    root = {
        .name = "top level",
        .description = "The file is one YAML mapping with these keys.",
        .keys =
            {
                bind(Key{.name = "outlet",
                         .description = "Outlet id, recorded with every acceptance: 1 to 64 of "
                                        "`A-Z a-z 0-9 _ -`.",
                         .required = true},
                     &Config::outlet),
                nest_list(Key{.name = "counters",
                              .description = "The outlet's counters; at least one.",
                              .required = true},
                          counter, &Config::counters),
                nest(Key{.name = "storage"}, storage, &Config::storage),
                nest(Key{.name = "api"}, api, &Config::api),
                nest(Key{.name = "workflow"}, workflow, &Config::workflow),
                nest_list(Key{.name = "adapters",
                              .description = "Device adapters; none is valid (counter software "
                                             "then submits through the API).",
                              .default_yaml = "[]"},
                          adapter, &Config::adapters),
                nest_list(Key{.name = "cameras",
                              .description = "Counter cameras; none is valid.",
                              .default_yaml = "[]"},
                          camera, &Config::cameras),
                nest_list(Key{.name = "xray",
                              .description = "X-ray machines; none is valid.",
                              .default_yaml = "[]"},
                          xray, &Config::xray),
                nest(Key{.name = "evidence"}, evidence, &Config::evidence),
                nest(Key{.name = "waybills"}, waybills, &Config::waybills),
                nest(Key{.name = "screening"}, screening, &Config::screening),
                nest(Key{.name = "logging"}, logging, &Config::logging),
                nest_optional(Key{.name = "uplink", .default_doc = "absent: offline only"}, uplink,
                              &Config::uplink),
            },
    };

    for (Table* t : {&adapter}) {
      for (Key& k : t->keys) {
        if (k.name != t->discriminator) continue;
        for (const Variant& v : t->variants) k.values.push_back(v.value);
      }
    }
  }
};

}  // namespace

const Table& root() {
  static const Schema schema;
  return schema.root;
}

}  // namespace postgate::config::schema
