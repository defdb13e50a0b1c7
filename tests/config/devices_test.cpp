// Device adapters in config: the keys of each kind, transport-specific keys
// only with their transport, and the shapes checked before the daemon runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace postgate::config {
namespace {

using test::kMinimal;
using test::load;
using test::problems;
using ::testing::HasSubstr;

TEST(Devices, UsbIdCardReaderWithHexEndpointsAndDefaults) {
  auto c = load(kMinimal +
                "adapters:\n"
                "  - kind: idcard_reader\n"
                "    counter: c1\n"
                "    transport: usb\n"
                "    usb: \"0400:C35A\"\n"
                "    out_body_endpoint: 0x06\n"
                "    in_body_endpoint: 0x85\n");
  ASSERT_TRUE(c) << format_problems(c.error());
  ASSERT_EQ(c->adapters.size(), 1u);
  const auto& a = c->adapters[0];
  EXPECT_EQ(a.name, "idcard_reader0");
  EXPECT_EQ(a.device.transport, "usb");
  EXPECT_EQ(a.device.usb, "0400:C35A");
  EXPECT_EQ(a.device.out_endpoint, 0x02u);
  EXPECT_EQ(a.device.in_endpoint, 0x81u);
  EXPECT_EQ(a.device.out_body_endpoint, 0x06u);
  EXPECT_EQ(a.device.in_body_endpoint, 0x85u);
  EXPECT_EQ(a.device.poll_interval_ms, 300u);
  EXPECT_EQ(a.device.read_command, "text_photo");
}

TEST(Devices, SerialScannerAndMrzReader) {
  auto c = load(kMinimal +
                "adapters:\n"
                "  - kind: barcode_scanner\n"
                "    name: scan-1\n"
                "    counter: c1\n"
                "    transport: serial\n"
                "    path: /dev/ttyACM0\n"
                "    baud: 9600\n"
                "    framing: 7E1\n"
                "    line_end: crlf\n"
                "  - kind: mrz_reader\n"
                "    counter: c1\n"
                "    transport: usb\n"
                "    usb: \"1234:abcd\"\n"
                "    usb_port: \"1-1.2\"\n"
                "    terminator: enter\n");
  ASSERT_TRUE(c) << format_problems(c.error());
  ASSERT_EQ(c->adapters.size(), 2u);
  EXPECT_EQ(c->adapters[0].device.path, "/dev/ttyACM0");
  EXPECT_EQ(c->adapters[0].device.framing, "7E1");
  EXPECT_EQ(c->adapters[0].device.line_end, "crlf");
  EXPECT_EQ(c->adapters[1].device.usb_port, "1-1.2");
  EXPECT_EQ(c->adapters[1].device.line_timeout_ms, 1000u);
}

TEST(Devices, TransportKeysAreCheckedWithPositions) {
  auto p = problems(kMinimal +
                    "adapters:\n"
                    "  - kind: idcard_reader\n"
                    "    counter: c1\n"
                    "    transport: usb\n"
                    "    path: /dev/ttyUSB0\n"
                    "  - kind: barcode_scanner\n"
                    "    counter: c1\n"
                    "    transport: serial\n"
                    "    path: /dev/ttyACM0\n"
                    "    protocol: pos\n"
                    "    baud: 9601\n"
                    "    framing: 9X1\n"
                    "  - kind: mrz_reader\n"
                    "    counter: c1\n"
                    "    transport: usb\n"
                    "    usb: \"zz\"\n"
                    "    usb_port: \"1-1.x\"\n");
  const std::vector<std::string> expected = {"adapters[0].usb: required with transport usb",
                                             "adapters[0].path: applies to transport serial only",
                                             "adapters[1].protocol: applies to transport usb only",
                                             "adapters[1].framing: expected data bits",
                                             "adapters[1].baud: not a standard serial rate: 9601",
                                             "adapters[2].usb: expected VVVV:PPPP",
                                             "adapters[2].usb_port: expected a port path"};
  ASSERT_EQ(p.size(), expected.size()) << ::testing::PrintToString(p);
  for (const auto& e : expected) EXPECT_THAT(p, ::testing::Contains(HasSubstr(e)));
}

TEST(Devices, KeysOfOneKindAreUnknownToAnother) {
  auto p = problems(kMinimal +
                    "adapters:\n"
                    "  - kind: barcode_scanner\n"
                    "    counter: c1\n"
                    "    transport: usb\n"
                    "    usb: \"1234:abcd\"\n"
                    "    poll_interval_ms: 300\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_THAT(p[0], HasSubstr("adapters[0].poll_interval_ms"));
}

TEST(Devices, TransportIsRequired) {
  auto p = problems(kMinimal + "adapters:\n  - kind: mrz_reader\n    counter: c1\n");
  ASSERT_EQ(p.size(), 1u) << ::testing::PrintToString(p);
  EXPECT_THAT(p[0], HasSubstr("adapters[0].transport"));
}

}  // namespace
}  // namespace postgate::config
