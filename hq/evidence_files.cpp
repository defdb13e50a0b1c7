#include "hq/evidence_files.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace postgate::hq {

namespace fs = std::filesystem;

namespace {

core::Error io_error(std::string_view what, const fs::path& p) {
  return core::Error{"evidence_io", "evidence_dir",
                     std::string(what) + " " + p.string() + ": " + std::strerror(errno)};
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

core::Status sync_dir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.ok() || ::fsync(fd.get()) != 0) return std::unexpected(io_error("fsync", dir));
  return {};
}

core::Status ensure_private_dir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) {
    // The umask may have taken bits away, never added: set exactly 0700.
    ::chmod(dir.c_str(), 0700);
    return sync_dir(dir.parent_path().empty() ? fs::path(".") : dir.parent_path());
  }
  if (errno != EEXIST) return std::unexpected(io_error("mkdir", dir));
  return {};
}

core::Status write_all(int fd, std::string_view bytes, off_t at, const fs::path& p) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), at);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(io_error("write", p));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    at += n;
  }
  return {};
}

core::Result<std::string> read_all(const fs::path& p) {
  Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return std::unexpected(io_error("open", p));
  std::string out;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(io_error("read", p));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string to_hex(const unsigned char* md, unsigned int n) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 15]);
  }
  return out;
}

std::string extension_for(std::string_view content_type) {
  if (content_type == "image/jpeg") return ".jpg";
  if (content_type == "image/png") return ".png";
  if (content_type == "image/tiff") return ".tif";
  return ".bin";
}

bool safe_name(std::string_view s) {
  // Outlets and ids are checked before they get here; this is the last
  // guard against a path leaving the evidence directory.
  if (s.empty() || s.size() > 64) return false;
  for (const char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_'))
      return false;
  return true;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_sha256(), nullptr);
  return to_hex(md, n);
}

std::string sealed_evidence_aad(std::string_view outlet, std::string_view id,
                                std::string_view sha256) {
  return "evidence/" + std::string(outlet) + "/" + std::string(id) + "/" + std::string(sha256);
}

fs::path EvidenceFiles::part_path(std::string_view outlet, std::string_view id) const {
  return root_ / std::string(outlet) / (std::string(id) + ".part");
}

core::Result<fs::path> EvidenceFiles::outlet_dir(std::string_view outlet) {
  if (auto s = ensure_private_dir(root_); !s) return std::unexpected(s.error());
  const auto dir = root_ / std::string(outlet);
  if (auto s = ensure_private_dir(dir); !s) return std::unexpected(s.error());
  return dir;
}

std::uint64_t EvidenceFiles::part_size(std::string_view outlet, std::string_view id) const {
  struct stat st {};
  if (::stat(part_path(outlet, id).c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_size);
}

core::Status EvidenceFiles::append(std::string_view outlet, std::string_view id, std::uint64_t have,
                                   std::string_view bytes) {
  if (!safe_name(outlet) || !safe_name(id))
    return core::fail("bad_name", "id", "outlet or id unfit for a file name");
  auto dir = outlet_dir(outlet);
  if (!dir) return std::unexpected(dir.error());
  const auto p = part_path(outlet, id);
  struct stat before {};
  const bool existed = ::stat(p.c_str(), &before) == 0;
  Fd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.ok()) return std::unexpected(io_error("open", p));
  if (::ftruncate(fd.get(), static_cast<off_t>(have)) != 0)
    return std::unexpected(io_error("truncate", p));
  if (auto s = write_all(fd.get(), bytes, static_cast<off_t>(have), p); !s) return s;
  // The ack that follows promises these bytes.
  if (::fsync(fd.get()) != 0) return std::unexpected(io_error("fsync", p));
  if (!existed) return sync_dir(*dir);
  return {};
}

core::Result<std::string> EvidenceFiles::part_sha256(std::string_view outlet,
                                                     std::string_view id) const {
  const auto p = part_path(outlet, id);
  Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return std::unexpected(io_error("open", p));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return core::fail("crypto", "", "SHA-256 unavailable");
  std::vector<char> buf(1 << 16);
  while (true) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(io_error("read", p));
    }
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return to_hex(md, len);
}

core::Result<std::string> EvidenceFiles::finalize(std::string_view outlet, std::string_view id,
                                                  std::string_view content_type,
                                                  std::string_view sha256,
                                                  const storage::Key* key) {
  auto dir = outlet_dir(outlet);
  if (!dir) return std::unexpected(dir.error());
  const auto part = part_path(outlet, id);
  const std::string name = std::string(id) + (key ? ".sealed" : extension_for(content_type));
  const auto final_path = *dir / name;
  if (key) {
    // Sealed whole (storage::seal takes one buffer): bounded by
    // --max-evidence-bytes, 64 MiB by default.
    auto plain = read_all(part);
    if (!plain) return std::unexpected(plain.error());
    auto sealed = storage::seal(*key, *plain, sealed_evidence_aad(outlet, id, sha256));
    if (!sealed) return std::unexpected(sealed.error());
    const auto tmp = *dir / (name + ".tmp");
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.ok()) return std::unexpected(io_error("open", tmp));
    const std::string_view bytes(reinterpret_cast<const char*>(sealed->data()), sealed->size());
    if (auto s = write_all(fd.get(), bytes, 0, tmp); !s) return std::unexpected(s.error());
    if (::fsync(fd.get()) != 0) return std::unexpected(io_error("fsync", tmp));
    if (::rename(tmp.c_str(), final_path.c_str()) != 0)
      return std::unexpected(io_error("rename", tmp));
    ::unlink(part.c_str());
  } else if (::rename(part.c_str(), final_path.c_str()) != 0) {
    return std::unexpected(io_error("rename", part));
  }
  if (auto s = sync_dir(*dir); !s) return std::unexpected(s.error());
  return std::string(outlet) + "/" + name;
}

void EvidenceFiles::discard_part(std::string_view outlet, std::string_view id) {
  ::unlink(part_path(outlet, id).c_str());
}

core::Result<std::vector<std::uint8_t>> EvidenceFiles::read_stored(
    std::string_view relative, std::string_view outlet, std::string_view id,
    std::string_view sha256, const storage::KeyRing* keys) const {
  auto bytes = read_all(root_ / std::string(relative));
  if (!bytes) return std::unexpected(bytes.error());
  if (!relative.ends_with(".sealed"))
    return std::vector<std::uint8_t>(bytes->begin(), bytes->end());
  if (!keys) return core::fail("key_required", "key_file", "evidence is sealed; give --key-file");
  auto plain = storage::open_sealed(*keys, std::vector<std::uint8_t>(bytes->begin(), bytes->end()),
                                    sealed_evidence_aad(outlet, id, sha256));
  if (!plain) return std::unexpected(plain.error());
  return std::vector<std::uint8_t>(plain->begin(), plain->end());
}

}  // namespace postgate::hq
