#pragma once
// Settings of an IP camera's snapshot source (the lead's config maps YAML
// onto this; defaults here are the documented ones, docs/devices/camera.md).
#include <chrono>
#include <cstddef>
#include <string>

namespace postgate::adapters::camera {

enum class HttpAuth {
  automatic,  // answer the server's 401 challenge: Digest, else Basic (see below)
  basic,      // send Basic credentials with the first request
  digest,     // answer only a Digest challenge
};

struct HttpCameraSettings {
  std::string id;
  // http:// or https://, host, optional port, path and query; the ONVIF
  // snapshot URI. No credentials in it (refused): use username/password.
  std::string url;
  std::string username;  // empty: no credentials
  std::string password;
  HttpAuth auth = HttpAuth::automatic;
  // Basic sends the password in the clear; over plain http only with this.
  bool allow_basic_over_http = false;
  std::string ca_file;                      // PEM CA bundle for https; empty: the system store
  bool verify_peer = true;                  // certificate and host name; false is for labs only
  std::chrono::milliseconds timeout{5000};  // the whole capture, DNS to last byte
  std::size_t max_bytes = 8 * 1024 * 1024;  // the largest body accepted
};

}  // namespace postgate::adapters::camera
