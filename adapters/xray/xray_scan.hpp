#pragma once
// What the X-ray folder watcher hands the daemon: one XrayScan per result
// file (with its image when it came), orphans, errors and folder state.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "adapters/device.hpp"
#include "adapters/xray/codec/xray_result.hpp"
#include "core/time.hpp"

namespace postgate::adapters::xray {

struct XrayScan {
  // Stable across restarts: "<machine>:<result file>:<first 16 hex of the
  // result file's SHA-256>". A scan re-delivered after a restart (handed
  // over, not confirmed) has the same id: store it idempotently.
  std::string scan_id;
  std::string machine_id;
  std::string lane;
  core::TimePoint time{};
  std::optional<std::string> waybill;  // personal data: never log it
  bool waybill_valid = false;
  Verdict verdict = Verdict::unknown;
  std::string verdict_word;
  std::string result_file;
  std::string result_sha256;  // hex
  std::string image_file;     // as the result file names it
  // nullopt: no image (it never came within pair_timeout, or was over
  // max_image_bytes); the result is still a scan and its verdict counts.
  std::optional<std::vector<std::uint8_t>> image;
  std::string image_sha256;  // hex, empty without an image
};

enum class OrphanKind { image, result };
std::string_view to_string(OrphanKind k);

struct XraySink {
  // Hand-over. The daemon makes the scan durable, then calls
  // XrayFolderWatcher::confirm(scan_id); only then are the files archived.
  std::function<void(XrayScan)> on_scan;
  // A file whose partner did not come within pair_timeout. An orphan image
  // is moved to <archive>/orphans/ (still paired if its result comes later);
  // an orphan result is reported here AND delivered through on_scan without
  // an image.
  std::function<void(OrphanKind, const std::string& file)> on_orphan;
  // Malformed result files (code from the codec: bad_json, missing_field,
  // bad_time, ...; the file is moved to <archive>/rejected/), duplicates
  // ("duplicate"), "image_too_large", "bad_file_name", "unreadable",
  // "archive_failed". `detail` names the file, never field values.
  std::function<void(const DeviceError&)> on_error;
  // absent (folder missing or removed), attached (watched), failed
  // (present but unusable: permissions, archive folders not creatable).
  std::function<void(DeviceState, const std::string& detail)> on_state;
};

}  // namespace postgate::adapters::xray
