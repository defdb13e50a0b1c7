// libFuzzer target: bytes a camera sends as a JPEG (an HTTP body, a V4L2
// MJPEG frame), through the structure check and the normalisation that adds
// Huffman tables and cuts trailing bytes; and the same bytes as a YUYV frame.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "adapters/camera/codec/jpeg_check.hpp"
#include "adapters/camera/codec/jpeg_normalize.hpp"
#include "adapters/camera/codec/yuyv.hpp"

namespace {

using namespace postgate::adapters::camera;

void check(bool ok) {
  if (!ok) std::abort();
}

void run_jpeg(std::span<const std::uint8_t> in) {
  const auto info = check_jpeg(in);
  const auto normal = normalize_jpeg(in);
  check(info.has_value() == normal.has_value());
  if (!info) {
    check(info.error().code == "camera_bad_jpeg" && !info.error().message.empty());
    return;
  }
  check(info->width > 0 && info->height > 0);
  check(info->end >= 4 && info->end <= in.size());
  check(info->first_scan >= 2 && info->first_scan < info->end);
  check(in[info->first_scan] == 0xFF && in[info->first_scan + 1] == 0xDA);
  check(in[info->end - 2] == 0xFF && in[info->end - 1] == 0xD9);
  // The normalised file is itself valid, the same image, has tables, ends
  // at EOI, and normalising it again changes nothing.
  const auto again = check_jpeg(normal->bytes);
  check(again.has_value());
  check(again->width == info->width && again->height == info->height);
  check(again->has_huffman_tables && again->end == normal->bytes.size());
  check(normal->info.end == normal->bytes.size());
  check(normal->inserted_huffman == !info->has_huffman_tables);
  check(normal->bytes.size() ==
        info->end + (normal->inserted_huffman ? standard_huffman_segment().size() : 0));
  const auto twice = normalize_jpeg(normal->bytes);
  check(twice.has_value() && twice->bytes == normal->bytes && !twice->inserted_huffman);
}

void run_yuyv(std::span<const std::uint8_t> in) {
  if (in.size() < 3) return;
  const unsigned width = in[0] % 32;
  const unsigned height = in[1] % 32;
  const std::size_t stride = in[2] % 70;
  const auto planes = yuyv_to_planes(in.subspan(3), width, height, stride);
  if (!planes) return;
  check(planes->y.size() == std::size_t{width} * height);
  check(planes->u.size() == std::size_t{width / 2} * height &&
        planes->v.size() == planes->u.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  run_jpeg(in);
  run_yuyv(in);
  return 0;
}
