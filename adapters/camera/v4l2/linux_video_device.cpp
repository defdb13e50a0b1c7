#include "adapters/camera/v4l2/linux_video_device.hpp"

#include <fcntl.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace postgate::adapters::camera {

namespace asio = boost::asio;

namespace {

int xioctl(int fd, unsigned long request, void* arg) {
  int r;
  do {
    r = ::ioctl(fd, request, arg);
  } while (r == -1 && errno == EINTR);
  return r;
}

std::string errno_text(int e) {
  return std::generic_category().message(e);
}

bool vanished(int e) {
  return e == ENODEV || e == ENOENT || e == ENXIO;
}

// What an errno from the device means to the caller.
std::unexpected<core::Error> device_error(const std::string& what, const std::string& path, int e) {
  if (vanished(e)) return core::fail("camera_absent", "device", path + ": no such device");
  std::string hint;
  if (e == EACCES || e == EPERM) hint = " (is the service user in group video?)";
  if (e == EBUSY) hint = " (another program is using the camera)";
  return core::fail("camera_device_error", "device",
                    what + " on " + path + ": " + errno_text(e) + hint);
}

std::uint32_t fourcc(PixelFormat f) {
  return f == PixelFormat::mjpeg ? V4L2_PIX_FMT_MJPEG : V4L2_PIX_FMT_YUYV;
}

}  // namespace

LinuxVideoDevice::LinuxVideoDevice(asio::io_context& io, unsigned buffer_count)
    : io_(io), buffer_count_(std::clamp(buffer_count, 2u, 16u)), life_(std::make_shared<int>(0)) {}

LinuxVideoDevice::~LinuxVideoDevice() {
  close();
}

int LinuxVideoDevice::fd() {
  return descriptor_ ? descriptor_->native_handle() : -1;
}

core::Status LinuxVideoDevice::open(const std::string& path) {
  close();
  path_ = path;
  const int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return device_error("open", path, errno);
  descriptor_.emplace(io_);
  boost::system::error_code ec;
  descriptor_->assign(fd, ec);
  if (ec) {
    ::close(fd);
    descriptor_.reset();
    return core::fail("camera_device_error", "device",
                      "cannot watch " + path + ": " + ec.message());
  }
  v4l2_capability cap{};
  if (xioctl(fd, VIDIOC_QUERYCAP, &cap) < 0) {
    const int e = errno;
    close();
    if (e == ENOTTY || e == EINVAL)
      return core::fail("camera_device_error", "device", path + " is not a V4L2 device");
    return device_error("VIDIOC_QUERYCAP", path, e);
  }
  const std::uint32_t caps =
      (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
  if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING)) {
    close();
    // UVC cameras register a second node for metadata: the wrong one of the pair.
    return core::fail("camera_device_error", "device",
                      path + " is not a streaming video capture node (a metadata node?)");
  }
  return {};
}

core::Result<VideoFormat> LinuxVideoDevice::negotiate(const FormatRequest& request) {
  if (!descriptor_) return core::fail("camera_device_error", "device", "not open");
  bool has_mjpeg = false, has_yuyv = false;
  for (std::uint32_t i = 0; i < 64; ++i) {
    v4l2_fmtdesc desc{};
    desc.index = i;
    desc.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(fd(), VIDIOC_ENUM_FMT, &desc) < 0) {
      if (errno == EINVAL) break;  // the end of the list
      return device_error("VIDIOC_ENUM_FMT", path_, errno);
    }
    has_mjpeg |= desc.pixelformat == V4L2_PIX_FMT_MJPEG || desc.pixelformat == V4L2_PIX_FMT_JPEG;
    has_yuyv |= desc.pixelformat == V4L2_PIX_FMT_YUYV;
  }
  PixelFormat chosen;
  switch (request.preference) {
    case FormatPreference::mjpeg:
      if (!has_mjpeg)
        return core::fail("camera_unsupported_format", "format", path_ + " offers no MJPEG");
      chosen = PixelFormat::mjpeg;
      break;
    case FormatPreference::yuyv:
      if (!has_yuyv)
        return core::fail("camera_unsupported_format", "format", path_ + " offers no YUYV");
      chosen = PixelFormat::yuyv;
      break;
    default:
      if (!has_mjpeg && !has_yuyv)
        return core::fail("camera_unsupported_format", "format",
                          path_ + " offers neither MJPEG nor YUYV");
      chosen = has_mjpeg ? PixelFormat::mjpeg : PixelFormat::yuyv;
  }
  v4l2_format fmt{};
  fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  fmt.fmt.pix.width = request.width;
  fmt.fmt.pix.height = request.height;
  fmt.fmt.pix.pixelformat = fourcc(chosen);
  fmt.fmt.pix.field = V4L2_FIELD_ANY;
  if (xioctl(fd(), VIDIOC_S_FMT, &fmt) < 0) return device_error("VIDIOC_S_FMT", path_, errno);
  VideoFormat out;
  const std::uint32_t got = fmt.fmt.pix.pixelformat;
  if (got == V4L2_PIX_FMT_MJPEG || got == V4L2_PIX_FMT_JPEG) {
    out.pixel_format = PixelFormat::mjpeg;
  } else if (got == V4L2_PIX_FMT_YUYV) {
    out.pixel_format = PixelFormat::yuyv;
  } else {
    return core::fail("camera_unsupported_format", "format",
                      path_ + " switched to a pixel format other than MJPEG or YUYV");
  }
  out.width = fmt.fmt.pix.width;
  out.height = fmt.fmt.pix.height;
  out.bytes_per_line = fmt.fmt.pix.bytesperline;
  out.image_size = fmt.fmt.pix.sizeimage;
  return out;
}

core::Status LinuxVideoDevice::start() {
  if (!descriptor_) return core::fail("camera_device_error", "device", "not open");
  v4l2_requestbuffers req{};
  req.count = buffer_count_;
  req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  req.memory = V4L2_MEMORY_MMAP;
  if (xioctl(fd(), VIDIOC_REQBUFS, &req) < 0) return device_error("VIDIOC_REQBUFS", path_, errno);
  if (req.count < 1)
    return core::fail("camera_device_error", "device", path_ + " granted no buffers");
  for (std::uint32_t i = 0; i < req.count; ++i) {
    v4l2_buffer buf{};
    buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buf.memory = V4L2_MEMORY_MMAP;
    buf.index = i;
    if (xioctl(fd(), VIDIOC_QUERYBUF, &buf) < 0)
      return device_error("VIDIOC_QUERYBUF", path_, errno);
    void* start =
        ::mmap(nullptr, buf.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd(), buf.m.offset);
    if (start == MAP_FAILED) return device_error("mmap", path_, errno);
    mappings_.push_back({start, buf.length});
    if (xioctl(fd(), VIDIOC_QBUF, &buf) < 0) return device_error("VIDIOC_QBUF", path_, errno);
  }
  int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (xioctl(fd(), VIDIOC_STREAMON, &type) < 0)
    return device_error("VIDIOC_STREAMON", path_, errno);
  streaming_ = true;
  return {};
}

void LinuxVideoDevice::deliver(std::function<void(core::Result<VideoFrame>)> handler,
                               core::Result<VideoFrame> result) {
  asio::post(io_, [life = std::weak_ptr<int>(life_), handler = std::move(handler),
                   result = std::move(result)]() mutable {
    if (life.lock()) handler(std::move(result));
  });
}

void LinuxVideoDevice::next_frame(std::function<void(core::Result<VideoFrame>)> handler) {
  if (!streaming_)
    return deliver(std::move(handler),
                   core::fail("camera_device_error", "device", "not streaming"));
  try_dequeue(std::move(handler));
}

void LinuxVideoDevice::try_dequeue(std::function<void(core::Result<VideoFrame>)> handler) {
  v4l2_buffer buf{};
  buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  buf.memory = V4L2_MEMORY_MMAP;
  if (xioctl(fd(), VIDIOC_DQBUF, &buf) < 0) {
    if (errno != EAGAIN)
      return deliver(std::move(handler), device_error("VIDIOC_DQBUF", path_, errno));
    descriptor_->async_wait(
        asio::posix::stream_descriptor::wait_read,
        [this, life = std::weak_ptr<int>(life_),
         handler = std::move(handler)](boost::system::error_code ec) mutable {
          if (!life.lock()) return;  // closed: nobody to call
          if (ec)
            return deliver(std::move(handler),
                           core::fail("camera_device_error", "device", "wait: " + ec.message()));
          try_dequeue(std::move(handler));
        });
    return;
  }
  VideoFrame frame;
  if (buf.index < mappings_.size()) {
    const auto& m = mappings_[buf.index];
    const auto* p = static_cast<const std::uint8_t*>(m.start);
    frame.bytes.assign(p, p + std::min<std::size_t>(buf.bytesused, m.length));
  } else {
    frame.corrupt = true;
  }
  frame.corrupt |= (buf.flags & V4L2_BUF_FLAG_ERROR) != 0;
  frame.sequence = buf.sequence;
  if (xioctl(fd(), VIDIOC_QBUF, &buf) < 0 && vanished(errno))
    return deliver(std::move(handler), device_error("VIDIOC_QBUF", path_, errno));
  deliver(std::move(handler), std::move(frame));
}

void LinuxVideoDevice::stop() {
  if (!streaming_ || !descriptor_) return;
  streaming_ = false;
  int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  (void)xioctl(fd(), VIDIOC_STREAMOFF, &type);
}

void LinuxVideoDevice::close() {
  life_ = std::make_shared<int>(0);  // handlers in flight hold the old one
  stop();
  for (const auto& m : mappings_) ::munmap(m.start, m.length);
  mappings_.clear();
  if (descriptor_) {
    boost::system::error_code ignored;
    descriptor_->close(ignored);  // the driver frees its buffers with the last reference
    descriptor_.reset();
  }
}

}  // namespace postgate::adapters::camera
