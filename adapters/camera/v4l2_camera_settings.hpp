#pragma once
// Settings of a USB (UVC) camera read through V4L2 (the lead's config maps
// YAML onto this; defaults are the documented ones, docs/devices/camera.md).
#include <chrono>
#include <string>

#include "adapters/camera/v4l2/video_device.hpp"

namespace postgate::adapters::camera {

struct V4l2CameraSettings {
  std::string id;
  // /dev/videoN, or better the stable /dev/v4l/by-id/usb-...-video-index0
  // (survives replugging into another port).
  std::string device;
  unsigned width = 640;  // asked for; the device may round to what it can do
  unsigned height = 480;
  FormatPreference format = FormatPreference::automatic;
  // Frames thrown away after streaming starts: auto-exposure and white
  // balance settle over the first few.
  unsigned warmup_frames = 3;
  int jpeg_quality = 85;                    // for YUYV frames turned into JPEG
  std::chrono::milliseconds timeout{5000};  // the whole capture, open to JPEG
  // Frames that fail the JPEG check (or are flagged by the driver) are
  // skipped; after this many more, the capture fails.
  unsigned bad_frame_retries = 2;
};

}  // namespace postgate::adapters::camera
