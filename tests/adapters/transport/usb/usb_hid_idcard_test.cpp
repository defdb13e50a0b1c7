// The ID-card reader that carries SAM frames in HID reports, as the daemon
// runs it, against umockdev readers (fixtures/idcard_hid*): interrupt OUT or
// SET_REPORT, with and without a report id, replies spread over many padded
// reports, garbage, unplug and re-plug.
#include <gtest/gtest.h>

#ifdef POSTGATE_HAVE_USB_IDCARD
#include <boost/asio/io_context.hpp>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "adapters/idcard/usb_hid_idcard_reader.hpp"
#include "adapters/transport/usb/usb_context.hpp"
#include "core/identity.hpp"
#include "driver_test_support.hpp"
#include "usb_testbed.hpp"

namespace postgate::adapters {
namespace {

using namespace std::chrono_literals;
using test::run_until;
using test::UsbTestbed;

using test::SinkLog;
using test::TestClock;

// The synthetic number of the fixtures: the first 17 digits are in
// idcard_expected.txt; the GB 11643 check character is computed here, so no
// complete number is written in the source.
std::string synthetic_number() {
  std::ifstream in(test::usb_fixture("idcard_expected.txt"));
  std::string line, first17;
  while (std::getline(in, line))
    if (line.rfind("number17=", 0) == 0) first17 = line.substr(9);
  if (first17.size() != 17) return {};
  static const int w[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int s = 0;
  for (std::size_t i = 0; i < 17; ++i) s += (first17[i] - '0') * w[i];
  return first17 + "10X98765432"[s % 11];
}

// Sysfs paths of the fixtures' readers (see make_fixtures.py).
const std::string kHidSys = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-6";
const std::string kHidNode = "/dev/bus/usb/001/007";
const std::string kCtrlNode = "/dev/bus/usb/001/008";

idcard::UsbHidIdCardReaderSettings hid_settings() {
  idcard::UsbHidIdCardReaderSettings s;
  s.link.match = usb::DeviceMatch{0x0400, 0xc35b, {}, {}};
  s.session.poll_interval = 20ms;
  return s;
}

class UsbHidIdCard : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!bed.mocked()) GTEST_SKIP() << "not under umockdev-wrapper";
    usb::UsbContextSettings cs;
    cs.rescan_interval = 200ms;
    auto c = usb::UsbContext::create(io, cs);
    ASSERT_TRUE(c) << c.error().message;
    ctx = std::move(*c);
  }
  // Expects exactly one identity, the fixtures' synthetic resident.
  void expect_the_resident() {
    auto ids = log.identities();
    ASSERT_EQ(ids.size(), 1u) << log.error_codes();
    const std::string number = synthetic_number();
    ASSERT_FALSE(number.empty());
    // Compared masked, so a failure never prints a whole number.
    EXPECT_EQ(core::mask_number(ids[0].type, ids[0].number),
              core::mask_number(ids[0].type, number));
    EXPECT_EQ(ids[0].number == number, true);
  }
  UsbTestbed bed;
  boost::asio::io_context io;
  std::unique_ptr<usb::UsbContext> ctx;
  TestClock clock;
  SinkLog log;
};

TEST(UsbHidIdCardSettings, CheckRejectsUnusableFraming) {
  idcard::UsbHidIdCardReaderSettings s;
  EXPECT_TRUE(idcard::check(s));
  s.report_id = 1;
  s.report_size = 1;
  EXPECT_FALSE(idcard::check(s));
  s.report_size = 64;
  s.out_endpoint = 0x81;
  EXPECT_FALSE(idcard::check(s));
  s.out_endpoint = 0;
  EXPECT_TRUE(idcard::check(s));
  s.in_endpoint = 0x01;
  EXPECT_FALSE(idcard::check(s));
}

TEST_F(UsbHidIdCard, ReadOverInterruptReportsGivesMaskedIdentity) {
  bed.add("idcard_hid");
  bed.load_ioctl(kHidNode, "idcard_hid");
  idcard::UsbHidIdCardReader dev(io, *ctx, hid_settings(), log.sink(), clock);
  int cards = 0;
  dev.on_card([&](const idcard::CardText&, const std::optional<idcard::Bytes>& photo) {
    ++cards;
    EXPECT_FALSE(photo.has_value());  // keep_photo is off
  });
  EXPECT_EQ(dev.payload_size(), 64u);
  auto reports = dev.reports_for(idcard::read_text_photo_command());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].size(), 64u);
  EXPECT_EQ(reports[0][10], 0);  // zero padding after the 10-byte frame
  dev.start();
  ASSERT_TRUE(log.in_state(DeviceState::attached));
  // The read reply (1295 bytes) arrives as 21 reports, the last one padded.
  ASSERT_TRUE(run_until(io, [&] { return !log.events.empty(); })) << log.error_codes();
  expect_the_resident();
  EXPECT_EQ(cards, 1);
  // Padding after each reply's checksum never reaches the frame decoder.
  EXPECT_TRUE(log.errors.empty()) << log.error_codes();
  // The card stays on the reader: polling goes on, no second event.
  io.run_for(200ms);
  EXPECT_EQ(log.identities().size(), 1u);
  EXPECT_TRUE(log.in_state(DeviceState::attached));
  EXPECT_TRUE(log.errors.empty()) << log.error_codes();
  dev.stop();
}

TEST_F(UsbHidIdCard, ReportIdIsStrippedAndForeignReportsSkipped) {
  bed.add("idcard_hid");
  bed.load_ioctl(kHidNode, "idcard_hid_id");
  auto s = hid_settings();
  s.report_id = 0x01;
  idcard::UsbHidIdCardReader dev(io, *ctx, s, log.sink(), clock);
  EXPECT_EQ(dev.payload_size(), 63u);
  dev.start();
  ASSERT_TRUE(run_until(io, [&] { return !log.events.empty(); })) << log.error_codes();
  expect_the_resident();
  // The stray report with id 0x07 was counted, not decoded.
  EXPECT_TRUE(log.has_error("hid_report_id")) << log.error_codes();
  dev.stop();
}

TEST_F(UsbHidIdCard, SetReportReaderWithoutOutEndpoint) {
  bed.add("idcard_hid_ctrl");
  bed.load_ioctl(kCtrlNode, "idcard_hid_ctrl");
  auto s = hid_settings();
  s.link.match = usb::DeviceMatch{0x0400, 0xc35c, {}, {}};
  s.out_endpoint = 0;  // SET_REPORT
  s.report_id = 0x02;
  idcard::UsbHidIdCardReader dev(io, *ctx, s, log.sink(), clock);
  dev.start();
  ASSERT_TRUE(log.in_state(DeviceState::attached));
  ASSERT_TRUE(run_until(io, [&] { return !log.events.empty(); })) << log.error_codes();
  expect_the_resident();
  EXPECT_TRUE(log.errors.empty()) << log.error_codes();
  dev.stop();
}

TEST_F(UsbHidIdCard, GarbageReportsGiveErrorsNotIdentity) {
  bed.add("idcard_hid");
  bed.load_ioctl(kHidNode, "idcard_hid_garbage");
  idcard::UsbHidIdCardReader dev(io, *ctx, hid_settings(), log.sink(), clock);
  dev.start();
  ASSERT_TRUE(run_until(io, [&] { return log.failed_reads() > 0; }))
      << "errors: " << log.error_codes();
  EXPECT_TRUE(log.identities().empty());
  EXPECT_TRUE(log.has_error("garbage")) << log.error_codes();
  EXPECT_TRUE(log.has_error("bad_checksum")) << log.error_codes();
  EXPECT_TRUE(log.in_state(DeviceState::attached));
  dev.stop();
}

TEST_F(UsbHidIdCard, InvalidSettingsMarkTheReaderFailed) {
  bed.add("idcard_hid");
  bed.load_ioctl(kHidNode, "idcard_hid");
  auto s = hid_settings();
  s.report_id = 0x01;
  s.report_size = 1;  // no room for frame bytes
  idcard::UsbHidIdCardReader dev(io, *ctx, s, log.sink(), clock);
  dev.start();
  ASSERT_TRUE(log.in_state(DeviceState::failed));
  EXPECT_NE(log.states.back().second.find("report_size"), std::string::npos);
  io.run_for(50ms);
  EXPECT_TRUE(log.events.empty());
  dev.stop();
}

TEST_F(UsbHidIdCard, UnplugAndReplugReadsAgain) {
  bed.add("idcard_hid");
  bed.load_ioctl(kHidNode, "idcard_hid");
  idcard::UsbHidIdCardReader dev(io, *ctx, hid_settings(), log.sink(), clock);
  dev.start();
  ASSERT_TRUE(run_until(io, [&] { return log.identities().size() == 1; }));
  bed.unplug(kHidSys);
  ASSERT_TRUE(run_until(io, [&] { return log.in_state(DeviceState::absent); }));
  EXPECT_EQ(log.states.back().second, "unplugged");
  bed.add("idcard_hid");
  bed.load_ioctl(kHidNode, "idcard_hid");
  bed.uevent(kHidSys, "add");
  // The card on the re-plugged reader is a new placement.
  ASSERT_TRUE(run_until(io, [&] { return log.identities().size() == 2; }))
      << "errors: " << log.error_codes();
  dev.stop();
}

TEST_F(UsbHidIdCard, StopAtAnyMoment) {
  bed.add("idcard_hid");
  bed.load_ioctl(kHidNode, "idcard_hid");
  for (int i = 0; i < 16; ++i) {
    auto dev =
        std::make_unique<idcard::UsbHidIdCardReader>(io, *ctx, hid_settings(), log.sink(), clock);
    dev->start();
    for (int k = 0; k < i * 5; ++k) io.poll_one();
    dev.reset();
  }
  io.run_for(20ms);
  EXPECT_TRUE(log.identities().size() <= 16u);
}

}  // namespace
}  // namespace postgate::adapters
#endif
