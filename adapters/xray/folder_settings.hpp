#pragma once
// Settings of one X-ray machine's export folder (config: devices.xray[i]).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "adapters/xray/codec/xray_result.hpp"
#include "core/result.hpp"

namespace postgate::adapters::xray {

struct XrayFolderSettings {
  std::string machine_id;
  std::filesystem::path folder;
  ResultMapping mapping;
  // File name endings, compared case-insensitively; other files are ignored.
  std::vector<std::string> result_extensions{".json"};
  std::vector<std::string> image_extensions{".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"};
  // A file unchanged in size and mtime for this long is complete; a writer
  // closing it (IN_CLOSE_WRITE) or renaming it in (IN_MOVED_TO) completes
  // it at once.
  std::chrono::milliseconds settle{1000};
  // A complete image or result waiting longer than this for its partner is
  // an orphan.
  std::chrono::milliseconds pair_timeout{30'000};
  std::uintmax_t max_image_bytes = 32 * 1024 * 1024;
  // done/, rejected/, orphans/, duplicates/ go here; empty: <folder>/.postgate.
  // Best on the same file system as the folder (moves are then renames).
  std::filesystem::path archive_dir;
  // Files examined per turn of the event loop before yielding to it.
  std::size_t files_per_turn = 32;
  // While the folder is missing or unusable, how often to look again.
  std::chrono::milliseconds retry{2000};
};

// Error fields name the setting ("machine_id", "mapping.lane", ...).
core::Status validate(const XrayFolderSettings& s);

}  // namespace postgate::adapters::xray
