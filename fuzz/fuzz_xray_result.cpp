// libFuzzer target: X-ray result files, JSON and XML, through parse_result
// (and with it the XML reader and the scan-time parsers). Input: one settings
// byte (bit 0: XML; bits 1-2: time format iso8601, pattern, epoch_s,
// epoch_ms; bit 3: paths as JSON pointers / with a leading '/'), then the
// file. Checked: no crash, and an accepted result keeps the codec's promises
// (bare image name, short printable lane, verdict word matching the verdict).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adapters/xray/codec/xray_result.hpp"

namespace {

using namespace postgate::adapters::xray;
using namespace std::chrono_literals;

ResultMapping mapping(std::uint8_t cfg) {
  ResultMapping m;
  const bool xml = (cfg & 1) != 0;
  const bool rooted = (cfg & 8) != 0;
  m.format = xml ? ResultFormat::xml : ResultFormat::json;
  if (xml) {
    const std::string r = rooted ? "/Scan" : "Scan";
    m.lane = r + "/@lane";
    m.time = r + "/Time";
    m.waybill = r + "/Barcode";
    m.verdict = r + "/Judge";
    m.image = r + "/Image/File";
  } else if (rooted) {
    m.lane = "/scan/lane";
    m.time = "/scan/time";
    m.waybill = "/scan/waybill";
    m.verdict = "/result";
    m.image = "/files/0";
  } else {
    m.lane = "scan.lane";
    m.time = "scan.time";
    m.waybill = "scan.waybill";
    m.verdict = "result";
    m.image = "files.0";
  }
  m.time_format.kind = static_cast<TimeFormatKind>((cfg >> 1) & 3);
  m.time_format.pattern = "%Y/%m/%d %H:%M:%S.%f%z";
  m.time_format.utc_offset = 8h;
  m.clear_words = {"pass", "Normal"};
  m.suspect_words = {"alarm", "可疑"};
  m.max_bytes = 64 * 1024;
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto m = mapping(data[0]);
  if (!validate_mapping(m)) std::abort();
  const std::string_view doc(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto r = parse_result(doc, m);
  if (!r) {
    if (r.error().code.empty()) std::abort();
    return 0;
  }
  if (!is_bare_file_name(r->image)) std::abort();
  if (r->lane.empty() || r->lane.size() > 32) std::abort();
  if (r->verdict_word.empty()) std::abort();
  if (r->waybill && r->waybill->empty()) std::abort();
  if (r->verdict != Verdict::unknown && r->verdict_word.size() > 64) std::abort();
  return 0;
}
