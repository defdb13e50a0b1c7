// The serial drivers against fake_serial_device.py, a device in a process
// of its own: real pacing and real hang-ups, concurrent with the driver, and
// frames built from the spec rather than by the codec under test.
#include <gtest/gtest.h>

#include "adapters/idcard/codec/card_text.hpp"
#include "adapters/idcard/serial_idcard_reader.hpp"
#include "adapters/scanner/serial_scanner.hpp"
#include "core/synthetic.hpp"
#include "device_recorder.hpp"
#include "process_peer.hpp"
#include "pty_device.hpp"

namespace postgate::adapters {
namespace {

using namespace std::chrono_literals;
using test::ProcessPeer;
using test::run_until;

class ProcessPeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::SplitMix64 random(0xca7d);
    person = core::make_person(random, idcard::local_date(serial::system_clock().now(), 8h));
    peer = std::make_unique<ProcessPeer>(io, link());
    if (!peer->started()) GTEST_SKIP() << "cannot start " << POSTGATE_SERIAL_PEER;
    ASSERT_TRUE(run_until(
        io, [&] { return peer->count("ready") == 1; }, 10s));
  }
  std::string link() const { return (dir.path() / "device").string(); }
  serial::LinkSettings link_settings(unsigned baud) const {
    serial::LinkSettings s;
    s.path = link();
    s.baud = baud;
    s.reopen_min = 20ms;
    s.reopen_max = 100ms;
    return s;
  }
  std::unique_ptr<idcard::SerialIdCardReader> make_reader() {
    idcard::SerialIdCardReaderSettings s;
    s.link = link_settings(115200);
    s.session.poll_interval = 20ms;
    s.session.reply_timeout = 2s;
    s.session.read_timeout = 10s;
    auto r = std::make_unique<idcard::SerialIdCardReader>(io, s, rec.sink());
    r->start();
    return r;
  }
  void place_card() { peer->control("place " + person.resident_id + " " + person.name); }

  boost::asio::io_context io;
  test::TempDir dir;
  test::DeviceRecorder rec;
  core::SyntheticPerson person;
  std::unique_ptr<ProcessPeer> peer;
};

TEST_F(ProcessPeerTest, ReadsACardBuiltFromTheSpec) {
  place_card();
  auto reader = make_reader();
  ASSERT_TRUE(run_until(io, [&] { return !rec.reads().empty(); }));
  const auto doc = rec.reads()[0];
  EXPECT_EQ(doc.type, core::DocType::resident_id);
  EXPECT_TRUE(doc.number == person.resident_id) << "number differs (not printed)";
  EXPECT_TRUE(doc.name == person.name);
  EXPECT_TRUE(rec.errors.empty()) << rec.errors[0].code << ": " << rec.errors[0].detail;
  // Left on the reader: polled, not read again.
  const int finds = peer->count("find");
  ASSERT_TRUE(run_until(io, [&] { return peer->count("find") >= finds + 10; }));
  EXPECT_EQ(peer->count("read"), 1);
  EXPECT_EQ(rec.reads().size(), 1u);
}

TEST_F(ProcessPeerTest, SlowBytesInRealTime) {
  peer->control("slow 1");
  place_card();
  auto reader = make_reader();
  ASSERT_TRUE(run_until(
      io, [&] { return !rec.reads().empty(); }, 15s));
  EXPECT_EQ(rec.failures(), 0);
  EXPECT_TRUE(rec.errors.empty()) << rec.errors[0].code << ": " << rec.errors[0].detail;
}

TEST_F(ProcessPeerTest, UnplugMidFrameAndPlugBack) {
  peer->control("cut-next-read 700");
  place_card();
  auto reader = make_reader();
  ASSERT_TRUE(run_until(io, [&] { return peer->count("cut") == 1; }));
  ASSERT_TRUE(run_until(io, [&] { return reader->state() == DeviceState::absent; }));
  EXPECT_TRUE(rec.reads().empty());
  EXPECT_EQ(rec.failures(), 0);
  peer->control("plug");
  ASSERT_TRUE(run_until(io, [&] { return !rec.reads().empty(); }));
  EXPECT_TRUE(rec.reads()[0].number == person.resident_id);
  EXPECT_EQ(rec.state_sequence(),
            (std::vector<DeviceState>{DeviceState::attached, DeviceState::absent,
                                      DeviceState::attached}));
}

TEST_F(ProcessPeerTest, ScannerLinesAtAHumanPace) {
  scanner::SerialScannerSettings s;
  s.link = link_settings(9600);
  scanner::SerialScanner scanner(io, s, rec.sink());
  scanner.start();
  ASSERT_EQ(scanner.state(), DeviceState::attached);
  core::SplitMix64 random(11);
  const std::string waybill = core::make_s10(random);
  peer->control("slow 1");
  peer->control("scan " + waybill);
  peer->control("scan PG:OK");
  ASSERT_TRUE(run_until(io, [&] { return rec.scans().size() >= 2; }));
  EXPECT_EQ(rec.scans(), (std::vector<std::string>{waybill, "PG:OK"}));
  peer->control("unplug");
  ASSERT_TRUE(run_until(io, [&] { return scanner.state() == DeviceState::absent; }));
  peer->control("plug");
  ASSERT_TRUE(run_until(io, [&] { return scanner.state() == DeviceState::attached; }));
  peer->control("scan PG:CANCEL");
  ASSERT_TRUE(run_until(io, [&] { return rec.scans().size() >= 3; }));
  EXPECT_EQ(rec.scans().back(), "PG:CANCEL");
}

}  // namespace
}  // namespace postgate::adapters
