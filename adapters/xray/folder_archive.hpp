#pragma once
// Where handled files go, under <archive>/ (default <folder>/.postgate/):
//   done/        delivered and confirmed durable, as "<hash16>-<name>"; the
//                prefix is the result file's content hash, which is also how
//                a re-copied result is recognised as a duplicate
//   rejected/    malformed result files, unreadable names, oversize images
//   orphans/     images whose result file never came
//   duplicates/  result files (and their images) already in done/
// Nothing is ever deleted or overwritten: a name already taken in rejected/,
// orphans/ or duplicates/ gets a ".<n>" suffix.
#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace postgate::adapters::xray {

enum class Bin { done, rejected, orphans, duplicates };

class FolderArchive {
 public:
  explicit FolderArchive(std::filesystem::path root) : root_(std::move(root)) {}

  // Creates the four folders; error code "archive_failed".
  core::Status prepare() const;
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path dir(Bin b) const;

  bool in_done(std::string_view hash16, std::string_view name) const;
  // Renames (copies then removes across file systems); "archive_failed".
  core::Status to_done(const std::filesystem::path& from, std::string_view hash16,
                       std::string_view name) const;
  core::Status to_bin(Bin b, const std::filesystem::path& from, std::string_view name) const;

 private:
  static core::Status move(const std::filesystem::path& from, const std::filesystem::path& to);
  std::filesystem::path root_;
};

}  // namespace postgate::adapters::xray
