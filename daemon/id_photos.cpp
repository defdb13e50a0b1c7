#include "daemon/id_photos.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

namespace postgate::daemon {

namespace {

std::string sha256_hex(const std::vector<std::uint8_t>& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

core::Status write_synced(const std::filesystem::path& path,
                          const std::vector<std::uint8_t>& data) {
  const std::string tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return core::fail("evidence_io", "storage.evidence_dir",
                      "cannot create " + tmp + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return core::fail("evidence_io", "storage.evidence_dir",
                        "cannot write " + tmp + ": " + std::strerror(e));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return core::fail("evidence_io", "storage.evidence_dir",
                      "cannot store " + path.string() + ": " + std::strerror(e));
  }
  return {};
}

}  // namespace

core::Status IdPhotos::keep(const std::string& counter, const std::string& source,
                            const std::string& doc_number, const std::vector<std::uint8_t>& photo,
                            core::TimePoint at) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  const std::string name = "idphoto-" + counter + "-" +
                           std::to_string(at.time_since_epoch().count()) + "-" +
                           std::to_string(++written_) + ".sealed";
  const std::filesystem::path path = dir_ / name;
  const std::string_view plain(reinterpret_cast<const char*>(photo.data()), photo.size());
  auto sealed = storage::seal(key_, plain, name);
  if (!sealed) return std::unexpected(sealed.error());
  if (auto s = write_synced(path, *sealed); !s) return s;

  if (auto it = held_.find(counter); it != held_.end() && !it->second.attached)
    std::filesystem::remove(it->second.ref.path, ec);  // never referenced: nothing to keep
  core::EvidenceRef ref;
  ref.kind = "id_photo";
  ref.source = source;
  ref.path = path.string();
  ref.sha256 = sha256_hex(*sealed);
  ref.size = sealed->size();
  ref.captured_at = at;
  held_[counter] = Held{doc_number, std::move(ref), false};
  return {};
}

std::optional<core::EvidenceRef> IdPhotos::for_commit(const std::string& counter,
                                                      const std::string& doc_number) {
  auto it = held_.find(counter);
  if (it == held_.end() || it->second.doc_number != doc_number) return std::nullopt;
  it->second.attached = true;
  return it->second.ref;
}

}  // namespace postgate::daemon
