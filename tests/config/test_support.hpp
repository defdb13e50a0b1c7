#pragma once
#include <string>
#include <vector>

#include "config/config.hpp"

namespace postgate::config::test {

inline const std::filesystem::path kSourceDir = POSTGATE_SOURCE_DIR;

// Loads `yaml` as if it were /etc/postgate/postgate.yaml.
inline std::expected<Config, std::vector<Problem>> load(const std::string& yaml) {
  return load_string(yaml, "postgate.yaml", "/etc/postgate");
}

// The formatted problems of a file that must not load.
inline std::vector<std::string> problems(const std::string& yaml) {
  std::vector<std::string> out;
  auto result = load(yaml);
  if (result) return {"(loaded without problems)"};
  for (const Problem& p : result.error()) out.push_back(p.str());
  return out;
}

// The smallest valid file; tests append to it (it is 4 lines long).
inline const std::string kMinimal =
    "outlet: o1\n"
    "counters:\n"
    "  - id: c1\n"
    "    name: Counter 1\n";

}  // namespace postgate::config::test
