#pragma once
// Config -> settings of the evidence parts (cameras, X-ray folders, the
// evidence store). Used at start and by --check-config, so a setting the
// drivers would refuse is a config error before the daemon runs.
#include <map>
#include <string>

#include "adapters/camera/http_camera_settings.hpp"
#include "adapters/camera/v4l2_camera_settings.hpp"
#include "adapters/xray/folder_settings.hpp"
#include "config/config.hpp"
#include "core/result.hpp"
#include "core/xray_binding.hpp"

namespace postgate::daemon {

core::Result<adapters::camera::HttpCameraSettings> make_http_camera_settings(
    const config::CameraConfig& c);
core::Result<adapters::camera::V4l2CameraSettings> make_v4l2_camera_settings(
    const config::CameraConfig& c);

struct XrayMachine {
  adapters::xray::XrayFolderSettings folder;
  std::map<std::string, std::string> lane_counter;  // lane -> counter; "" key: every lane
  core::XrayBindingWindow window;
};
// `utc_offset`: the outlet's, for machine times written without a zone.
core::Result<XrayMachine> make_xray_machine(const config::XrayConfig& x,
                                            std::chrono::minutes utc_offset);

// Every camera and X-ray machine of the file, as the daemon would build them.
// The error's field is the config path ("cameras[1].url").
core::Status check_evidence_config(const config::Config& cfg, std::chrono::minutes utc_offset);

}  // namespace postgate::daemon
