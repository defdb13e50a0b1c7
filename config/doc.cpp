// Renders the schema as Markdown for config/README.md (checked by a test).
#include <limits>
#include <string>

#include "config/config.hpp"
#include "config/schema.hpp"

namespace postgate::config {
namespace {

using schema::Key;
using schema::Table;
using schema::Type;

std::string code(const std::string& s) {
  return "`" + s + "`";
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string type_text(const Key& k) {
  switch (k.type) {
    case Type::string:
      return "string";
    case Type::path:
      return "path";
    case Type::uint:
      if (k.umax == std::numeric_limits<std::uint64_t>::max()) return "unsigned integer";
      return "unsigned integer, " + std::to_string(k.umin) + " to " + std::to_string(k.umax);
    case Type::number: {
      auto num = [](double d) {
        std::string s = std::to_string(d);
        s.erase(s.find_last_not_of('0') + 1);
        if (s.ends_with('.')) s.pop_back();
        return s;
      };
      return "number, " + num(k.dmin) + " to " + num(k.dmax);
    }
    case Type::boolean:
      return "boolean";
    case Type::enumeration: {
      std::string out = "one of ";
      for (std::size_t i = 0; i < k.values.size(); ++i) {
        out += (i ? ", " : "") + code(k.values[i]);
      }
      return out;
    }
    case Type::list:
      return k.element == Type::path ? "list of paths" : "list of strings";
    case Type::map:
      return "mapping, see " + code(k.table->name);
    case Type::list_of_maps:
      return "list of mappings, see " + code(k.table->name);
  }
  return "";
}

std::string default_text(const Key& k) {
  if (k.required) return "*required*";
  if (!k.default_doc.empty()) return k.default_doc;
  if (!k.default_yaml.empty()) return code(k.default_yaml);
  return "—";
}

void render(const Table& t, std::string& out) {
  out += "### " + (&t == &schema::root() ? std::string("Top level") : code(t.name)) + "\n\n" +
         t.description + "\n\n";
  out += "| Key | Type | Default | Description |\n|---|---|---|---|\n";
  for (const Key& k : t.keys) {
    out += "| " + code(k.name) + " | " + escape(type_text(k)) + " | " + escape(default_text(k)) +
           " | " + escape(k.description.empty() && k.table ? k.table->description : k.description) +
           " |\n";
  }
  out += "\n";
  for (const schema::Variant& v : t.variants) render(*v.table, out);
  for (const Key& k : t.keys) {
    if (k.table) render(*k.table, out);
  }
}

}  // namespace

std::string schema_markdown() {
  std::string out;
  render(schema::root(), out);
  out.pop_back();  // one newline at the end, not two
  return out;
}

}  // namespace postgate::config
