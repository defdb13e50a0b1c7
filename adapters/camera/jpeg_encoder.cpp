#include "adapters/camera/jpeg_encoder.hpp"

#include <turbojpeg.h>

#include <algorithm>
#include <memory>
#include <string>

namespace postgate::adapters::camera {

namespace {

struct HandleCloser {
  void operator()(void* h) const { tjDestroy(h); }
};
struct BufferFree {
  void operator()(unsigned char* b) const { tjFree(b); }
};

}  // namespace

core::Result<std::vector<std::uint8_t>> encode_yuv422_jpeg(const Yuv422Planes& p, int quality) {
  const std::size_t half = p.width / 2;
  if (p.width == 0 || p.height == 0 || p.width % 2 != 0 ||
      p.y.size() != std::size_t{p.width} * p.height || p.u.size() != half * p.height ||
      p.v.size() != half * p.height)
    return core::fail("camera_encode_failed", "frame", "planes do not match their size");
  std::unique_ptr<void, HandleCloser> handle(tjInitCompress());
  if (!handle) return core::fail("camera_encode_failed", "frame", tjGetErrorStr2(nullptr));
  const unsigned char* planes[3] = {p.y.data(), p.u.data(), p.v.data()};
  const int strides[3] = {static_cast<int>(p.width), static_cast<int>(half),
                          static_cast<int>(half)};
  unsigned char* out = nullptr;
  unsigned long size = 0;
  const int rc = tjCompressFromYUVPlanes(handle.get(), planes, static_cast<int>(p.width), strides,
                                         static_cast<int>(p.height), TJSAMP_422, &out, &size,
                                         std::clamp(quality, 1, 100), 0);
  std::unique_ptr<unsigned char, BufferFree> owned(out);
  if (rc != 0) return core::fail("camera_encode_failed", "frame", tjGetErrorStr2(handle.get()));
  return std::vector<std::uint8_t>(out, out + size);
}

}  // namespace postgate::adapters::camera
