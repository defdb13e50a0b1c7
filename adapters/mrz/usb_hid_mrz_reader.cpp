#include "adapters/mrz/usb_hid_mrz_reader.hpp"

#include "adapters/mrz/zone_output.hpp"

namespace postgate::adapters::mrz {

UsbHidMrzReader::UsbHidMrzReader(boost::asio::io_context& io, usb::UsbContext& ctx,
                                 UsbHidMrzReaderSettings settings, DeviceSink sink,
                                 const core::Clock& clock)
    : UsbDriver(io, ctx, std::move(settings.link), std::move(sink), clock),
      reader_(std::move(settings.reader)) {}

UsbHidMrzReader::~UsbHidMrzReader() {
  stop();
}

void UsbHidMrzReader::link_up(core::TimePoint) {}

void UsbHidMrzReader::link_down() {
  reader_.reset();
}

void UsbHidMrzReader::bytes_in(std::span<const std::uint8_t> bytes, core::TimePoint now) {
  apply(reader_.on_report(bytes, now));
}

void UsbHidMrzReader::timer_fired(core::TimePoint now) {
  apply(reader_.on_timer(now));
}

void UsbHidMrzReader::apply(MrzOutput out) {
  if (deliver(out, emitter())) wake_at(reader_.wake_at());
}

}  // namespace postgate::adapters::mrz
