#include "daemon/device_factory.hpp"

#include "adapters/idcard/serial_idcard_reader.hpp"
#include "adapters/idcard/usb_hid_idcard_reader.hpp"
#include "adapters/idcard/usb_idcard_reader.hpp"
#include "adapters/mrz/serial_mrz_reader.hpp"
#include "adapters/mrz/usb_hid_mrz_reader.hpp"
#include "adapters/scanner/serial_scanner.hpp"
#include "adapters/scanner/usb_hid_scanner.hpp"
#include "adapters/transport/serial/serial_settings.hpp"
#include "adapters/transport/usb/device_match.hpp"

namespace postgate::daemon {

namespace {

namespace serial = adapters::serial;
namespace usb = adapters::usb;
using std::chrono::milliseconds;

core::Error at(const config::AdapterConfig& a, std::string_view key, core::Error e) {
  e.field = "adapters." + a.name + "." + std::string(key);
  return e;
}

// `link` arrives with the kind's defaults (baud); config overrides them.
core::Status fill_serial(const config::AdapterConfig& a, serial::LinkSettings& link) {
  const auto& d = a.device;
  link.path = d.path.string();
  if (d.baud != 0) link.baud = d.baud;
  if (auto s = serial::apply_framing(link, d.framing); !s)
    return std::unexpected(at(a, "framing", s.error()));
  auto flow = serial::parse_flow_control(d.flow_control);
  if (!flow) return std::unexpected(at(a, "flow_control", flow.error()));
  link.flow_control = *flow;
  return serial::validate(link);
}

core::Status fill_usb(const config::AdapterConfig& a, usb::UsbLinkSettings& link) {
  const auto& d = a.device;
  auto match = usb::parse_vid_pid(d.usb);
  if (!match) return std::unexpected(at(a, "usb", match.error()));
  link.match = *match;
  if (!d.usb_serial.empty()) link.match.serial = d.usb_serial;
  if (!d.usb_port.empty()) link.match.port_path = d.usb_port;
  link.interface_number = static_cast<int>(d.usb_interface);
  return {};
}

adapters::scanner::LineDecoderSettings line_settings(const config::DeviceAdapterConfig& d,
                                                     adapters::scanner::LineDecoderSettings s) {
  if (d.line_end == "none") {
    s.terminator = adapters::scanner::LineTerminator::any;
    s.timeout_ends_line = true;
  } else if (auto t = adapters::scanner::line_terminator_from_string(d.line_end)) {
    s.terminator = *t;
  }
  s.inter_byte_timeout = milliseconds(d.inter_key_timeout_ms);
  return s;
}

adapters::scanner::HidKeyboardSettings keyboard_settings(const config::DeviceAdapterConfig& d,
                                                         adapters::scanner::HidKeyboardSettings s) {
  if (auto t = adapters::scanner::key_terminator_from_string(d.terminator)) s.terminator = *t;
  s.inter_key_timeout = milliseconds(d.inter_key_timeout_ms);
  return s;
}

template <class T, class... Args>
core::Result<std::unique_ptr<adapters::Device>> made(Args&&... args) {
  return std::unique_ptr<adapters::Device>(std::make_unique<T>(std::forward<Args>(args)...));
}

// An ID-card reader, with its photo handed on when kept.
template <class T, class... Args>
core::Result<std::unique_ptr<adapters::Device>> made_reader(const PhotoSink& photo,
                                                            Args&&... args) {
  auto reader = std::make_unique<T>(std::forward<Args>(args)...);
  if (photo)
    reader->on_card([photo](const adapters::idcard::CardText& text,
                            const std::optional<adapters::idcard::Bytes>& raw) {
      if (raw) photo(text.document, *raw);
    });
  return std::unique_ptr<adapters::Device>(std::move(reader));
}

}  // namespace

bool is_device_kind(const std::string& kind) {
  return kind == "idcard_reader" || kind == "barcode_scanner" || kind == "mrz_reader";
}

std::string device_where(const config::AdapterConfig& a) {
  const auto& d = a.device;
  if (d.transport == "usb") {
    std::string s = "usb " + d.usb;
    if (!d.usb_serial.empty()) s += " serial=" + d.usb_serial;
    if (!d.usb_port.empty()) s += " port=" + d.usb_port;
    return s;
  }
  std::string s = "serial " + d.path.string();
  if (d.baud != 0) s += " " + std::to_string(d.baud);
  return s + " " + d.framing;
}

core::Result<std::unique_ptr<adapters::Device>> make_device(
    boost::asio::io_context& io, usb::UsbContext* usb_ctx, const config::AdapterConfig& a,
    std::chrono::minutes utc_offset, adapters::DeviceSink sink, const core::Clock& clock,
    PhotoSink photo) {
  const auto& d = a.device;
  const bool on_usb = d.transport == "usb";
  if (on_usb && usb_ctx == nullptr)
    return core::fail("usb_unavailable", "adapters." + a.name + ".transport",
                      "libusb could not be initialised");

  if (a.kind == "idcard_reader") {
    adapters::idcard::SamSessionSettings session;
    session.poll_interval = milliseconds(d.poll_interval_ms);
    session.utc_offset = utc_offset;
    session.read_command = d.read_command == "text_photo_fingerprint"
                               ? adapters::idcard::ReadCommand::text_photo_fingerprint
                               : adapters::idcard::ReadCommand::text_photo;
    session.keep_photo = d.keep_photo && photo;
    if (!d.keep_photo) photo = {};
    if (on_usb && d.usb_mode == "hid") {
      adapters::idcard::UsbHidIdCardReaderSettings s;
      if (auto st = fill_usb(a, s.link); !st) return std::unexpected(st.error());
      s.out_endpoint = static_cast<std::uint8_t>(d.out_endpoint);
      s.in_endpoint = static_cast<std::uint8_t>(d.in_endpoint);
      s.report_size = d.report_size;
      if (d.report_id != 0) s.report_id = static_cast<std::uint8_t>(d.report_id);
      s.session = session;
      if (auto st = adapters::idcard::check(s); !st)
        return std::unexpected(at(a, "report_size", st.error()));
      return made_reader<adapters::idcard::UsbHidIdCardReader>(photo, io, *usb_ctx, std::move(s),
                                                               std::move(sink), clock);
    }
    if (on_usb) {
      adapters::idcard::UsbIdCardReaderSettings s;
      if (auto st = fill_usb(a, s.link); !st) return std::unexpected(st.error());
      s.out_endpoint = static_cast<std::uint8_t>(d.out_endpoint);
      s.in_endpoint = static_cast<std::uint8_t>(d.in_endpoint);
      if (d.out_body_endpoint != 0)
        s.out_body_endpoint = static_cast<std::uint8_t>(d.out_body_endpoint);
      if (d.in_body_endpoint != 0)
        s.in_body_endpoint = static_cast<std::uint8_t>(d.in_body_endpoint);
      s.session = session;
      return made_reader<adapters::idcard::UsbIdCardReader>(photo, io, *usb_ctx, std::move(s),
                                                            std::move(sink), clock);
    }
    adapters::idcard::SerialIdCardReaderSettings s;
    if (auto st = fill_serial(a, s.link); !st) return std::unexpected(st.error());
    s.session = session;
    return made_reader<adapters::idcard::SerialIdCardReader>(photo, io, std::move(s),
                                                             std::move(sink), clock);
  }

  if (a.kind == "barcode_scanner") {
    if (on_usb) {
      adapters::scanner::UsbHidScannerSettings s;
      if (auto st = fill_usb(a, s.link); !st) return std::unexpected(st.error());
      s.link.continuous_in_endpoint = static_cast<std::uint8_t>(d.in_endpoint);
      if (auto p = adapters::scanner::hid_scanner_protocol_from_string(d.protocol)) s.protocol = *p;
      s.keyboard = keyboard_settings(d, s.keyboard);
      s.keyboard.max_length = d.max_length;
      s.pos.max_length = d.max_length;
      return made<adapters::scanner::UsbHidScanner>(io, *usb_ctx, std::move(s), std::move(sink),
                                                    clock);
    }
    adapters::scanner::SerialScannerSettings s;
    if (auto st = fill_serial(a, s.link); !st) return std::unexpected(st.error());
    s.lines = line_settings(d, s.lines);
    s.lines.max_length = d.max_length;
    return made<adapters::scanner::SerialScanner>(io, std::move(s), std::move(sink), clock);
  }

  if (a.kind == "mrz_reader") {
    if (on_usb) {
      adapters::mrz::UsbHidMrzReaderSettings s;
      if (auto st = fill_usb(a, s.link); !st) return std::unexpected(st.error());
      s.link.continuous_in_endpoint = static_cast<std::uint8_t>(d.in_endpoint);
      s.reader.keyboard = keyboard_settings(d, s.reader.keyboard);
      s.reader.assembler.utc_offset = utc_offset;
      s.reader.assembler.line_timeout = milliseconds(d.line_timeout_ms);
      return made<adapters::mrz::UsbHidMrzReader>(io, *usb_ctx, std::move(s), std::move(sink),
                                                  clock);
    }
    adapters::mrz::SerialMrzReaderSettings s;
    if (auto st = fill_serial(a, s.link); !st) return std::unexpected(st.error());
    s.reader.lines = line_settings(d, s.reader.lines);
    s.reader.assembler.utc_offset = utc_offset;
    s.reader.assembler.line_timeout = milliseconds(d.line_timeout_ms);
    return made<adapters::mrz::SerialMrzReader>(io, std::move(s), std::move(sink), clock);
  }

  return core::fail("unknown_kind", "adapters." + a.name + ".kind", "not a device kind: " + a.kind);
}

}  // namespace postgate::daemon
