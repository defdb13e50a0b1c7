#include "storage/keyring.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace postgate::storage {

namespace {

constexpr std::uint8_t kSealVersion = 1;
constexpr std::size_t kHeaderSize = 1 + 4;  // version, key id
constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;

std::string octal_mode(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

void put_u32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

std::uint32_t get_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// The header (version, key id) is authenticated together with the caller's
// AAD, so neither can be altered without the tag failing.
std::string full_aad(const std::uint8_t* header, std::string_view aad) {
  std::string out(reinterpret_cast<const char*>(header), kHeaderSize);
  out.append(aad);
  return out;
}

}  // namespace

const Key* KeyRing::find(std::uint32_t id) const {
  if (current.id == id) return &current;
  for (const Key& k : previous)
    if (k.id == id) return &k;
  return nullptr;
}

std::uint32_t key_id_of(const std::array<std::uint8_t, 32>& bytes) {
  std::uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(bytes.data(), bytes.size(), digest);
  return get_u32(digest);
}

Key make_key(const std::array<std::uint8_t, 32>& bytes) {
  return Key{key_id_of(bytes), bytes};
}

std::string key_id_hex(std::uint32_t id) {
  char buf[12];
  std::snprintf(buf, sizeof buf, "%08x", id);
  return buf;
}

core::Result<Key> load_key_file(const std::filesystem::path& path) {
  const std::string p = path.string();
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    const int err = errno;
    return core::fail(err == ENOENT ? "key_file_missing" : "key_file_unreadable", "",
                      "cannot open key file " + p + ": " + std::strerror(err));
  }
  FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return core::fail("key_file_unreadable", "", "cannot stat key file " + p);
  if (!S_ISREG(st.st_mode))
    return core::fail("key_file_unreadable", "", "key file " + p + " is not a regular file");
  if ((st.st_mode & 077) != 0)
    return core::fail("key_file_mode", "",
                      "key file " + p + " has mode " + octal_mode(st.st_mode) +
                          ", readable or writable by group or others; restrict it with: chmod "
                          "600 " +
                          p);
  // Read at most a little more than the longest valid form, so a wrong file
  // (say, a large one) is refused without reading it all.
  std::array<char, 80> buf{};
  std::size_t n = 0;
  while (n < buf.size()) {
    const ssize_t r = ::read(fd, buf.data() + n, buf.size() - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      return core::fail("key_file_unreadable", "", "cannot read key file " + p);
    }
    if (r == 0) break;
    n += static_cast<std::size_t>(r);
  }
  std::array<std::uint8_t, 32> bytes{};
  bool ok = false;
  if (n == 32) {
    std::memcpy(bytes.data(), buf.data(), 32);
    ok = true;
  } else {
    std::size_t len = n;
    if (len > 0 && buf[len - 1] == '\n') --len;
    if (len > 0 && buf[len - 1] == '\r') --len;
    if (len == 64) {
      ok = true;
      for (std::size_t i = 0; i < 32 && ok; ++i) {
        const int hi = hex_value(buf[2 * i]);
        const int lo = hex_value(buf[2 * i + 1]);
        if (hi < 0 || lo < 0) ok = false;
        bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
      }
    }
  }
  OPENSSL_cleanse(buf.data(), buf.size());
  if (!ok)
    return core::fail("key_file_format", "",
                      "key file " + p +
                          " must hold 32 raw bytes or 64 hex characters (generate one with: "
                          "openssl rand -hex 32 > " +
                          p + " && chmod 600 " + p + ")");
  Key key = make_key(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return key;
}

core::Result<Key> load_key_credential(const std::string& name) {
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  if (dir == nullptr || *dir == '\0')
    return core::fail("key_credential_missing", "",
                      "CREDENTIALS_DIRECTORY is not set; pass the key with LoadCredential=" + name +
                          ":<file> in the systemd unit");
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    return core::fail("key_credential_missing", "", "bad credential name '" + name + "'");
  return load_key_file(std::filesystem::path(dir) / name);
}

core::Status generate_key_file(const std::filesystem::path& path) {
  const std::string p = path.string();
  std::array<std::uint8_t, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    return core::fail("key_generate", "", "the random generator failed");
  std::string text;
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::uint8_t b : bytes) {
    text.push_back(kHex[b >> 4]);
    text.push_back(kHex[b & 15]);
  }
  text.push_back('\n');
  OPENSSL_cleanse(bytes.data(), bytes.size());
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    const int err = errno;
    OPENSSL_cleanse(text.data(), text.size());
    return core::fail(err == EEXIST ? "key_file_exists" : "key_file_unwritable", "",
                      "cannot create key file " + p + ": " + std::strerror(err));
  }
  FdCloser closer{fd};
  bool ok = ::fchmod(fd, 0600) == 0;
  std::size_t off = 0;
  while (ok && off < text.size()) {
    const ssize_t w = ::write(fd, text.data() + off, text.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      ok = false;
    else
      off += static_cast<std::size_t>(w);
  }
  OPENSSL_cleanse(text.data(), text.size());
  if (ok) ok = ::fsync(fd) == 0;
  if (!ok) {
    ::unlink(p.c_str());
    return core::fail("key_file_unwritable", "", "cannot write key file " + p);
  }
  return {};
}

core::Result<std::vector<std::uint8_t>> seal(const Key& key, std::string_view plaintext,
                                             std::string_view aad) {
  std::vector<std::uint8_t> out(kHeaderSize + kNonceSize + plaintext.size() + kTagSize);
  out[0] = kSealVersion;
  put_u32(out.data() + 1, key.id);
  std::uint8_t* nonce = out.data() + kHeaderSize;
  std::uint8_t* ct = nonce + kNonceSize;
  if (RAND_bytes(nonce, static_cast<int>(kNonceSize)) != 1)
    return core::fail("crypto_error", "", "the random generator failed");
  const std::string a = full_aad(out.data(), aad);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok =
      ctx != nullptr &&
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.bytes.data(), nonce) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(a.data()),
                        static_cast<int>(a.size())) == 1;
  if (ok && !plaintext.empty())
    ok = EVP_EncryptUpdate(ctx.get(), ct, &len,
                           reinterpret_cast<const unsigned char*>(plaintext.data()),
                           static_cast<int>(plaintext.size())) == 1;
  if (ok) ok = EVP_EncryptFinal_ex(ctx.get(), ct + plaintext.size(), &len) == 1;
  if (ok)
    ok = EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, ct + plaintext.size()) == 1;
  if (!ok) return core::fail("crypto_error", "", "AES-256-GCM encryption failed");
  return out;
}

core::Result<std::string> open_sealed(const KeyRing& ring, const std::vector<std::uint8_t>& sealed,
                                      std::string_view aad) {
  if (sealed.size() < kHeaderSize + kNonceSize + kTagSize || sealed[0] != kSealVersion)
    return core::fail("sealed_format", "", "sealed value has an unknown format");
  const std::uint32_t id = get_u32(sealed.data() + 1);
  const Key* key = ring.find(id);
  if (key == nullptr)
    return core::fail("key_unknown", "",
                      "data sealed with key " + key_id_hex(id) +
                          ", which is neither the current nor a previous key; add it to the "
                          "previous keys");
  const std::uint8_t* nonce = sealed.data() + kHeaderSize;
  const std::uint8_t* ct = nonce + kNonceSize;
  const std::size_t ct_len = sealed.size() - kHeaderSize - kNonceSize - kTagSize;
  std::string tag(reinterpret_cast<const char*>(ct + ct_len), kTagSize);
  const std::string a = full_aad(sealed.data(), aad);
  std::string plain(ct_len, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok =
      ctx != nullptr &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key->bytes.data(), nonce) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(a.data()),
                        static_cast<int>(a.size())) == 1;
  if (ok && ct_len > 0)
    ok = EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len, ct,
                           static_cast<int>(ct_len)) == 1;
  if (ok) ok = EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) == 1;
  // An empty buffer is fine for the final call: GCM produces no output there.
  unsigned char final_buf[16];
  if (ok) ok = EVP_DecryptFinal_ex(ctx.get(), final_buf, &len) == 1;
  if (!ok) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return core::fail("sealed_auth", "",
                      "sealed value failed authentication under key " + key_id_hex(id) +
                          " (tampered, or bound to another record)");
  }
  return plain;
}

}  // namespace postgate::storage
