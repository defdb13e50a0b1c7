#pragma once
// fake_serial_device.py in a child process: the device runs truly
// concurrently with the code under test (real pacing, real hang-ups), and
// its frames come from an encoder written from the spec, not from the codec.
#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/streambuf.hpp>

namespace postgate::test {

class ProcessPeer {
 public:
  // Starts the peer with its pty behind `link`; check started().
  ProcessPeer(boost::asio::io_context& io, const std::string& link);
  ~ProcessPeer();
  ProcessPeer(const ProcessPeer&) = delete;
  ProcessPeer& operator=(const ProcessPeer&) = delete;

  bool started() const { return pid_ > 0; }
  // One control line (see the script's docstring).
  void control(const std::string& line);
  // How many times the peer reported `what` ("find", "read", "plugged", ...).
  int count(std::string_view what) const;

 private:
  pid_t pid_ = -1;
  int to_peer_ = -1;
  // Shared with the pending read, which may complete after the peer is gone.
  struct Reports {
    explicit Reports(boost::asio::io_context& io) : from_peer(io) {}
    boost::asio::posix::stream_descriptor from_peer;
    boost::asio::streambuf buf;
    std::vector<std::string> lines;
  };
  static void read_reports(std::shared_ptr<Reports> r);

  std::shared_ptr<Reports> reports_;
};

}  // namespace postgate::test
