#pragma once
// An in-process umockdev testbed for the USB tests: devices from the
// fixtures folder, their ioctl sessions, unplug and re-plug. The binary runs
// under umockdev-wrapper (see CMakeLists.txt); the testbed must exist before
// the code under test calls libusb_init.
#include <umockdev.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>

namespace postgate::test {

inline std::string usb_fixture(const std::string& name) {
  return std::string(POSTGATE_USB_FIXTURES) + "/" + name;
}

class UsbTestbed {
 public:
  UsbTestbed() : tb_(umockdev_testbed_new()) {}
  ~UsbTestbed() { g_object_unref(tb_); }
  UsbTestbed(const UsbTestbed&) = delete;
  UsbTestbed& operator=(const UsbTestbed&) = delete;

  bool mocked() const { return umockdev_in_mock_environment(); }

  // Adds a device from fixtures/<name>.umockdev; returns its sysfs path.
  std::string add(const std::string& name) {
    GError* err = nullptr;
    if (!umockdev_testbed_add_from_file(tb_, usb_fixture(name + ".umockdev").c_str(), &err)) {
      std::string m = err ? err->message : "?";
      if (err) g_error_free(err);
      throw std::runtime_error("umockdev add " + name + ": " + m);
    }
    return "/sys/devices/pci0000:00/0000:00:14.0/usb1/" + port_of(name);
  }

  // Attaches fixtures/<ioctl>.ioctl to the device node named inside it.
  void load_ioctl(const std::string& node, const std::string& ioctl) {
    GError* err = nullptr;
    if (!umockdev_testbed_load_ioctl(tb_, node.c_str(), usb_fixture(ioctl + ".ioctl").c_str(),
                                     &err)) {
      std::string m = err ? err->message : "?";
      if (err) g_error_free(err);
      throw std::runtime_error("umockdev ioctl " + ioctl + ": " + m);
    }
  }

  void uevent(const std::string& syspath, const char* action) {
    umockdev_testbed_uevent(tb_, syspath.c_str(), action);
  }
  // Unplug as the kernel does it: the remove uevent, then the device is gone.
  void unplug(const std::string& syspath) {
    uevent(syspath, "remove");
    umockdev_testbed_remove_device(tb_, syspath.c_str());
  }

  UMockdevTestbed* native() { return tb_; }

 private:
  static std::string port_of(const std::string& name) {
    if (name == "scanner_a") return "1-1";
    if (name == "scanner_b") return "1-2";
    if (name == "idcard") return "1-3";
    if (name == "idcard_split") return "1-4";
    if (name == "scanner_pos") return "1-5";
    return "?";
  }
  UMockdevTestbed* tb_;
};

// Runs the loop until `done()` or `limit`; true when done.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace postgate::test
