#include "adapters/camera/v4l2_camera.hpp"

#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "adapters/camera/codec/jpeg_check.hpp"
#include "adapters/camera/codec/yuyv.hpp"
#include "adapters/camera/v4l2/linux_video_device.hpp"
#include "camera_test_util.hpp"
#include "fake_video_device.hpp"
#include "test_pattern.hpp"

namespace postgate::adapters::camera {
namespace {

using namespace std::chrono_literals;
using test::Bytes;
using test::FakeVideoDevice;

Bytes fixture(const std::string& name) {
  std::ifstream in(std::string(POSTGATE_CAMERA_FIXTURES) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

double psnr(const std::vector<double>& a, const std::vector<double>& b) {
  double se = 0;
  for (std::size_t i = 0; i < a.size(); ++i) se += (a[i] - b[i]) * (a[i] - b[i]);
  const double mse = se / static_cast<double>(a.size());
  return mse == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

struct Decoded {
  int width = 0, height = 0, subsamp = -1;
  std::vector<unsigned char> rgb;
};

// Decodes with libjpeg-turbo, as anything downstream would.
std::optional<Decoded> decode(const Bytes& jpeg) {
  tjhandle h = tjInitDecompress();
  Decoded d;
  int colorspace = 0;
  bool ok = tjDecompressHeader3(h, jpeg.data(), jpeg.size(), &d.width, &d.height, &d.subsamp,
                                &colorspace) == 0;
  if (ok) {
    d.rgb.resize(static_cast<std::size_t>(d.width) * d.height * 3);
    ok = tjDecompress2(h, jpeg.data(), jpeg.size(), d.rgb.data(), d.width, 0, d.height, TJPF_RGB,
                       0) == 0;
  }
  tjDestroy(h);
  if (!ok) return std::nullopt;
  return d;
}

// The YUYV source as RGB (JFIF full-range BT.601, chroma shared by pairs).
std::vector<double> yuyv_as_rgb(const Bytes& yuyv, unsigned width, unsigned height) {
  std::vector<double> rgb;
  rgb.reserve(std::size_t{width} * height * 3);
  for (unsigned r = 0; r < height; ++r) {
    for (unsigned c = 0; c < width; ++c) {
      const std::uint8_t* px = yuyv.data() + (std::size_t{r} * width + (c & ~1u)) * 2;
      const double y = px[(c & 1) ? 2 : 0], u = px[1] - 128.0, v = px[3] - 128.0;
      const auto clamp = [](double x) { return std::min(255.0, std::max(0.0, x)); };
      rgb.push_back(clamp(y + 1.402 * v));
      rgb.push_back(clamp(y - 0.344136 * u - 0.714136 * v));
      rgb.push_back(clamp(y + 1.772 * u));
    }
  }
  return rgb;
}

class V4l2CameraTest : public ::testing::Test {
 protected:
  V4l2CameraSettings settings() {
    V4l2CameraSettings s;
    s.id = "counter-2-usb";
    s.device = "/dev/v4l/by-id/usb-Test_Camera-video-index0";
    s.width = 320;
    s.height = 240;
    s.timeout = 1s;
    return s;
  }

  std::unique_ptr<V4l2Camera> make(V4l2CameraSettings s) {
    auto d = std::make_unique<FakeVideoDevice>(io);
    device = d.get();
    return std::make_unique<V4l2Camera>(io, std::move(s), std::move(d), clock);
  }

  // Warm-up frames that would fail any check if they were used.
  void warmup(unsigned n) {
    for (unsigned i = 0; i < n; ++i)
      device->steps.push_back(FakeVideoDevice::frame(Bytes{0xDE, 0xAD, 0xBE, 0xEF}));
  }

  boost::asio::io_context io;
  test::FixedClock clock;
  FakeVideoDevice* device = nullptr;
};

TEST_F(V4l2CameraTest, MjpegWithoutHuffmanTablesBecomesADecodableStill) {
  auto cam = make(settings());
  warmup(3);
  const Bytes mjpeg = fixture("mjpeg_no_dht_320x240.jpg");
  ASSERT_TRUE(check_jpeg(mjpeg));
  ASSERT_FALSE(check_jpeg(mjpeg)->has_huffman_tables);
  device->steps.push_back(FakeVideoDevice::frame(mjpeg));
  auto out = test::capture_once(*cam, io);
  ASSERT_TRUE(out.ok()) << out.error().code << ": " << out.error().message;
  const Still& s = **out.result;
  EXPECT_EQ(s.camera_id, "counter-2-usb");
  EXPECT_EQ(s.width, 320u);
  EXPECT_EQ(s.height, 240u);
  EXPECT_EQ(s.captured_at, clock.t);
  EXPECT_TRUE(check_jpeg(s.jpeg)->has_huffman_tables);
  auto decoded = decode(s.jpeg);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->width, 320);
  EXPECT_EQ(decoded->subsamp, TJSAMP_422);
  // And what it shows is the pattern the fixture was made from.
  const auto source = yuyv_as_rgb(test::yuyv_pattern(320, 240), 320, 240);
  EXPECT_GT(psnr(std::vector<double>(decoded->rgb.begin(), decoded->rgb.end()), source), 30.0);

  EXPECT_EQ(device->opened_path, "/dev/v4l/by-id/usb-Test_Camera-video-index0");
  ASSERT_TRUE(device->requested);
  EXPECT_EQ(device->requested->width, 320u);
  EXPECT_EQ(device->requested->preference, FormatPreference::automatic);
  EXPECT_EQ(device->frames_taken, 4);
  EXPECT_EQ(device->starts, 1);
  EXPECT_FALSE(device->is_open);
}

TEST_F(V4l2CameraTest, YuyvIsEncodedAndDecodesBackClose) {
  auto s = settings();
  s.format = FormatPreference::yuyv;
  s.warmup_frames = 0;
  auto cam = make(s);
  const Bytes yuyv = fixture("yuyv_320x240.raw");
  ASSERT_EQ(yuyv.size(), 320u * 240 * 2);
  device->steps.push_back(FakeVideoDevice::frame(yuyv));
  auto out = test::capture_once(*cam, io);
  ASSERT_TRUE(out.ok()) << out.error().code << ": " << out.error().message;
  const Still& still = **out.result;
  EXPECT_EQ(still.width, 320u);
  EXPECT_EQ(still.height, 240u);
  auto info = check_jpeg(still.jpeg);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->width, 320u);

  // Decoded to RGB, against the source converted the JFIF way.
  auto decoded = decode(still.jpeg);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->subsamp, TJSAMP_422);
  const double rgb_psnr = psnr(std::vector<double>(decoded->rgb.begin(), decoded->rgb.end()),
                               yuyv_as_rgb(yuyv, 320, 240));
  EXPECT_GT(rgb_psnr, 30.0);

  // Decoded to planes, against the source planes: the encoder kept Y, U and V.
  auto planes = yuyv_to_planes(yuyv, 320, 240, 640);
  ASSERT_TRUE(planes);
  std::vector<unsigned char> y(320 * 240), u(160 * 240), v(160 * 240);
  unsigned char* dst[3] = {y.data(), u.data(), v.data()};
  int strides[3] = {320, 160, 160};
  tjhandle h = tjInitDecompress();
  ASSERT_EQ(
      tjDecompressToYUVPlanes(h, still.jpeg.data(), still.jpeg.size(), dst, 320, strides, 240, 0),
      0);
  tjDestroy(h);
  const auto as_double = [](const auto& p) { return std::vector<double>(p.begin(), p.end()); };
  EXPECT_GT(psnr(as_double(y), as_double(planes->y)), 35.0);
  EXPECT_GT(psnr(as_double(u), as_double(planes->u)), 35.0);
  EXPECT_GT(psnr(as_double(v), as_double(planes->v)), 35.0);
}

TEST_F(V4l2CameraTest, AutoTakesYuyvWhenThatIsAllThereIs) {
  auto s = settings();
  s.warmup_frames = 1;
  auto cam = make(s);
  device->offers = {PixelFormat::yuyv};
  device->native_width = 64;
  device->native_height = 48;
  warmup(1);
  device->steps.push_back(FakeVideoDevice::frame(test::yuyv_pattern(64, 48)));
  auto out = test::capture_once(*cam, io);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ((*out.result)->width, 64u);  // what the device gave, not what was asked
}

TEST_F(V4l2CameraTest, UnsupportedFormat) {
  auto s = settings();
  s.format = FormatPreference::mjpeg;
  auto cam = make(s);
  device->offers = {PixelFormat::yuyv};
  auto out = test::capture_once(*cam, io);
  EXPECT_EQ(out.code(), "camera_unsupported_format");
  EXPECT_FALSE(device->is_open);
}

TEST_F(V4l2CameraTest, MissingDeviceIsAbsent) {
  auto cam = make(settings());
  device->open_error = core::Error{"camera_absent", "device", "no such device"};
  auto out = test::capture_once(*cam, io);
  EXPECT_EQ(out.code(), "camera_absent");
  EXPECT_LT(out.elapsed, 100ms);
}

TEST_F(V4l2CameraTest, DeviceVanishingMidCaptureIsAbsent) {
  auto cam = make(settings());
  warmup(2);
  device->steps.push_back(FakeVideoDevice::error("camera_absent", "unplugged"));
  auto out = test::capture_once(*cam, io);
  EXPECT_EQ(out.code(), "camera_absent");
  EXPECT_FALSE(device->is_open);
  EXPECT_EQ(device->stops, 1);
}

TEST_F(V4l2CameraTest, NoFrameTimesOutAndTheNextCaptureWorks) {
  auto s = settings();
  s.timeout = 300ms;
  auto cam = make(s);
  warmup(1);  // then silence
  auto out = test::capture_once(*cam, io);
  EXPECT_EQ(out.code(), "camera_timeout");
  EXPECT_GE(out.elapsed, 290ms);
  EXPECT_LE(out.elapsed, 300ms + 200ms);
  EXPECT_FALSE(device->is_open);

  warmup(3);
  device->steps.push_back(FakeVideoDevice::frame(fixture("mjpeg_no_dht_320x240.jpg")));
  EXPECT_TRUE(test::capture_once(*cam, io).ok());
  EXPECT_EQ(device->opens, 2);
}

TEST_F(V4l2CameraTest, SlowFramesTimeOutOnTime) {
  auto s = settings();
  s.timeout = 300ms;
  auto cam = make(s);
  for (int i = 0; i < 10; ++i) {
    auto step = FakeVideoDevice::frame(Bytes{1, 2, 3});
    step.after = 100ms;
    device->steps.push_back(std::move(step));
  }
  auto out = test::capture_once(*cam, io);
  EXPECT_EQ(out.code(), "camera_timeout");
  EXPECT_LE(out.elapsed, 300ms + 200ms);
}

TEST_F(V4l2CameraTest, TornAndFlaggedFramesAreSkippedThenGivenUpOn) {
  const Bytes good = fixture("mjpeg_no_dht_320x240.jpg");
  const Bytes torn(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
  {
    auto cam = make(settings());
    warmup(3);
    device->steps.push_back(FakeVideoDevice::frame(torn));
    device->steps.push_back(FakeVideoDevice::frame(good, /*corrupt=*/true));
    device->steps.push_back(FakeVideoDevice::frame(good));
    auto out = test::capture_once(*cam, io);
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(device->frames_taken, 6);
  }
  {
    auto cam = make(settings());
    warmup(3);
    for (int i = 0; i < 3; ++i) device->steps.push_back(FakeVideoDevice::frame(torn));
    device->steps.push_back(FakeVideoDevice::frame(good));
    auto out = test::capture_once(*cam, io);
    EXPECT_EQ(out.code(), "camera_bad_jpeg");
    EXPECT_NE(out.error().message.find("truncated"), std::string::npos);
    EXPECT_EQ(device->frames_taken, 6);
  }
}

TEST_F(V4l2CameraTest, ShortYuyvFrameIsBadFrame) {
  auto s = settings();
  s.format = FormatPreference::yuyv;
  s.warmup_frames = 0;
  s.bad_frame_retries = 0;
  auto cam = make(s);
  device->steps.push_back(FakeVideoDevice::frame(Bytes(1000, 0x80)));
  EXPECT_EQ(test::capture_once(*cam, io).code(), "camera_bad_frame");
}

TEST_F(V4l2CameraTest, BusyStopAndDestroy) {
  auto cam = make(settings());
  std::vector<std::string> seen;
  const auto record = [&](core::Result<Still> r) { seen.push_back(r ? "still" : r.error().code); };
  cam->capture(record);
  cam->capture(record);
  EXPECT_TRUE(seen.empty());
  io.run_for(50ms);  // the fake has no frames: the first capture waits
  EXPECT_EQ(seen, std::vector<std::string>{"camera_busy"});
  cam->stop();
  EXPECT_EQ(seen, (std::vector<std::string>{"camera_busy", "cancelled"}));
  EXPECT_FALSE(device->is_open);
  io.restart();
  io.run_for(50ms);
  EXPECT_EQ(seen.size(), 2u);

  cam->capture(record);
  io.restart();
  io.run_for(20ms);
  cam.reset();
  EXPECT_EQ(seen.back(), "cancelled");
  EXPECT_EQ(seen.size(), 3u);
  io.restart();
  io.run_for(50ms);
  EXPECT_EQ(seen.size(), 3u);
}

// The real device, where there is no camera: its error paths.
TEST(LinuxVideoDevice, MissingPathIsAbsent) {
  boost::asio::io_context io;
  LinuxVideoDevice dev(io);
  auto s = dev.open("/dev/video-postgate-test-missing");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, "camera_absent");
  auto f = dev.negotiate({});
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, "camera_device_error");
  int calls = 0;
  dev.next_frame([&](core::Result<VideoFrame> r) {
    ++calls;
    EXPECT_FALSE(r);
  });
  EXPECT_EQ(calls, 0);
  io.run();
  EXPECT_EQ(calls, 1);
}

TEST(LinuxVideoDevice, NotAVideoDevice) {
  boost::asio::io_context io;
  LinuxVideoDevice dev(io);
  auto s = dev.open("/dev/null");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, "camera_device_error");
  EXPECT_NE(s.error().message.find("not a V4L2 device"), std::string::npos);
  dev.close();
  dev.close();
}

TEST(V4l2CameraReal, MissingDeviceCaptureIsAbsentAndQuick) {
  boost::asio::io_context io;
  V4l2CameraSettings s;
  s.id = "cam";
  s.device = "/dev/v4l/by-id/usb-postgate-test-missing-video-index0";
  auto cam = V4l2Camera::create(io, s);
  ASSERT_TRUE(cam) << cam.error().message;
  auto out = test::capture_once(**cam, io);
  EXPECT_EQ(out.code(), "camera_absent");
  EXPECT_LT(out.elapsed, 100ms);
}

TEST(V4l2CameraReal, CreateChecksSettings) {
  boost::asio::io_context io;
  const auto code = [&](V4l2CameraSettings s) {
    auto c = V4l2Camera::create(io, std::move(s));
    return c ? std::string("ok") : c.error().code + "/" + c.error().field;
  };
  V4l2CameraSettings s;
  s.id = "cam";
  s.device = "/dev/video0";
  EXPECT_EQ(code(s), "ok");
  auto q = s;
  q.jpeg_quality = 0;
  EXPECT_EQ(code(q), "bad_setting/jpeg_quality");
  auto d = s;
  d.device.clear();
  EXPECT_EQ(code(d), "bad_setting/device");
  auto w = s;
  w.width = 0;
  EXPECT_EQ(code(w), "bad_setting/width");
  auto t = s;
  t.timeout = 0ms;
  EXPECT_EQ(code(t), "bad_setting/timeout");
}

}  // namespace
}  // namespace postgate::adapters::camera
