#include "adapters/xray/codec/xml_lite.hpp"

#include <cstdint>
#include <optional>

#include "core/utf8.hpp"

namespace postgate::adapters::xray {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_name_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == ':' || c == '-' || c == '.';
}

bool is_name_start(char c) {
  return is_name_char(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.';
}

class Reader {
 public:
  Reader(std::string_view in, XmlLimits limits) : in_(in), limits_(limits) {}

  core::Result<XmlElement> document() {
    if (in_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
    if (!misc(true)) return error();
    if (!at('<')) return fail_at("no root element");
    XmlElement root;
    if (!element(root, 1)) return error();
    if (!misc(false)) return error();
    if (pos_ != in_.size()) return fail_at("content after the root element");
    return root;
  }

 private:
  bool at(char c) const { return pos_ < in_.size() && in_[pos_] == c; }
  bool at(std::string_view s) const { return in_.substr(pos_).starts_with(s); }
  void skip_space() {
    while (pos_ < in_.size() && is_space(in_[pos_])) ++pos_;
  }

  bool fail(std::string what) {
    if (!message_) message_ = std::move(what) + " at byte " + std::to_string(pos_);
    return false;
  }
  std::unexpected<core::Error> fail_at(std::string what) {
    fail(std::move(what));
    return error();
  }
  std::unexpected<core::Error> error() const {
    return core::fail("bad_xml", "", message_.value_or("malformed XML"));
  }

  // Skips up to and past `end`; fails if it never comes.
  bool skip_past(std::string_view end, const char* what) {
    const auto e = in_.find(end, pos_);
    if (e == std::string_view::npos) return fail(std::string("unterminated ") + what);
    pos_ = e + end.size();
    return true;
  }

  // Whitespace, comments and processing instructions; a DOCTYPE too when
  // `prolog`.
  bool misc(bool prolog) {
    for (;;) {
      skip_space();
      if (at("<?")) {
        if (!skip_past("?>", "processing instruction")) return false;
      } else if (at("<!--")) {
        if (!skip_past("-->", "comment")) return false;
      } else if (prolog && at("<!DOCTYPE")) {
        const auto gt = in_.find('>', pos_);
        const auto bracket = in_.find('[', pos_);
        if (bracket != std::string_view::npos && (gt == std::string_view::npos || bracket < gt))
          return fail("DOCTYPE with an internal subset is not accepted");
        if (!skip_past(">", "DOCTYPE")) return false;
      } else {
        return true;
      }
    }
  }

  std::optional<std::string> name() {
    const auto start = pos_;
    if (pos_ >= in_.size() || !is_name_start(in_[pos_])) {
      fail("expected a name");
      return std::nullopt;
    }
    while (pos_ < in_.size() && is_name_char(in_[pos_])) ++pos_;
    return std::string(in_.substr(start, pos_ - start));
  }

  // At '&': appends the character it stands for.
  bool reference(std::string& out) {
    const auto semi = in_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) return fail("bad entity reference");
    const auto ref = in_.substr(pos_ + 1, semi - pos_ - 1);
    pos_ = semi + 1;
    if (ref == "lt") {
      out += '<';
    } else if (ref == "gt") {
      out += '>';
    } else if (ref == "amp") {
      out += '&';
    } else if (ref == "quot") {
      out += '"';
    } else if (ref == "apos") {
      out += '\'';
    } else if (ref.size() >= 2 && ref[0] == '#') {
      const bool hex = ref[1] == 'x';
      const auto digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) return fail("bad character reference");
      std::uint32_t cp = 0;
      for (char c : digits) {
        int d = -1;
        if (c >= '0' && c <= '9') d = c - '0';
        if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
        if (d < 0) return fail("bad character reference");
        cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(d);
        if (cp > 0x10FFFF) return fail("character reference out of range");
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return fail("bad character reference");
      core::utf8::append(out, static_cast<char32_t>(cp));
    } else {
      return fail("unknown entity");
    }
    return true;
  }

  bool attributes(XmlElement& e) {
    for (;;) {
      const auto before = pos_;
      skip_space();
      if (at('>') || at("/>")) return true;
      if (pos_ == before) return fail("expected whitespace before an attribute");
      auto key = name();
      if (!key) return false;
      skip_space();
      if (!at('=')) return fail("expected '=' after an attribute name");
      ++pos_;
      skip_space();
      if (!at('"') && !at('\'')) return fail("expected a quoted attribute value");
      const char quote = in_[pos_++];
      std::string value;
      for (;;) {
        if (pos_ >= in_.size()) return fail("unterminated attribute value");
        const char c = in_[pos_];
        if (c == quote) break;
        if (c == '<') return fail("'<' in an attribute value");
        if (c == '&') {
          if (!reference(value)) return false;
        } else {
          value += c;
          ++pos_;
        }
      }
      ++pos_;
      for (const auto& [k, v] : e.attributes)
        if (k == *key) return fail("duplicate attribute");
      e.attributes.emplace_back(std::move(*key), std::move(value));
    }
  }

  // At '<' of a start tag.
  bool element(XmlElement& e, std::size_t depth) {
    if (depth > limits_.max_depth) return fail("elements nested too deeply");
    if (++elements_ > limits_.max_elements) return fail("too many elements");
    ++pos_;
    auto n = name();
    if (!n) return false;
    e.name = std::move(*n);
    if (!attributes(e)) return false;
    if (at("/>")) {
      pos_ += 2;
      return true;
    }
    ++pos_;  // '>'
    for (;;) {
      if (pos_ >= in_.size()) return fail("unterminated element");
      if (at("</")) {
        pos_ += 2;
        auto end = name();
        if (!end) return false;
        if (*end != e.name) return fail("end tag does not match its start tag");
        skip_space();
        if (!at('>')) return fail("expected '>' ending an end tag");
        ++pos_;
        return true;
      }
      if (at("<!--")) {
        if (!skip_past("-->", "comment")) return false;
      } else if (at("<![CDATA[")) {
        const auto start = pos_ + 9;
        const auto end = in_.find("]]>", start);
        if (end == std::string_view::npos) return fail("unterminated CDATA");
        e.text.append(in_.substr(start, end - start));
        pos_ = end + 3;
      } else if (at("<?")) {
        if (!skip_past("?>", "processing instruction")) return false;
      } else if (at("<!")) {
        return fail("unexpected markup declaration");
      } else if (at('<')) {
        XmlElement child;
        if (!element(child, depth + 1)) return false;
        e.children.push_back(std::move(child));
      } else if (at('&')) {
        if (!reference(e.text)) return false;
      } else {
        e.text += in_[pos_++];
      }
    }
  }

  std::string_view in_;
  XmlLimits limits_;
  std::size_t pos_ = 0;
  std::size_t elements_ = 0;
  std::optional<std::string> message_;
};

}  // namespace

bool xml_name_matches(std::string_view qualified, std::string_view wanted) {
  if (qualified == wanted) return true;
  if (wanted.find(':') != std::string_view::npos) return false;
  const auto colon = qualified.find(':');
  return colon != std::string_view::npos && qualified.substr(colon + 1) == wanted;
}

const XmlElement* XmlElement::child(std::string_view wanted) const {
  for (const auto& c : children)
    if (xml_name_matches(c.name, wanted)) return &c;
  return nullptr;
}

const std::string* XmlElement::attribute(std::string_view wanted) const {
  for (const auto& [k, v] : attributes)
    if (xml_name_matches(k, wanted)) return &v;
  return nullptr;
}

core::Result<XmlElement> parse_xml(std::string_view bytes, XmlLimits limits) {
  return Reader(bytes, limits).document();
}

}  // namespace postgate::adapters::xray
