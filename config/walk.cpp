#include "config/walk.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

namespace postgate::config {
namespace {

using schema::Key;
using schema::Table;
using schema::Type;
using schema::Value;
using schema::Variant;

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return quote(n.Scalar());
    default:
      return "nothing";
  }
}

std::string expected(Type t) {
  switch (t) {
    case Type::string:
      return "a string";
    case Type::path:
      return "a path";
    case Type::uint:
      return "an unsigned integer";
    case Type::number:
      return "a number";
    case Type::boolean:
      return "true or false";
    case Type::enumeration:
      return "one of the listed values";
    case Type::list:
      return "a list";
    case Type::map:
      return "a mapping";
    case Type::list_of_maps:
      return "a list of mappings";
  }
  return "a value";
}

std::string format_double(double d) {
  std::ostringstream out;
  out << d;
  return out.str();
}

std::optional<bool> parse_bool(const std::string& s) {
  // The YAML 1.1 spellings yaml-cpp itself accepts.
  static const char* const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
  static const char* const no[] = {"false", "False", "FALSE", "no", "No",
                                   "NO",    "off",   "Off",   "OFF"};
  for (const char* y : yes)
    if (s == y) return true;
  for (const char* n : no)
    if (s == n) return false;
  return std::nullopt;
}

// Converts one scalar node to the key's type; on failure sets `error`.
std::optional<Value> convert(const Key& key, Type type, const YAML::Node& n, const LoadContext& ctx,
                             std::string& error) {
  if (!n.IsScalar()) {
    if (type == Type::enumeration) {
      error = "expected one of: " + join_list(key.values) + " (got " + describe(n) + ")";
    } else {
      error = "expected " + expected(type) + ", got " + describe(n);
    }
    return std::nullopt;
  }
  const std::string& s = n.Scalar();
  switch (type) {
    case Type::string:
      return Value{s};
    case Type::path: {
      if (s.empty()) break;
      std::filesystem::path p(s);
      if (p.is_relative()) p = ctx.base_dir / p;
      return Value{p.lexically_normal()};
    }
    case Type::uint: {
      // Decimal, or hexadecimal with 0x as in YAML 1.2 (USB endpoint addresses).
      std::uint64_t v = 0;
      const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
      const char* first = s.data() + (hex ? 2 : 0);
      auto [end, ec] = std::from_chars(first, s.data() + s.size(), v, hex ? 16 : 10);
      if (s.empty() || ec != std::errc() || end != s.data() + s.size()) break;
      if (v < key.umin || v > key.umax) {
        error = "must be between " + std::to_string(key.umin) + " and " + std::to_string(key.umax) +
                ", got " + s;
        return std::nullopt;
      }
      return Value{v};
    }
    case Type::number: {
      double v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) {
        break;
      }
      if (v < key.dmin || v > key.dmax) {
        error = "must be between " + format_double(key.dmin) + " and " + format_double(key.dmax) +
                ", got " + s;
        return std::nullopt;
      }
      return Value{v};
    }
    case Type::boolean:
      if (auto b = parse_bool(s)) return Value{*b};
      break;
    case Type::enumeration:
      if (std::find(key.values.begin(), key.values.end(), s) != key.values.end()) {
        return Value{s};
      }
      error = "expected one of: " + join_list(key.values) + " (got " + quote(s) + ")";
      return std::nullopt;
    default:
      break;
  }
  error = "expected " + expected(type) + ", got " + describe(n);
  return std::nullopt;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

const Key* find_key(const Table& t, std::string_view name) {
  for (const Key& k : t.keys)
    if (k.name == name) return &k;
  return nullptr;
}

void apply_default(const Key& key, Where self, void* target, const std::string& path,
                   LoadContext& ctx) {
  if (key.type == Type::map) {
    if (key.optional_section) return;
    walk_table(*key.table, YAML::Node(), self, key.child(target), path, ctx);
    return;
  }
  if (key.type == Type::list_of_maps || key.default_yaml.empty()) return;
  if (key.type == Type::list) {
    const YAML::Node node = YAML::Load(key.default_yaml);
    if (node.IsSequence() && node.size() > 0 && key.element == Type::string) {
      std::vector<std::string> strings;
      for (const YAML::Node& element : node) strings.push_back(element.as<std::string>());
      key.set(target, Value{std::move(strings)});
      return;
    }
    if (key.element == Type::path) {
      key.set(target, Value{std::vector<std::filesystem::path>{}});
    } else {
      key.set(target, Value{std::vector<std::string>{}});
    }
    return;
  }
  const YAML::Node node = YAML::Load(key.default_yaml);
  std::string error;
  if (auto v = convert(key, key.type, node, ctx, error)) {
    key.set(target, std::move(*v));
  } else {
    ctx.report(self, path, "internal error: bad schema default: " + error);
  }
}

void walk_key(const Key& key, const YAML::Node& key_node, const YAML::Node& value, void* target,
              const std::string& path, LoadContext& ctx) {
  // A null value has no position of its own worth showing: point at the key.
  const Where at = where(value.IsNull() ? key_node.Mark() : value.Mark());
  ctx.marks[path] = at;
  ctx.present.insert(path);
  switch (key.type) {
    case Type::map:
      walk_table(*key.table, value, at, key.child(target), path, ctx);
      return;
    case Type::list_of_maps: {
      if (value.IsNull()) return;
      if (!value.IsSequence()) {
        ctx.report(at, path, "expected a list of mappings, got " + describe(value));
        return;
      }
      std::size_t i = 0;
      for (const YAML::Node& element : value) {
        const std::string element_path = path + "[" + std::to_string(i++) + "]";
        // Appended even when malformed so that element i stays at index i.
        walk_table(*key.table, element, where(element.Mark()), key.child(target), element_path,
                   ctx);
      }
      return;
    }
    case Type::list: {
      if (!value.IsNull() && !value.IsSequence()) {
        ctx.report(
            at, path,
            "expected a list of " + expected(key.element).substr(2) + "s, got " + describe(value));
        return;
      }
      std::vector<std::string> strings;
      std::vector<std::filesystem::path> paths;
      bool ok = true;
      std::size_t i = 0;
      for (const YAML::Node& element : value) {
        const std::string element_path = path + "[" + std::to_string(i++) + "]";
        const Where element_at = where(element.Mark());
        ctx.marks[element_path] = element_at;
        std::string error;
        auto v = convert(key, key.element, element, ctx, error);
        if (!v) {
          ctx.report(element_at, element_path, error);
          ok = false;
        } else if (key.element == Type::path) {
          paths.push_back(std::get<std::filesystem::path>(std::move(*v)));
        } else {
          strings.push_back(std::get<std::string>(std::move(*v)));
        }
      }
      if (!ok) return;
      if (key.element == Type::path) {
        key.set(target, Value{std::move(paths)});
      } else {
        key.set(target, Value{std::move(strings)});
      }
      return;
    }
    default: {
      std::string error;
      if (auto v = convert(key, key.type, value, ctx, error)) {
        key.set(target, std::move(*v));
      } else {
        ctx.report(at, path, error);
      }
      return;
    }
  }
}

}  // namespace

Where where(const YAML::Mark& mark) {
  if (mark.line < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

void LoadContext::report(Where at, std::string path, std::string message) {
  failed.insert(path);
  problems.push_back(Problem{file, at.line, at.column, std::move(path), std::move(message)});
}

Where LoadContext::at(const std::string& path) const {
  std::string p = path;
  for (;;) {
    if (auto it = marks.find(p); it != marks.end()) return it->second;
    if (p.empty()) return {};
    const auto cut = p.find_last_of(".[");
    p = cut == std::string::npos ? std::string() : p.substr(0, cut);
  }
}

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string quote(std::string_view text) {
  constexpr std::size_t kMax = 60;
  std::string out = "\"";
  for (char c : text.substr(0, kMax)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  if (text.size() > kMax) out += "...";
  return out + "\"";
}

void walk_table(const Table& table, const YAML::Node& node, Where self, void* object,
                const std::string& path, LoadContext& ctx) {
  ctx.marks.try_emplace(path, self);
  if (!node.IsNull() && !node.IsMap()) {
    ctx.report(self, path, "expected a mapping, got " + describe(node));
    return;
  }

  // The discriminator (adapter "kind") decides which further keys are valid.
  const Variant* variant = nullptr;
  if (!table.discriminator.empty() && node.IsMap()) {
    for (const auto& kv : node) {
      if (!kv.first.IsScalar() || kv.first.Scalar() != table.discriminator) continue;
      if (!kv.second.IsScalar()) break;
      for (const Variant& v : table.variants)
        if (v.value == kv.second.Scalar()) variant = &v;
      break;
    }
  }
  std::vector<std::string> valid;
  for (const Key& k : table.keys) valid.push_back(k.name);
  if (variant)
    for (const Key& k : variant->table->keys) valid.push_back(k.name);

  std::map<std::string, Where> seen;
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const Where key_at = where(kv.first.Mark());
      if (!kv.first.IsScalar()) {
        ctx.report(key_at, path, "expected a key name, got " + describe(kv.first));
        continue;
      }
      const std::string& name = kv.first.Scalar();
      const std::string key_path = join_path(path, name);
      if (auto [first, inserted] = seen.emplace(name, key_at); !inserted) {
        ctx.report(
            key_at, key_path,
            "duplicate key (first given at line " + std::to_string(first->second.line) + ")");
        continue;
      }
      const Key* key = find_key(table, name);
      void* target = object;
      if (!key && variant) {
        key = find_key(*variant->table, name);
        target = variant->child(object);
      }
      if (key) {
        walk_key(*key, kv.first, kv.second, target, key_path, ctx);
        continue;
      }
      if (!variant) {
        // Without a valid discriminator its problem is reported already; keys of
        // some variant are then not reported as unknown on top of it.
        bool of_some_variant = false;
        for (const Variant& v : table.variants)
          if (find_key(*v.table, name)) of_some_variant = true;
        if (of_some_variant) continue;
      }
      std::string message = "unknown key " + quote(name);
      if (variant) message += " for " + table.discriminator + " " + quote(variant->value);
      const std::string* best = nullptr;
      // Suggest only near misses, and never a whole different word for a short one.
      std::size_t best_distance = std::min<std::size_t>(3, name.size());
      for (const std::string& v : valid) {
        if (std::size_t d = edit_distance(name, v); d < best_distance) {
          best_distance = d;
          best = &v;
        }
      }
      message += " (";
      if (best) message += "did you mean " + quote(*best) + "? ";
      message += "valid keys: " + join_list(valid) + ")";
      ctx.report(key_at, key_path, std::move(message));
    }
  }

  auto absent = [&](const Table& t, void* target) {
    for (const Key& k : t.keys) {
      if (seen.contains(k.name)) continue;
      const std::string key_path = join_path(path, k.name);
      ctx.marks.try_emplace(key_path, self);
      if (k.required) {
        ctx.report(self, key_path, "required key is missing");
      } else {
        apply_default(k, self, target, key_path, ctx);
      }
    }
  };
  absent(table, object);
  if (variant) absent(*variant->table, variant->child(object));
}

}  // namespace postgate::config
