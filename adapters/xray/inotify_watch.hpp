#pragma once
// One directory watched through inotify, its fd read on the Asio loop. It
// reports names, not what happened to them: the watcher looks at the file
// itself (stat) to decide, so coalesced or lost events cannot mislead it.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "core/result.hpp"

namespace postgate::adapters::xray {

struct InotifyCallbacks {
  // `finished`: the last event for the name was IN_CLOSE_WRITE or
  // IN_MOVED_TO (a writer is done with it), not a creation or a write.
  std::function<void(std::string_view name, bool finished)> file;
  // IN_Q_OVERFLOW: events were lost; the folder must be listed again.
  std::function<void()> overflow;
  // The directory itself was deleted, moved away or unmounted.
  std::function<void()> gone;
};

class InotifyWatch {
 public:
  InotifyWatch(boost::asio::io_context& io, InotifyCallbacks callbacks);
  ~InotifyWatch();
  InotifyWatch(const InotifyWatch&) = delete;
  InotifyWatch& operator=(const InotifyWatch&) = delete;

  // Error codes: "absent" (no such directory), "failed" (anything else,
  // message from errno).
  core::Status open(const std::filesystem::path& dir);
  void close();
  bool is_open() const { return desc_.is_open(); }

 private:
  void arm();
  void drain();

  boost::asio::posix::stream_descriptor desc_;
  InotifyCallbacks cb_;
  int wd_ = -1;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace postgate::adapters::xray
