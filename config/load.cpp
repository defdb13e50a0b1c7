#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/config.hpp"
#include "config/schema.hpp"
#include "config/semantic.hpp"
#include "config/walk.hpp"

namespace postgate::config {
namespace {

namespace fs = std::filesystem;

// Larger than any sane configuration; guards against pointing at the wrong file.
constexpr std::uintmax_t kMaxFileBytes = 1024 * 1024;

std::unexpected<std::vector<Problem>> fail_file(const std::string& file, std::string message) {
  return std::unexpected(std::vector<Problem>{Problem{file, 0, 0, "", std::move(message)}});
}

}  // namespace

std::string Problem::str() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!path.empty()) out += path + ": ";
  return out + message;
}

std::string format_problems(const std::vector<Problem>& problems) {
  std::string out;
  for (const Problem& p : problems) out += p.str() + "\n";
  return out;
}

std::expected<Config, std::vector<Problem>> load_string(std::string_view yaml,
                                                        const std::string& file_name,
                                                        const fs::path& base_dir) {
  LoadContext ctx;
  ctx.file = file_name;
  std::error_code ec;
  ctx.base_dir = fs::absolute(base_dir, ec);
  if (ec) ctx.base_dir = base_dir;
  Config config;
  config.source = file_name;
  try {
    const std::vector<YAML::Node> docs = YAML::LoadAll(std::string(yaml));
    if (docs.empty() || docs[0].IsNull()) {
      ctx.report({}, "",
                 "the configuration is empty; it needs at least \"outlet\" and \"counters\"");
    } else {
      if (docs.size() > 1) {
        ctx.report(where(docs[1].Mark()), "", "only one YAML document is allowed per file");
      }
      walk_table(schema::root(), docs[0], where(docs[0].Mark()), &config, "", ctx);
      check_semantics(config, ctx);
    }
  } catch (const YAML::ParserException& e) {
    ctx.report(where(e.mark), "", "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    ctx.report(where(e.mark), "", "YAML error: " + e.msg);
  } catch (const std::exception& e) {
    ctx.report({}, "", std::string("internal error: ") + e.what());
  }
  if (!ctx.problems.empty()) {
    std::stable_sort(ctx.problems.begin(), ctx.problems.end(),
                     [](const Problem& a, const Problem& b) {
                       return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                     });
    return std::unexpected(std::move(ctx.problems));
  }
  return config;
}

std::expected<Config, std::vector<Problem>> load_file(const fs::path& file) {
  const std::string name = file.string();
  if (name.empty()) return fail_file("(none)", "no configuration file given");
  std::error_code ec;
  const fs::file_status status = fs::status(file, ec);
  if (!fs::exists(status)) {
    return fail_file(name, ec && ec != std::errc::no_such_file_or_directory
                               ? "cannot read the configuration: " + ec.message()
                               : "no such configuration file");
  }
  if (fs::is_directory(status)) {
    return fail_file(name, "is a directory; expected a YAML configuration file");
  }
  if (!fs::is_regular_file(status)) {
    return fail_file(name, "is not a regular file; expected a YAML configuration file");
  }
  if (const auto size = fs::file_size(file, ec); !ec && size > kMaxFileBytes) {
    return fail_file(name, "is " + std::to_string(size) +
                               " bytes, more than the 1 MiB a configuration may have");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail_file(name, std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return fail_file(name, std::string("cannot read: ") + std::strerror(errno));

  fs::path absolute = fs::absolute(file, ec);
  if (ec) absolute = file;
  absolute = absolute.lexically_normal();
  auto config = load_string(text.str(), name, absolute.parent_path());
  if (config) config->source = absolute;
  return config;
}

}  // namespace postgate::config
