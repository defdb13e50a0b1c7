#include "config/semantic.hpp"

#include <map>
#include <regex>
#include <set>

namespace postgate::config {
namespace {

constexpr std::size_t kMaxSocketPath = 107;  // sizeof(sockaddr_un::sun_path) - 1 on Linux
const std::string kIdRule = "use 1 to 64 of A-Z a-z 0-9 _ -";

std::string indexed(const std::string& list, std::size_t i) {
  return list + "[" + std::to_string(i) + "]";
}

// Reports `id` at `path` when it is a repeat; `first` remembers earlier ones.
void check_unique(const std::string& id, const std::string& what, const std::string& path,
                  const std::string& element_path, std::map<std::string, std::string>& first,
                  LoadContext& ctx) {
  if (id.empty()) return;
  if (auto [it, inserted] = first.emplace(id, element_path); !inserted) {
    ctx.report(ctx.at(path), path,
               "duplicate " + what + " " + quote(id) + " (also " + it->second + ")");
  }
}

void check_counters(const Config& c, LoadContext& ctx) {
  if (ctx.given("counters") && c.counters.empty()) {
    ctx.report(ctx.at("counters"), "counters", "at least one counter is required");
  }
  std::map<std::string, std::string> first;
  for (std::size_t i = 0; i < c.counters.size(); ++i) {
    const std::string element = indexed("counters", i);
    const std::string path = element + ".id";
    const std::string& id = c.counters[i].id;
    if (!ctx.given(path)) continue;
    if (!is_valid_id(id)) {
      ctx.report(ctx.at(path), path, "invalid counter id " + quote(id) + ": " + kIdRule);
    }
    check_unique(id, "counter id", path, element, first, ctx);
  }
}

bool is_device_kind(const std::string& kind) {
  return kind == "idcard_reader" || kind == "barcode_scanner" || kind == "mrz_reader";
}

// Transport-specific keys must come with their transport, the required ones
// must be there, and the text-valued ones must have their shape.
void check_device(const AdapterConfig& a, const std::string& element, LoadContext& ctx) {
  const DeviceAdapterConfig& d = a.device;
  static const std::vector<std::string> usb_only = {
      "usb",         "usb_serial",        "usb_port",         "usb_interface", "out_endpoint",
      "in_endpoint", "out_body_endpoint", "in_body_endpoint", "protocol",      "terminator",
      "usb_mode",    "report_size",       "report_id"};
  static const std::vector<std::string> serial_only = {"path", "baud", "framing", "flow_control",
                                                       "line_end"};
  if (d.transport.empty()) return;  // reported as a missing required key
  const bool usb = d.transport == "usb";
  for (const auto& key : usb ? serial_only : usb_only) {
    const std::string path = element + "." + key;
    if (ctx.given(path))
      ctx.report(ctx.at(path), path,
                 "applies to transport " + std::string(usb ? "serial" : "usb") +
                     " only (this adapter has transport " + d.transport + ")");
  }
  if (usb) {
    const std::string path = element + ".usb";
    static const std::regex vid_pid("^[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}$");
    if (!ctx.given(path))
      ctx.report(ctx.at(element), path, "required with transport usb: VVVV:PPPP (see lsusb)");
    else if (!std::regex_match(d.usb, vid_pid))
      ctx.report(ctx.at(path), path,
                 "expected VVVV:PPPP in hexadecimal, e.g. 0400:c35a, got " + quote(d.usb));
    static const std::regex port("^[0-9]{1,3}-[0-9]{1,3}(\\.[0-9]{1,3}){0,6}$");
    const std::string port_path = element + ".usb_port";
    if (ctx.given(port_path) && !d.usb_port.empty() && !std::regex_match(d.usb_port, port))
      ctx.report(ctx.at(port_path), port_path,
                 "expected a port path such as 1-1 or 1-1.2, got " + quote(d.usb_port));
    if (a.kind == "idcard_reader" && d.usb_mode == "bulk" && d.out_endpoint == 0)
      ctx.report(ctx.at(element + ".out_endpoint"), element + ".out_endpoint",
                 "0 (SET_REPORT) needs usb_mode: hid; bulk readers need an OUT endpoint");
    const bool split_out = d.out_body_endpoint != 0, split_in = d.in_body_endpoint != 0;
    if (split_out != split_in)
      ctx.report(ctx.at(element), element + ".out_body_endpoint",
                 "out_body_endpoint and in_body_endpoint go together (split-endpoint readers)");
    if (split_in && (d.in_body_endpoint & 0x80) == 0)
      ctx.report(ctx.at(element + ".in_body_endpoint"), element + ".in_body_endpoint",
                 "an IN endpoint address has bit 7 set (0x81 to 0x8f)");
  } else {
    const std::string path = element + ".path";
    if (!ctx.given(path) || d.path.empty())
      ctx.report(ctx.at(ctx.given(path) ? path : element), path,
                 "required with transport serial: the tty, e.g. /dev/serial/by-id/...");
    static const std::regex framing("^[5-8][NnEeOo][12]$");
    const std::string fpath = element + ".framing";
    if (!std::regex_match(d.framing, framing))
      ctx.report(
          ctx.at(fpath), fpath,
          "expected data bits, parity and stop bits such as 8N1 or 7E1, got " + quote(d.framing));
    static const std::set<std::uint32_t> rates = {
        0,       50,      75,      110,     134,     150,     200,    300,
        600,     1200,    1800,    2400,    4800,    9600,    19200,  38400,
        57600,   115200,  230400,  460800,  500000,  576000,  921600, 1000000,
        1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000};
    const std::string bpath = element + ".baud";
    if (!rates.contains(d.baud))
      ctx.report(ctx.at(bpath), bpath,
                 "not a standard serial rate: " + std::to_string(d.baud) +
                     " (e.g. 9600, 19200, 38400, 57600, 115200)");
  }
}

void check_adapters(Config& c, LoadContext& ctx) {
  std::vector<std::string> counter_ids;
  for (const Counter& counter : c.counters) counter_ids.push_back(counter.id);
  std::map<std::string, std::string> first;
  for (std::size_t i = 0; i < c.adapters.size(); ++i) {
    AdapterConfig& a = c.adapters[i];
    const std::string element = indexed("adapters", i);
    const std::string name_path = element + ".name";
    if (!ctx.given(name_path)) {
      if (!a.kind.empty()) a.name = a.kind + std::to_string(i);
    } else if (!is_valid_id(a.name)) {
      ctx.report(ctx.at(name_path), name_path,
                 "invalid adapter name " + quote(a.name) + ": " + kIdRule);
    }
    check_unique(a.name, "adapter name", name_path, element, first, ctx);

    const std::string counter_path = element + ".counter";
    if (ctx.given(counter_path) &&
        std::find(counter_ids.begin(), counter_ids.end(), a.counter) == counter_ids.end()) {
      ctx.report(ctx.at(counter_path), counter_path,
                 "unknown counter " + quote(a.counter) +
                     (counter_ids.empty() ? " (no counters configured)"
                                          : " (configured: " + join_list(counter_ids) + ")"));
    }
    if (is_device_kind(a.kind)) check_device(a, element, ctx);
  }
}

void check_waybills(const Config& c, LoadContext& ctx) {
  std::map<std::string, std::string> first;
  for (std::size_t i = 0; i < c.waybills.carriers.size(); ++i) {
    const core::WaybillRule& rule = c.waybills.carriers[i];
    const std::string element = indexed("waybills.carriers", i);
    const std::string carrier_path = element + ".carrier";
    if (ctx.given(carrier_path)) {
      if (rule.carrier.empty()) {
        ctx.report(ctx.at(carrier_path), carrier_path, "must not be empty");
      } else if (rule.carrier == "upu_s10") {
        ctx.report(ctx.at(carrier_path), carrier_path,
                   "\"upu_s10\" is reserved for UPU S10 numbers (see waybills.accept_s10)");
      }
      check_unique(rule.carrier, "carrier", carrier_path, element, first, ctx);
    }
    const std::string pattern_path = element + ".pattern";
    if (!ctx.given(pattern_path)) continue;
    if (rule.pattern.empty()) {
      ctx.report(ctx.at(pattern_path), pattern_path, "must not be empty");
      continue;
    }
    try {
      std::regex compiled(rule.pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      ctx.report(ctx.at(pattern_path), pattern_path,
                 "does not compile as an ECMAScript regular expression: " + std::string(e.what()));
    }
  }
}

bool blank(const std::string& s) {
  return s.find_first_not_of(" \t") == std::string::npos;
}

void check_screening(Config& c, LoadContext& ctx) {
  if (!ctx.given("screening.categories")) {
    if (ctx.given("screening.version")) {
      ctx.report(ctx.at("screening.version"), "screening.version",
                 "given without screening.categories; the built-in list has its own version (" +
                     std::string(kDefaultScreeningVersion) + ")");
    }
    c.screening = default_screening();
    return;
  }
  ScreeningConfig& s = c.screening;
  if (!ctx.given("screening.version") || blank(s.version)) {
    ctx.report(ctx.at("screening.version"), "screening.version",
               "required when screening.categories is given");
  }
  if (s.categories.empty()) {
    ctx.report(ctx.at("screening.categories"), "screening.categories",
               "at least one category is required");
  }
  std::map<std::string, std::string> first;
  for (std::size_t i = 0; i < s.categories.size(); ++i) {
    const core::ScreeningCategory& cat = s.categories[i];
    const std::string element = indexed("screening.categories", i);
    const std::string id_path = element + ".id";
    if (ctx.given(id_path)) {
      if (blank(cat.id)) ctx.report(ctx.at(id_path), id_path, "must not be empty");
      check_unique(cat.id, "category id", id_path, element, first, ctx);
    }
    const std::string name_path = element + ".name";
    if (ctx.given(name_path) && blank(cat.name)) {
      ctx.report(ctx.at(name_path), name_path, "must not be empty");
    }
    const std::string keywords_path = element + ".keywords";
    if (!ctx.given(keywords_path)) continue;
    if (cat.keywords.empty()) {
      ctx.report(ctx.at(keywords_path), keywords_path, "at least one keyword is required");
    }
    for (std::size_t j = 0; j < cat.keywords.size(); ++j) {
      if (!blank(cat.keywords[j])) continue;
      const std::string keyword_path = indexed(keywords_path, j);
      ctx.report(ctx.at(keyword_path), keyword_path, "empty keyword");
    }
  }
}

void check_storage_and_api(Config& c, LoadContext& ctx) {
  StorageConfig& st = c.storage;
  if (st.key_file == st.path) {
    ctx.report(ctx.at("storage.key_file"), "storage.key_file",
               "must not be the database file (storage.path)");
  }
  if (st.quarantine_dir.empty()) st.quarantine_dir = st.path.parent_path() / "quarantine";
  if (st.evidence_dir.empty()) st.evidence_dir = st.path.parent_path() / "evidence";

  const std::string socket = c.api.socket.string();
  if (socket.size() > kMaxSocketPath) {
    ctx.report(ctx.at("api.socket"), "api.socket",
               "resolves to a path of " + std::to_string(socket.size()) +
                   " bytes; a Unix socket path has at most " + std::to_string(kMaxSocketPath));
  }
  if (c.workflow.control_prefix.empty()) {
    ctx.report(ctx.at("workflow.control_prefix"), "workflow.control_prefix", "must not be empty");
  }
}

bool is_tls_uri(const std::string& uri) {
  return uri.starts_with("ssl://") || uri.starts_with("mqtts://");
}

// What uplink::validate() checks too, reported here with a position; the
// daemon runs that validate() again on the converted settings at start.
void check_uplink(const Config& c, LoadContext& ctx) {
  if (!c.uplink) return;
  const UplinkConfig& u = *c.uplink;
  if (ctx.given("uplink.brokers")) {
    if (u.brokers.empty()) {
      ctx.report(ctx.at("uplink.brokers"), "uplink.brokers", "at least one broker URI is required");
    }
    for (std::size_t i = 0; i < u.brokers.size(); ++i) {
      const std::string& b = u.brokers[i];
      const std::string path = indexed("uplink.brokers", i);
      const auto scheme_end = b.find("://");
      const std::string scheme = scheme_end == std::string::npos ? "" : b.substr(0, scheme_end);
      if (scheme != "tcp" && scheme != "mqtt" && scheme != "ssl" && scheme != "mqtts") {
        ctx.report(
            ctx.at(path), path,
            "broker URI " + quote(b) + " must start with tcp://, mqtt://, ssl:// or mqtts://");
      } else if (b.size() == scheme_end + 3 || b[scheme_end + 3] == ':') {
        ctx.report(ctx.at(path), path, "broker URI " + quote(b) + " has no host");
      } else if (is_tls_uri(b) && !u.tls) {
        ctx.report(ctx.at(path), path,
                   scheme + ":// needs uplink.tls (an empty mapping uses the system trust store)");
      }
    }
  }
  if (ctx.given("uplink.prefix") &&
      (u.prefix.empty() || u.prefix.find_first_of("+#") != std::string::npos)) {
    ctx.report(ctx.at("uplink.prefix"), "uplink.prefix",
               "must not be empty nor hold an MQTT wildcard (+ or #)");
  }
  if (ctx.given("uplink.mqtt_version") && u.mqtt_version == 4) {
    ctx.report(ctx.at("uplink.mqtt_version"), "uplink.mqtt_version",
               "must be 5 or 3 (MQTT 3.1.1), got 4");
  }
  if (u.tls && ctx.given("uplink.tls") && u.tls->cert_file.empty() != u.tls->key_file.empty()) {
    const bool has_cert = !u.tls->cert_file.empty();
    const std::string given = has_cert ? "uplink.tls.cert_file" : "uplink.tls.key_file";
    const std::string other = has_cert ? "uplink.tls.key_file" : "uplink.tls.cert_file";
    ctx.report(ctx.at(given), given, "needs " + other + " too (mutual TLS takes both)");
  }
  // A value that failed its own check kept its default: no comparison then.
  auto well_formed = [&](const char* a, const char* b) {
    return !ctx.failed.contains(a) && !ctx.failed.contains(b);
  };
  if (u.reconnect_max_s < u.reconnect_min_s &&
      well_formed("uplink.reconnect_min_s", "uplink.reconnect_max_s")) {
    const std::string path =
        ctx.given("uplink.reconnect_max_s") ? "uplink.reconnect_max_s" : "uplink.reconnect_min_s";
    ctx.report(ctx.at(path), path,
               "reconnect_max_s (" + std::to_string(u.reconnect_max_s) +
                   ") must be at least reconnect_min_s (" + std::to_string(u.reconnect_min_s) +
                   ")");
  }
  if (u.drain_bytes_per_s > 0 && u.drain_bytes_per_s < static_cast<double>(u.batch_max_bytes) &&
      well_formed("uplink.drain_bytes_per_s", "uplink.batch_max_bytes")) {
    const std::string path = ctx.given("uplink.drain_bytes_per_s") ? "uplink.drain_bytes_per_s"
                                                                   : "uplink.batch_max_bytes";
    ctx.report(ctx.at(path), path,
               "drain_bytes_per_s must be 0 (unlimited) or at least batch_max_bytes (" +
                   std::to_string(u.batch_max_bytes) + "): one full batch a second");
  }
}

std::string unknown_counter(const std::string& id, const std::vector<std::string>& counter_ids) {
  return "unknown counter " + quote(id) +
         (counter_ids.empty() ? " (no counters configured)"
                              : " (configured: " + join_list(counter_ids) + ")");
}

bool known(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

void check_cameras(const Config& c, LoadContext& ctx) {
  std::vector<std::string> counter_ids;
  for (const Counter& counter : c.counters) counter_ids.push_back(counter.id);
  std::map<std::string, std::string> ids, counters;
  for (std::size_t i = 0; i < c.cameras.size(); ++i) {
    const CameraConfig& cam = c.cameras[i];
    const std::string element = indexed("cameras", i);
    const std::string id_path = element + ".id";
    if (ctx.given(id_path) && !is_valid_id(cam.id))
      ctx.report(ctx.at(id_path), id_path, "invalid camera id " + quote(cam.id) + ": " + kIdRule);
    check_unique(cam.id, "camera id", id_path, element, ids, ctx);
    const std::string counter_path = element + ".counter";
    if (ctx.given(counter_path)) {
      if (!known(counter_ids, cam.counter))
        ctx.report(ctx.at(counter_path), counter_path, unknown_counter(cam.counter, counter_ids));
      else
        check_unique(cam.counter, "camera for counter", counter_path, element, counters, ctx);
    }
    if (cam.source == "http") {
      const std::string url_path = element + ".url";
      if (!cam.url.starts_with("http://") && !cam.url.starts_with("https://"))
        ctx.report(ctx.at(url_path), url_path,
                   cam.url.empty() ? "source http needs a url"
                                   : "url must start with http:// or https://");
    }
    if (cam.source == "v4l2" && cam.device.empty())
      ctx.report(ctx.at(element + ".device"), element + ".device",
                 "source v4l2 needs a device (e.g. /dev/v4l/by-id/...)");
    if (cam.required && cam.capture_on != "inspection")
      ctx.report(ctx.at(element + ".required"), element + ".required",
                 "required applies to capture_on: inspection only (a still taken after the "
                 "commit cannot hold the acceptance back)");
  }
}

void check_xray(const Config& c, LoadContext& ctx) {
  std::vector<std::string> counter_ids;
  for (const Counter& counter : c.counters) counter_ids.push_back(counter.id);
  std::map<std::string, std::string> ids, folders;
  for (std::size_t i = 0; i < c.xray.size(); ++i) {
    const XrayConfig& x = c.xray[i];
    const std::string element = indexed("xray", i);
    const std::string id_path = element + ".id";
    if (ctx.given(id_path) && !is_valid_id(x.id))
      ctx.report(ctx.at(id_path), id_path, "invalid machine id " + quote(x.id) + ": " + kIdRule);
    check_unique(x.id, "X-ray machine id", id_path, element, ids, ctx);
    check_unique(x.folder.string(), "X-ray folder", element + ".folder", element, folders, ctx);
    const std::string counter_path = element + ".counter";
    if (!x.counter.empty() && !known(counter_ids, x.counter))
      ctx.report(ctx.at(counter_path), counter_path, unknown_counter(x.counter, counter_ids));
    const std::string lanes_path = element + ".lanes";
    for (const auto& pair : x.lanes) {
      const auto colon = pair.rfind(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == pair.size()) {
        ctx.report(ctx.at(lanes_path), lanes_path,
                   "lane entry " + quote(pair) + " is not LANE:COUNTER");
        continue;
      }
      const std::string counter = pair.substr(colon + 1);
      if (!known(counter_ids, counter))
        ctx.report(ctx.at(lanes_path), lanes_path, unknown_counter(counter, counter_ids));
    }
    if (x.counter.empty() && x.lanes.empty())
      ctx.report(ctx.at(element), element,
                 "name the counter it feeds (counter) or its lanes (lanes: [\"1:c1\"])");
    if (x.time_format == "pattern" && x.time_pattern.empty())
      ctx.report(ctx.at(element + ".time_pattern"), element + ".time_pattern",
                 "time_format pattern needs a time_pattern");
  }
}

}  // namespace

bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char ch : id) {
    const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

void check_semantics(Config& config, LoadContext& ctx) {
  if (ctx.given("outlet") && !is_valid_id(config.outlet)) {
    ctx.report(ctx.at("outlet"), "outlet",
               "invalid outlet id " + quote(config.outlet) + ": " + kIdRule);
  }
  check_counters(config, ctx);
  check_adapters(config, ctx);
  check_cameras(config, ctx);
  check_xray(config, ctx);
  check_waybills(config, ctx);
  check_screening(config, ctx);
  check_storage_and_api(config, ctx);
  check_uplink(config, ctx);
}

}  // namespace postgate::config
