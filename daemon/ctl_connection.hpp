#pragma once
// postgatectl's side of the local API: a blocking Unix socket connection
// with line reads. postgatectl is a short-lived command; plain blocking
// calls (one writer thread for pipelined submits) keep it simple.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace postgate::daemon {

class CtlConnection {
 public:
  static core::Result<CtlConnection> connect(const std::filesystem::path& socket);
  CtlConnection(CtlConnection&& other) noexcept;
  CtlConnection& operator=(CtlConnection&&) = delete;
  ~CtlConnection();

  // Sends all of `data`; false when the daemon has gone.
  bool write_all(std::string_view data);
  // No more requests: the daemon still answers those it has.
  void shutdown_write();
  // The next line without its "\n"; nullopt at end of stream or on error.
  std::optional<std::string> read_line();

 private:
  explicit CtlConnection(int fd) : fd_(fd) {}
  int fd_ = -1;
  std::string buf_;
  std::size_t start_ = 0;
};

}  // namespace postgate::daemon
