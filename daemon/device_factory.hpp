#pragma once
// Builds the device driver a config entry asks for (kinds idcard_reader,
// barcode_scanner, mrz_reader; transports usb and serial). The config
// loader has already checked shapes with positions; what is left to fail
// here is reported with the adapter's key path in the error's field.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "adapters/device.hpp"
#include "adapters/transport/usb/usb_context.hpp"
#include "config/config.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace postgate::daemon {

bool is_device_kind(const std::string& kind);

// Where the device is expected, for logs and `postgatectl devices`:
// "usb 0400:c35a port=1-1.2" or "serial /dev/ttyUSB0 115200 8N1".
std::string device_where(const config::AdapterConfig& adapter);

// An ID card's raw photo with its holder's document (idcard_reader with
// keep_photo), just before the IdentityRead.
using PhotoSink =
    std::function<void(const core::IdentityDocument&, const std::vector<std::uint8_t>& photo)>;

// `usb` must be non-null for transport usb. `clock` must outlive the driver.
core::Result<std::unique_ptr<adapters::Device>> make_device(
    boost::asio::io_context& io, adapters::usb::UsbContext* usb,
    const config::AdapterConfig& adapter, std::chrono::minutes utc_offset,
    adapters::DeviceSink sink, const core::Clock& clock, PhotoSink photo = {});

}  // namespace postgate::daemon
