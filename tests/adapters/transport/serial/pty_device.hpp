#pragma once
// The device side of a serial line, for tests: a pseudo-terminal pair whose
// slave is reachable through a symlink, as /dev/serial/by-id/... links are.
// Plugging = new pty + symlink; unplugging = closing the master (the code
// under test sees a hang-up, as with a USB-serial adapter pulled out) and
// removing the link. Runs on the test's io_context.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace postgate::test {

class PtyDevice {
 public:
  // Creates the pty and the symlink `link` to its slave. `on_bytes` gets
  // what the code under test writes.
  PtyDevice(boost::asio::io_context& io, std::filesystem::path link,
            std::function<void(std::span<const std::uint8_t>)> on_bytes = {});
  ~PtyDevice();
  PtyDevice(const PtyDevice&) = delete;
  PtyDevice& operator=(const PtyDevice&) = delete;

  void unplug();
  bool plugged() const { return master_.has_value(); }
  const std::string& slave_path() const { return slave_path_; }

  // Writes at once (blocking briefly if the pty buffer is full).
  void write(std::span<const std::uint8_t> bytes);
  void write(const std::string& text);
  // Writes one chunk of `chunk` bytes every `gap`, in order after anything
  // queued before; `done` runs after the last chunk.
  void write_slowly(std::vector<std::uint8_t> bytes, std::size_t chunk,
                    std::chrono::milliseconds gap, std::function<void()> done = {});
  // Writes each piece, `gap` apart (the first at once), after anything queued.
  void write_pieces(std::vector<std::vector<std::uint8_t>> pieces, std::chrono::milliseconds gap,
                    std::function<void()> done = {});
  // Bytes written by this side and not yet read by the code under test.
  std::size_t unread() const;
  // Nothing queued by write_slowly is left to write.
  bool idle() const { return pending_.empty(); }

 private:
  void start_read();
  void pump();

  boost::asio::io_context& io_;
  std::filesystem::path link_;
  std::function<void(std::span<const std::uint8_t>)> on_bytes_;
  std::optional<boost::asio::posix::stream_descriptor> master_;
  int slave_fd_ = -1;  // held so the master never sees a hang-up of its own
  std::string slave_path_;
  std::vector<std::uint8_t> read_buf_ = std::vector<std::uint8_t>(4096);
  struct Chunk {
    std::vector<std::uint8_t> bytes;
    std::chrono::milliseconds gap;
    std::function<void()> done;
  };
  std::vector<Chunk> pending_;
  boost::asio::steady_timer timer_;
  bool pumping_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// A fresh directory under the temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs `io` until `done()` holds or `limit` passes; true if it holds.
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds limit = std::chrono::seconds(5));
// Runs `io` for `d` (for "nothing more happens" checks).
void run_for(boost::asio::io_context& io, std::chrono::milliseconds d);

}  // namespace postgate::test
