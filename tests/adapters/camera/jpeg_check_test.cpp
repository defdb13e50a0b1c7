#include "adapters/camera/codec/jpeg_check.hpp"

#include <gtest/gtest.h>

#include "test_pattern.hpp"

namespace postgate::adapters::camera {
namespace {

using test::Bytes;

Bytes baseline() {
  return test::jpeg_pattern(64, 48);
}

std::string reason(const Bytes& b) {
  auto r = check_jpeg(b);
  EXPECT_FALSE(r.has_value());
  if (r) return {};
  EXPECT_EQ(r.error().code, "camera_bad_jpeg");
  return r.error().message;
}

TEST(JpegCheck, BaselineGivesSizeAndEnd) {
  const Bytes b = baseline();
  auto r = check_jpeg(b);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->width, 64u);
  EXPECT_EQ(r->height, 48u);
  EXPECT_EQ(r->components, 3u);
  EXPECT_FALSE(r->progressive);
  EXPECT_TRUE(r->has_huffman_tables);
  EXPECT_EQ(r->end, b.size());
  ASSERT_GT(r->first_scan, 0u);
  EXPECT_EQ(b[r->first_scan], 0xFF);
  EXPECT_EQ(b[r->first_scan + 1], 0xDA);
}

TEST(JpegCheck, ProgressiveHasManyScans) {
  const Bytes b = test::jpeg_pattern(80, 64, 85, true);
  auto r = check_jpeg(b);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->progressive);
  EXPECT_EQ(r->width, 80u);
  EXPECT_EQ(r->end, b.size());
}

TEST(JpegCheck, WithoutHuffmanTablesIsStructurallyValid) {
  auto r = check_jpeg(test::strip_huffman_tables(baseline()));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->has_huffman_tables);
}

TEST(JpegCheck, TrailingBytesAfterEoiAreNotTheImage) {
  Bytes b = baseline();
  const std::size_t size = b.size();
  b.insert(b.end(), {0x00, 0x00, 0x12, 0xFF});
  auto r = check_jpeg(b);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->end, size);
}

TEST(JpegCheck, EveryTruncationIsRejected) {
  const Bytes b = baseline();
  for (std::size_t n = 0; n < b.size(); ++n) {
    const Bytes cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(check_jpeg(cut)) << "accepted the first " << n << " of " << b.size() << " bytes";
  }
}

TEST(JpegCheck, TruncatedScanSaysSo) {
  const Bytes b = baseline();
  const Bytes cut(b.begin(), b.end() - 100);
  EXPECT_NE(reason(cut).find("truncated in the entropy-coded data"), std::string::npos);
}

TEST(JpegCheck, GarbageAndHtmlAreRejected) {
  const std::string html = "<html><body>401 Unauthorized</body></html>";
  EXPECT_EQ(reason(Bytes(html.begin(), html.end())), "no SOI at the start");
  EXPECT_EQ(reason(Bytes{}), "no SOI at the start");
  EXPECT_EQ(reason(Bytes{0xFF, 0xD8}), "truncated: no EOI");
  EXPECT_EQ(reason(Bytes{0xFF, 0xD8, 0xFF, 0xD9}), "EOI before any scan");
  EXPECT_NE(reason(Bytes{0xFF, 0xD8, 0x12, 0x34}).find("garbage where a marker belongs"),
            std::string::npos);
}

TEST(JpegCheck, SegmentLengthsAreChecked) {
  Bytes b = baseline();
  // The first segment after SOI (APP0): a length of 1, then one past the end.
  b[4] = 0x00;
  b[5] = 0x01;
  EXPECT_NE(reason(b).find("has length 1"), std::string::npos);
  b[4] = 0xFF;
  b[5] = 0xF0;
  EXPECT_NE(reason(b).find("truncated in segment"), std::string::npos);
}

TEST(JpegCheck, FrameHeaderIsChecked) {
  Bytes b = baseline();
  auto info = check_jpeg(b);
  ASSERT_TRUE(info);
  // Find SOF0 and zero its width.
  std::size_t sof = 0;
  for (std::size_t i = 2; i + 1 < info->first_scan; ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xC0) sof = i;
  ASSERT_GT(sof, 0u);
  Bytes zero = b;
  zero[sof + 7] = 0;
  zero[sof + 8] = 0;
  EXPECT_EQ(reason(zero), "zero width or height in the frame header");
  Bytes lossless = b;
  lossless[sof + 1] = 0xC3;
  EXPECT_NE(reason(lossless).find("unsupported coding process"), std::string::npos);
}

TEST(JpegCheck, ScanWithoutFrameOrTablesIsRejected) {
  // SOI, SOS header (1 component), data, EOI: no SOF.
  const Bytes no_sof{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01,
                     0x00, 0x00, 0x3F, 0x00, 0x12, 0x34, 0xFF, 0xD9};
  EXPECT_EQ(reason(no_sof), "a scan before the frame header");
}

TEST(JpegCheck, StuffingAndRestartMarkersStayInTheScan) {
  // A 1x1 grey frame: SOF0, a DQT, then a scan whose data holds FF00, FFD0
  // and fill bytes before EOI.
  Bytes b{0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00};
  b.resize(b.size() + 64, 0x01);
  const Bytes rest{0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01,
                   0x11, 0x00, 0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F,
                   0x00, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0xD9};
  b.insert(b.end(), rest.begin(), rest.end());
  auto r = check_jpeg(b);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->width, 1u);
  EXPECT_EQ(r->components, 1u);
  EXPECT_EQ(r->end, b.size());
}

}  // namespace
}  // namespace postgate::adapters::camera
