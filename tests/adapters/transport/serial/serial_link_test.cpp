// The serial transport over a pseudo-terminal: open, settings, bytes both
// ways, unplug and replug, stop at any moment.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "adapters/transport/serial/serial_link.hpp"
#include "pty_device.hpp"

namespace postgate::adapters::serial {
namespace {

using namespace std::chrono_literals;
using test::PtyDevice;
using test::run_until;

struct Recorder {
  std::vector<std::pair<DeviceState, std::string>> states;
  std::vector<std::uint8_t> bytes;
  LinkHandlers handlers() {
    return LinkHandlers{
        [this](DeviceState s, const std::string& d) { states.emplace_back(s, d); },
        [this](std::span<const std::uint8_t> b) { bytes.insert(bytes.end(), b.begin(), b.end()); }};
  }
  bool last_is(DeviceState s) const { return !states.empty() && states.back().first == s; }
};

class SerialLinkTest : public ::testing::Test {
 protected:
  LinkSettings settings(bool watch = true) {
    LinkSettings s;
    s.path = (dir.path() / "reader").string();
    s.baud = 115200;
    s.reopen_min = 20ms;
    s.reopen_max = 80ms;
    s.watch_path = watch;
    return s;
  }
  boost::asio::io_context io;
  test::TempDir dir;
  Recorder rec;
  std::vector<std::uint8_t> from_host;
  std::function<void(std::span<const std::uint8_t>)> host_sink() {
    return [this](std::span<const std::uint8_t> b) {
      from_host.insert(from_host.end(), b.begin(), b.end());
    };
  }
};

std::vector<std::uint8_t> bytes_of(std::string_view s) {
  return {s.begin(), s.end()};
}

TEST_F(SerialLinkTest, MissingAtStartIsAbsentThenAttachesWhenPlugged) {
  SerialLink link(io, settings(), rec.handlers());
  link.start();
  ASSERT_EQ(rec.states.size(), 1u);
  EXPECT_EQ(rec.states[0].first, DeviceState::absent);
  EXPECT_NE(rec.states[0].second.find("not present"), std::string::npos);
  EXPECT_EQ(link.state(), DeviceState::absent);

  PtyDevice dev(io, settings().path, host_sink());
  ASSERT_TRUE(run_until(io, [&] { return link.state() == DeviceState::attached; }));
  EXPECT_NE(link.detail().find("115200 8N1"), std::string::npos);
  EXPECT_EQ(link.opens(), 1u);
}

TEST_F(SerialLinkTest, AppliesRawModeAndLineSettings) {
  PtyDevice dev(io, settings().path, host_sink());
  auto s = settings();
  s.baud = 9600;
  ASSERT_TRUE(apply_framing(s, "7E2"));
  SerialLink link(io, s, rec.handlers());
  link.start();
  ASSERT_EQ(link.state(), DeviceState::attached);
  termios tio{};
  const int fd = ::open(dev.slave_path().c_str(), O_RDWR | O_NOCTTY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::tcgetattr(fd, &tio), 0);
  ::close(fd);
  EXPECT_EQ(::cfgetospeed(&tio), B9600);
  // A pty forces CS8 and no parity whatever is asked; stop bits and speed stick.
  EXPECT_TRUE(tio.c_cflag & CSTOPB);
  EXPECT_FALSE(tio.c_lflag & (ICANON | ECHO | ISIG));
  EXPECT_FALSE(tio.c_iflag & (ICRNL | IXON));
  EXPECT_FALSE(tio.c_oflag & OPOST);
}

TEST_F(SerialLinkTest, BytesBothWaysAndWritesInOrder) {
  PtyDevice dev(io, settings().path, host_sink());
  SerialLink link(io, settings(), rec.handlers());
  link.start();
  ASSERT_EQ(link.state(), DeviceState::attached);
  std::vector<std::uint8_t> expected;
  for (int i = 0; i < 200; ++i) {
    auto chunk = bytes_of("chunk-" + std::to_string(i) + ";");
    expected.insert(expected.end(), chunk.begin(), chunk.end());
    ASSERT_TRUE(link.send(std::move(chunk)));
  }
  ASSERT_TRUE(run_until(io, [&] { return from_host.size() >= expected.size(); }));
  EXPECT_EQ(from_host, expected);

  // Every byte value passes untouched (raw mode: no CR/LF mapping, no XON/XOFF).
  std::vector<std::uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
  dev.write(all);
  ASSERT_TRUE(run_until(io, [&] { return rec.bytes.size() >= all.size(); }));
  EXPECT_EQ(rec.bytes, all);
}

TEST_F(SerialLinkTest, UnplugReportsAbsentAndReplugReattaches) {
  auto dev = std::make_unique<PtyDevice>(io, settings().path, host_sink());
  SerialLink link(io, settings(), rec.handlers());
  link.start();
  ASSERT_EQ(link.state(), DeviceState::attached);
  dev->unplug();
  ASSERT_TRUE(run_until(io, [&] { return link.state() == DeviceState::absent; }));
  EXPECT_NE(link.detail().find("lost"), std::string::npos);
  EXPECT_FALSE(link.send(bytes_of("dropped")));

  dev = std::make_unique<PtyDevice>(io, settings().path, host_sink());
  ASSERT_TRUE(run_until(io, [&] { return link.state() == DeviceState::attached; }))
      << link.detail();
  EXPECT_EQ(link.opens(), 2u);
  ASSERT_TRUE(link.send(bytes_of("again")));
  ASSERT_TRUE(run_until(io, [&] { return from_host.size() >= 5; }));
  EXPECT_EQ(from_host, bytes_of("again"));
  ASSERT_EQ(rec.states.size(), 3u);
  EXPECT_EQ(rec.states[1].first, DeviceState::absent);
  EXPECT_EQ(rec.states[2].first, DeviceState::attached);
}

TEST_F(SerialLinkTest, ReopensByTimerWithoutInotify) {
  SerialLink link(io, settings(false), rec.handlers());
  link.start();
  ASSERT_EQ(link.state(), DeviceState::absent);
  test::run_for(io, 100ms);  // a few failed retries: the back-off is at its cap
  PtyDevice dev(io, settings().path, host_sink());
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until(io, [&] { return link.state() == DeviceState::attached; }));
  // Within one capped back-off period (80 ms) plus scheduling slack.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

TEST_F(SerialLinkTest, WatchesForADirectoryThatAppearsLater) {
  // As /dev/serial/by-id, which exists only while a USB-serial device does.
  // The timer is set far out: only the inotify path can attach in time.
  auto s = settings();
  s.path = (dir.path() / "serial" / "by-id" / "usb-reader-port0").string();
  s.reopen_min = 20s;
  s.reopen_max = 20s;
  SerialLink link(io, s, rec.handlers());
  link.start();
  ASSERT_EQ(link.state(), DeviceState::absent);
  test::run_for(io, 5ms);
  std::filesystem::create_directories(dir.path() / "serial" / "by-id");
  auto dev = std::make_unique<PtyDevice>(io, s.path, host_sink());
  ASSERT_TRUE(run_until(
      io, [&] { return link.state() == DeviceState::attached; }, 3s));

  // The last device goes: link and directories removed; then it comes back.
  dev->unplug();
  dev.reset();
  std::filesystem::remove_all(dir.path() / "serial");
  ASSERT_TRUE(run_until(io, [&] { return link.state() == DeviceState::absent; }));
  test::run_for(io, 5ms);
  std::filesystem::create_directories(dir.path() / "serial" / "by-id");
  dev = std::make_unique<PtyDevice>(io, s.path, host_sink());
  ASSERT_TRUE(run_until(
      io, [&] { return link.state() == DeviceState::attached; }, 3s));
  EXPECT_EQ(link.opens(), 2u);
}

TEST_F(SerialLinkTest, AbsentIsReportedOnceWhileRetrying) {
  SerialLink link(io, settings(false), rec.handlers());
  link.start();
  test::run_for(io, 200ms);
  EXPECT_EQ(rec.states.size(), 1u);
}

TEST_F(SerialLinkTest, NotATtyIsFailedWithAClearDetail) {
  std::ofstream(dir.path() / "reader") << "plain file";
  SerialLink link(io, settings(), rec.handlers());
  link.start();
  ASSERT_EQ(link.state(), DeviceState::failed);
  EXPECT_NE(link.detail().find("not a serial device"), std::string::npos) << link.detail();
  EXPECT_NE(link.detail().find("ENOTTY"), std::string::npos) << link.detail();
}

TEST_F(SerialLinkTest, PermissionErrorsNameTheFix) {
  auto f = classify_open_errno(EACCES, "/dev/ttyUSB0");
  EXPECT_EQ(f.state, DeviceState::failed);
  EXPECT_EQ(f.detail.rfind("EACCES on /dev/ttyUSB0: is postgated in the dialout group", 0), 0u)
      << f.detail;
  EXPECT_EQ(classify_open_errno(ENOENT, "/dev/ttyUSB0").state, DeviceState::absent);
  EXPECT_EQ(classify_open_errno(ENODEV, "/dev/ttyUSB0").state, DeviceState::absent);
  EXPECT_EQ(classify_open_errno(EBUSY, "/dev/ttyUSB0").state, DeviceState::failed);
}

TEST_F(SerialLinkTest, PermissionDeniedForReal) {
  PtyDevice dev(io, settings().path, host_sink());
  ASSERT_EQ(::chmod(dev.slave_path().c_str(), 0600), 0);
  if (::geteuid() != 0) {
    SerialLink link(io, settings(), rec.handlers());
    link.start();
    EXPECT_EQ(link.state(), DeviceState::failed);
    EXPECT_NE(link.detail().find("EACCES"), std::string::npos) << link.detail();
    return;
  }
  // Root opens anything: try as nobody, in a child process.
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(77);
    boost::asio::io_context child_io;
    std::string detail;
    DeviceState state = DeviceState::attached;
    SerialLink link(child_io, settings(),
                    LinkHandlers{[&](DeviceState s, const std::string& d) {
                                   state = s;
                                   detail = d;
                                 },
                                 {}});
    link.start();
    const bool ok =
        state == DeviceState::failed &&
        detail.rfind("EACCES on " + settings().path + ": is postgated in the dialout", 0) == 0;
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "cannot switch to nobody here";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child did not see failed/EACCES with the fix named";
}

TEST_F(SerialLinkTest, NoBusyLoopWhileAbsentOrIdle) {
  auto s = settings();
  s.reopen_min = 10ms;
  s.reopen_max = 50ms;
  SerialLink link(io, s, rec.handlers());
  link.start();
  io.restart();
  // Back-off 10, 20, 40, 50, 50, ... ms: about ten attempts in 400 ms.
  const auto absent_handlers = io.run_for(400ms);
  EXPECT_LT(absent_handlers, 20u);
  PtyDevice dev(io, s.path, host_sink());
  ASSERT_TRUE(run_until(io, [&] { return link.state() == DeviceState::attached; }));
  test::run_for(io, 20ms);  // the cancelled retry timer's handler
  io.restart();
  EXPECT_EQ(io.run_for(200ms), 0u) << "an idle open line runs no handler";
}

TEST_F(SerialLinkTest, StopIsCleanAtAnyMoment) {
  // With writes queued, a read pending and a replug under way.
  for (int round = 0; round < 3; ++round) {
    auto dev = std::make_unique<PtyDevice>(io, settings().path, host_sink());
    auto link = std::make_unique<SerialLink>(io, settings(), rec.handlers());
    link->start();
    for (int i = 0; i < 50; ++i) link->send(std::vector<std::uint8_t>(512, 0x55));
    dev->write(bytes_of("pending"));
    if (round == 1) dev->unplug();
    if (round == 2) {
      dev->unplug();
      test::run_for(io, 5ms);
      dev = std::make_unique<PtyDevice>(io, settings().path, host_sink());
    }
    const auto seen = rec.states.size();
    link->stop();
    test::run_for(io, 30ms);
    EXPECT_EQ(rec.states.size(), seen) << "no callback after stop()";
    link.reset();
    test::run_for(io, 10ms);
  }
  // Destruction without stop() also stops.
  PtyDevice dev(io, settings().path, host_sink());
  {
    SerialLink link(io, settings(), rec.handlers());
    link.start();
  }
  test::run_for(io, 10ms);
}

TEST_F(SerialLinkTest, StopFromInsideAHandler) {
  PtyDevice dev(io, settings().path, host_sink());
  std::unique_ptr<SerialLink> link;
  int calls = 0;
  link =
      std::make_unique<SerialLink>(io, settings(),
                                   LinkHandlers{[&](DeviceState, const std::string&) { ++calls; },
                                                [&](std::span<const std::uint8_t>) {
                                                  ++calls;
                                                  link->stop();
                                                }});
  link->start();
  dev.write(bytes_of("a"));
  ASSERT_TRUE(run_until(io, [&] { return calls == 2; }));
  dev.write(bytes_of("b"));
  test::run_for(io, 30ms);
  EXPECT_EQ(calls, 2);
}

TEST(SerialSettings, ValidateAndParse) {
  LinkSettings s;
  EXPECT_FALSE(validate(s));  // no path
  s.path = "/dev/ttyUSB0";
  EXPECT_TRUE(validate(s));
  s.baud = 12345;
  EXPECT_EQ(validate(s).error().field, "baud");
  s.baud = 9600;
  s.reopen_max = 100ms;
  EXPECT_EQ(validate(s).error().field, "reopen_max");
  s.reopen_max = 5s;
  EXPECT_TRUE(apply_framing(s, "8O1"));
  EXPECT_EQ(s.parity, Parity::odd);
  EXPECT_EQ(describe_line(s), "9600 8O1");
  EXPECT_FALSE(apply_framing(s, "9N1"));
  EXPECT_FALSE(apply_framing(s, "8X1"));
  EXPECT_FALSE(apply_framing(s, "8N3"));
  EXPECT_EQ(*parse_flow_control("rtscts"), FlowControl::hardware);
  EXPECT_FALSE(parse_flow_control("maybe"));
  EXPECT_EQ(*parse_stop_bits("2"), StopBits::two);
  EXPECT_EQ(*parse_parity("even"), Parity::even);
}

}  // namespace
}  // namespace postgate::adapters::serial
