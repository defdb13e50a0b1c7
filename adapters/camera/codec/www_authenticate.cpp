#include "adapters/camera/codec/www_authenticate.hpp"

#include <algorithm>
#include <cstdio>

namespace postgate::adapters::camera {

namespace {

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token68_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~+/").find(c) != std::string_view::npos;
}

bool is_ctl(unsigned char c) {
  return (c < 0x20 && c != '\t') || c == 0x7F;
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  core::Result<std::vector<AuthChallenge>> run() {
    std::vector<AuthChallenge> out;
    for (;;) {
      skip_ows_and_commas();
      if (at_end()) break;
      const std::string_view scheme = token();
      if (scheme.empty()) return bad("expected an auth scheme");
      AuthChallenge c;
      c.scheme = to_lower(scheme);
      const std::size_t after_scheme = pos_;
      while (!at_end() && s_[pos_] == ' ') ++pos_;
      if (!at_end() && s_[pos_] != ',') {
        if (pos_ == after_scheme) return bad("expected a space after the auth scheme");
        if (!try_token68(c)) {
          if (auto st = params(c); !st) return std::unexpected(st.error());
        }
      }
      if (auto st = interpret(c); !st) return std::unexpected(st.error());
      out.push_back(std::move(c));
    }
    if (out.empty()) return core::fail("bad_www_authenticate", "www_authenticate", "no challenge");
    return out;
  }

 private:
  bool at_end() const { return pos_ >= s_.size(); }
  void skip_ows() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  void skip_ows_and_commas() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == ',')) ++pos_;
  }
  std::string_view token() {
    const std::size_t start = pos_;
    while (!at_end() && is_tchar(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }
  std::unexpected<core::Error> bad(std::string what) const {
    return core::fail("bad_www_authenticate", "www_authenticate",
                      what + " at offset " + std::to_string(pos_));
  }

  // token68 is the whole rest of a challenge: followed by nothing or a comma.
  bool try_token68(AuthChallenge& c) {
    std::size_t p = pos_;
    while (p < s_.size() && is_token68_char(s_[p])) ++p;
    if (p == pos_) return false;
    while (p < s_.size() && s_[p] == '=') ++p;
    const std::size_t end = p;
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t')) ++p;
    if (p < s_.size() && s_[p] != ',') return false;
    c.token68 = std::string(s_.substr(pos_, end - pos_));
    pos_ = p;
    return true;
  }

  // #auth-param; stops before a token that is not followed by '=' (the
  // scheme of the next challenge).
  core::Status params(AuthChallenge& c) {
    for (;;) {
      const std::size_t item = pos_;
      skip_ows_and_commas();
      if (at_end()) return {};
      const std::string_view name = token();
      if (name.empty()) return bad("expected a parameter name");
      skip_ows();
      if (at_end() || s_[pos_] != '=') {
        pos_ = item;
        return {};
      }
      ++pos_;
      skip_ows();
      auto value = param_value();
      if (!value) return std::unexpected(value.error());
      std::string key = to_lower(name);
      if (c.param(key)) return bad("parameter '" + key + "' given twice");
      c.params.emplace_back(std::move(key), std::move(*value));
      skip_ows();
      if (!at_end() && s_[pos_] != ',') return bad("expected ',' after a parameter");
    }
  }

  core::Result<std::string> param_value() {
    if (at_end()) return bad("a parameter without a value");
    if (s_[pos_] != '"') {
      const std::string_view t = token();
      if (t.empty()) return bad("expected a token or a quoted string");
      return std::string(t);
    }
    ++pos_;
    std::string out;
    while (!at_end()) {
      const char ch = s_[pos_++];
      if (ch == '"') return out;
      if (ch == '\\') {
        if (at_end()) break;
        const char esc = s_[pos_++];
        if (is_ctl(static_cast<unsigned char>(esc))) return bad("a control character escaped");
        out += esc;
        continue;
      }
      if (is_ctl(static_cast<unsigned char>(ch)))
        return bad("a control character in a quoted string");
      out += ch;
    }
    return bad("an unterminated quoted string");
  }

  core::Status interpret(AuthChallenge& c) const {
    for (const auto& [name, value] : c.params) {
      if (name == "realm")
        c.realm = value;
      else if (name == "nonce")
        c.nonce = value;
      else if (name == "opaque")
        c.opaque = value;
      else if (name == "algorithm")
        c.algorithm = value;
      else if (name == "stale")
        c.stale = iequals(value, "true");
      else if (name == "qop") {
        std::string_view rest = value;
        while (!rest.empty()) {
          const std::size_t comma = rest.find(',');
          const std::string_view item = trim(rest.substr(0, comma));
          if (!item.empty()) c.qop.push_back(to_lower(item));
          if (comma == std::string_view::npos) break;
          rest.remove_prefix(comma + 1);
        }
      }
    }
    return {};
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// A quoted-string for a header: backslash before '"' and '\'; control
// characters cannot be sent at all (CR or LF would split the header).
core::Result<std::string> quoted(std::string_view field, std::string_view v) {
  std::string out = "\"";
  for (const char ch : v) {
    if (is_ctl(static_cast<unsigned char>(ch)))
      return core::fail("camera_auth_failed", std::string(field),
                        "a control character cannot be sent in an Authorization header");
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  out += '"';
  return out;
}

bool has_ctl(std::string_view v) {
  return std::any_of(v.begin(), v.end(),
                     [](char ch) { return is_ctl(static_cast<unsigned char>(ch)); });
}

}  // namespace

const std::string* AuthChallenge::param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return &v;
  return nullptr;
}

core::Result<std::vector<AuthChallenge>> parse_www_authenticate(std::string_view value) {
  return Parser(value).run();
}

std::optional<DigestAlgorithm> digest_algorithm(const AuthChallenge& c) {
  const std::string_view a = c.algorithm;
  if (a.empty() || iequals(a, "MD5")) return DigestAlgorithm{DigestHash::md5, false, "MD5"};
  if (iequals(a, "MD5-sess")) return DigestAlgorithm{DigestHash::md5, true, "MD5-sess"};
  if (iequals(a, "SHA-256")) return DigestAlgorithm{DigestHash::sha256, false, "SHA-256"};
  if (iequals(a, "SHA-256-sess")) return DigestAlgorithm{DigestHash::sha256, true, "SHA-256-sess"};
  return std::nullopt;
}

namespace {

bool speakable(const AuthChallenge& c) {
  if (c.scheme != "digest" || c.nonce.empty() || !digest_algorithm(c)) return false;
  return c.qop.empty() || std::find(c.qop.begin(), c.qop.end(), "auth") != c.qop.end();
}

}  // namespace

const AuthChallenge* pick_digest(const std::vector<AuthChallenge>& challenges) {
  const AuthChallenge* best = nullptr;
  for (const auto& c : challenges) {
    if (!speakable(c)) continue;
    if (!best) best = &c;
    if (digest_algorithm(c)->hash == DigestHash::sha256 &&
        digest_algorithm(*best)->hash != DigestHash::sha256)
      best = &c;
  }
  return best;
}

const AuthChallenge* find_scheme(const std::vector<AuthChallenge>& challenges,
                                 std::string_view scheme) {
  for (const auto& c : challenges)
    if (c.scheme == scheme) return &c;
  return nullptr;
}

core::Result<std::string> digest_authorization(const AuthChallenge& c, const DigestInput& in,
                                               const HashFunction& hash) {
  if (!speakable(c))
    return core::fail(
        "camera_auth_failed", "auth",
        "the Digest challenge asks for an algorithm or qop this client does not speak");
  if (has_ctl(in.method) || has_ctl(in.cnonce) || in.cnonce.empty())
    return core::fail("camera_auth_failed", "auth", "bad method or cnonce");
  const DigestAlgorithm alg = *digest_algorithm(c);
  const bool qop = !c.qop.empty();
  const auto h = [&](std::string_view data) { return hash(alg.hash, data); };
  const auto join = [](std::initializer_list<std::string_view> parts) {
    std::string s;
    bool first = true;
    for (const auto p : parts) {
      if (!first) s += ':';
      first = false;
      s += p;
    }
    return s;
  };
  char nc[9];
  std::snprintf(nc, sizeof nc, "%08x", static_cast<unsigned>(in.nc));

  std::string ha1 = h(join({in.username, c.realm, in.password}));
  if (alg.session) ha1 = h(join({ha1, c.nonce, in.cnonce}));
  const std::string ha2 = h(join({in.method, in.uri}));
  const std::string response =
      qop ? h(join({ha1, c.nonce, nc, in.cnonce, "auth", ha2})) : h(join({ha1, c.nonce, ha2}));

  std::string out = "Digest ";
  const auto add = [&](std::string_view name, core::Result<std::string> v) -> core::Status {
    if (!v) return std::unexpected(v.error());
    if (out.size() > 7) out += ", ";
    out += name;
    out += '=';
    out += *v;
    return {};
  };
  if (auto s = add("username", quoted("username", in.username)); !s)
    return std::unexpected(s.error());
  if (auto s = add("realm", quoted("realm", c.realm)); !s) return std::unexpected(s.error());
  if (auto s = add("nonce", quoted("nonce", c.nonce)); !s) return std::unexpected(s.error());
  if (auto s = add("uri", quoted("uri", in.uri)); !s) return std::unexpected(s.error());
  if (!c.algorithm.empty()) (void)add("algorithm", std::string(alg.name));
  (void)add("response", quoted("response", response));
  if (qop) {
    (void)add("qop", std::string("auth"));
    (void)add("nc", std::string(nc));
    if (auto s = add("cnonce", quoted("cnonce", in.cnonce)); !s) return std::unexpected(s.error());
  }
  if (c.param("opaque"))
    if (auto s = add("opaque", quoted("opaque", c.opaque)); !s) return std::unexpected(s.error());
  return out;
}

core::Result<std::string> basic_authorization(std::string_view username,
                                              std::string_view password) {
  if (username.find(':') != std::string_view::npos)
    return core::fail("camera_auth_failed", "username", "a Basic username cannot contain ':'");
  if (has_ctl(username) || has_ctl(password))
    return core::fail("camera_auth_failed", "password", "a control character in the credentials");
  std::string pair(username);
  pair += ':';
  pair += password;
  return "Basic " + base64_encode(pair);
}

std::string base64_encode(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(data[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(data[i + 1])} << 8) |
                            static_cast<unsigned char>(data[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{static_cast<unsigned char>(data[i])} << 16;
    if (rest == 2) v |= std::uint32_t{static_cast<unsigned char>(data[i + 1])} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace postgate::adapters::camera
