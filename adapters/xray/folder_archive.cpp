#include "adapters/xray/folder_archive.hpp"

#include <cstdio>
#include <system_error>

namespace postgate::adapters::xray {

namespace fs = std::filesystem;

fs::path FolderArchive::dir(Bin b) const {
  switch (b) {
    case Bin::done:
      return root_ / "done";
    case Bin::rejected:
      return root_ / "rejected";
    case Bin::orphans:
      return root_ / "orphans";
    case Bin::duplicates:
      return root_ / "duplicates";
  }
  return root_;
}

core::Status FolderArchive::prepare() const {
  for (Bin b : {Bin::done, Bin::rejected, Bin::orphans, Bin::duplicates}) {
    std::error_code ec;
    fs::create_directories(dir(b), ec);
    if (ec || !fs::is_directory(dir(b), ec))
      return core::fail("archive_failed", "", "cannot create " + dir(b).string());
  }
  return {};
}

bool FolderArchive::in_done(std::string_view hash16, std::string_view name) const {
  std::error_code ec;
  return fs::exists(dir(Bin::done) / (std::string(hash16) + "-" + std::string(name)), ec);
}

core::Status FolderArchive::move(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (!ec) return {};
  if (ec != std::errc::cross_device_link)
    return core::fail("archive_failed", "",
                      "moving " + from.filename().string() + ": " + ec.message());
  // Another file system: copy, then remove. A crash in between leaves both,
  // and the file is handled again: re-delivered, never lost.
  fs::copy_file(from, to, fs::copy_options::none, ec);
  if (!ec) fs::remove(from, ec);
  if (ec)
    return core::fail("archive_failed", "",
                      "copying " + from.filename().string() + ": " + ec.message());
  return {};
}

core::Status FolderArchive::to_done(const fs::path& from, std::string_view hash16,
                                    std::string_view name) const {
  // Same name and same content: the earlier copy is the same file, so this
  // one may replace it.
  return move(from, dir(Bin::done) / (std::string(hash16) + "-" + std::string(name)));
}

core::Status FolderArchive::to_bin(Bin b, const fs::path& from, std::string_view name) const {
  const auto base = dir(b) / std::string(name);
  auto to = base;
  std::error_code ec;
  for (int n = 1; fs::exists(to, ec) || fs::is_symlink(to, ec); ++n) {
    if (n > 10'000) return core::fail("archive_failed", "", "no free name in " + dir(b).string());
    to = base;
    to += "." + std::to_string(n);
  }
  return move(from, to);
}

}  // namespace postgate::adapters::xray
