#include "adapters/xray/folder_settings.hpp"

namespace postgate::adapters::xray {

namespace {

bool good_extension(const std::string& e) {
  if (e.size() < 2 || e.size() > 16 || e[0] != '.') return false;
  for (std::size_t i = 1; i < e.size(); ++i)
    if (e[i] == '.' || e[i] == '/' || static_cast<unsigned char>(e[i]) <= 0x20) return false;
  return true;
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

core::Status validate(const XrayFolderSettings& s) {
  if (s.machine_id.empty() || s.machine_id.size() > 64 ||
      s.machine_id.find(':') != std::string::npos)
    return core::fail("bad_machine_id", "machine_id", "1-64 characters, no ':'");
  if (s.folder.empty() || !s.folder.is_absolute())
    return core::fail("bad_folder", "folder", "an absolute path is required");
  if (!s.archive_dir.empty() && !s.archive_dir.is_absolute())
    return core::fail("bad_folder", "archive_dir", "an absolute path is required");
  if (auto m = validate_mapping(s.mapping); !m)
    return std::unexpected(core::nest("mapping", m.error()));
  if (s.result_extensions.empty())
    return core::fail("missing_field", "result_extensions", "at least one extension");
  if (s.image_extensions.empty())
    return core::fail("missing_field", "image_extensions", "at least one extension");
  for (const auto* list : {&s.result_extensions, &s.image_extensions})
    for (const auto& e : *list)
      if (!good_extension(e))
        return core::fail("bad_extension",
                          list == &s.result_extensions ? "result_extensions" : "image_extensions",
                          "an extension is '.' and 1-15 characters");
  for (const auto& r : s.result_extensions)
    for (const auto& i : s.image_extensions)
      if (same_ignoring_case(r, i))
        return core::fail("bad_extension", "image_extensions",
                          "an extension is both a result and an image");
  if (s.settle < std::chrono::milliseconds{10} || s.settle > std::chrono::minutes{10})
    return core::fail("bad_duration", "settle", "between 10 ms and 10 min");
  if (s.pair_timeout < s.settle || s.pair_timeout > std::chrono::hours{24})
    return core::fail("bad_duration", "pair_timeout", "at least settle, at most 24 h");
  if (s.retry < std::chrono::milliseconds{10})
    return core::fail("bad_duration", "retry", "at least 10 ms");
  if (s.max_image_bytes == 0 || s.max_image_bytes > std::uintmax_t{1} << 30)
    return core::fail("bad_size", "max_image_bytes", "between 1 byte and 1 GiB");
  if (s.files_per_turn == 0 || s.files_per_turn > 4096)
    return core::fail("bad_size", "files_per_turn", "between 1 and 4096");
  return {};
}

}  // namespace postgate::adapters::xray
