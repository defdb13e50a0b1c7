#include "adapters/transport/usb/usb_error.hpp"

#include <libusb.h>

namespace postgate::adapters::usb {

std::string_view error_code(int e) {
  switch (e) {
    case LIBUSB_ERROR_ACCESS:
      return "permission_denied";
    case LIBUSB_ERROR_NO_DEVICE:
      return "no_device";
    case LIBUSB_ERROR_BUSY:
      return "busy";
    case LIBUSB_ERROR_NOT_FOUND:
      return "not_found";
    case LIBUSB_ERROR_IO:
      return "io_error";
    case LIBUSB_ERROR_TIMEOUT:
      return "timeout";
    case LIBUSB_ERROR_OVERFLOW:
      return "overflow";
    case LIBUSB_ERROR_PIPE:
      return "pipe_error";
    case LIBUSB_ERROR_INTERRUPTED:
      return "interrupted";
    case LIBUSB_ERROR_NO_MEM:
      return "no_memory";
    case LIBUSB_ERROR_NOT_SUPPORTED:
      return "not_supported";
    case LIBUSB_ERROR_INVALID_PARAM:
      return "invalid_param";
    default:
      return "usb_error";
  }
}

std::string_view errno_name(int e) {
  switch (e) {
    case LIBUSB_ERROR_ACCESS:
      return "EACCES";
    case LIBUSB_ERROR_NO_DEVICE:
      return "ENODEV";
    case LIBUSB_ERROR_BUSY:
      return "EBUSY";
    case LIBUSB_ERROR_NOT_FOUND:
      return "ENOENT";
    case LIBUSB_ERROR_IO:
      return "EIO";
    case LIBUSB_ERROR_TIMEOUT:
      return "ETIMEDOUT";
    case LIBUSB_ERROR_OVERFLOW:
      return "EOVERFLOW";
    case LIBUSB_ERROR_PIPE:
      return "EPIPE";
    case LIBUSB_ERROR_INTERRUPTED:
      return "EINTR";
    case LIBUSB_ERROR_NO_MEM:
      return "ENOMEM";
    case LIBUSB_ERROR_NOT_SUPPORTED:
      return "ENOTSUP";
    case LIBUSB_ERROR_INVALID_PARAM:
      return "EINVAL";
    default:
      return "EIO";
  }
}

core::Error usb_error(int e, std::string_view what, std::string_view node) {
  std::string msg(what);
  msg += ": ";
  msg += errno_name(e);
  if (!node.empty()) {
    msg += " on ";
    msg += node;
  }
  msg += " (";
  msg += libusb_error_name(e);
  msg += ")";
  if (e == LIBUSB_ERROR_ACCESS)
    msg += "; check the udev rule gives the postgate user access to this device";
  return core::Error{std::string(error_code(e)), "", std::move(msg)};
}

}  // namespace postgate::adapters::usb
