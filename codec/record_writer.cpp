#include "codec/record_writer.hpp"

#include <array>
#include <charconv>
#include <cstdint>

namespace postgate::codec {

namespace {

// What a byte asks of the string writer: copy it, escape it, or validate a
// multi-byte sequence starting with it. A table keeps the common ASCII run
// down to one load and compare per byte.
enum ByteClass : std::uint8_t { kCopy, kEscape, kMulti };

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[c] = c < 0x20 || c == '"' || c == '\\' ? kEscape : c >= 0x80 ? kMulti : kCopy;
  return t;
}
constexpr auto kClass = make_classes();

// Length of the well-formed UTF-8 sequence at p (RFC 3629, the set
// nlohmann's decoder accepts), or 0 when it is not one.
std::size_t sequence_length(const unsigned char* p, const unsigned char* end) {
  const auto avail = static_cast<std::size_t>(end - p);
  const unsigned char c = p[0];
  auto cont = [](unsigned char b) { return (b & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return avail >= 2 && cont(p[1]) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (avail < 3) return 0;
    // E0 would be overlong below A0; ED above 9F would be a surrogate.
    const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = c == 0xED ? 0x9F : 0xBF;
    return p[1] >= lo && p[1] <= hi && cont(p[2]) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (avail < 4) return 0;
    // F0 would be overlong below 90; F4 above 8F would exceed U+10FFFF.
    const unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
    return p[1] >= lo && p[1] <= hi && cont(p[2]) && cont(p[3]) ? 4 : 0;
  }
  return 0;  // continuation byte, C0/C1 or F5..FF
}

void append_escape(unsigned char c, std::string& out) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      const char u[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(u, sizeof u);
    }
  }
}

void append_uint(std::uint64_t v, std::string& out) {
  char buf[20];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

// Writes the record's parts in nlohmann's key order (std::map, byte-wise);
// `ok` turns false at the first string that is not valid UTF-8.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  // `key_prefix` is the literal text before the value, e.g. ",\"name\":".
  void raw(std::string_view text) { out_ += text; }
  void str(std::string_view key_prefix, std::string_view value) {
    out_ += key_prefix;
    ok_ = append_json_string(value, out_) && ok_;
  }
  void uint(std::string_view key_prefix, std::uint64_t value) {
    out_ += key_prefix;
    append_uint(value, out_);
  }
  bool ok() const { return ok_; }

  void inspection(const core::Inspection& i) {
    raw("{");
    // "outcome" is always there: the optional keys before it end with a comma.
    if (!i.refuse_category.empty()) {
      str("\"category\":", i.refuse_category);
      raw(",");
    }
    if (!i.note.empty()) {
      str("\"note\":", i.note);
      raw(",");
    }
    str("\"outcome\":", core::to_string(i.outcome));
    if (i.restricted_confirmed) raw(",\"restricted_confirmed\":true");
    raw("}");
  }

  void evidence(const core::EvidenceRef& e, bool clear) {
    str("{\"captured_at\":", core::format_utc(e.captured_at));
    if (!e.id.empty()) str(",\"id\":", e.id);
    str(",\"kind\":", e.kind);
    if (clear) str(",\"path\":", e.path);
    str(",\"sha256\":", e.sha256);
    uint(",\"size\":", e.size);
    str(",\"source\":", e.source);
    raw("}");
  }

  void hit(const core::ScreeningHit& h) {
    str("{\"category\":", h.category);
    str(",\"keyword\":", h.keyword);
    str(",\"name\":", h.name);
    str(",\"severity\":", core::to_string(h.severity));
    raw("}");
  }

 private:
  std::string& out_;
  bool ok_ = true;
};

// A guess at the text's size, so that the writer appends into one allocation.
std::size_t size_hint(const core::Record& r) {
  const auto& a = r.acceptance;
  std::size_t n = 320 + a.counter.size() + a.operator_id.size() + a.declared.size() +
                  a.sender.name.size() + a.sender.number.size() + a.inspection.note.size() +
                  (a.ref ? a.ref->size() + 8 : 0);
  for (const auto& w : a.waybills) n += w.number.size() + 3;
  for (const auto& h : a.screening_hits)
    n += 64 + h.category.size() + h.name.size() + h.keyword.size();
  for (const auto& e : a.evidence)
    n += 128 + e.id.size() + e.kind.size() + e.path.size() + e.sha256.size() + e.source.size();
  return n;
}

}  // namespace

bool append_json_string(std::string_view s, std::string& out) {
  const auto entry = out.size();
  out.push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = p + s.size();
  const auto* run = p;  // start of the bytes not yet copied
  while (p < end) {
    switch (kClass[*p]) {
      case kCopy:
        do ++p;
        while (p < end && kClass[*p] == kCopy);
        break;
      case kMulti: {
        const auto n = sequence_length(p, end);
        if (n == 0) {
          out.resize(entry);
          return false;
        }
        p += n;
        break;
      }
      default:
        out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run));
        append_escape(*p, out);
        run = ++p;
    }
  }
  out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run));
  out.push_back('"');
  return true;
}

core::Status append_record_json(const core::Record& r, Masking m, std::string& out) {
  const auto entry = out.size();
  out.reserve(entry + size_hint(r));
  const auto& a = r.acceptance;
  const bool clear = m == Masking::clear;
  Writer w(out);
  w.str("{\"accepted_at\":", core::format_utc(r.accepted_at));
  w.str(",\"counter\":", a.counter);
  w.str(",\"declared\":", a.declared);
  w.raw(",\"evidence\":[");
  for (std::size_t i = 0; i < a.evidence.size(); ++i) {
    if (i) w.raw(",");
    w.evidence(a.evidence[i], clear);
  }
  w.str("],\"id\":", r.id.str());
  w.raw(",\"inspection\":");
  w.inspection(a.inspection);
  w.str(",\"operator\":", a.operator_id);
  if (a.ref) w.str(",\"ref\":", *a.ref);
  w.raw(",\"screening_hits\":[");
  for (std::size_t i = 0; i < a.screening_hits.size(); ++i) {
    if (i) w.raw(",");
    w.hit(a.screening_hits[i]);
  }
  if (clear) {
    w.str("],\"sender\":{\"doc_number\":", a.sender.number);
    w.str(",\"doc_type\":", core::to_string(a.sender.type));
    w.str(",\"name\":", a.sender.name);
  } else {
    w.str("],\"sender\":{\"doc_number\":", core::mask_number(a.sender.type, a.sender.number));
    w.str(",\"doc_type\":", core::to_string(a.sender.type));
    w.str(",\"name\":", core::mask_name(a.sender.name));
  }
  w.uint("},\"seq\":", r.seq);
  w.raw(",\"waybills\":[");
  for (std::size_t i = 0; i < a.waybills.size(); ++i) w.str(i ? "," : "", a.waybills[i].number);
  w.raw("]}");
  if (!w.ok()) {
    out.resize(entry);
    // No value in the message: the text may be personal data.
    return core::fail("invalid_text", "", "a text field of the record is not valid UTF-8");
  }
  return {};
}

core::Result<std::string> record_json_text(const core::Record& r, Masking m) {
  std::string out;
  if (auto s = append_record_json(r, m, out); !s) return std::unexpected(s.error());
  return out;
}

}  // namespace postgate::codec
