#include "adapters/camera/codec/jpeg_normalize.hpp"

#include <gtest/gtest.h>
#include <turbojpeg.h>

#include "test_pattern.hpp"

namespace postgate::adapters::camera {
namespace {

using test::Bytes;

bool decodes(const Bytes& jpeg, unsigned w, unsigned h) {
  tjhandle d = tjInitDecompress();
  int width = 0, height = 0, subsamp = 0, colorspace = 0;
  bool ok = tjDecompressHeader3(d, jpeg.data(), jpeg.size(), &width, &height, &subsamp,
                                &colorspace) == 0 &&
            width == static_cast<int>(w) && height == static_cast<int>(h);
  if (ok) {
    std::vector<unsigned char> rgb(std::size_t{w} * h * 3);
    ok = tjDecompress2(d, jpeg.data(), jpeg.size(), rgb.data(), width, 0, height, TJPF_RGB, 0) == 0;
  }
  tjDestroy(d);
  return ok;
}

TEST(JpegNormalize, TheStandardTablesAreLibjpegs) {
  // libjpeg-turbo encodes with the Annex K tables unless it optimises them:
  // its DHT payloads must be ours, table for table.
  const Bytes ours(standard_huffman_segment().begin() + 4, standard_huffman_segment().end());
  EXPECT_EQ(test::huffman_payloads(test::jpeg_pattern(32, 16)), ours);
  const auto seg = standard_huffman_segment();
  EXPECT_EQ(seg[0], 0xFF);
  EXPECT_EQ(seg[1], 0xC4);
  EXPECT_EQ((std::size_t{seg[2]} << 8 | seg[3]) + 2, seg.size());
}

TEST(JpegNormalize, InsertsTablesIntoAnAbbreviatedFrame) {
  const Bytes full = test::jpeg_pattern(96, 64);
  const Bytes bare = test::strip_huffman_tables(full);
  ASSERT_LT(bare.size(), full.size());
  auto r = normalize_jpeg(bare);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->inserted_huffman);
  EXPECT_TRUE(r->info.has_huffman_tables);
  EXPECT_EQ(r->info.end, r->bytes.size());
  EXPECT_EQ(r->bytes[r->info.first_scan + 1], 0xDA);
  EXPECT_TRUE(check_jpeg(r->bytes));
  EXPECT_TRUE(decodes(r->bytes, 96, 64));
  EXPECT_EQ(test::huffman_payloads(r->bytes), test::huffman_payloads(full));
}

TEST(JpegNormalize, LeavesACompleteFileAloneButCutsTrailingBytes) {
  const Bytes full = test::jpeg_pattern(48, 32);
  Bytes padded = full;
  padded.insert(padded.end(), 300, 0x00);
  auto r = normalize_jpeg(padded);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->inserted_huffman);
  EXPECT_EQ(r->bytes, full);
}

TEST(JpegNormalize, PassesCheckErrorsOn) {
  const Bytes full = test::jpeg_pattern(48, 32);
  auto r = normalize_jpeg(std::span(full).first(full.size() / 2));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "camera_bad_jpeg");
}

}  // namespace
}  // namespace postgate::adapters::camera
