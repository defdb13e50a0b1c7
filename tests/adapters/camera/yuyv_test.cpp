#include "adapters/camera/codec/yuyv.hpp"

#include <gtest/gtest.h>

namespace postgate::adapters::camera {
namespace {

TEST(Yuyv, RepacksWithStride) {
  // 4x2 pixels, stride 10 (2 bytes of padding per row).
  const std::vector<std::uint8_t> f{1,    2,  3,  4,  5,  6,  7,  8,  0xEE,
                                    0xEE, 11, 12, 13, 14, 15, 16, 17, 18};
  auto p = yuyv_to_planes(f, 4, 2, 10);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->y, (std::vector<std::uint8_t>{1, 3, 5, 7, 11, 13, 15, 17}));
  EXPECT_EQ(p->u, (std::vector<std::uint8_t>{2, 6, 12, 16}));
  EXPECT_EQ(p->v, (std::vector<std::uint8_t>{4, 8, 14, 18}));
}

TEST(Yuyv, RejectsWrongSizes) {
  const std::vector<std::uint8_t> f(4 * 2 * 2);
  EXPECT_TRUE(yuyv_to_planes(f, 4, 2, 0));
  EXPECT_FALSE(yuyv_to_planes(f, 4, 3, 0));
  EXPECT_FALSE(yuyv_to_planes(f, 3, 2, 0));
  EXPECT_FALSE(yuyv_to_planes(f, 0, 2, 0));
  EXPECT_FALSE(yuyv_to_planes(f, 4, 2, 6));
  auto short_frame = yuyv_to_planes(std::span(f).first(15), 4, 2, 8);
  ASSERT_FALSE(short_frame);
  EXPECT_EQ(short_frame.error().code, "camera_bad_frame");
}

}  // namespace
}  // namespace postgate::adapters::camera
