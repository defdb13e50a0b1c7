#include "adapters/xray/codec/xray_result.hpp"

#include <charconv>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "adapters/xray/codec/xml_lite.hpp"
#include "core/utf8.hpp"

namespace postgate::adapters::xray {

namespace {

using Path = std::vector<std::string>;

// Nesting beyond this is not a result file; checked before nlohmann parses,
// so a hostile file cannot make its recursion deep.
constexpr std::size_t kMaxJsonDepth = 32;

bool ascii_iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool has_control(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return true;
  }
  return false;
}

bool plain_text(std::string_view s, std::size_t max) {
  return !s.empty() && s.size() <= max && core::utf8::is_valid(s) && !has_control(s);
}

// "a.b.0" or "/a/b/0" (JSON pointer, ~0 and ~1 escapes).
std::optional<Path> split_json_path(std::string_view p) {
  Path out;
  if (p.empty()) return std::nullopt;
  if (p[0] == '/') {
    std::size_t i = 1;
    for (;;) {
      const auto next = p.find('/', i);
      const auto raw = p.substr(i, next == std::string_view::npos ? p.npos : next - i);
      std::string seg;
      for (std::size_t k = 0; k < raw.size(); ++k) {
        if (raw[k] != '~') {
          seg += raw[k];
          continue;
        }
        if (k + 1 >= raw.size() || (raw[k + 1] != '0' && raw[k + 1] != '1')) return std::nullopt;
        seg += raw[k + 1] == '0' ? '~' : '/';
        ++k;
      }
      out.push_back(std::move(seg));
      if (next == std::string_view::npos) break;
      i = next + 1;
    }
    return out;
  }
  std::size_t i = 0;
  for (;;) {
    const auto next = p.find('.', i);
    const auto seg = p.substr(i, next == std::string_view::npos ? p.npos : next - i);
    if (seg.empty()) return std::nullopt;
    out.emplace_back(seg);
    if (next == std::string_view::npos) break;
    i = next + 1;
  }
  return out;
}

// "Root/Child/Leaf" or "Root/Child/@attr"; a leading '/' is allowed.
std::optional<Path> split_xml_path(std::string_view p) {
  if (p.starts_with('/')) p.remove_prefix(1);
  Path out;
  if (p.empty()) return std::nullopt;
  std::size_t i = 0;
  for (;;) {
    const auto next = p.find('/', i);
    const auto seg = p.substr(i, next == std::string_view::npos ? p.npos : next - i);
    if (seg.empty() || seg == "@") return std::nullopt;
    const bool attr = seg[0] == '@';
    if (attr && next != std::string_view::npos) return std::nullopt;  // attribute is last
    if (!attr && out.empty() && seg.find('@') != std::string_view::npos) return std::nullopt;
    out.emplace_back(seg);
    if (next == std::string_view::npos) break;
    i = next + 1;
  }
  if (out.size() == 1 && out[0][0] == '@') return std::nullopt;  // needs an element first
  return out;
}

std::optional<Path> split_path(ResultFormat f, std::string_view p) {
  return f == ResultFormat::json ? split_json_path(p) : split_xml_path(p);
}

std::size_t json_depth(std::string_view s) {
  std::size_t depth = 0, max = 0;
  bool in_string = false, escaped = false;
  for (char c : s) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max = std::max(max, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max;
}

// A field's value as text: nullopt when absent or null; an error when it is
// not a scalar.
using Lookup = core::Result<std::optional<std::string>>;

Lookup json_lookup(const nlohmann::json& doc, const Path& path, const std::string& field) {
  const nlohmann::json* cur = &doc;
  for (const auto& seg : path) {
    if (cur->is_object()) {
      const auto it = cur->find(seg);
      if (it == cur->end()) return std::nullopt;
      cur = &*it;
    } else if (cur->is_array()) {
      std::size_t idx = 0;
      const auto* end = seg.data() + seg.size();
      const auto [p, ec] = std::from_chars(seg.data(), end, idx);
      if (seg.empty() || ec != std::errc{} || p != end || idx >= cur->size()) return std::nullopt;
      cur = &(*cur)[idx];
    } else {
      return std::nullopt;
    }
  }
  if (cur->is_null()) return std::nullopt;
  if (cur->is_string()) return cur->get_ref<const std::string&>();
  if (cur->is_number_unsigned()) return std::to_string(cur->get<std::uint64_t>());
  if (cur->is_number_integer()) return std::to_string(cur->get<std::int64_t>());
  if (cur->is_number_float()) {
    char buf[64];
    const auto [p, ec] = std::to_chars(buf, buf + sizeof buf, cur->get<double>());
    if (ec != std::errc{}) return core::fail("bad_type", field, "number not representable");
    return std::string(buf, p);
  }
  return core::fail("bad_type", field, "expected a string or a number");
}

Lookup xml_lookup(const XmlElement& root, const Path& path) {
  // The first step names the root element itself.
  if (path[0][0] == '@' || !xml_name_matches(root.name, path[0])) return std::nullopt;
  const XmlElement* cur = &root;
  for (std::size_t i = 1; i < path.size(); ++i) {
    const auto& seg = path[i];
    if (seg[0] == '@') {
      const auto* v = cur->attribute(std::string_view(seg).substr(1));
      if (!v) return std::nullopt;
      return *v;
    }
    cur = cur->child(seg);
    if (!cur) return std::nullopt;
  }
  return cur->text;
}

class Document {
 public:
  static core::Result<Document> parse(std::string_view bytes, ResultFormat f) {
    Document d;
    d.format_ = f;
    if (f == ResultFormat::json) {
      if (json_depth(bytes) > kMaxJsonDepth)
        return core::fail("bad_json", "", "JSON nested too deeply");
      d.json_ = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
      if (d.json_.is_discarded()) return core::fail("bad_json", "", "not valid JSON");
      if (!d.json_.is_object() && !d.json_.is_array())
        return core::fail("bad_json", "", "expected a JSON object");
    } else {
      auto root = parse_xml(bytes);
      if (!root) return std::unexpected(root.error());
      d.xml_ = std::move(*root);
    }
    return d;
  }

  // Trimmed text of a mapped field; nullopt when absent, null or blank.
  Lookup get(const std::string& path_text) const {
    const auto path = split_path(format_, path_text);
    if (!path) return core::fail("bad_mapping", path_text, "malformed field path");
    auto v = format_ == ResultFormat::json ? json_lookup(json_, *path, path_text)
                                           : xml_lookup(xml_, *path);
    if (!v || !*v) return v;
    const auto trimmed = core::utf8::trim(**v);
    if (trimmed.empty()) return std::nullopt;
    return std::string(trimmed);
  }

  Lookup require(const std::string& path_text) const {
    auto v = get(path_text);
    if (v && !*v) return core::fail("missing_field", path_text, "field missing or empty");
    return v;
  }

 private:
  ResultFormat format_ = ResultFormat::json;
  nlohmann::json json_;
  XmlElement xml_;
};

bool printable_ascii(std::string_view s) {
  for (char c : s)
    if (c < 0x21 || c > 0x7E) return false;
  return true;
}

const core::WaybillValidator& default_validator() {
  static const core::WaybillValidator v;
  return v;
}

}  // namespace

std::optional<ResultFormat> result_format_from_string(std::string_view s) {
  if (s == "json") return ResultFormat::json;
  if (s == "xml") return ResultFormat::xml;
  return std::nullopt;
}

std::string_view to_string(ResultFormat f) {
  return f == ResultFormat::json ? "json" : "xml";
}

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::clear:
      return "clear";
    case Verdict::suspect:
      return "suspect";
    case Verdict::unknown:
      return "unknown";
  }
  return "unknown";
}

bool is_bare_file_name(std::string_view name) {
  if (!plain_text(name, 200)) return false;
  if (name[0] == '.') return false;
  if (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos)
    return false;
  return name.find("..") == std::string_view::npos;
}

core::Status validate_mapping(const ResultMapping& m) {
  const std::pair<const char*, const std::string*> paths[] = {
      {"lane", &m.lane}, {"time", &m.time}, {"verdict", &m.verdict}, {"image", &m.image}};
  for (const auto& [key, path] : paths) {
    if (path->empty()) return core::fail("missing_field", key, "a field path is required");
    if (!split_path(m.format, *path)) return core::fail("bad_path", key, "malformed field path");
  }
  if (!m.waybill.empty() && !split_path(m.format, m.waybill))
    return core::fail("bad_path", "waybill", "malformed field path");
  if (auto s = validate_time_format(m.time_format); !s)
    return std::unexpected(core::nest("time_format", s.error()));
  if (m.clear_words.empty())
    return core::fail("missing_field", "clear_words", "at least one word meaning clear");
  if (m.suspect_words.empty())
    return core::fail("missing_field", "suspect_words", "at least one word meaning suspect");
  for (const auto& c : m.clear_words) {
    if (core::utf8::trim(c).empty())
      return core::fail("bad_word", "clear_words", "empty verdict word");
    for (const auto& s : m.suspect_words) {
      if (core::utf8::trim(s).empty())
        return core::fail("bad_word", "suspect_words", "empty verdict word");
      if (ascii_iequal(core::utf8::trim(c), core::utf8::trim(s)))
        return core::fail("bad_word", "suspect_words", "a word is both clear and suspect");
    }
  }
  if (m.max_bytes < 64 || m.max_bytes > 16 * 1024 * 1024)
    return core::fail("bad_size", "max_bytes", "between 64 bytes and 16 MiB");
  return {};
}

core::Result<XrayResult> parse_result(std::string_view bytes, const ResultMapping& m,
                                      const core::WaybillValidator& waybills) {
  if (bytes.size() > m.max_bytes)
    return core::fail("too_large", "",
                      "result file over " + std::to_string(m.max_bytes) + " bytes");
  auto doc = Document::parse(bytes, m.format);
  if (!doc) return std::unexpected(doc.error());

  XrayResult r;
  auto lane = doc->require(m.lane);
  if (!lane) return std::unexpected(lane.error());
  if ((*lane)->size() > 32 || !printable_ascii(**lane))
    return core::fail("bad_lane", m.lane, "lane must be printable ASCII, at most 32 bytes");
  r.lane = std::move(**lane);

  auto time = doc->require(m.time);
  if (!time) return std::unexpected(time.error());
  auto tp = parse_scan_time(**time, m.time_format);
  if (!tp) return std::unexpected(core::nest(m.time, tp.error()));
  r.time = *tp;

  if (!m.waybill.empty()) {
    auto wb = doc->get(m.waybill);
    if (!wb) return std::unexpected(wb.error());
    if (*wb) {
      if (auto v = waybills.validate(**wb)) {
        r.waybill = std::move(v->number);
        r.waybill_valid = true;
      } else if (plain_text(**wb, 64)) {
        r.waybill = std::move(**wb);
      } else {
        return core::fail("bad_waybill", m.waybill, "waybill text unreadable or too long");
      }
    }
  }

  auto verdict = doc->require(m.verdict);
  if (!verdict) return std::unexpected(verdict.error());
  if (!plain_text(**verdict, 64))
    return core::fail("bad_verdict", m.verdict, "verdict text unreadable or too long");
  r.verdict_word = std::move(**verdict);
  for (const auto& w : m.clear_words)
    if (ascii_iequal(core::utf8::trim(w), r.verdict_word)) r.verdict = Verdict::clear;
  for (const auto& w : m.suspect_words)
    if (ascii_iequal(core::utf8::trim(w), r.verdict_word)) r.verdict = Verdict::suspect;

  auto image = doc->require(m.image);
  if (!image) return std::unexpected(image.error());
  if (!is_bare_file_name(**image))
    return core::fail("bad_image_name", m.image, "image must be a bare file name in the folder");
  r.image = std::move(**image);
  return r;
}

core::Result<XrayResult> parse_result(std::string_view bytes, const ResultMapping& mapping) {
  return parse_result(bytes, mapping, default_validator());
}

}  // namespace postgate::adapters::xray
