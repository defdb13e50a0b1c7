// The USB drivers (HID scanner, HID MRZ reader, bulk ID-card reader) as the
// daemon runs them, against umockdev devices: their DeviceSink output for
// good and garbage input, and across unplug and re-plug.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "adapters/transport/usb/usb_context.hpp"
#include "core/identity.hpp"
#include "driver_test_support.hpp"
#include "usb_testbed.hpp"

#ifdef POSTGATE_HAVE_USB_SCANNER
#include "adapters/scanner/usb_hid_scanner.hpp"
#endif
#ifdef POSTGATE_HAVE_USB_MRZ
#include "adapters/mrz/usb_hid_mrz_reader.hpp"
#endif
#ifdef POSTGATE_HAVE_USB_IDCARD
#include "adapters/idcard/usb_idcard_reader.hpp"
#endif

namespace postgate::adapters {
namespace {

using namespace std::chrono_literals;
using test::run_until;
using test::UsbTestbed;

using test::SinkLog;
using test::TestClock;

std::map<std::string, std::string> expected() {
  std::map<std::string, std::string> m;
  std::ifstream in(test::usb_fixture("idcard_expected.txt"));
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    m[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return m;
}

// GB 11643 check character, so no complete number is written in the source.
std::string with_check_digit(const std::string& first17) {
  static const int w[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int s = 0;
  for (int i = 0; i < 17; ++i) s += (first17[static_cast<std::size_t>(i)] - '0') * w[i];
  return first17 + "10X98765432"[s % 11];
}

class UsbDrivers : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!bed.mocked()) GTEST_SKIP() << "not under umockdev-wrapper";
    usb::UsbContextSettings cs;
    cs.rescan_interval = 200ms;
    auto c = usb::UsbContext::create(io, cs);
    ASSERT_TRUE(c) << c.error().message;
    ctx = std::move(*c);
  }
  UsbTestbed bed;
  boost::asio::io_context io;
  std::unique_ptr<usb::UsbContext> ctx;
  TestClock clock;
  SinkLog log;
};

#ifdef POSTGATE_HAVE_USB_SCANNER
scanner::UsbHidScannerSettings scanner_settings() {
  scanner::UsbHidScannerSettings s;
  s.link.match = usb::DeviceMatch{0x05e0, 0x1200, {}, {}};
  s.keyboard.inter_key_timeout = 2000ms;  // replay is instant; keep runs whole
  return s;
}

TEST_F(UsbDrivers, ScannerReportsBecomeBarcodes) {
  bed.add("scanner_a");
  bed.load_ioctl("/dev/bus/usb/001/002", "scanner_a");
  scanner::UsbHidScanner dev(io, *ctx, scanner_settings(), log.sink(), clock);
  dev.start();
  ASSERT_TRUE(log.in_state(DeviceState::attached));
  ASSERT_TRUE(run_until(io, [&] { return log.scans().size() >= 2; }));
  // The replay starts over when it ends: the first two are the recording.
  EXPECT_EQ(log.scans()[0], "RA123456785GB");
  EXPECT_EQ(log.scans()[1], "PG:OK");
  EXPECT_TRUE(log.errors.empty()) << log.error_codes();
  dev.stop();
  auto n = log.events.size();
  io.run_for(50ms);
  EXPECT_EQ(log.events.size(), n) << "sink called after stop()";
}

TEST_F(UsbDrivers, ScannerGarbageGivesErrorsThenScans) {
  bed.add("scanner_a");
  bed.load_ioctl("/dev/bus/usb/001/002", "scanner_garbage");
  scanner::UsbHidScanner dev(io, *ctx, scanner_settings(), log.sink(), clock);
  dev.start();
  ASSERT_TRUE(run_until(io, [&] { return !log.scans().empty(); }))
      << "errors: " << log.error_codes() << " state: " << log.states.back().second;
  EXPECT_FALSE(log.errors.empty());
  EXPECT_EQ(log.scans()[0], "X1");
  dev.stop();
}

TEST_F(UsbDrivers, ScannerUnplugAndReplug) {
  auto sys = bed.add("scanner_a");
  bed.load_ioctl("/dev/bus/usb/001/002", "scanner_a");
  scanner::UsbHidScanner dev(io, *ctx, scanner_settings(), log.sink(), clock);
  dev.start();
  ASSERT_TRUE(run_until(io, [&] { return !log.scans().empty(); }));
  bed.unplug(sys);
  ASSERT_TRUE(run_until(io, [&] { return log.in_state(DeviceState::absent); }));
  EXPECT_EQ(log.states.back().second, "unplugged");
  EXPECT_EQ(dev.state(), DeviceState::absent);
  auto scans = log.scans().size();
  sys = bed.add("scanner_a");
  bed.load_ioctl("/dev/bus/usb/001/002", "scanner_a");
  bed.uevent(sys, "add");
  ASSERT_TRUE(run_until(io, [&] { return log.in_state(DeviceState::attached); }));
  ASSERT_TRUE(run_until(io, [&] { return log.scans().size() > scans; }));
  // After re-plug a scan starts clean: no half run from before the unplug.
  EXPECT_EQ(log.scans()[scans], "RA123456785GB");
  dev.stop();
}

TEST_F(UsbDrivers, HidPosScannerReassemblesContinuedScans) {
  bed.add("scanner_pos");
  bed.load_ioctl("/dev/bus/usb/001/006", "scanner_pos");
  scanner::UsbHidScannerSettings s;
  s.link.match = usb::DeviceMatch{0x05e0, 0x1300, {}, {}};
  s.protocol = scanner::HidScannerProtocol::pos;
  scanner::UsbHidScanner dev(io, *ctx, s, log.sink(), clock);
  dev.start();
  ASSERT_TRUE(run_until(io, [&] { return log.scans().size() >= 2; })) << log.error_codes();
  std::string qr = "PG:WAYBILL:RA123456785GB:";
  for (int i = 0; i < 5; ++i) qr += "0123456789";
  EXPECT_EQ(log.scans()[0], qr);  // 75 bytes: two reports of at most 56
  EXPECT_EQ(log.scans()[1], "RA123456785GB");
  EXPECT_TRUE(log.errors.empty()) << log.error_codes();
  dev.stop();
}

// A sink that stops the driver from inside its own callback: the driver
// must return without touching freed state (ASan build) and call nothing more.
TEST_F(UsbDrivers, ScannerStoppedFromInsideTheSink) {
  bed.add("scanner_a");
  bed.load_ioctl("/dev/bus/usb/001/002", "scanner_a");
  std::unique_ptr<scanner::UsbHidScanner> dev;
  int inputs = 0;
  DeviceSink sink = log.sink();
  sink.input = [&](const core::WorkflowEvent&) {
    ++inputs;
    dev->stop();
  };
  dev = std::make_unique<scanner::UsbHidScanner>(io, *ctx, scanner_settings(), sink, clock);
  dev->start();
  ASSERT_TRUE(run_until(io, [&] { return inputs > 0; }));
  io.run_for(50ms);
  EXPECT_EQ(inputs, 1);
  dev.reset();
  io.run_for(20ms);
}

// Shutdown at any moment: drivers destroyed after a varying share of their
// first exchanges, with transfers in flight or completions queued.
TEST_F(UsbDrivers, StopAtAnyMoment) {
  bed.add("scanner_a");
  bed.load_ioctl("/dev/bus/usb/001/002", "scanner_a");
  for (int i = 0; i < 12; ++i) {
    auto dev =
        std::make_unique<scanner::UsbHidScanner>(io, *ctx, scanner_settings(), log.sink(), clock);
    dev->start();
    for (int k = 0; k < i; ++k) io.poll_one();
    dev.reset();
  }
  io.run_for(20ms);
  SUCCEED();
}

TEST_F(UsbDrivers, TwoScannersByPort) {
  bed.add("scanner_a");
  bed.add("scanner_b");
  bed.load_ioctl("/dev/bus/usb/001/003", "scanner_b");
  auto s = scanner_settings();
  s.link.match.port_path = "1-2";
  scanner::UsbHidScanner dev(io, *ctx, s, log.sink(), clock);
  dev.start();
  ASSERT_TRUE(run_until(io, [&] { return !log.scans().empty(); }));
  EXPECT_EQ(log.scans()[0], "9876543210");
  dev.stop();
}
#endif

#ifdef POSTGATE_HAVE_USB_MRZ
TEST_F(UsbDrivers, MrzReaderZoneBecomesIdentity) {
  bed.add("scanner_a");
  bed.load_ioctl("/dev/bus/usb/001/002", "mrz");
  mrz::UsbHidMrzReaderSettings s;
  s.link.match = usb::DeviceMatch{0x05e0, 0x1200, {}, {}};
  s.reader.keyboard.inter_key_timeout = 2000ms;
  mrz::UsbHidMrzReader dev(io, *ctx, s, log.sink(), clock);
  dev.start();
  ASSERT_TRUE(run_until(io, [&] { return !log.events.empty(); }));
  auto ids = log.identities();
  ASSERT_EQ(ids.size(), 1u) << log.error_codes();
  EXPECT_EQ(ids[0].number, expected()["mrz_number"]);
  dev.stop();
}
#endif

#ifdef POSTGATE_HAVE_USB_IDCARD
idcard::UsbIdCardReaderSettings reader_settings() {
  idcard::UsbIdCardReaderSettings s;
  s.link.match = usb::DeviceMatch{0x0400, 0xc35a, {}, {}};
  s.session.poll_interval = 20ms;
  return s;
}

TEST_F(UsbDrivers, IdCardReadGivesMaskedIdentity) {
  bed.add("idcard");
  bed.load_ioctl("/dev/bus/usb/001/004", "idcard");
  idcard::UsbIdCardReader dev(io, *ctx, reader_settings(), log.sink(), clock);
  dev.start();
  ASSERT_TRUE(log.in_state(DeviceState::attached));
  ASSERT_TRUE(run_until(io, [&] { return !log.events.empty(); })) << log.error_codes();
  auto ids = log.identities();
  ASSERT_EQ(ids.size(), 1u) << log.error_codes();
  const std::string number = with_check_digit(expected()["number17"]);
  // Compared masked, so a failure never prints a whole number.
  EXPECT_EQ(core::mask_number(ids[0].type, ids[0].number), core::mask_number(ids[0].type, number));
  EXPECT_EQ(ids[0].number == number, true);
  // The card stays on the reader: polling goes on, no second event.
  io.run_for(200ms);
  EXPECT_EQ(log.identities().size(), 1u);
  EXPECT_TRUE(log.in_state(DeviceState::attached));
  dev.stop();
}

TEST_F(UsbDrivers, IdCardSplitEndpointsReader) {
  bed.add("idcard_split");
  bed.load_ioctl("/dev/bus/usb/001/005", "idcard_split");
  auto s = reader_settings();
  s.out_body_endpoint = 0x06;
  s.in_body_endpoint = 0x85;
  idcard::UsbIdCardReader dev(io, *ctx, s, log.sink(), clock);
  dev.start();
  ASSERT_TRUE(log.in_state(DeviceState::attached));
  ASSERT_TRUE(run_until(io, [&] { return !log.events.empty(); })) << log.error_codes();
  auto ids = log.identities();
  ASSERT_EQ(ids.size(), 1u) << log.error_codes();
  EXPECT_EQ(ids[0].number == with_check_digit(expected()["number17"]), true);
  EXPECT_TRUE(log.errors.empty()) << log.error_codes();
  dev.stop();
}

TEST_F(UsbDrivers, IdCardStopAtAnyMoment) {
  bed.add("idcard");
  bed.load_ioctl("/dev/bus/usb/001/004", "idcard");
  for (int i = 0; i < 16; ++i) {
    auto dev =
        std::make_unique<idcard::UsbIdCardReader>(io, *ctx, reader_settings(), log.sink(), clock);
    dev->start();
    for (int k = 0; k < i * 3; ++k) io.poll_one();
    dev.reset();
  }
  io.run_for(20ms);
  EXPECT_TRUE(log.identities().size() <= 16u);
}

TEST_F(UsbDrivers, IdCardGarbageGivesErrorsNotIdentity) {
  bed.add("idcard");
  bed.load_ioctl("/dev/bus/usb/001/004", "idcard_garbage");
  idcard::UsbIdCardReader dev(io, *ctx, reader_settings(), log.sink(), clock);
  dev.start();
  ASSERT_TRUE(run_until(io, [&] { return log.failed_reads() > 0; }))
      << "errors: " << log.error_codes();
  EXPECT_TRUE(log.identities().empty());
  EXPECT_FALSE(log.errors.empty());
  dev.stop();
}

TEST_F(UsbDrivers, IdCardUnplugAndReplugReadsAgain) {
  auto sys = bed.add("idcard");
  bed.load_ioctl("/dev/bus/usb/001/004", "idcard");
  idcard::UsbIdCardReader dev(io, *ctx, reader_settings(), log.sink(), clock);
  dev.start();
  ASSERT_TRUE(run_until(io, [&] { return log.identities().size() == 1; }));
  bed.unplug(sys);
  ASSERT_TRUE(run_until(io, [&] { return log.in_state(DeviceState::absent); }));
  EXPECT_EQ(log.states.back().second, "unplugged");
  sys = bed.add("idcard");
  bed.load_ioctl("/dev/bus/usb/001/004", "idcard");
  bed.uevent(sys, "add");
  ASSERT_TRUE(run_until(io, [&] { return log.identities().size() == 2; }))
      << "errors: " << log.error_codes();
  dev.stop();
}
#endif

}  // namespace
}  // namespace postgate::adapters
