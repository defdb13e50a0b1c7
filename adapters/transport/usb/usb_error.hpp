#pragma once
// libusb error codes as core::Error, with the device node in the message so
// a udev-rules problem reads as "EACCES on /dev/bus/usb/001/004".
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace postgate::adapters::usb {

// Stable codes: "permission_denied", "no_device", "busy", "not_found",
// "io_error", "timeout", "overflow", "pipe_error", "interrupted",
// "no_memory", "not_supported", "invalid_param", "usb_error".
std::string_view error_code(int libusb_error);

// `what` says what was being done ("open", "claim interface 0", ...);
// `node` is the device node or empty.
core::Error usb_error(int libusb_error, std::string_view what, std::string_view node);

// The errno-style name used in details ("EACCES", "ENODEV", "EBUSY", ...).
std::string_view errno_name(int libusb_error);

}  // namespace postgate::adapters::usb
