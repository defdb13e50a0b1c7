#include "adapters/xray/codec/xray_result.hpp"

#include <string>

#include <gtest/gtest.h>

namespace postgate::adapters::xray {
namespace {

using namespace std::chrono_literals;

// A published UPU S10 example with its check digit.
constexpr const char* kS10 = "RR473124829GB";

ResultMapping json_mapping() {
  ResultMapping m;
  m.format = ResultFormat::json;
  m.lane = "scan.lane";
  m.time = "scan.time";
  m.waybill = "scan.waybill";
  m.verdict = "result";
  m.image = "/files/image";
  m.time_format.utc_offset = 8h;
  m.clear_words = {"PASS", "ok"};
  m.suspect_words = {"ALARM", "suspect"};
  return m;
}

ResultMapping xml_mapping() {
  ResultMapping m;
  m.format = ResultFormat::xml;
  m.lane = "Scan/@lane";
  m.time = "Scan/Time";
  m.waybill = "Scan/Barcode";
  m.verdict = "Scan/Judge";
  m.image = "Scan/Image/File";
  m.time_format = {TimeFormatKind::pattern, "%Y/%m/%d %H:%M:%S", 8h};
  m.clear_words = {"Normal"};
  m.suspect_words = {"Danger", "可疑"};
  return m;
}

std::string json_doc(std::string waybill, std::string verdict = "pass",
                     std::string image = "\"0001.jpg\"") {
  return R"({"scan":{"lane":3,"time":"2026-11-23T08:15:30.250","waybill":)" + waybill +
         R"(},"result":")" + verdict + R"(","files":{"image":)" + image + "}}";
}

TEST(XrayResult, JsonMappingWithLocalTime) {
  const auto r = parse_result(json_doc(std::string("\"") + kS10 + "\""), json_mapping());
  ASSERT_TRUE(r) << r.error().code << " " << r.error().field;
  EXPECT_EQ(r->lane, "3");
  // 08:15:30.250 at UTC+8 is 00:15:30.250 UTC.
  EXPECT_EQ(core::format_utc(r->time), "2026-11-23T00:15:30.250Z");
  ASSERT_TRUE(r->waybill);
  EXPECT_EQ(*r->waybill, kS10);
  EXPECT_TRUE(r->waybill_valid);
  EXPECT_EQ(r->verdict, Verdict::clear);
  EXPECT_EQ(r->verdict_word, "pass");
  EXPECT_EQ(r->image, "0001.jpg");
}

TEST(XrayResult, WaybillIsNormalisedOrKeptRaw) {
  auto r = parse_result(json_doc("\" rr 473124829 gb \""), json_mapping());
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->waybill, kS10);
  r = parse_result(json_doc("\"NOREAD\""), json_mapping());
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->waybill, "NOREAD");
  EXPECT_FALSE(r->waybill_valid);
  r = parse_result(json_doc("null"), json_mapping());
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->waybill);
  r = parse_result(json_doc("\"  \""), json_mapping());
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->waybill);
  r = parse_result(json_doc("\"" + std::string(80, '7') + "\""), json_mapping());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "bad_waybill");
  EXPECT_EQ(r.error().field, "scan.waybill");
}

TEST(XrayResult, CarrierRulesFromConfigApply) {
  auto v = core::WaybillValidator::create({{"sf", "SF[0-9]{12}"}}, true);
  ASSERT_TRUE(v);
  const auto r = parse_result(json_doc("\"sf 123456789012\""), json_mapping(), *v);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->waybill, "SF123456789012");
  EXPECT_TRUE(r->waybill_valid);
}

TEST(XrayResult, VerdictWordsAreCaseInsensitiveAndOthersUnknown) {
  auto r = parse_result(json_doc("null", "Alarm"), json_mapping());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->verdict, Verdict::suspect);
  r = parse_result(json_doc("null", "  SUSPECT "), json_mapping());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->verdict, Verdict::suspect);
  r = parse_result(json_doc("null", "maybe"), json_mapping());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->verdict, Verdict::unknown);
  EXPECT_EQ(r->verdict_word, "maybe");
}

TEST(XrayResult, MissingFieldNamesItsPath) {
  const std::string doc = R"({"scan":{"time":"2026-11-23T08:15:30"},"result":"ok",
                              "files":{"image":"a.jpg"}})";
  const auto r = parse_result(doc, json_mapping());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "missing_field");
  EXPECT_EQ(r.error().field, "scan.lane");
}

TEST(XrayResult, BadTimeNamesItsPath) {
  std::string doc = json_doc("null");
  doc.replace(doc.find("2026-11-23"), 10, "2026-02-30");
  const auto r = parse_result(doc, json_mapping());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "bad_time");
  EXPECT_EQ(r.error().field, "scan.time");
}

TEST(XrayResult, ImageMustBeABareName) {
  for (const char* bad : {"\"../etc/passwd\"", "\"sub/a.jpg\"", "\"..\"", "\"a\\\\b.jpg\"",
                          "\".hidden.jpg\"", "\"a..jpg\"", "\"/abs.jpg\""}) {
    const auto r = parse_result(json_doc("null", "ok", bad), json_mapping());
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "bad_image_name") << bad;
    EXPECT_EQ(r.error().field, "/files/image");
  }
}

TEST(XrayResult, ObjectWhereTextIsExpectedIsBadType) {
  const auto r = parse_result(json_doc("{\"a\":1}"), json_mapping());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "bad_type");
}

TEST(XrayResult, OversizeIsRefusedBeforeParsing) {
  auto m = json_mapping();
  m.max_bytes = 100;
  const auto r = parse_result(std::string(101, ' '), m);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "too_large");
}

TEST(XrayResult, MalformedAndHostileJson) {
  for (const std::string& doc :
       {std::string("{\"scan\":"), std::string("[1,2"), std::string("\"just a string\""),
        std::string(), std::string(10000, '[') + std::string(10000, ']')}) {
    const auto r = parse_result(doc, json_mapping());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "bad_json");
  }
}

TEST(XrayResult, XmlMappingWithAttributeAndPattern) {
  const std::string doc =
      "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<!-- exported by the machine -->\n"
      "<Scan lane=\"L2\">\n"
      "  <Time>2026/11/23 08:15:30</Time>\n"
      "  <Barcode><![CDATA[RR473124829GB]]></Barcode>\n"
      "  <Judge>可疑</Judge>\n"
      "  <Image><File>img&#95;0001.jpg</File></Image>\n"
      "</Scan>\n";
  const auto r = parse_result(doc, xml_mapping());
  ASSERT_TRUE(r) << r.error().code << " " << r.error().message;
  EXPECT_EQ(r->lane, "L2");
  EXPECT_EQ(core::format_utc(r->time), "2026-11-23T00:15:30.000Z");
  EXPECT_EQ(*r->waybill, kS10);
  EXPECT_EQ(r->verdict, Verdict::suspect);
  EXPECT_EQ(r->image, "img_0001.jpg");
}

TEST(XrayResult, XmlStepsIgnoreNamespacePrefixes) {
  const std::string doc =
      "<x:Scan xmlns:x=\"urn:m\" lane=\"1\"><x:Time>2026/11/23 08:15:30</x:Time>"
      "<x:Judge>NORMAL</x:Judge><x:Image><x:File>a.png</x:File></x:Image></x:Scan>";
  const auto r = parse_result(doc, xml_mapping());
  ASSERT_TRUE(r) << r.error().code << " " << r.error().message;
  EXPECT_FALSE(r->waybill);
  EXPECT_EQ(r->verdict, Verdict::clear);
}

TEST(XrayResult, XmlErrors) {
  auto m = xml_mapping();
  EXPECT_EQ(parse_result("<Scan><Time>x</Scan>", m).error().code, "bad_xml");
  EXPECT_EQ(parse_result("<Scan/><Other/>", m).error().code, "bad_xml");
  EXPECT_EQ(parse_result("<!DOCTYPE Scan [<!ENTITY e \"x\">]><Scan>&e;</Scan>", m).error().code,
            "bad_xml");
  EXPECT_EQ(parse_result("<Scan a=\"1\" a=\"2\"/>", m).error().code, "bad_xml");
  EXPECT_EQ(parse_result("<Scan>&unknown;</Scan>", m).error().code, "bad_xml");
  EXPECT_EQ(parse_result("<Scan>&#0;</Scan>", m).error().code, "bad_xml");
  EXPECT_EQ(parse_result(std::string(100, ' '), m).error().code, "bad_xml");
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  EXPECT_EQ(parse_result(deep, m).error().code, "bad_xml");
  // Well formed but another root: the mapped fields are missing.
  const auto r = parse_result("<Other lane=\"1\"/>", m);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "missing_field");
  EXPECT_EQ(r.error().field, "Scan/@lane");
}

TEST(XrayResult, LaneMustBeShortPrintableAscii) {
  const std::string doc =
      "<Scan lane=\"lane one\"><Time>2026/11/23 08:15:30</Time><Judge>Normal</Judge>"
      "<Image><File>a.jpg</File></Image></Scan>";
  const auto r = parse_result(doc, xml_mapping());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "bad_lane");
}

TEST(XrayMapping, Validation) {
  EXPECT_TRUE(validate_mapping(json_mapping()));
  EXPECT_TRUE(validate_mapping(xml_mapping()));
  auto m = json_mapping();
  m.lane = "scan..lane";
  EXPECT_EQ(validate_mapping(m).error().field, "lane");
  m = json_mapping();
  m.image = "/a/~2";
  EXPECT_EQ(validate_mapping(m).error().code, "bad_path");
  m = xml_mapping();
  m.verdict = "Scan/@judge/Sub";
  EXPECT_EQ(validate_mapping(m).error().field, "verdict");
  m = xml_mapping();
  m.lane = "@lane";
  EXPECT_EQ(validate_mapping(m).error().field, "lane");
  m = json_mapping();
  m.suspect_words.push_back("OK");
  EXPECT_EQ(validate_mapping(m).error().code, "bad_word");
  m = json_mapping();
  m.time_format = {TimeFormatKind::pattern, "%Y-%m-%d %H:%Q", {}};
  EXPECT_EQ(validate_mapping(m).error().field, "time_format.pattern");
  m = json_mapping();
  m.time_format.utc_offset = 15h;
  EXPECT_EQ(validate_mapping(m).error().field, "time_format.utc_offset");
  m = json_mapping();
  m.clear_words.clear();
  EXPECT_EQ(validate_mapping(m).error().field, "clear_words");
}

}  // namespace
}  // namespace postgate::adapters::xray
