#include "storage/keyring.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "store_fixture.hpp"

namespace postgate::storage {
namespace {

using testing::TempDir;
using testing::test_key;

void write_file(const std::filesystem::path& p, const std::string& data, mode_t mode) {
  std::ofstream(p, std::ios::binary) << data;
  ::chmod(p.c_str(), mode);
}

std::string hex_of(const Key& k) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (auto b : k.bytes) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

TEST(KeyRing, KeyIdIsFirstFourBytesOfSha256) {
  // SHA-256 of 32 zero bytes starts 66 68 7a ad.
  std::array<std::uint8_t, 32> zero{};
  EXPECT_EQ(key_id_of(zero), 0x66687aadu);
  EXPECT_EQ(key_id_hex(0x0000beefu), "0000beef");
}

TEST(KeyRing, SealOpenRoundTripAndFormat) {
  const Key k = test_key(1);
  KeyRing ring = testing::ring_of(k);
  auto sealed = seal(k, "ZHANG SAN 440524188001010014", "rec-1");
  ASSERT_TRUE(sealed);
  ASSERT_EQ(sealed->size(), 1 + 4 + 12 + 28 + 16u);
  EXPECT_EQ((*sealed)[0], 1);
  const std::uint32_t id = (std::uint32_t{(*sealed)[1]} << 24) |
                           (std::uint32_t{(*sealed)[2]} << 16) |
                           (std::uint32_t{(*sealed)[3]} << 8) | (*sealed)[4];
  EXPECT_EQ(id, k.id);
  auto opened = open_sealed(ring, *sealed, "rec-1");
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, "ZHANG SAN 440524188001010014");
  // Two seals of the same text differ (fresh nonce).
  EXPECT_NE(*sealed, *seal(k, "ZHANG SAN 440524188001010014", "rec-1"));
  // Empty plaintext works too.
  auto empty = seal(k, "", "x");
  ASSERT_TRUE(empty);
  EXPECT_EQ(*open_sealed(ring, *empty, "x"), "");
}

TEST(KeyRing, WrongAadTamperAndUnknownKeyFail) {
  const Key k = test_key(1);
  KeyRing ring = testing::ring_of(k);
  auto sealed = *seal(k, "secret", "rec-1");
  EXPECT_EQ(open_sealed(ring, sealed, "rec-2").error().code, "sealed_auth");
  auto tampered = sealed;
  tampered[20] ^= 1;
  EXPECT_EQ(open_sealed(ring, tampered, "rec-1").error().code, "sealed_auth");
  auto header = sealed;
  header[0] = 2;
  EXPECT_EQ(open_sealed(ring, header, "rec-1").error().code, "sealed_format");
  EXPECT_EQ(open_sealed(testing::ring_of(test_key(2)), sealed, "rec-1").error().code,
            "key_unknown");
  EXPECT_EQ(open_sealed(ring, std::vector<std::uint8_t>(10), "rec-1").error().code,
            "sealed_format");
}

TEST(KeyRing, PreviousKeysDecrypt) {
  const Key a = test_key(1), b = test_key(2);
  auto old = *seal(a, "old", "r");
  KeyRing ring = testing::ring_of(b);
  ring.previous.push_back(a);
  EXPECT_EQ(*open_sealed(ring, old, "r"), "old");
  EXPECT_EQ(ring.find(a.id), &ring.previous[0]);
  EXPECT_EQ(ring.find(b.id), &ring.current);
  EXPECT_EQ(ring.find(0x12345678u), nullptr);
}

TEST(KeyFile, LoadsRawAndHex) {
  TempDir dir;
  const Key k = test_key(3);
  const auto raw = dir.path() / "raw.key";
  write_file(raw, std::string(reinterpret_cast<const char*>(k.bytes.data()), 32), 0600);
  auto r = load_key_file(raw);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->bytes, k.bytes);
  EXPECT_EQ(r->id, k.id);
  for (const std::string tail : {"", "\n", "\r\n"}) {
    const auto hex = dir.path() / "hex.key";
    std::filesystem::remove(hex);
    write_file(hex, hex_of(k) + tail, 0400);
    auto h = load_key_file(hex);
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ(h->bytes, k.bytes);
  }
}

TEST(KeyFile, RefusesGroupOrOtherAccessWithHowToFix) {
  TempDir dir;
  const auto p = dir.path() / "k.key";
  write_file(p, hex_of(test_key(3)), 0644);
  auto r = load_key_file(p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "key_file_mode");
  EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("0644"), std::string::npos) << r.error().message;
  ::chmod(p.c_str(), 0640);
  EXPECT_EQ(load_key_file(p).error().code, "key_file_mode");
  ::chmod(p.c_str(), 0602);
  EXPECT_EQ(load_key_file(p).error().code, "key_file_mode");
  ::chmod(p.c_str(), 0600);
  EXPECT_TRUE(load_key_file(p));
}

TEST(KeyFile, RefusesMissingAndMalformed) {
  TempDir dir;
  EXPECT_EQ(load_key_file(dir.path() / "none").error().code, "key_file_missing");
  const auto p = dir.path() / "bad.key";
  write_file(p, std::string(31, 'a'), 0600);
  EXPECT_EQ(load_key_file(p).error().code, "key_file_format");
  std::filesystem::remove(p);
  write_file(p, std::string(63, 'a') + "g", 0600);
  EXPECT_EQ(load_key_file(p).error().code, "key_file_format");
  std::filesystem::remove(p);
  write_file(p, std::string(200, 'a'), 0600);
  EXPECT_EQ(load_key_file(p).error().code, "key_file_format");
}

TEST(KeyFile, GenerateWritesPrivateFileAndNeverOverwrites) {
  TempDir dir;
  const auto p = dir.path() / "new.key";
  ASSERT_TRUE(generate_key_file(p));
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto k = load_key_file(p);
  ASSERT_TRUE(k);
  EXPECT_EQ(generate_key_file(p).error().code, "key_file_exists");
  EXPECT_EQ(load_key_file(p)->bytes, k->bytes);
}

TEST(KeyFile, SystemdCredential) {
  TempDir dir;
  const char* saved = std::getenv("CREDENTIALS_DIRECTORY");
  const std::string saved_value = saved != nullptr ? saved : "";
  ::unsetenv("CREDENTIALS_DIRECTORY");
  EXPECT_EQ(load_key_credential("postgate-key").error().code, "key_credential_missing");
  ::setenv("CREDENTIALS_DIRECTORY", dir.path().c_str(), 1);
  write_file(dir.path() / "postgate-key", hex_of(test_key(4)), 0400);
  auto k = load_key_credential("postgate-key");
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->id, test_key(4).id);
  EXPECT_FALSE(load_key_credential("../etc/passwd"));
  if (saved != nullptr)
    ::setenv("CREDENTIALS_DIRECTORY", saved_value.c_str(), 1);
  else
    ::unsetenv("CREDENTIALS_DIRECTORY");
}

}  // namespace
}  // namespace postgate::storage
