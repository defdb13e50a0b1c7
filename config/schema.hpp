#pragma once
// The configuration schema as data, in the style of fluent-bit's config map:
// every key once, with its type, default, description and where it lands in
// Config. The loader (walk.cpp) and the documentation (doc.cpp) both read it.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <variant>
#include <vector>

namespace postgate::config::schema {

enum class Type {
  string,
  path,    // resolved against the config file's directory
  uint,    // unsigned integer, range [umin, umax]
  number,  // double, range [dmin, dmax]
  boolean,
  enumeration,   // one of `values`
  list,          // sequence of `element` (string or path)
  map,           // nested table
  list_of_maps,  // sequence of nested tables
};

using Value = std::variant<std::string, std::filesystem::path, std::uint64_t, double, bool,
                           std::vector<std::string>, std::vector<std::filesystem::path>>;

struct Table;

struct Key {
  std::string name;
  Type type = Type::string;
  std::string description;
  std::string default_yaml;  // applied when the key is absent; empty: nothing applied
  std::string default_doc;   // documented default when it is not default_yaml
  bool required = false;
  std::vector<std::string> values;  // enumeration
  Type element = Type::string;      // list
  std::uint64_t umin = 0;
  std::uint64_t umax = std::numeric_limits<std::uint64_t>::max();
  double dmin = -std::numeric_limits<double>::max();
  double dmax = std::numeric_limits<double>::max();
  const Table* table = nullptr;  // map, list_of_maps
  // map only: an absent key leaves the section unset (a std::optional member)
  // instead of filling in the table's defaults.
  bool optional_section = false;

  // Binders, set by the schema: `set` stores a converted scalar or list into
  // the object the enclosing table describes; `child` returns the object a
  // nested table describes (for list_of_maps: appends one element first).
  std::function<void(void* object, Value&& value)> set;
  std::function<void*(void* object)> child;
};

// Keys that exist only for one value of the table's discriminator key, e.g.
// the keys of adapters of kind "demo". A new adapter kind adds one Variant.
struct Variant {
  std::string value;
  std::string description;
  const Table* table = nullptr;
  std::function<void*(void* object)> child;  // the kind's own struct inside the element
};

struct Table {
  std::string name;  // documentation heading: "storage", "adapters[]"
  std::string description;
  std::vector<Key> keys;
  std::string discriminator;  // name of the enumeration key that selects a variant
  std::vector<Variant> variants;
};

// The top-level table (the whole file).
const Table& root();

}  // namespace postgate::config::schema
