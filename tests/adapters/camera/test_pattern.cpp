#include "test_pattern.hpp"

#include <turbojpeg.h>

#include <cstdlib>
#include <stdexcept>

#include "adapters/camera/codec/yuyv.hpp"

namespace postgate::adapters::camera::test {

namespace {

// A triangle wave 0..255..0 over `period`.
unsigned tri(unsigned x, unsigned period) {
  const unsigned p = x % period;
  const unsigned half = period / 2;
  return (p < half ? p : period - p) * 255 / half;
}

template <class F>
void for_segments(std::span<const std::uint8_t> jpeg, F f) {
  std::size_t pos = 2;
  while (pos + 4 <= jpeg.size() && jpeg[pos] == 0xFF) {
    const std::uint8_t m = jpeg[pos + 1];
    const std::size_t len = (std::size_t{jpeg[pos + 2]} << 8) | jpeg[pos + 3];
    f(m, pos, len + 2);
    if (m == 0xDA) return;  // tables come before the first scan
    pos += len + 2;
  }
}

}  // namespace

Bytes yuyv_pattern(unsigned width, unsigned height) {
  Bytes out(std::size_t{width} * height * 2);
  for (unsigned r = 0; r < height; ++r) {
    for (unsigned c = 0; c < width; c += 2) {
      std::uint8_t* px = out.data() + (std::size_t{r} * width + c) * 2;
      const auto y_at = [&](unsigned x) {
        return static_cast<std::uint8_t>(24 + (tri(x + r, 2 * width) * 3 + tri(r, height)) / 5);
      };
      px[0] = y_at(c);
      px[1] = static_cast<std::uint8_t>(64 + tri(c, width) / 2);  // U
      px[2] = y_at(c + 1);
      px[3] = static_cast<std::uint8_t>(192 - tri(r, height) / 2);  // V
    }
  }
  return out;
}

Bytes jpeg_pattern(unsigned width, unsigned height, int quality, bool progressive) {
  auto planes = yuyv_to_planes(yuyv_pattern(width, height), width, height, width * 2);
  if (!planes) throw std::runtime_error(planes.error().message);
  tjhandle h = tjInitCompress();
  const unsigned char* p[3] = {planes->y.data(), planes->u.data(), planes->v.data()};
  const int strides[3] = {static_cast<int>(width), static_cast<int>(width / 2),
                          static_cast<int>(width / 2)};
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  const int rc = tjCompressFromYUVPlanes(h, p, static_cast<int>(width), strides,
                                         static_cast<int>(height), TJSAMP_422, &buf, &size, quality,
                                         progressive ? TJFLAG_PROGRESSIVE : 0);
  Bytes out;
  if (rc == 0) out.assign(buf, buf + size);
  tjFree(buf);
  tjDestroy(h);
  if (rc != 0) throw std::runtime_error("tjCompressFromYUVPlanes failed");
  return out;
}

Bytes strip_huffman_tables(std::span<const std::uint8_t> jpeg) {
  Bytes out(jpeg.begin(), jpeg.end());
  std::size_t removed = 0;
  for_segments(jpeg, [&](std::uint8_t m, std::size_t pos, std::size_t len) {
    if (m != 0xC4) return;
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(pos - removed),
              out.begin() + static_cast<std::ptrdiff_t>(pos - removed + len));
    removed += len;
  });
  return out;
}

Bytes huffman_payloads(std::span<const std::uint8_t> jpeg) {
  Bytes out;
  for_segments(jpeg, [&](std::uint8_t m, std::size_t pos, std::size_t len) {
    if (m == 0xC4) out.insert(out.end(), jpeg.begin() + pos + 4, jpeg.begin() + pos + len);
  });
  return out;
}

}  // namespace postgate::adapters::camera::test
