#pragma once
// VideoDevice over the Linux V4L2 API: open (O_NONBLOCK), VIDIOC_QUERYCAP,
// VIDIOC_ENUM_FMT + VIDIOC_S_FMT, memory-mapped buffers (REQBUFS, QUERYBUF,
// mmap, QBUF, STREAMON), and frames by waiting for the descriptor to be
// readable on the io_context, then DQBUF, copy, QBUF.
//
// The ioctls are synchronous and quick, except STREAMON, which some UVC
// cameras take a few hundred milliseconds over.
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "adapters/camera/v4l2/video_device.hpp"

namespace postgate::adapters::camera {

class LinuxVideoDevice final : public VideoDevice {
 public:
  explicit LinuxVideoDevice(boost::asio::io_context& io, unsigned buffer_count = 4);
  ~LinuxVideoDevice() override;
  LinuxVideoDevice(const LinuxVideoDevice&) = delete;
  LinuxVideoDevice& operator=(const LinuxVideoDevice&) = delete;

  core::Status open(const std::string& path) override;
  core::Result<VideoFormat> negotiate(const FormatRequest& request) override;
  core::Status start() override;
  void next_frame(std::function<void(core::Result<VideoFrame>)> handler) override;
  void stop() override;
  void close() override;

 private:
  struct Mapping {
    void* start = nullptr;
    std::size_t length = 0;
  };
  int fd();
  void try_dequeue(std::function<void(core::Result<VideoFrame>)> handler);
  void deliver(std::function<void(core::Result<VideoFrame>)> handler,
               core::Result<VideoFrame> result);

  boost::asio::io_context& io_;
  unsigned buffer_count_;
  std::string path_;
  std::optional<boost::asio::posix::stream_descriptor> descriptor_;
  std::vector<Mapping> mappings_;
  bool streaming_ = false;
  // Handlers in flight hold it weakly; close() replaces it (and the
  // destructor drops it), so they find it gone and call nobody.
  std::shared_ptr<int> life_;
};

}  // namespace postgate::adapters::camera
