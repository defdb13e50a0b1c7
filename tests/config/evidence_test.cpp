// Cameras, X-ray machines and evidence in config: defaults, the shapes that
// depend on the source, and counters that must exist.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace postgate::config {
namespace {

using test::kMinimal;
using test::load;
using test::problems;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Evidence, CamerasOfBothSourcesWithDefaults) {
  auto c = load(kMinimal +
                "  - id: c2\n"
                "cameras:\n"
                "  - id: cam-1\n"
                "    counter: c1\n"
                "    source: http\n"
                "    url: https://10.0.0.5/onvif/snapshot\n"
                "    username: viewer\n"
                "    password: secret\n"
                "    required: true\n"
                "  - id: cam-2\n"
                "    counter: c2\n"
                "    source: v4l2\n"
                "    device: /dev/video0\n"
                "    capture_on: committed\n");
  ASSERT_TRUE(c) << format_problems(c.error());
  ASSERT_EQ(c->cameras.size(), 2u);
  EXPECT_EQ(c->cameras[0].auth, "auto");
  EXPECT_EQ(c->cameras[0].capture_on, "inspection");
  EXPECT_TRUE(c->cameras[0].required);
  EXPECT_TRUE(c->cameras[0].verify_peer);
  EXPECT_EQ(c->cameras[0].timeout_ms, 5000u);
  EXPECT_EQ(c->cameras[1].device, "/dev/video0");
  EXPECT_EQ(c->cameras[1].format, "auto");
  EXPECT_EQ(c->cameras[1].warmup_frames, 3u);
  EXPECT_EQ(c->evidence.upload, "always");
  EXPECT_EQ(c->evidence.max_total_bytes, 4ull << 30);
}

TEST(Evidence, CameraShapeProblems) {
  auto p = problems(kMinimal +
                    "cameras:\n"
                    "  - id: cam-1\n"
                    "    counter: c9\n"
                    "    source: http\n"
                    "    url: ftp://x/y\n"
                    "  - id: cam-2\n"
                    "    counter: c1\n"
                    "    source: v4l2\n"
                    "    capture_on: committed\n"
                    "    required: true\n");
  EXPECT_THAT(p, ::testing::Contains(HasSubstr("cameras[0].counter: unknown counter \"c9\"")));
  EXPECT_THAT(p, ::testing::Contains(HasSubstr("cameras[0].url: url must start with http://")));
  EXPECT_THAT(p, ::testing::Contains(HasSubstr("cameras[1].device: source v4l2 needs a device")));
  EXPECT_THAT(p, ::testing::Contains(HasSubstr("cameras[1].required: required applies to")));
}

TEST(Evidence, OneCameraPerCounter) {
  auto p = problems(kMinimal +
                    "cameras:\n"
                    "  - {id: a, counter: c1, source: v4l2, device: /dev/video0}\n"
                    "  - {id: b, counter: c1, source: v4l2, device: /dev/video1}\n");
  EXPECT_THAT(p, ::testing::Contains(HasSubstr("duplicate camera for counter \"c1\"")));
}

TEST(Evidence, XrayMachineWithLanesAndMapping) {
  auto c = load(kMinimal +
                "  - id: c2\n"
                "xray:\n"
                "  - id: xr-1\n"
                "    folder: /srv/xray/out\n"
                "    lanes: [\"1:c1\", \"2:c2\"]\n"
                "    format: xml\n"
                "    lane_field: Scan/@lane\n"
                "    time_field: Scan/Time\n"
                "    verdict_field: Scan/Result\n"
                "    image_field: Scan/Image\n"
                "    time_format: pattern\n"
                "    time_pattern: \"%Y-%m-%d %H:%M:%S\"\n"
                "    result_extensions: [.xml]\n"
                "evidence:\n"
                "  upload: on_request\n");
  ASSERT_TRUE(c) << format_problems(c.error());
  ASSERT_EQ(c->xray.size(), 1u);
  EXPECT_THAT(c->xray[0].lanes, ElementsAre("1:c1", "2:c2"));
  EXPECT_EQ(c->xray[0].settle_ms, 1000u);
  EXPECT_EQ(c->xray[0].bind_after_s, 300u);
  EXPECT_EQ(c->evidence.upload, "on_request");
}

TEST(Evidence, XrayProblems) {
  auto p = problems(kMinimal +
                    "xray:\n"
                    "  - id: xr-1\n"
                    "    folder: /srv/a\n"
                    "    lanes: [\"1\", \"2:c7\"]\n"
                    "    lane_field: lane\n"
                    "    time_field: time\n"
                    "    verdict_field: verdict\n"
                    "    image_field: image\n"
                    "    time_format: pattern\n"
                    "  - id: xr-2\n"
                    "    folder: /srv/b\n"
                    "    lane_field: lane\n"
                    "    time_field: time\n"
                    "    verdict_field: verdict\n");
  EXPECT_THAT(p, ::testing::Contains(HasSubstr("xray[0].lanes: lane entry \"1\" is not")));
  EXPECT_THAT(p, ::testing::Contains(HasSubstr("xray[0].lanes: unknown counter \"c7\"")));
  EXPECT_THAT(p, ::testing::Contains(HasSubstr("xray[0].time_pattern: time_format pattern")));
  EXPECT_THAT(p, ::testing::Contains(HasSubstr("xray[1].image_field")));
  EXPECT_THAT(p, ::testing::Contains(HasSubstr("xray[1]: name the counter it feeds")));
}

}  // namespace
}  // namespace postgate::config
