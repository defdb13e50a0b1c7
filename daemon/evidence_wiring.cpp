#include "daemon/evidence_wiring.hpp"

#include <boost/asio/io_context.hpp>

#include "adapters/camera/http_snapshot_camera.hpp"
#include "adapters/camera/v4l2_camera.hpp"
#include "core/synthetic.hpp"

namespace postgate::daemon {

namespace cam = adapters::camera;
namespace xr = adapters::xray;
using core::Result;

Result<cam::HttpCameraSettings> make_http_camera_settings(const config::CameraConfig& c) {
  cam::HttpCameraSettings s;
  s.id = c.id;
  s.url = c.url;
  s.username = c.username;
  s.password = c.password;
  s.auth = c.auth == "basic"    ? cam::HttpAuth::basic
           : c.auth == "digest" ? cam::HttpAuth::digest
                                : cam::HttpAuth::automatic;
  s.allow_basic_over_http = c.allow_basic_over_http;
  s.ca_file = c.ca_file.string();
  s.verify_peer = c.verify_peer;
  s.timeout = std::chrono::milliseconds(c.timeout_ms);
  s.max_bytes = c.max_bytes;
  return s;
}

Result<cam::V4l2CameraSettings> make_v4l2_camera_settings(const config::CameraConfig& c) {
  cam::V4l2CameraSettings s;
  s.id = c.id;
  s.device = c.device.string();
  s.width = c.width;
  s.height = c.height;
  s.format = c.format == "mjpeg"  ? cam::FormatPreference::mjpeg
             : c.format == "yuyv" ? cam::FormatPreference::yuyv
                                  : cam::FormatPreference::automatic;
  s.warmup_frames = c.warmup_frames;
  s.jpeg_quality = static_cast<int>(c.jpeg_quality);
  s.timeout = std::chrono::milliseconds(c.timeout_ms);
  return s;
}

Result<XrayMachine> make_xray_machine(const config::XrayConfig& x,
                                      std::chrono::minutes utc_offset) {
  XrayMachine m;
  auto& f = m.folder;
  f.machine_id = x.id;
  f.folder = x.folder;
  const auto format = xr::result_format_from_string(x.format);
  if (!format) return core::fail("bad_setting", "format", "unknown result format");
  f.mapping.format = *format;
  f.mapping.lane = x.lane_field;
  f.mapping.time = x.time_field;
  f.mapping.waybill = x.waybill_field;
  f.mapping.verdict = x.verdict_field;
  f.mapping.image = x.image_field;
  const auto kind = xr::time_format_kind_from_string(x.time_format);
  if (!kind) return core::fail("bad_setting", "time_format", "unknown time format");
  f.mapping.time_format.kind = *kind;
  f.mapping.time_format.pattern = x.time_pattern;
  f.mapping.time_format.utc_offset = utc_offset;
  f.mapping.clear_words = x.clear_words;
  f.mapping.suspect_words = x.suspect_words;
  f.result_extensions = x.result_extensions;
  f.settle = std::chrono::milliseconds(x.settle_ms);
  f.pair_timeout = std::chrono::seconds(x.pair_timeout_s);
  f.max_image_bytes = x.max_image_bytes;
  if (auto s = xr::validate(f); !s) return std::unexpected(s.error());
  if (!x.counter.empty()) m.lane_counter[""] = x.counter;
  for (const auto& pair : x.lanes) {
    const auto colon = pair.rfind(':');
    if (colon == std::string::npos) return core::fail("bad_setting", "lanes", "not LANE:COUNTER");
    m.lane_counter[pair.substr(0, colon)] = pair.substr(colon + 1);
  }
  m.window.before = std::chrono::seconds(x.bind_before_s);
  m.window.after = std::chrono::seconds(x.bind_after_s);
  return m;
}

core::Status check_evidence_config(const config::Config& cfg, std::chrono::minutes utc_offset) {
  boost::asio::io_context io;
  core::SplitMix64 random(1);
  for (std::size_t i = 0; i < cfg.cameras.size(); ++i) {
    const auto& c = cfg.cameras[i];
    const std::string where = "cameras[" + std::to_string(i) + "]";
    core::Status s;
    if (c.source == "http") {
      auto made = cam::HttpSnapshotCamera::create(io, *make_http_camera_settings(c), random);
      if (!made) s = std::unexpected(made.error());
    } else {
      auto made = cam::V4l2Camera::create(io, *make_v4l2_camera_settings(c));
      if (!made) s = std::unexpected(made.error());
    }
    if (!s) return std::unexpected(core::nest(where, s.error()));
  }
  for (std::size_t i = 0; i < cfg.xray.size(); ++i) {
    auto m = make_xray_machine(cfg.xray[i], utc_offset);
    if (!m) return std::unexpected(core::nest("xray[" + std::to_string(i) + "]", m.error()));
  }
  return {};
}

}  // namespace postgate::daemon
