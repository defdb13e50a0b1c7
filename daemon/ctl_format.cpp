#include "daemon/ctl_format.hpp"

#include <vector>

namespace postgate::daemon {

using json = nlohmann::json;

namespace {

std::string str(const json& j, const char* key, std::string fallback = "-") {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

std::string human_bytes(const json& v) {
  if (!v.is_number()) return "-";
  double b = v.get<double>();
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

std::string human_duration(const json& v) {
  if (!v.is_number_integer()) return "-";
  auto s = v.get<long long>();
  char buf[48];
  if (s >= 86400)
    std::snprintf(buf, sizeof buf, "%lldd %02lldh %02lldm", s / 86400, s % 86400 / 3600,
                  s % 3600 / 60);
  else if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh %02lldm", s / 3600, s % 3600 / 60);
  else
    std::snprintf(buf, sizeof buf, "%lldm %02llds", s / 60, s % 60);
  return buf;
}

std::string pad(const std::string& s, std::size_t width) {
  const auto w = display_width(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}

}  // namespace

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 1;
    char32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (std::size_t k = 1; k < len && i + k < text.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    // CJK, Hangul, full-width forms: two columns.
    const bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                      (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                      (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) ||
                      (cp >= 0x20000 && cp <= 0x3FFFD);
    width += wide ? 2 : 1;
    i += len;
  }
  return width;
}

std::string format_status(const json& s) {
  std::string out;
  auto line = [&](const char* label, const std::string& value) {
    out += pad(label, 10) + value + "\n";
  };
  line("outlet", str(s, "outlet") + " (postgated " + str(s, "version") + ", up " +
                     human_duration(s.value("uptime_s", json())) + ")");
  line("records", str(s, "records") + " (pending " + str(s, "pending") + ", last seq " +
                      str(s, "last_seq") + ")");
  if (auto st = s.find("storage"); st != s.end() && st->is_object()) {
    std::string v = str(*st, "health") + "  " + str(*st, "path") + "  (" +
                    human_bytes(st->value("bytes", json())) + ")";
    if (const auto err = str(*st, "last_error", ""); !err.empty()) v += "  last error: " + err;
    line("storage", v);
  }
  if (auto cs = s.find("counters"); cs != s.end() && cs->is_array()) {
    if (cs->empty()) line("counters", "none");
    for (std::size_t i = 0; i < cs->size(); ++i) {
      const auto& c = (*cs)[i];
      std::string v = str(c, "id") + "  " + str(c, "state");
      if (const auto op = str(c, "operator", ""); !op.empty()) v += " (operator " + op + ")";
      line(i == 0 ? "counters" : "", v);
    }
  }
  if (auto ds = s.find("devices"); ds != s.end() && ds->is_array()) {
    if (ds->empty()) line("devices", "none");
    for (std::size_t i = 0; i < ds->size(); ++i) {
      const auto& d = (*ds)[i];
      std::string v = str(d, "name") + "  " + str(d, "kind") + " on " + str(d, "counter") + ": " +
                      str(d, "state");
      if (d.contains("parcels")) v += " (" + str(d, "parcels") + " parcels)";
      line(i == 0 ? "devices" : "", v);
    }
  }
  if (auto u = s.find("uplink"); u != s.end()) {
    if (!u->is_object()) {
      line("uplink", "none (offline only)");
    } else {
      std::string v = str(*u, "state");
      if (const auto broker = str(*u, "broker", ""); !broker.empty()) v += " to " + broker;
      v += " (delivered upto " + str(*u, "delivered_upto") + ", pending " + str(s, "pending");
      if (const auto n = u->value("inflight_batches", json()); n.is_number() && n.get<long>() > 0)
        v += ", " + n.dump() + " batch(es) in flight";
      v += ")";
      if (const auto err = str(*u, "last_error", ""); !err.empty() && !u->value("connected", false))
        v += "  last error: " + err;
      line("uplink", v);
    }
  }
  if (s.contains("clients")) line("clients", str(s, "clients"));
  return out;
}

namespace {

std::string table(const std::vector<std::string>& head,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(head.size());
  for (std::size_t c = 0; c < head.size(); ++c) {
    width[c] = display_width(head[c]);
    for (const auto& row : rows) width[c] = std::max(width[c], display_width(row[c]));
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string l;
    for (std::size_t c = 0; c < row.size(); ++c)
      l += c + 1 == row.size() ? row[c] : pad(row[c], width[c] + 2);
    out += l + "\n";
  };
  emit(head);
  for (const auto& row : rows) emit(row);
  return out;
}

}  // namespace

std::string format_records(const json& records) {
  const std::vector<std::string> head = {"SEQ",    "ACCEPTED_AT", "COUNTER", "NAME",
                                         "NUMBER", "WAYBILLS",    "OUTCOME"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : records) {
    std::string waybills;
    if (auto w = r.find("waybills"); w != r.end() && w->is_array())
      for (const auto& n : *w) waybills += (waybills.empty() ? "" : ",") + n.get<std::string>();
    std::string outcome = "-";
    if (auto i = r.find("inspection"); i != r.end() && i->is_object()) {
      outcome = str(*i, "outcome");
      if (const auto cat = str(*i, "category", ""); !cat.empty()) outcome += ":" + cat;
    }
    const json sender = r.value("sender", json::object());
    rows.push_back({str(r, "seq"), str(r, "accepted_at"), str(r, "counter"), str(sender, "name"),
                    str(sender, "doc_number"), waybills, outcome});
  }
  std::string out = table(head, rows);
  if (rows.empty()) out += "(no records)\n";
  return out;
}

std::string format_devices(const json& devices) {
  const std::vector<std::string> head = {"NAME",  "KIND",   "COUNTER",    "STATE",
                                         "READS", "ERRORS", "LAST EVENT", "WHERE / DETAIL"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : devices) {
    std::string last = str(d, "last_event", "-");
    if (const auto at = str(d, "last_event_at", ""); !at.empty()) last += " " + at;
    std::string where = str(d, "where", "");
    if (const auto detail = str(d, "detail", ""); !detail.empty())
      where += (where.empty() ? "" : ": ") + detail;
    if (const auto err = str(d, "last_error", ""); !err.empty())
      where += " (last error " + err + ")";
    // Demo adapters count parcels and events rather than reads.
    const std::string reads = d.contains("reads") ? str(d, "reads") : str(d, "events", "-");
    rows.push_back({str(d, "name"), str(d, "kind"), str(d, "counter"), str(d, "state"), reads,
                    str(d, "errors", "-"), last, where.empty() ? "-" : where});
  }
  std::string out = table(head, rows);
  if (rows.empty()) out += "(no devices configured)\n";
  return out;
}

std::optional<std::string> submit_request(std::string_view input_line, std::size_t line_no,
                                          std::string& local_error) {
  while (!input_line.empty() && (input_line.back() == '\r' || input_line.back() == ' '))
    input_line.remove_suffix(1);
  if (!json::accept(input_line)) {
    json e{{"ok", false},
           {"error",
            {{"code", "bad_json"},
             {"field", ""},
             {"message", "input line " + std::to_string(line_no) + " is not JSON; not sent"}}}};
    local_error = e.dump(-1, ' ', false, json::error_handler_t::replace);
    return std::nullopt;
  }
  // The line is spliced in as it is: it is valid JSON, so the request is too.
  std::string req = "{\"op\":\"submit\",\"record\":";
  req.append(input_line);
  req += "}\n";
  return req;
}

bool answer_ok(std::string_view answer_line) {
  const json a = json::parse(answer_line, nullptr, false);
  if (!a.is_object()) return false;
  const auto it = a.find("ok");
  return it != a.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace postgate::daemon
