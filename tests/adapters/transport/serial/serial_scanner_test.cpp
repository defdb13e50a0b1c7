// The serial scanner driver over a pty: lines to BarcodeScanned, slow
// bytes, bad lines, unplug mid-line.
#include <gtest/gtest.h>

#include "adapters/scanner/serial_scanner.hpp"
#include "core/synthetic.hpp"
#include "device_recorder.hpp"
#include "pty_device.hpp"

namespace postgate::adapters::scanner {
namespace {

using namespace std::chrono_literals;
using test::PtyDevice;
using test::run_until;

std::vector<std::uint8_t> bytes_of(std::string_view s) {
  return {s.begin(), s.end()};
}

class SerialScannerTest : public ::testing::Test {
 protected:
  SerialScannerSettings settings() {
    SerialScannerSettings s;
    s.link.path = (dir.path() / "scanner").string();
    s.link.reopen_min = 20ms;
    s.link.reopen_max = 100ms;
    return s;
  }
  std::unique_ptr<SerialScanner> make_scanner(SerialScannerSettings s) {
    auto r = std::make_unique<SerialScanner>(io, std::move(s), rec.sink());
    r->start();
    return r;
  }
  std::unique_ptr<SerialScanner> make_scanner() { return make_scanner(settings()); }
  bool wait_scans(std::size_t n) {
    return run_until(io, [&] { return rec.scans().size() >= n; });
  }

  boost::asio::io_context io;
  test::TempDir dir;
  test::DeviceRecorder rec;
};

TEST_F(SerialScannerTest, LinesBecomeScans) {
  PtyDevice dev(io, settings().link.path);
  auto scanner = make_scanner();
  ASSERT_EQ(scanner->state(), DeviceState::attached);
  EXPECT_NE(scanner->detail().find("9600 8N1"), std::string::npos);
  core::SplitMix64 random(3);
  const std::string waybill = core::make_s10(random);
  dev.write(waybill + "\r\nPG:OK\r\n二维码内容\n");
  ASSERT_TRUE(wait_scans(3));
  EXPECT_EQ(rec.scans(), (std::vector<std::string>{waybill, "PG:OK", "二维码内容"}));
  EXPECT_TRUE(rec.errors.empty());
}

TEST_F(SerialScannerTest, SlowBytesAndArbitrarySplits) {
  PtyDevice dev(io, settings().link.path);
  auto scanner = make_scanner();
  dev.write_slowly(bytes_of("EA000000001CN\r\n"), 1, 2ms);
  dev.write_pieces({bytes_of("PG:LO"), bytes_of("GIN:op"), bytes_of("1\r"), bytes_of("\n")}, 1ms);
  ASSERT_TRUE(wait_scans(2));
  EXPECT_EQ(rec.scans(), (std::vector<std::string>{"EA000000001CN", "PG:LOGIN:op1"}));
  EXPECT_TRUE(rec.errors.empty());
}

TEST_F(SerialScannerTest, BadLineIsAnErrorAndTheNextLineScans) {
  PtyDevice dev(io, settings().link.path);
  auto scanner = make_scanner();
  dev.write(std::string("EA\x01\x02junk\r\n") + "\xff\xfe\r\n" + "GOOD1\r\n");
  ASSERT_TRUE(wait_scans(1));
  EXPECT_EQ(rec.scans(), std::vector<std::string>{"GOOD1"});
  EXPECT_EQ(rec.errors_with("bad_text"), 2);
  EXPECT_EQ(rec.failures(), 0);
}

TEST_F(SerialScannerTest, LineCutBySilenceIsIncomplete) {
  auto s = settings();
  s.lines.inter_byte_timeout = 50ms;
  PtyDevice dev(io, s.link.path);
  auto scanner = make_scanner(s);
  dev.write("EA12345");
  ASSERT_TRUE(run_until(io, [&] { return !rec.errors.empty(); }));
  EXPECT_EQ(rec.errors[0].code, "incomplete_scan");
  dev.write("EA999\r\n");
  ASSERT_TRUE(wait_scans(1));
  EXPECT_EQ(rec.scans(), std::vector<std::string>{"EA999"});
}

TEST_F(SerialScannerTest, UnplugMidLineDropsItAndReplugScans) {
  auto dev = std::make_unique<PtyDevice>(io, settings().link.path);
  auto scanner = make_scanner();
  dev->write("EA12345");
  ASSERT_TRUE(run_until(io, [&] { return dev->unread() == 0; }));
  dev->unplug();
  ASSERT_TRUE(run_until(io, [&] { return scanner->state() == DeviceState::absent; }));
  dev.reset();
  dev = std::make_unique<PtyDevice>(io, settings().link.path);
  ASSERT_TRUE(run_until(io, [&] { return scanner->state() == DeviceState::attached; }));
  dev->write("678\r\nEA999\r\n");
  ASSERT_TRUE(wait_scans(2));
  // The half line before the unplug is gone; its tail arrives as a line of its own.
  EXPECT_EQ(rec.scans(), (std::vector<std::string>{"678", "EA999"}));
  EXPECT_TRUE(rec.errors.empty());
  EXPECT_EQ(rec.state_sequence(),
            (std::vector<DeviceState>{DeviceState::attached, DeviceState::absent,
                                      DeviceState::attached}));
}

}  // namespace
}  // namespace postgate::adapters::scanner
