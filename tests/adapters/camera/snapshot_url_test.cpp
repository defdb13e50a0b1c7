#include "adapters/camera/codec/snapshot_url.hpp"

#include <gtest/gtest.h>

namespace postgate::adapters::camera {
namespace {

TEST(SnapshotUrl, Forms) {
  auto a = parse_snapshot_url("http://192.168.1.64/ISAPI/Streaming/channels/101/picture");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->tls);
  EXPECT_EQ(a->host, "192.168.1.64");
  EXPECT_EQ(a->port, 80);
  EXPECT_EQ(a->target, "/ISAPI/Streaming/channels/101/picture");
  EXPECT_EQ(a->host_header(), "192.168.1.64");

  auto b = parse_snapshot_url(
      "HTTPS://cam-3.outlet.example:8443/cgi-bin/snapshot.cgi?channel=1&s=a%20b#x");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->host, "cam-3.outlet.example");
  EXPECT_EQ(b->port, 8443);
  EXPECT_EQ(b->target, "/cgi-bin/snapshot.cgi?channel=1&s=a%20b");
  EXPECT_EQ(b->host_header(), "cam-3.outlet.example:8443");

  auto c = parse_snapshot_url("https://[fe80::1]");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "fe80::1");
  EXPECT_EQ(c->port, 443);
  EXPECT_EQ(c->target, "/");
  EXPECT_EQ(c->host_header(), "[fe80::1]");

  auto d = parse_snapshot_url("http://[::1]:8080?x=1");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->target, "/?x=1");
  EXPECT_EQ(d->host_header(), "[::1]:8080");
}

TEST(SnapshotUrl, Rejects) {
  for (std::string_view bad :
       {"", "ftp://a/b", "http://", "http:///x", "http://a:0/", "http://a:65536/", "http://a:/",
        "http://a:12x/", "http://[::1/", "http://[zz]/", "http://user:pw@cam/snap", "http://a b/",
        "http://a/b c", "http://a/b\r\nX: y", "http://a/%zz", "http://a/%4", "http://[::1]x/"}) {
    auto r = parse_snapshot_url(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, "bad_url");
    }
  }
  auto creds = parse_snapshot_url("http://admin:secret@cam/snap");
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().message.find("secret"), std::string::npos);
}

TEST(SnapshotUrl, LengthLimitAppliesToTheTextGiven) {
  // 2,048 characters are accepted even when the target gains a '/' (a query
  // right after the host); one more is refused.
  const std::string head = "http://cam.local?q=";
  const std::string at_limit = head + std::string(2048 - head.size(), 'a');
  const auto u = parse_snapshot_url(at_limit);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->target.size(), 2048 - std::string("http://cam.local").size() + 1);
  EXPECT_EQ(u->target.substr(0, 4), "/?q=");
  const auto over = parse_snapshot_url(at_limit + "a");
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, "bad_url");
}

TEST(ContentType, JpegVariants) {
  EXPECT_TRUE(is_jpeg_content_type("image/jpeg"));
  EXPECT_TRUE(is_jpeg_content_type(" Image/JPEG ; charset=binary"));
  EXPECT_TRUE(is_jpeg_content_type("image/jpg"));
  EXPECT_FALSE(is_jpeg_content_type("text/html; charset=utf-8"));
  EXPECT_FALSE(is_jpeg_content_type("image/png"));
  EXPECT_FALSE(is_jpeg_content_type(""));
  EXPECT_FALSE(is_jpeg_content_type("image/jpegx"));
}

}  // namespace
}  // namespace postgate::adapters::camera
