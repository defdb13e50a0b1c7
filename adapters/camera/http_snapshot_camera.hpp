#pragma once
// An IP camera's still over HTTP or HTTPS: one GET of its snapshot URL per
// capture, on a fresh connection, under one deadline. Boost.Beast on the
// caller's io_context; no threads of its own.
//
//   resolve -> connect -> [TLS handshake: SNI, chain and host name checked]
//   -> GET -> 200 image/jpeg -> JPEG checked (and Huffman tables added if
//   missing) -> Still
//   -> 401 -> one retry with Authorization (Digest: qop=auth, nc=00000001,
//   a fresh random cnonce; Basic only where allowed) -> 200 or
//   camera_auth_failed
// On the retry the connection is reused if the server kept it open.
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "adapters/camera/camera.hpp"
#include "adapters/camera/http_camera_settings.hpp"
#include "adapters/driver_core.hpp"
#include "core/time.hpp"
#include "core/uuid.hpp"

namespace postgate::adapters::camera {

class HttpSnapshotCamera final : public Camera {
 public:
  // Checks the settings (URL, auth against scheme, CA file) and prepares
  // TLS. Errors: "bad_setting" (field: the setting) or "bad_url".
  // `random` (client nonces) and `clock` (captured_at) must outlive the camera.
  static core::Result<std::unique_ptr<HttpSnapshotCamera>> create(
      boost::asio::io_context& io, HttpCameraSettings settings, core::RandomSource& random,
      const core::Clock& clock = system_clock());
  ~HttpSnapshotCamera() override;
  HttpSnapshotCamera(const HttpSnapshotCamera&) = delete;
  HttpSnapshotCamera& operator=(const HttpSnapshotCamera&) = delete;

  const std::string& id() const override;
  void capture(std::function<void(core::Result<Still>)> done) override;
  void stop() override;

 private:
  struct Shared;  // settings, parsed URL and TLS context, shared with captures in flight
  class Attempt;  // one capture; outlives the camera while its handlers unwind

  HttpSnapshotCamera(boost::asio::io_context& io, std::shared_ptr<Shared> shared,
                     core::RandomSource& random, const core::Clock& clock);

  boost::asio::io_context& io_;
  std::shared_ptr<Shared> shared_;
  core::RandomSource& random_;
  const core::Clock& clock_;
  std::shared_ptr<Attempt> current_;
};

}  // namespace postgate::adapters::camera
