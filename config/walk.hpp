#pragma once
// Generic validation of a YAML tree against the schema: types, ranges,
// enumerations, unknown and duplicate keys, required keys, defaults.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/schema.hpp"

namespace postgate::config {

struct Where {
  int line = 0;  // 1-based, 0: unknown
  int column = 0;
};

Where where(const YAML::Mark& mark);

struct LoadContext {
  std::string file;
  std::filesystem::path base_dir;
  std::vector<Problem> problems;
  std::map<std::string, Where> marks;  // key path -> its value, or its map when absent
  std::set<std::string> present;       // key paths given in the file
  std::set<std::string> failed;        // key paths with a problem reported

  // Given in the file and well-formed: semantic checks look only at these,
  // so that one mistake is not reported twice.
  bool given(const std::string& path) const {
    return present.contains(path) && !failed.contains(path);
  }

  void report(Where at, std::string path, std::string message);
  // Where the value of `path` is, or the closest enclosing map when absent.
  Where at(const std::string& path) const;
};

// Fills `object` (of the struct `table` describes) from `node`; `node` may be
// null (absent section: defaults only). `self` is where the table itself is.
void walk_table(const schema::Table& table, const YAML::Node& node, Where self, void* object,
                const std::string& path, LoadContext& ctx);

std::string join_path(const std::string& parent, const std::string& key);
std::string join_list(const std::vector<std::string>& items);  // "a, b, c"
std::string quote(std::string_view text);                      // "\"text\"", shortened

}  // namespace postgate::config
