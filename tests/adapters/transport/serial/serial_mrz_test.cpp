// The serial MRZ reader driver over a pty: zones as lines become
// IdentityRead with the right document type; a bad check digit is one
// IdentityReadFailed and a DeviceError.
#include <gtest/gtest.h>

#include "adapters/mrz/serial_mrz_reader.hpp"
#include "device_recorder.hpp"
#include "pty_device.hpp"
#include "tests/adapters/mrz/mrz_test_util.hpp"

namespace postgate::adapters::mrz {
namespace {

using namespace std::chrono_literals;
using test::PtyDevice;
using test::run_until;

std::string zone(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\r\n";
  return out + "\r\n";
}

// Expiry five years from now, birth 1980: valid whatever day the test runs.
std::string future_expiry() {
  const std::chrono::year_month_day today{
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
  const int yy = (static_cast<int>(today.year()) + 5) % 100;
  return (yy < 10 ? "0" : "") + std::to_string(yy) + "0415";
}

class SerialMrzTest : public ::testing::Test {
 protected:
  SerialMrzReaderSettings settings() {
    SerialMrzReaderSettings s;
    s.link.path = (dir.path() / "mrz").string();
    s.link.reopen_min = 20ms;
    s.link.reopen_max = 100ms;
    return s;
  }
  std::unique_ptr<SerialMrzReader> make_reader() {
    auto r = std::make_unique<SerialMrzReader>(io, settings(), rec.sink());
    r->start();
    return r;
  }

  boost::asio::io_context io;
  test::TempDir dir;
  test::DeviceRecorder rec;
};

TEST_F(SerialMrzTest, PassportZoneIsAPassport) {
  PtyDevice dev(io, settings().link.path);
  auto reader = make_reader();
  testing::Td3 td3;
  td3.expiry = future_expiry();
  dev.write(zone(td3.lines()));
  ASSERT_TRUE(run_until(io, [&] { return !rec.reads().empty(); }));
  const auto doc = rec.reads()[0];
  EXPECT_EQ(doc.type, core::DocType::passport);
  EXPECT_EQ(doc.number, "X1234567");
  EXPECT_EQ(rec.failures(), 0);
  EXPECT_TRUE(rec.errors.empty());
}

TEST_F(SerialMrzTest, PermitCardZoneIsAHongKongMacauPermit) {
  PtyDevice dev(io, settings().link.path);
  auto reader = make_reader();
  testing::Td1 td1;
  td1.expiry = future_expiry();
  // Slowly, a few bytes at a time, as a reader at 9600 baud would.
  const std::string z = zone(td1.lines());
  dev.write_slowly({z.begin(), z.end()}, 7, 1ms);
  ASSERT_TRUE(run_until(io, [&] { return !rec.reads().empty(); }));
  EXPECT_EQ(rec.reads()[0].type, core::DocType::hk_macau_travel_permit);
  EXPECT_EQ(rec.reads()[0].number, "H12345678");
}

TEST_F(SerialMrzTest, BadCheckDigitIsOneFailedRead) {
  PtyDevice dev(io, settings().link.path);
  auto reader = make_reader();
  testing::Td3 td3;
  td3.expiry = future_expiry();
  td3.bad = "birth_date";
  dev.write(zone(td3.lines()));
  ASSERT_TRUE(run_until(io, [&] { return rec.failures() > 0; }));
  EXPECT_TRUE(rec.reads().empty());
  EXPECT_EQ(rec.errors_with("bad_check_digit"), 1);
  // The reader is fine: the next zone reads.
  td3.bad.clear();
  dev.write(zone(td3.lines()));
  ASSERT_TRUE(run_until(io, [&] { return !rec.reads().empty(); }));
  EXPECT_EQ(rec.failures(), 1);
}

TEST_F(SerialMrzTest, UnplugMidZoneThenTheNextZoneReads) {
  auto dev = std::make_unique<PtyDevice>(io, settings().link.path);
  auto reader = make_reader();
  testing::Td3 td3;
  td3.expiry = future_expiry();
  dev->write(td3.lines()[0] + "\r\n");
  ASSERT_TRUE(run_until(io, [&] { return dev->unread() == 0; }));
  dev->unplug();
  ASSERT_TRUE(run_until(io, [&] { return reader->state() == DeviceState::absent; }));
  dev.reset();
  dev = std::make_unique<PtyDevice>(io, settings().link.path);
  ASSERT_TRUE(run_until(io, [&] { return reader->state() == DeviceState::attached; }));
  dev->write(zone(td3.lines()));
  ASSERT_TRUE(run_until(io, [&] { return !rec.reads().empty(); }));
  EXPECT_EQ(rec.reads().size(), 1u);
  EXPECT_EQ(rec.failures(), 0) << "the half zone was dropped with the line";
}

}  // namespace
}  // namespace postgate::adapters::mrz
